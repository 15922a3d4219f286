//! Certificates: issuing, ids at their limits, and the store's checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, NOW, rng, trusting};
use sealwire::limits::{MAX_APP_ID_LEN, MAX_USER_ID_LEN};
use sealwire::{
    AppId, CertificateError, CertificateKey, CertificateKeyPair, DecodeError, DeviceId,
    IdentityKeyPair, IssuerCertificate, SenderCertificate, Timestamp, TrustRoot, TrustStore,
    UserId,
};

#[test]
fn app_ids_at_their_limits() {
    assert!(AppId::new(&"a".repeat(MAX_APP_ID_LEN)).is_ok());
    assert_eq!(AppId::new(&"a".repeat(MAX_APP_ID_LEN + 1)), Err(DecodeError::TooLong));
    assert_eq!(AppId::new(""), Err(DecodeError::InvalidValue));
    // Upper case is refused, so no two ids differ only in case; so are
    // characters of other scripts that look like ASCII (Cyrillic а).
    for bad in ["app a", "app/a", "äpp", "app\0", "a\u{430}p", "App-a", "chat.ALPHA", "I"] {
        assert_eq!(AppId::new(bad), Err(DecodeError::InvalidValue), "{bad:?}");
    }
    assert_eq!(AppId::new("chat.example-a_1").unwrap().as_str(), "chat.example-a_1");
}

#[test]
fn user_ids_at_their_limits() {
    assert!(UserId::new(&[0xff; MAX_USER_ID_LEN]).is_ok());
    assert_eq!(UserId::new(&[1; MAX_USER_ID_LEN + 1]), Err(DecodeError::TooLong));
    assert_eq!(UserId::new(&[]), Err(DecodeError::InvalidValue));
}

#[test]
fn issuing_checks_its_inputs() {
    let mut rng = rng(1);
    let app = App::new(&mut rng, "app-a");
    assert_eq!(
        IssuerCertificate::issue(
            &app.root,
            &app.id,
            2,
            &app.issuer_key.public(),
            Timestamp(10),
            Timestamp(9)
        )
        .unwrap_err(),
        CertificateError::InvalidValidity
    );
    // An issuer key that is not the one its certificate names.
    let other = CertificateKeyPair::generate(&mut rng);
    let identity = IdentityKeyPair::generate(&mut rng);
    assert_eq!(
        SenderCertificate::issue(
            &other,
            &app.issuer,
            UserId::new(b"u").unwrap(),
            DeviceId(1),
            identity.public(),
            Timestamp(5)
        )
        .unwrap_err(),
        CertificateError::KeyMismatch
    );
}

#[test]
fn the_store_validates_each_link() {
    let mut rng = rng(2);
    let a = App::new(&mut rng, "app-a");
    let b = App::new(&mut rng, "app-b");
    let identity = IdentityKeyPair::generate(&mut rng);
    let cert = a.certify("alice", 3, identity.public());
    let store = trusting(&[&a, &b]);
    assert_eq!(store.validate(&cert, NOW), Ok(()));
    assert_eq!(cert.app_id().as_str(), "app-a");
    assert_eq!(cert.issuer().key_id(), 1);

    // A root for app A that is not app A's.
    let mut wrong_root = TrustStore::new();
    wrong_root.add_root(&TrustRoot::new(a.id.clone(), b.root.public()));
    assert_eq!(wrong_root.validate(&cert, NOW), Err(CertificateError::BrokenChain));

    // Removing a root removes the trust.
    let mut store = store;
    store.remove_root(&a.id);
    assert_eq!(store.validate(&cert, NOW), Err(CertificateError::UntrustedApp));
}

#[test]
fn debug_of_signing_keys_hides_the_secret() {
    let mut rng = rng(3);
    let key = CertificateKeyPair::generate(&mut rng);
    let seed = key.to_bytes();
    let shown = format!("{key:?}");
    assert!(shown.contains("[redacted]"));
    let hex: String = seed[1..9].iter().map(|b| format!("{b:02x}")).collect();
    assert!(!shown.contains(&hex));
}

#[test]
fn a_leaked_issuer_key_is_revoked_under_every_key_id() {
    let mut rng = rng(20);
    let app = App::new(&mut rng, "app-a");
    // The same issuer key, certified a second time under key id 7.
    let again = IssuerCertificate::issue(
        &app.root,
        &app.id,
        7,
        &app.issuer_key.public(),
        Timestamp(0),
        Timestamp(1_000_000),
    )
    .unwrap();
    let identity = IdentityKeyPair::generate(&mut rng);
    let first = app.certify("alice", 1, identity.public());
    let second = SenderCertificate::issue(
        &app.issuer_key,
        &again,
        UserId::new(b"alice").unwrap(),
        DeviceId(1),
        identity.public(),
        Timestamp(1_000_000),
    )
    .unwrap();
    // Revoking key id 1 leaves the certificate under key id 7 valid...
    let mut trust = trusting(&[&app]);
    trust.revoke(&app.id, 1);
    assert_eq!(trust.validate(&first, NOW), Err(CertificateError::Revoked));
    assert_eq!(trust.validate(&second, NOW), Ok(()));
    // ...revoking the key itself refuses both.
    trust.revoke_issuer_key(&app.issuer_key.public());
    assert_eq!(trust.validate(&second, NOW), Err(CertificateError::Revoked));
    assert_eq!(CertificateError::Revoked.action(), sealwire::Action::Drop);
}

#[test]
fn one_sender_device_can_be_denied_before_its_certificate_expires() {
    let mut rng = rng(21);
    let app = App::new(&mut rng, "app-a");
    let lost = IdentityKeyPair::generate(&mut rng);
    let other = IdentityKeyPair::generate(&mut rng);
    let lost_cert = app.certify("alice", 1, lost.public());
    let renewed = app.certify_until("alice", 1, lost.public(), 900_000);
    let other_cert = app.certify("alice", 2, other.public());
    let mut trust = trusting(&[&app]);

    // By identity key: every certificate for it.
    trust.deny_identity(lost.public());
    assert_eq!(trust.validate(&lost_cert, NOW), Err(CertificateError::Denied));
    assert_eq!(trust.validate(&renewed, NOW), Err(CertificateError::Denied));
    assert_eq!(trust.validate(&other_cert, NOW), Ok(()), "the user's other device");
    trust.allow_identity(lost.public());
    assert_eq!(trust.validate(&lost_cert, NOW), Ok(()));

    // By certificate: that one only.
    trust.deny_certificate(&lost_cert);
    assert_eq!(trust.validate(&lost_cert, NOW), Err(CertificateError::Denied));
    assert_eq!(trust.validate(&renewed, NOW), Ok(()));
    assert_eq!(CertificateError::Denied.action(), sealwire::Action::Drop);
    // The deny list shows in Debug as a count.
    assert!(format!("{trust:?}").contains("denied_certificates: 1"));
}

#[test]
fn a_denied_sender_is_refused_when_unsealing() {
    use sealwire::{Padding, Sealer, Session, UnsealError, unseal};
    let mut rng = rng(22);
    let app = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut bob = common::Device::new(&mut rng, 1);
    let mut sealer = Sealer::new(app.certify("alice", 1, alice.public()));
    let mut session = Session::initiate(&mut rng, &alice, &bob.bundle()).unwrap();
    let m = session.encrypt(&mut rng, b"hi").unwrap();
    let envelope =
        sealer.seal(&mut rng, &alice, bob.identity.public(), &m, Padding::Buckets).unwrap();
    let mut trust = trusting(&[&app]);
    trust.deny_identity(alice.public());
    assert_eq!(
        unseal(&bob.identity, &trust, NOW, &envelope).unwrap_err(),
        UnsealError::Certificate(CertificateError::Denied)
    );
    trust.allow_identity(alice.public());
    let opened = unseal(&bob.identity, &trust, NOW, &envelope).unwrap();
    let (_, text) = bob.store.accept_unsealed(&bob.identity, &opened).unwrap();
    assert_eq!(text, b"hi");
}

#[test]
fn revoking_an_issuer_key_covers_every_key_its_secret_signs_for() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use curve25519_dalek::edwards::CompressedEdwardsY;

    let mut rng = rng(87);
    let app = App::new(&mut rng, "app-a");
    let a = app.issuer_key.public();
    let a_bytes: [u8; 32] = a.to_bytes()[1..].try_into().unwrap();
    let point = CompressedEdwardsY(a_bytes).decompress().unwrap();
    // -A (the sign bit flipped) and A plus a point of order 8: the holder
    // of A's secret signs for both (the first always, the second one nonce
    // in eight).
    let negated = (-point).compress().to_bytes();
    let mixed = (point + EIGHT_TORSION[1]).compress().to_bytes();
    for (name, variant) in [("-A", negated), ("A + T", mixed)] {
        let key = CertificateKey::from_bytes(&[&[0x04u8][..], &variant].concat()).unwrap();
        assert_ne!(key, a, "{name} is another encoding");
        // The root certifies the variant too (a "new" key in a rotation).
        let issuer = IssuerCertificate::issue(
            &app.root,
            &app.id,
            2,
            &key,
            sealwire::Timestamp(0),
            sealwire::Timestamp(common::ISSUER_UNTIL),
        )
        .unwrap();
        // A sender certificate under it; its signature is checked after
        // revocation, so any will do to see which comes first.
        let identity = IdentityKeyPair::generate(&mut rng);
        let mut body = Vec::new();
        for field in [&b"app-a"[..], b"mallory"] {
            body.extend_from_slice(&(field.len() as u32).to_be_bytes());
            body.extend_from_slice(field);
        }
        body.extend_from_slice(&1u32.to_be_bytes());
        body.extend_from_slice(&identity.public().to_bytes());
        body.extend_from_slice(&common::ISSUER_UNTIL.to_be_bytes());
        let issuer_bytes = issuer.to_bytes();
        body.extend_from_slice(&(issuer_bytes.len() as u32).to_be_bytes());
        body.extend_from_slice(&issuer_bytes);
        let certificate =
            SenderCertificate::from_bytes(&[&[0xb2u8][..], &body, &[0u8; 64]].concat()).unwrap();

        let mut trust = trusting(&[&app]);
        assert_eq!(trust.validate(&certificate, NOW), Err(CertificateError::BrokenChain), "{name}");
        trust.revoke_issuer_key(&a);
        assert_eq!(trust.validate(&certificate, NOW), Err(CertificateError::Revoked), "{name}");
    }
}
