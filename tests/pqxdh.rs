//! The post-quantum agreement (PQXDH, docs/protocol.md §20) at the session
//! level: conversations with and without one-time prekeys of either kind,
//! KEM ciphertexts changed, cut or extended, KEM prekeys that do not
//! verify or come from another bundle, and stored states and bundles with
//! KEM keys in them.
#![cfg(feature = "pq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{PreKeys, rng};
use rand_chacha::ChaCha20Rng;
use sealwire::{
    AgreementError, DecodeError, DecryptError, Error, IdentityKeyPair, InitialMessage,
    KemPreKeyKind, KemPreKeyPair, OneTimePreKeyPair, PreKeyBundle, PreKeyId, Session,
    SignedPreKeyPair,
};

/// Bob: an identity, a signed prekey (1), a one-time prekey (100), a
/// one-time KEM prekey (200) and a last-resort KEM prekey (300).
struct Bob {
    identity: IdentityKeyPair,
    store: PreKeys,
    bundle: PreKeyBundle,
    one_time: sealwire::OneTimePreKey,
    kem_one_time: sealwire::KemPreKey,
    kem_last_resort: sealwire::KemPreKey,
}

fn make_bob(rng: &mut ChaCha20Rng) -> Bob {
    let identity = IdentityKeyPair::generate(rng);
    let mut store = PreKeys::new();
    let signed = SignedPreKeyPair::generate(rng, &identity, PreKeyId(1));
    let bundle = PreKeyBundle::new(*identity.public(), signed.public(), None);
    store.add_signed_prekey(signed);
    let opk = OneTimePreKeyPair::generate(rng, PreKeyId(100));
    let one_time = opk.public();
    store.add_one_time_prekey(opk);
    let kem = KemPreKeyPair::generate(rng, &identity, PreKeyId(200), KemPreKeyKind::OneTime);
    let kem_one_time = kem.public();
    store.add_kem_prekey(kem);
    let last = KemPreKeyPair::generate(rng, &identity, PreKeyId(300), KemPreKeyKind::LastResort);
    let kem_last_resort = last.public();
    store.add_kem_prekey(last);
    Bob { identity, store, bundle, one_time, kem_one_time, kem_last_resort }
}

impl Bob {
    /// A bundle with or without the one-time prekey, with the one-time or
    /// the last-resort KEM prekey.
    fn bundle(&self, with_opk: bool, kind: KemPreKeyKind) -> PreKeyBundle {
        let kem = match kind {
            KemPreKeyKind::OneTime => self.kem_one_time.clone(),
            KemPreKeyKind::LastResort => self.kem_last_resort.clone(),
        };
        PreKeyBundle::new(
            *self.bundle.identity(),
            *self.bundle.signed_prekey(),
            with_opk.then_some(self.one_time),
        )
        .with_kem_prekey(kem)
    }

    fn accept(&mut self, message: &[u8]) -> Result<(Session, Vec<u8>), Error> {
        self.store.accept(&self.identity, &InitialMessage::parse(message)?)
    }
}

/// Where the KEM ciphertext starts in an initial message with a one-time
/// prekey (docs/protocol.md §7.2).
const CT_AT: usize = 1 + 33 + 33 + 4 + 1 + 4 + 1 + 4;

#[test]
fn a_conversation_over_the_hybrid_agreement_with_and_without_one_time_prekeys() {
    for (seed, with_opk, kind) in [
        (1, true, KemPreKeyKind::OneTime),
        (2, false, KemPreKeyKind::OneTime),
        (3, true, KemPreKeyKind::LastResort),
        (4, false, KemPreKeyKind::LastResort),
    ] {
        let mut rng = rng(seed);
        let mut bob = make_bob(&mut rng);
        let alice = IdentityKeyPair::generate(&mut rng);
        let bundle = bob.bundle(with_opk, kind);
        let mut to_bob = Session::initiate(&mut rng, &alice, &bundle).unwrap();
        assert!(to_bob.is_post_quantum());
        let kem_id = if kind == KemPreKeyKind::OneTime { 200 } else { 300 };
        assert_eq!(to_bob.kem_prekey_id(), Some(PreKeyId(kem_id)));

        // Two initial messages, both carrying the same KEM fields.
        let first = to_bob.encrypt(&mut rng, b"one").unwrap();
        let second = to_bob.encrypt(&mut rng, b"two").unwrap();
        let (a, b) =
            (InitialMessage::parse(&first).unwrap(), InitialMessage::parse(&second).unwrap());
        assert!(a.is_post_quantum());
        assert_eq!(a.kem_prekey_id(), Some(PreKeyId(kem_id)));
        assert_eq!(a.kem_prekey_id(), b.kem_prekey_id());
        assert_eq!(a.one_time_prekey_id(), with_opk.then_some(PreKeyId(100)));

        let kem_before = bob.store.kem_prekey_count();
        let (mut to_alice, text) = bob.accept(&second).unwrap();
        assert_eq!(text, b"two");
        assert!(to_alice.is_post_quantum());
        // A one-time KEM prekey is used up; the last-resort one stays.
        let used = usize::from(kind == KemPreKeyKind::OneTime);
        assert_eq!(bob.store.kem_prekey_count(), kem_before - used);
        // The earlier initial message goes to the same session.
        assert_eq!(to_alice.decrypt(&first).unwrap(), b"one");

        // Replies and a few rounds.
        for round in 0..3 {
            let reply = to_alice.encrypt(&mut rng, format!("reply {round}").as_bytes()).unwrap();
            assert_eq!(to_bob.decrypt(&reply).unwrap(), format!("reply {round}").as_bytes());
            let next = to_bob.encrypt(&mut rng, format!("next {round}").as_bytes()).unwrap();
            assert!(InitialMessage::parse(&next).is_err(), "no KEM fields after the reply");
            assert_eq!(to_alice.decrypt(&next).unwrap(), format!("next {round}").as_bytes());
        }
    }
}

#[test]
fn a_changed_cut_or_extended_kem_ciphertext_is_refused_and_consumes_nothing() {
    let mut rng = rng(10);
    let mut bob = make_bob(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut to_bob =
        Session::initiate(&mut rng, &alice, &bob.bundle(true, KemPreKeyKind::OneTime)).unwrap();
    let message = to_bob.encrypt(&mut rng, b"secret").unwrap();
    let (opks, kems) = (bob.store.one_time_prekey_count(), bob.store.kem_prekey_count());

    // Every 97th byte of the ciphertext flipped: implicit rejection, the
    // secret differs, the message does not decrypt.
    for i in (0..1088).step_by(97) {
        let mut changed = message.clone();
        changed[CT_AT + i] ^= 0x80;
        let err = bob.accept(&changed).unwrap_err();
        assert_eq!(err, Error::Decrypt(DecryptError::Failed), "byte {i}");
    }
    let cut = [&message[..CT_AT + 1087], &message[CT_AT + 1088..]].concat();
    assert!(matches!(bob.accept(&cut), Err(Error::Decode(_))));
    let extended = [&message[..CT_AT + 1088], &[0][..], &message[CT_AT + 1088..]].concat();
    assert!(matches!(bob.accept(&extended), Err(Error::Decode(_))));
    // The KEM fields stripped: a classic message whose secret differs.
    let stripped = [&message[..CT_AT - 5], &[0][..], &message[CT_AT + 1088..]].concat();
    assert!(!InitialMessage::parse(&stripped).unwrap().is_post_quantum());
    assert_eq!(bob.accept(&stripped).unwrap_err(), Error::Decrypt(DecryptError::Failed));
    // Another KEM prekey id.
    let mut other = message.clone();
    other[CT_AT - 4..CT_AT].copy_from_slice(&201u32.to_be_bytes());
    assert_eq!(
        bob.accept(&other).unwrap_err(),
        Error::Agreement(AgreementError::UnknownKemPreKey(PreKeyId(201)))
    );

    assert_eq!(bob.store.one_time_prekey_count(), opks);
    assert_eq!(bob.store.kem_prekey_count(), kems);
    // The genuine message still works.
    assert_eq!(bob.accept(&message).unwrap().1, b"secret");
}

#[test]
fn a_kem_prekey_that_does_not_verify_or_comes_from_another_bundle_is_refused() {
    let mut rng = rng(11);
    let bob = make_bob(&mut rng);
    let carol = make_bob(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);

    // A flipped bit in the KEM prekey's signature.
    let mut bytes = bob.bundle(true, KemPreKeyKind::OneTime).to_bytes();
    let sig_last = bytes.len() - 2;
    bytes[sig_last] ^= 1;
    let bad = PreKeyBundle::from_bytes(&bytes).unwrap();
    assert_eq!(
        Session::initiate(&mut rng, &alice, &bad).unwrap_err(),
        AgreementError::InvalidKemSignature
    );
    // Carol's KEM prekey in Bob's bundle: it verifies under Carol's key only.
    let swapped = PreKeyBundle::new(*bob.bundle.identity(), *bob.bundle.signed_prekey(), None)
        .with_kem_prekey(carol.kem_one_time.clone());
    assert_eq!(
        Session::initiate(&mut rng, &alice, &swapped).unwrap_err(),
        AgreementError::InvalidKemSignature
    );
    // The genuine bundle works.
    assert!(
        Session::initiate(&mut rng, &alice, &bob.bundle(false, KemPreKeyKind::LastResort)).is_ok()
    );
}

#[test]
fn states_and_bundles_with_kem_keys_round_trip() {
    let mut rng = rng(12);
    let mut bob = make_bob(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);
    let bundle = bob.bundle(true, KemPreKeyKind::OneTime);
    let bytes = bundle.to_bytes();
    assert_eq!(bytes.len(), 175 + 1254, "a bundle with a KEM prekey and no certificate");
    assert_eq!(PreKeyBundle::from_bytes(&bytes).unwrap(), bundle);
    let kem = bundle.kem_prekey().unwrap();
    assert_eq!(sealwire::KemPreKey::from_bytes(&kem.to_bytes()).unwrap(), *kem);
    assert_eq!(kem.to_bytes().len(), sealwire::KemPreKey::ENCODED_LEN);

    let mut to_bob = Session::initiate(&mut rng, &alice, &bundle).unwrap();
    let first = to_bob.encrypt(&mut rng, b"first").unwrap();
    // The initiator keeps the ciphertext while it awaits the reply: its
    // stored state restores and still sends the same KEM fields.
    let awaiting = to_bob.to_bytes();
    let mut restored = Session::from_bytes(&awaiting).unwrap();
    assert!(restored.is_post_quantum() && restored.awaiting_reply());
    assert_eq!(restored.to_bytes(), awaiting);
    let again = restored.encrypt(&mut rng, b"again").unwrap();
    assert_eq!(again[..CT_AT + 1088], first[..CT_AT + 1088]);

    let (mut to_alice, _) = bob.accept(&first).unwrap();
    let responder = to_alice.to_bytes();
    assert!(Session::from_bytes(&responder).unwrap().is_post_quantum());
    assert_eq!(to_alice.decrypt(&again).unwrap(), b"again");
    // A repeated initial message with another ciphertext is not this
    // session's.
    let mut changed = again.clone();
    changed[CT_AT + 3] ^= 1;
    assert_eq!(to_alice.decrypt(&changed).unwrap_err(), DecryptError::OtherSession);

    let reply = to_alice.encrypt(&mut rng, b"reply").unwrap();
    to_bob.decrypt(&reply).unwrap();
    let after = to_bob.to_bytes();
    assert!(after.len() < awaiting.len() - 1000, "the ciphertext is dropped after the reply");
    assert!(Session::from_bytes(&after).unwrap().is_post_quantum());

    // A stored KEM prekey pair round trips, and Debug shows no secret.
    let pair =
        KemPreKeyPair::generate(&mut rng, &bob.identity, PreKeyId(7), KemPreKeyKind::LastResort);
    let stored = pair.to_bytes();
    assert_eq!(stored.len(), KemPreKeyPair::ENCODED_LEN);
    let back = KemPreKeyPair::from_bytes(&stored).unwrap();
    assert_eq!(back.public(), pair.public());
    assert_eq!(back.kind(), KemPreKeyKind::LastResort);
    let shown = format!("{pair:?}");
    assert!(shown.contains("KemPreKeyPair") && !shown.contains("seed"), "{shown}");
    let mut bad_kind = stored.to_vec();
    bad_kind[6] = 2;
    assert_eq!(KemPreKeyPair::from_bytes(&bad_kind).unwrap_err(), DecodeError::InvalidValue);
}
