//! The post-quantum agreement through the device API (docs/protocol.md
//! §20, docs/sessions.md §6.2): KEM prekeys published and consumed with
//! the one-time prekeys, the last-resort KEM prekey's replays refused (also
//! after a restart from the SQLite store), and downgrades refused where
//! post-quantum agreement is required.
#![cfg(feature = "pq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::world::{World, for_device};
use sealwire::store::PreKeyStore;
use sealwire::{
    AgreementError, DeviceError, IdentityKeyPair, KemPreKeyKind, PostQuantum, PreKeyBundle,
    PreKeyId, Session, TrustPolicy,
};

#[test]
fn devices_publish_kem_prekeys_and_talk_post_quantum_by_default() {
    let mut w = World::new(90);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    // What the world's server received when the device was made.
    let publication = w.server.published[alice.address()].0.clone();
    assert_eq!(publication.one_time_prekeys().len(), 100);
    assert_eq!(publication.kem_one_time_prekeys().len(), 100);
    // Each one-time prekey has a one-time KEM prekey of its id; the
    // last-resort KEM prekey goes with the signed prekey.
    let last_resort = publication.kem_prekey().unwrap();
    assert_eq!(last_resort.kind(), KemPreKeyKind::LastResort);
    assert_eq!(last_resort.id(), PreKeyId(publication.signed_prekey().id().0 | 1 << 31));
    last_resort.verify(alice.identity()).unwrap();
    for (ec, kem) in publication.one_time_prekeys().iter().zip(publication.kem_one_time_prekeys()) {
        assert_eq!(ec.id(), kem.id());
        assert_eq!(kem.kind(), KemPreKeyKind::OneTime);
        kem.verify(alice.identity()).unwrap();
    }

    // Bob starts from a bundle with one-time prekeys of both kinds.
    let ec = w.server.published[alice.address()].1[0];
    let kem =
        publication.kem_one_time_prekeys().iter().find(|k| k.id() == ec.id()).unwrap().clone();
    let bundle = w.server.published[alice.address()].0.bundle_with_kem(Some(ec), Some(kem.clone()));
    assert_eq!(bundle.kem_prekey().unwrap().id(), ec.id());
    let alice_user = alice.address().user().clone();
    bob.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    bob.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap();
    let parts = w.send_only(&mut bob, &alice_user, "post-quantum hello");
    let part = for_device(&parts, &alice);
    assert!(alice.store().load_kem_prekey(kem.id()).unwrap().is_some());
    assert_eq!(w.receive(&mut alice, &part).unwrap().plaintext, b"post-quantum hello");
    // Both one-time prekeys were consumed in that one commit.
    assert!(alice.store().load_kem_prekey(kem.id()).unwrap().is_none());
    assert!(alice.store().load_one_time_prekey(ec.id()).unwrap().is_none());
    // The sessions on both sides are post-quantum.
    let record = {
        use sealwire::store::SessionStore;
        alice.store().load_session(bob.address()).unwrap().unwrap()
    };
    assert!(record.current().unwrap().is_post_quantum());
    assert_eq!(alice.is_post_quantum(bob.address()).unwrap(), Some(true));
    assert_eq!(bob.is_post_quantum(alice.address()).unwrap(), Some(true));
    let bob_user = bob.address().user().clone();
    let back = w.send(&mut alice, &bob_user, "and back");
    assert_eq!(w.read(&mut bob, &back), "and back");
}

#[test]
fn a_bundle_stripped_of_its_kem_prekey_or_a_classic_message_is_refused_where_required() {
    let mut w = World::new(91);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    bob.set_devices(&alice_user, &[alice.address().device()]).unwrap();

    // The relay strips the KEM prekey: refused before anything is stored.
    let stripped = w.bundle(alice.address()).without_kem_prekey();
    let before = bob.store().clone();
    let err = bob.start_session(&mut w.rng, alice.address(), &stripped, w.now).unwrap_err();
    assert_eq!(err, DeviceError::Agreement(AgreementError::PostQuantumRequired));
    assert_eq!(err.action(), sealwire::Action::Drop);
    assert!(*bob.store() == before);

    // Carol accepts classic bundles (Preferred) and sends a classic
    // initial message: Alice, who requires post-quantum, refuses it and
    // consumes nothing.
    let mut carol = w.device(2, "carol", 1);
    carol
        .set_policy(TrustPolicy { post_quantum: PostQuantum::Preferred, ..TrustPolicy::default() });
    carol.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    let classic = w.bundle(alice.address()).without_kem_prekey();
    carol.start_session(&mut w.rng, alice.address(), &classic, w.now).unwrap();
    let parts = w.send_only(&mut carol, &alice_user, "classic");
    let part = for_device(&parts, &alice);
    let alice_before = alice.store().clone();
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert_eq!(err, DeviceError::Agreement(AgreementError::PostQuantumRequired));
    // Nothing consumed; only the refused base key remembered, so that
    // Alice's own session wins against Carol's classic one.
    {
        use sealwire::store::SessionStore;
        assert_eq!(
            alice.store().one_time_prekey_ids().unwrap(),
            alice_before.one_time_prekey_ids().unwrap()
        );
        assert_eq!(alice.store().kem_prekey_ids().unwrap(), alice_before.kem_prekey_ids().unwrap());
        let record = alice.store().load_session(carol.address()).unwrap().unwrap();
        assert!(record.current().is_none());
        assert!(record.refused().is_some());
    }
    // Alice writes to Carol over a post-quantum session of her own, and the
    // conversation converges on it: Carol's next messages are read.
    let carol_user = carol.address().user().clone();
    alice.set_devices(&carol_user, &[carol.address().device()]).unwrap();
    let a1 = w.send(&mut alice, &carol_user, "a1");
    assert_eq!(w.read(&mut carol, &a1), "a1");
    let c2 = w.send_only(&mut carol, &alice_user, "c2");
    assert_eq!(w.read(&mut alice, &c2), "c2");
    // A fresh Alice for the Preferred half of the test.
    let mut alice = w.device(0, "alice2", 1);
    let alice_user = alice.address().user().clone();
    carol.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    let classic = w.bundle(alice.address()).without_kem_prekey();
    carol.start_session(&mut w.rng, alice.address(), &classic, w.now).unwrap();
    let parts = w.send_only(&mut carol, &alice_user, "classic");
    let part = for_device(&parts, &alice);

    // With Preferred, Alice accepts it; and a KEM prekey that is there is
    // still always used.
    alice
        .set_policy(TrustPolicy { post_quantum: PostQuantum::Preferred, ..TrustPolicy::default() });
    assert_eq!(w.receive(&mut alice, &part).unwrap().plaintext, b"classic");
    assert_eq!(alice.is_post_quantum(carol.address()).unwrap(), Some(false));
    let mut dave = w.device(2, "dave", 1);
    dave.set_policy(TrustPolicy { post_quantum: PostQuantum::Preferred, ..TrustPolicy::default() });
    let full = w.bundle(alice.address());
    assert!(full.kem_prekey().is_some());
    dave.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    dave.start_session(&mut w.rng, alice.address(), &full, w.now).unwrap();
    let parts = w.send_only(&mut dave, &alice_user, "pq anyway");
    let message = {
        let part = for_device(&parts, &alice);
        w.receive(&mut alice, &part).unwrap()
    };
    assert!(message.new_session);
    let record = {
        use sealwire::store::SessionStore;
        alice.store().load_session(dave.address()).unwrap().unwrap()
    };
    assert!(record.current().unwrap().is_post_quantum());
}

#[test]
fn a_kem_prekey_that_does_not_verify_is_refused_by_the_device() {
    let mut w = World::new(92);
    let alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let foreign = sealwire::KemPreKeyPair::generate(
        &mut w.rng,
        &mallory,
        PreKeyId(5),
        KemPreKeyKind::LastResort,
    );
    let swapped = w.bundle(alice.address()).with_kem_prekey(foreign.public());
    let err = bob.start_session(&mut w.rng, alice.address(), &swapped, w.now).unwrap_err();
    assert_eq!(err, DeviceError::Agreement(AgreementError::InvalidKemSignature));
    // A Session started from it directly is refused as well.
    let alice_bundle: PreKeyBundle = swapped;
    assert_eq!(
        Session::initiate(&mut w.rng, &mallory, &alice_bundle).unwrap_err(),
        AgreementError::InvalidKemSignature
    );
}

#[cfg(feature = "sqlite")]
#[test]
fn a_replay_against_the_last_resort_kem_prekey_is_refused_also_after_a_restart() {
    use sealwire::sqlite::{SqliteStore, StorageKey};
    use sealwire::{DecryptError, Device};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.db");
    let key = StorageKey::from_bytes([3; 32]);
    let mut w = World::new(93);
    let mut alice = w.device_on(SqliteStore::open(&path, &key).unwrap(), 0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    // No one-time prekeys left: the bundle carries only the signed prekey
    // and the last-resort KEM prekey.
    w.exhaust_one_time_prekeys(alice.address());
    let bundle = w.bundle(alice.address());
    assert!(bundle.one_time_prekey().is_none());
    assert_eq!(bundle.kem_prekey().unwrap().kind(), KemPreKeyKind::LastResort);
    bob.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    bob.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap();
    let parts = w.send_only(&mut bob, &alice_user, "over the last resort");
    let part = for_device(&parts, &alice);
    assert_eq!(w.receive(&mut alice, &part).unwrap().plaintext, b"over the last resort");
    let last_resort = bundle.kem_prekey().unwrap().id();
    assert!(alice.store().load_kem_prekey(last_resort).unwrap().is_some(), "kept");

    let duplicate = |e: DeviceError<_>| {
        matches!(e, DeviceError::Decrypt { error: DecryptError::Duplicate, .. })
    };
    assert!(duplicate(w.receive(&mut alice, &part).unwrap_err()));
    // The session it made reset meanwhile: still refused.
    alice.reset_session(bob.address()).unwrap();
    assert!(duplicate(w.receive(&mut alice, &part).unwrap_err()));

    // After a restart from the database: still refused.
    let trust = w.trust.clone();
    drop(alice);
    let mut alice = Device::open(SqliteStore::open_existing(&path, &key).unwrap(), trust).unwrap();
    assert!(duplicate(w.receive(&mut alice, &part).unwrap_err()));
}
