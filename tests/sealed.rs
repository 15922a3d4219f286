//! Sealed-sender envelopes across apps: every unseal error, the relay's
//! view, and what an attacker tries with envelopes and certificates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, Device, NOW, rng, state, trusting};
use rand_chacha::ChaCha20Rng;
use sealwire::limits::{MAX_ENVELOPE_LEN, MIN_PADDED_ENVELOPE_LEN};
use sealwire::{
    CertificateError, ContentType, DecodeError, IdentityKeyPair, Padding, SealError,
    SealedEnvelope, Sealer, SenderCertificate, Session, Timestamp, TrustStore, UnsealError, unseal,
};

/// Alice (app A) and Bob (app B) with a session started through sealed
/// envelopes; Bob trusts apps A and B.
struct World {
    rng: ChaCha20Rng,
    a: App,
    b: App,
    c: App,
    alice: IdentityKeyPair,
    alice_sealer: Sealer,
    alice_session: Session,
    bob: Device,
    bob_session: Session,
    bob_trust: TrustStore,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let (a, b, c) =
            (App::new(&mut rng, "app-a"), App::new(&mut rng, "app-b"), App::new(&mut rng, "app-c"));
        let alice = IdentityKeyPair::generate(&mut rng);
        let mut alice_sealer = Sealer::new(a.certify("alice", 1, alice.public()));
        let mut bob = Device::new(&mut rng, 2);
        let bob_trust = trusting(&[&a, &b]);

        let mut alice_session = Session::initiate(&mut rng, &alice, &bob.bundle()).unwrap();
        let first = alice_session.encrypt(&mut rng, b"hello bob").unwrap();
        let envelope = alice_sealer
            .seal(&mut rng, &alice, bob.identity.public(), &first, Padding::Buckets)
            .unwrap();
        let opened = unseal(&bob.identity, &bob_trust, NOW, &envelope).unwrap();
        assert_eq!(opened.content_type(), ContentType::Initial);
        let (bob_session, text) = bob.store.accept_unsealed(&bob.identity, &opened).unwrap();
        assert_eq!(text, b"hello bob");
        Self { rng, a, b, c, alice, alice_sealer, alice_session, bob, bob_session, bob_trust }
    }

    /// An envelope from Alice to Bob with a ratchet message.
    fn sealed_by_alice(&mut self, text: &[u8]) -> Vec<u8> {
        let m = self.alice_session.encrypt(&mut self.rng, text).unwrap();
        self.alice_sealer
            .seal(&mut self.rng, &self.alice, self.bob.identity.public(), &m, Padding::Buckets)
            .unwrap()
    }

    /// Unseals at Bob's, expects `expected`, and checks that nothing of
    /// Bob's changed: his session and his prekeys.
    fn refused(&mut self, envelope: &[u8], now: Timestamp, expected: UnsealError) {
        let session_before = state(&self.bob_session);
        let prekeys_before = self.bob.store.one_time_prekey_count();
        let err = unseal(&self.bob.identity, &self.bob_trust, now, envelope).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(state(&self.bob_session), session_before);
        assert_eq!(self.bob.store.one_time_prekey_count(), prekeys_before);
    }

    /// Bob can still unseal and decrypt a genuine envelope afterwards.
    fn still_works(&mut self) {
        let envelope = self.sealed_by_alice(b"still fine");
        let opened = unseal(&self.bob.identity, &self.bob_trust, NOW, &envelope).unwrap();
        assert_eq!(opened.decrypt(&mut self.bob_session).unwrap(), b"still fine");
    }
}

#[test]
fn a_conversation_across_apps() {
    let mut w = World::new(1);
    for i in 0..5u8 {
        let envelope = w.sealed_by_alice(&[i]);
        let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
        assert_eq!(opened.app_id().as_str(), "app-a");
        assert_eq!(opened.user_id().as_bytes(), b"alice");
        assert_eq!(opened.device_id(), sealwire::DeviceId(1));
        assert_eq!(opened.identity_key(), w.alice.public());
        // Alice repeats the X3DH fields until Bob's first reply arrives.
        let expected = if i == 0 { ContentType::Initial } else { ContentType::Ratchet };
        assert_eq!(opened.content_type(), expected);
        assert_eq!(opened.decrypt(&mut w.bob_session).unwrap(), [i]);

        // Bob answers through his own app's certificate.
        let mut bob_sealer = Sealer::new(w.b.certify("bob", 7, w.bob.identity.public()));
        let reply = w.bob_session.encrypt(&mut w.rng, &[i, i]).unwrap();
        let envelope = bob_sealer
            .seal(&mut w.rng, &w.bob.identity, w.alice.public(), &reply, Padding::None)
            .unwrap();
        let alice_trust = trusting(&[&w.a, &w.b]);
        let opened = unseal(&w.alice, &alice_trust, NOW, &envelope).unwrap();
        assert_eq!(opened.app_id().as_str(), "app-b");
        assert_eq!(opened.decrypt(&mut w.alice_session).unwrap(), [i, i]);
    }
}

#[test]
fn malformed_envelopes() {
    let mut w = World::new(2);
    let envelope = w.sealed_by_alice(b"x");
    w.refused(&envelope[..envelope.len() - 1], NOW, UnsealError::Malformed(DecodeError::Truncated));
    let mut longer = envelope.clone();
    longer.push(0);
    w.refused(&longer, NOW, UnsealError::Malformed(DecodeError::TrailingBytes));
    // Version 1 of the format (no commitment) is not read any more.
    w.refused(&[0xc1], NOW, UnsealError::Malformed(DecodeError::UnknownVersion(0xc1)));
    w.refused(&[], NOW, UnsealError::Malformed(DecodeError::Truncated));
    w.still_works();
}

#[test]
fn not_addressed_to_this_recipient() {
    let mut w = World::new(3);
    let envelope = w.sealed_by_alice(b"for bob only");
    // Carol, of app C, receives Bob's envelope.
    let carol = IdentityKeyPair::generate(&mut w.rng);
    let carol_trust = trusting(&[&w.a, &w.b, &w.c]);
    assert_eq!(
        unseal(&carol, &carol_trust, NOW, &envelope).unwrap_err(),
        UnsealError::NotForRecipient
    );
    // The relay writes Carol's key into the recipient field: the wrap and
    // the tag are bound to Bob's key, so it fails to decrypt.
    let mut relabeled = envelope.clone();
    relabeled[1..34].copy_from_slice(&carol.public().to_bytes());
    assert_eq!(unseal(&carol, &carol_trust, NOW, &relabeled).unwrap_err(), UnsealError::Failed);
    // Bob's own unchanged.
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    assert_eq!(opened.decrypt(&mut w.bob_session).unwrap(), b"for bob only");

    // And the other way round: an envelope for Carol handed to Bob changes
    // nothing of Bob's.
    let carol_spk = sealwire::SignedPreKeyPair::generate(&mut w.rng, &carol, sealwire::PreKeyId(1));
    let carol_bundle = sealwire::PreKeyBundle::new(*carol.public(), carol_spk.public(), None);
    let mut to_carol = Session::initiate(&mut w.rng, &w.alice, &carol_bundle).unwrap();
    let m = to_carol.encrypt(&mut w.rng, b"for carol").unwrap();
    let for_carol =
        w.alice_sealer.seal(&mut w.rng, &w.alice, carol.public(), &m, Padding::Buckets).unwrap();
    w.refused(&for_carol, NOW, UnsealError::NotForRecipient);
    w.still_works();
}

#[test]
fn altered_envelopes_fail() {
    let mut w = World::new(4);
    let envelope = w.sealed_by_alice(b"x");
    // Layout: tag 0, recipient 1..34, ephemeral 34..67, commitment
    // 67..99, wrapped 99..131, share tag 131..147, length 147..151,
    // payload 151...
    let payload = envelope.len() - 1;
    for (at, expected) in [
        (50, UnsealError::Failed),          // ephemeral key
        (80, UnsealError::Failed),          // commitment
        (110, UnsealError::Failed),         // wrapped secret
        (payload, UnsealError::Failed),     // payload (its AEAD tag)
        (160, UnsealError::Failed),         // payload body
        (135, UnsealError::SenderMismatch), // share tag
    ] {
        let mut tampered = envelope.clone();
        tampered[at] ^= 1;
        w.refused(&tampered, NOW, expected);
    }
    w.still_works();
}

#[test]
fn every_byte_of_an_envelope_flipped() {
    let mut w = World::new(5);
    let envelope = w.sealed_by_alice(b"flip me");
    let before = state(&w.bob_session);
    for i in 0..envelope.len() {
        let mut tampered = envelope.clone();
        tampered[i] ^= 0x01;
        assert!(unseal(&w.bob.identity, &w.bob_trust, NOW, &tampered).is_err(), "byte {i}");
    }
    assert_eq!(state(&w.bob_session), before);
    w.still_works();
}

#[test]
fn certificate_from_an_untrusted_app() {
    let mut w = World::new(6);
    // Carol's app C is not in Bob's trust store.
    let carol = IdentityKeyPair::generate(&mut w.rng);
    let mut sealer = Sealer::new(w.c.certify("carol", 1, carol.public()));
    let mut carol_session = Session::initiate(&mut w.rng, &carol, &w.bob.bundle()).unwrap();
    let m = carol_session.encrypt(&mut w.rng, b"hi").unwrap();
    let envelope =
        sealer.seal(&mut w.rng, &carol, w.bob.identity.public(), &m, Padding::Buckets).unwrap();
    w.refused(&envelope, NOW, UnsealError::Certificate(CertificateError::UntrustedApp));
    // Once Bob trusts app C, the same envelope opens.
    w.bob_trust.add_root(&w.c.trust_root());
    assert!(unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).is_ok());
}

#[test]
fn forged_chain_is_refused() {
    let mut w = World::new(7);
    // Mallory makes her own "app-b" root and issuer, and certifies herself
    // as bob's colleague on app B.
    let fake_b = App::new(&mut w.rng, "app-b");
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let mut sealer = Sealer::new(fake_b.certify("bob-colleague", 1, mallory.public()));
    let mut s = Session::initiate(&mut w.rng, &mallory, &w.bob.bundle()).unwrap();
    let m = s.encrypt(&mut w.rng, b"trust me").unwrap();
    let envelope =
        sealer.seal(&mut w.rng, &mallory, w.bob.identity.public(), &m, Padding::Buckets).unwrap();
    w.refused(&envelope, NOW, UnsealError::Certificate(CertificateError::BrokenChain));
    w.still_works();
}

#[test]
fn an_issuer_of_one_app_cannot_vouch_for_another() {
    let mut w = World::new(8);
    // App A's genuine issuer signs a certificate; its bytes are edited to
    // claim app B. The sender certificate's signature no longer verifies,
    // and app B's root never signed app A's issuer.
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let genuine = w.a.certify("mallory", 1, mallory.public()).to_bytes();
    let mut edited = genuine.clone();
    // 0xB1, u32 length 5, "app-a"
    assert_eq!(&edited[5..10], b"app-a");
    edited[5..10].copy_from_slice(b"app-b");
    let cert = SenderCertificate::from_bytes(&edited).unwrap();
    let mut sealer = Sealer::new(cert);
    let mut s = Session::initiate(&mut w.rng, &mallory, &w.bob.bundle()).unwrap();
    let m = s.encrypt(&mut w.rng, b"x").unwrap();
    let envelope =
        sealer.seal(&mut w.rng, &mallory, w.bob.identity.public(), &m, Padding::Buckets).unwrap();
    w.refused(&envelope, NOW, UnsealError::Certificate(CertificateError::BrokenChain));

    // A tampered signature on an otherwise genuine certificate.
    let mut bad_sig = genuine.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    let mut sealer = Sealer::new(SenderCertificate::from_bytes(&bad_sig).unwrap());
    let m = s.encrypt(&mut w.rng, b"y").unwrap();
    let envelope =
        sealer.seal(&mut w.rng, &mallory, w.bob.identity.public(), &m, Padding::Buckets).unwrap();
    w.refused(&envelope, NOW, UnsealError::Certificate(CertificateError::BrokenChain));
    w.still_works();
}

#[test]
fn expired_certificates_at_their_edges() {
    let mut w = World::new(9);
    let expires = 600_000;
    w.alice_sealer = Sealer::new(w.a.certify_until("alice", 1, w.alice.public(), expires));
    let envelope = w.sealed_by_alice(b"short-lived");
    assert!(unseal(&w.bob.identity, &w.bob_trust, Timestamp(expires), &envelope).is_ok());
    w.refused(
        &envelope,
        Timestamp(expires + 1),
        UnsealError::Certificate(CertificateError::Expired),
    );

    // The issuer's own window: valid from 0 to ISSUER_UNTIL inclusive.
    w.alice_sealer = Sealer::new(w.a.certify_until("alice", 1, w.alice.public(), u64::MAX));
    let envelope = w.sealed_by_alice(b"long-lived");
    let until = common::ISSUER_UNTIL;
    assert!(unseal(&w.bob.identity, &w.bob_trust, Timestamp(until), &envelope).is_ok());
    w.refused(&envelope, Timestamp(until + 1), UnsealError::Certificate(CertificateError::Expired));
}

#[test]
fn issuer_not_yet_valid() {
    let mut w = World::new(10);
    let issuer = sealwire::IssuerCertificate::issue(
        &w.a.root,
        &w.a.id,
        2,
        &w.a.issuer_key.public(),
        Timestamp(700_000),
        Timestamp(800_000),
    )
    .unwrap();
    let cert = SenderCertificate::issue(
        &w.a.issuer_key,
        &issuer,
        sealwire::UserId::new(b"alice").unwrap(),
        sealwire::DeviceId(1),
        w.alice.public(),
        Timestamp(800_000),
    )
    .unwrap();
    w.alice_sealer = Sealer::new(cert);
    let envelope = w.sealed_by_alice(b"early");
    w.refused(
        &envelope,
        Timestamp(699_999),
        UnsealError::Certificate(CertificateError::NotYetValid),
    );
    assert!(unseal(&w.bob.identity, &w.bob_trust, Timestamp(700_000), &envelope).is_ok());
}

#[test]
fn revoked_issuer() {
    let mut w = World::new(11);
    let envelope = w.sealed_by_alice(b"from a revoked issuer");
    let app_a = w.a.id.clone();
    w.bob_trust.revoke(&app_a, 1);
    w.refused(&envelope, NOW, UnsealError::Certificate(CertificateError::Revoked));
    // Revoking issuer 1 of app B does not touch app A's issuer 2.
    let mut other = trusting(&[&w.a, &w.b]);
    other.revoke(&w.b.id, 1);
    assert!(unseal(&w.bob.identity, &other, NOW, &envelope).is_ok());
}

#[test]
fn a_valid_certificate_used_by_another_identity_key() {
    let mut w = World::new(12);
    // Certificates are not secret: Mallory has Alice's. She seals with her
    // own identity key and Alice's certificate. The library refuses to do
    // that for her...
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let alice_cert = w.alice_sealer.certificate().clone();
    let mut mallory_sealer = Sealer::new(alice_cert.clone());
    let m = w.alice_session.encrypt(&mut w.rng, b"x").unwrap();
    assert_eq!(
        mallory_sealer
            .seal(&mut w.rng, &mallory, w.bob.identity.public(), &m, Padding::None)
            .unwrap_err(),
        SealError::CertificateMismatch
    );
    // ...so she builds the envelope herself.
    let forged =
        common::forge::seal(&mut w.rng, &alice_cert, &mallory, w.bob.identity.public(), &m);
    w.refused(&forged, NOW, UnsealError::SenderMismatch);

    // Control: the same hand-built envelope with Alice's own key opens, so
    // the refusal above is about the key and nothing else.
    let genuine =
        common::forge::seal(&mut w.rng, &alice_cert, &w.alice, w.bob.identity.public(), &m);
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &genuine).unwrap();
    assert_eq!(opened.decrypt(&mut w.bob_session).unwrap(), b"x");
}

#[test]
fn an_initial_message_naming_another_identity() {
    let mut w = World::new(13);
    // Mallory holds a valid certificate for identity M1 and seals an initial
    // message of a session she started with another identity, M2.
    let m1 = IdentityKeyPair::generate(&mut w.rng);
    let m2 = IdentityKeyPair::generate(&mut w.rng);
    let certificate = w.a.certify("mallory", 1, m1.public());
    let mut sealer = Sealer::new(certificate.clone());
    let mut s = Session::initiate(&mut w.rng, &m2, &w.bob.bundle()).unwrap();
    let initial = s.encrypt(&mut w.rng, b"who am i").unwrap();
    // The sealer refuses: Bob would refuse it, and the message would be
    // lost without a word.
    assert_eq!(
        sealer
            .seal(&mut w.rng, &m1, w.bob.identity.public(), &initial, Padding::Buckets)
            .unwrap_err(),
        SealError::ForeignInitialMessage
    );
    // Built by hand, Bob refuses it.
    let envelope =
        common::forge::seal(&mut w.rng, &certificate, &m1, w.bob.identity.public(), &initial);
    w.refused(&envelope, NOW, UnsealError::ForeignInitialMessage);
    // Control: the same hand-built envelope with M2's own certificate opens.
    let own = w.a.certify("mallory", 2, m2.public());
    let envelope = common::forge::seal(&mut w.rng, &own, &m2, w.bob.identity.public(), &initial);
    assert!(unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).is_ok());
}

#[test]
fn an_unsealed_message_is_only_decrypted_by_its_senders_session() {
    let mut w = World::new(14);
    // Carol (trusted app C) has her own session with Bob.
    w.bob_trust.add_root(&w.c.trust_root());
    let carol = IdentityKeyPair::generate(&mut w.rng);
    let mut carol_sealer = Sealer::new(w.c.certify("carol", 1, carol.public()));
    let mut carol_session = Session::initiate(&mut w.rng, &carol, &w.bob.bundle()).unwrap();
    let m = carol_session.encrypt(&mut w.rng, b"from carol").unwrap();
    let envelope = carol_sealer
        .seal(&mut w.rng, &carol, w.bob.identity.public(), &m, Padding::Buckets)
        .unwrap();
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    // Handing Carol's message to Bob's session with Alice is refused before
    // the session is touched.
    let before = state(&w.bob_session);
    let err = opened.decrypt(&mut w.bob_session).unwrap_err();
    assert_eq!(err, sealwire::Error::Unseal(UnsealError::WrongSession));
    assert_eq!(state(&w.bob_session), before);
}

#[test]
fn a_replayed_envelope_reaches_the_session_which_refuses_it() {
    let mut w = World::new(15);
    let envelope = w.sealed_by_alice(b"once");
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    assert_eq!(opened.decrypt(&mut w.bob_session).unwrap(), b"once");
    // The relay delivers it again: the envelope opens (it holds no state)...
    let again = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    // ...and the session refuses the replayed message.
    let before = state(&w.bob_session);
    assert_eq!(
        again.decrypt(&mut w.bob_session).unwrap_err(),
        sealwire::Error::Decrypt(sealwire::DecryptError::Duplicate)
    );
    assert_eq!(state(&w.bob_session), before);
}

#[test]
fn the_relay_sees_no_sender_identity_user_or_device() {
    let mut w = World::new(16);
    let mut envelopes = Vec::new();
    for i in 0..20u8 {
        envelopes.push(w.sealed_by_alice(&vec![i; usize::from(i) * 10]));
    }
    let cert = w.alice_sealer.certificate().clone();
    let key = cert.identity_key().ed25519_bytes();
    let device = cert.device_id().0.to_be_bytes();
    for envelope in &envelopes {
        for window in key.windows(8) {
            assert!(!envelope.windows(8).any(|w| w == window), "identity key bytes visible");
        }
        assert!(!envelope.windows(5).any(|w| w == b"alice"), "user id visible");
        assert!(!envelope.windows(5).any(|w| w == b"app-a"), "app id visible");
        assert!(!envelope.windows(4).any(|w| w == device), "device id visible");
    }
    // Control: the certificate itself does contain them.
    let cert_bytes = cert.to_bytes();
    assert!(cert_bytes.windows(32).any(|w| w == key));
    assert!(cert_bytes.windows(5).any(|w| w == b"alice"));
}

#[test]
fn envelopes_from_different_senders_share_a_size_bucket() {
    let mut w = World::new(17);
    // Carol, of app C with a longer user id, writes a longer message.
    w.bob_trust.add_root(&w.c.trust_root());
    let carol = IdentityKeyPair::generate(&mut w.rng);
    let mut carol_sealer =
        Sealer::new(w.c.certify("carol.with.a.much.longer.user.id", 42, carol.public()));
    let mut carol_session = Session::initiate(&mut w.rng, &carol, &w.bob.bundle()).unwrap();
    let from_carol = {
        let m = carol_session.encrypt(&mut w.rng, &[7u8; 150]).unwrap();
        carol_sealer
            .seal(&mut w.rng, &carol, w.bob.identity.public(), &m, Padding::Buckets)
            .unwrap()
    };
    let from_alice = w.sealed_by_alice(b"hi");
    assert_eq!(from_alice.len(), from_carol.len());
    assert_eq!(from_alice.len(), 1024);
    // Unpadded, the difference shows.
    let m = w.alice_session.encrypt(&mut w.rng, b"hi").unwrap();
    let bare = w
        .alice_sealer
        .seal(&mut w.rng, &w.alice, w.bob.identity.public(), &m, Padding::None)
        .unwrap();
    assert!(bare.len() < 1024 && bare.len() > MIN_PADDED_ENVELOPE_LEN);
    // Both open.
    assert!(unseal(&w.bob.identity, &w.bob_trust, NOW, &from_carol).is_ok());
    assert!(unseal(&w.bob.identity, &w.bob_trust, NOW, &bare).is_ok());
}

#[test]
fn padding_buckets_are_powers_of_two() {
    let mut w = World::new(18);
    let mut seen = Vec::new();
    for len in [0usize, 300, 700, 2000, 5000, 20_000, 100_000] {
        let envelope = w.sealed_by_alice(&vec![1u8; len]);
        assert!(envelope.len().is_power_of_two(), "{}", envelope.len());
        assert!(envelope.len() >= MIN_PADDED_ENVELOPE_LEN);
        seen.push(envelope.len());
        let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
        assert_eq!(opened.decrypt(&mut w.bob_session).unwrap().len(), len);
    }
    assert_eq!(seen, [1024, 1024, 2048, 4096, 8192, 32768, 131072]);
}

#[test]
fn the_largest_message_fits_an_envelope() {
    let mut w = World::new(19);
    let envelope = w.sealed_by_alice(&vec![3u8; sealwire::limits::MAX_PLAINTEXT_LEN]);
    assert!(envelope.len() <= MAX_ENVELOPE_LEN);
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    assert_eq!(
        opened.decrypt(&mut w.bob_session).unwrap().len(),
        sealwire::limits::MAX_PLAINTEXT_LEN
    );
    // An envelope one byte over the limit is refused before parsing.
    let huge = vec![0xc1; MAX_ENVELOPE_LEN + 1];
    w.refused(&huge, NOW, UnsealError::Malformed(DecodeError::TooLong));
}

#[test]
fn sealing_refuses_what_it_cannot_send() {
    let mut w = World::new(20);
    let m = w.alice_session.encrypt(&mut w.rng, b"x").unwrap();
    let bob = *w.bob.identity.public();
    let alice = &w.alice;
    assert_eq!(
        w.alice_sealer.seal(&mut w.rng, alice, &bob, b"not a message", Padding::None).unwrap_err(),
        SealError::InvalidMessage(DecodeError::UnknownVersion(b'n'))
    );
    assert_eq!(
        w.alice_sealer.seal_to_many(&mut w.rng, alice, &[], Padding::None).unwrap_err(),
        SealError::NoRecipients
    );
    assert_eq!(
        w.alice_sealer
            .seal_to_many(&mut w.rng, alice, &[(bob, &m[..]), (bob, &m[..])], Padding::None)
            .unwrap_err(),
        SealError::DuplicateRecipient
    );
}

/// An independent envelope builder, written from the specification with
/// the primitive crates directly. It lets a test seal with a certificate
/// that does not match the sealing key, which the library refuses to do.

#[test]
fn sealed_envelope_parses_for_the_relay() {
    let mut w = World::new(21);
    let envelope = w.sealed_by_alice(b"route me");
    let parsed = SealedEnvelope::parse(&envelope).unwrap();
    assert_eq!(parsed.recipient(), w.bob.identity.public());
    assert_eq!(parsed.to_bytes(), envelope);
}

#[test]
fn a_low_order_ephemeral_key_is_refused() {
    let mut w = World::new(22);
    let envelope = w.sealed_by_alice(b"x");
    // Encode(E) sits at bytes 34..67: tag at 34, the key at 35..67.
    let mut one = [0u8; 32];
    one[0] = 1;
    for point in [[0u8; 32], one] {
        let mut tampered = envelope.clone();
        tampered[35..67].copy_from_slice(&point);
        assert!(SealedEnvelope::parse(&tampered).is_ok(), "the point itself is a valid encoding");
        w.refused(&tampered, NOW, UnsealError::Failed);
    }
    w.still_works();
}

#[test]
fn a_session_stored_with_a_wrong_identity_form_only_fails_its_own_envelopes() {
    // docs/protocol.md §8.2: a stored session keeps the X25519 form of each
    // identity key beside it, and loading does not recompute it.
    let mut w = World::new(31);
    let mut bytes = state(&w.alice_session);
    // Alice initiated: role, generation, her Encode(IK) and its X25519
    // form, then Bob's.
    let bob_form = 1 + 1 + 8 + 66 + 33;
    assert_eq!(bytes[bob_form], 0x02);
    assert_eq!(&bytes[bob_form - 33..bob_form], &w.bob.identity.public().to_bytes());
    bytes[bob_form + 1] ^= 1;
    let broken = Session::from_bytes(&bytes).unwrap();
    assert_eq!(broken.remote_identity(), w.bob.identity.public(), "the Ed25519 keys still match");

    let m = w.alice_session.encrypt(&mut w.rng, b"to the wrong form").unwrap();
    let bob = *broken.remote_identity();
    let envelope = w.alice_sealer.seal(&mut w.rng, &w.alice, &bob, &m, Padding::Buckets).unwrap();
    w.refused(&envelope, NOW, UnsealError::Failed);
    w.still_works();
}

#[test]
fn a_renewed_certificate_is_used_and_the_cache_follows_the_identity() {
    let mut w = World::new(32);
    let cached =
        |sealer: &Sealer| format!("{sealer:?}").rsplit("cached_peers: ").next().map(str::to_owned);
    // Alice has sealed to Bob once: one cached authentication key.
    assert_eq!(cached(&w.alice_sealer).as_deref(), Some("1 }"));

    // Renewed for the same identity key: envelopes carry the new
    // certificate and the cache is kept.
    let renewed = w.a.certify_until("alice", 1, w.alice.public(), NOW.0 + 1000);
    assert_ne!(&renewed, w.alice_sealer.certificate());
    w.alice_sealer.set_certificate(renewed.clone());
    assert_eq!(cached(&w.alice_sealer).as_deref(), Some("1 }"));
    let envelope = w.sealed_by_alice(b"renewed");
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    assert_eq!(opened.certificate(), &renewed);
    assert_eq!(opened.decrypt(&mut w.bob_session).unwrap(), b"renewed");

    // A certificate for a new identity key drops the cache, whose keys
    // were derived from the old one; the old key can no longer seal.
    let new_identity = IdentityKeyPair::generate(&mut w.rng);
    w.alice_sealer.set_certificate(w.a.certify("alice", 2, new_identity.public()));
    assert_eq!(cached(&w.alice_sealer).as_deref(), Some("0 }"));
    // (After a reply, so that Alice's message is a ratchet message: an
    // initial message would name her old identity key.)
    let reply = w.bob_session.encrypt(&mut w.rng, b"reply").unwrap();
    w.alice_session.decrypt(&reply).unwrap();
    let m = w.alice_session.encrypt(&mut w.rng, b"from a new key").unwrap();
    let bob = *w.bob.identity.public();
    assert_eq!(
        w.alice_sealer.seal(&mut w.rng, &w.alice, &bob, &m, Padding::None).unwrap_err(),
        SealError::CertificateMismatch
    );
    let envelope = w.alice_sealer.seal(&mut w.rng, &new_identity, &bob, &m, Padding::None).unwrap();
    let opened = unseal(&w.bob.identity, &w.bob_trust, NOW, &envelope).unwrap();
    assert_eq!(opened.identity_key(), new_identity.public());
    assert_eq!(opened.message_unchecked(), &m[..]);
}
