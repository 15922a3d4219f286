//! Certificates: issuing, ids at their limits, and the store's checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, NOW, rng, trusting};
use sealwire::limits::{MAX_APP_ID_LEN, MAX_USER_ID_LEN};
use sealwire::{
    AppId, CertificateError, CertificateKeyPair, DecodeError, DeviceId, IdentityKeyPair,
    IssuerCertificate, SenderCertificate, Timestamp, TrustRoot, TrustStore, UserId,
};

#[test]
fn app_ids_at_their_limits() {
    assert!(AppId::new(&"a".repeat(MAX_APP_ID_LEN)).is_ok());
    assert_eq!(AppId::new(&"a".repeat(MAX_APP_ID_LEN + 1)), Err(DecodeError::TooLong));
    assert_eq!(AppId::new(""), Err(DecodeError::InvalidValue));
    for bad in ["app a", "app/a", "äpp", "app\0", "a\u{430}p"] {
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
