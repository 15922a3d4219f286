//! Identity trust through the device layer (docs/sessions.md §5): new and
//! changed keys under each policy, a reinstalled peer, a device restored
//! from an old backup, bundles the relay substitutes, and safety numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::world::{World, current_base_key};
use sealwire::store::{IdentityStore, SessionStore};
use sealwire::{
    Action, BundleCertificates, CertificateError, Decision, DeviceError, IdentityEvent,
    IdentityKeyPair, MemoryStore, PreKeyBundle, PreKeyId, SafetyNumber, SignedPreKeyPair, Trust,
    TrustPolicy,
};

#[test]
fn a_new_contact_is_trusted_on_first_use_and_reported() {
    let mut w = World::new(10);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let parts = w.send(&mut bob, &alice_user, "hello");
    let received = w.deliver(&mut alice, &parts).unwrap();
    assert_eq!(received.identity_event, Some(IdentityEvent::New));
    assert_eq!(&received.identity, bob.identity());
    let stored = alice.store().load_identity(bob.address()).unwrap().unwrap();
    assert_eq!((stored.key(), stored.trust()), (bob.identity(), Trust::Accepted));
    // The second message is from a known key: no event.
    let parts = w.send_only(&mut bob, &alice_user, "again");
    assert_eq!(w.deliver(&mut alice, &parts).unwrap().identity_event, None);
}

#[test]
fn a_first_contact_can_wait_for_the_user() {
    let mut w = World::new(11);
    let mut alice = w.device(0, "alice", 1);
    alice.set_policy(TrustPolicy { first_contact: Decision::AskUser, ..TrustPolicy::default() });
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let parts = w.send(&mut bob, &alice_user, "may I?");
    let before = alice.store().clone();
    let err = w.deliver(&mut alice, &parts).unwrap_err();
    let DeviceError::UntrustedIdentity(question) = &err else { panic!("{err:?}") };
    assert_eq!(
        (&question.address, &question.identity, question.previous),
        (bob.address(), bob.identity(), None)
    );
    assert_eq!(err.action(), Action::AskUser);
    assert!(*alice.store() == before, "nothing is stored before the user decides");
    // The user approves; the kept envelope is received again.
    alice.approve_identity(bob.address(), bob.identity(), w.now).unwrap();
    let received = w.deliver(&mut alice, &parts).unwrap();
    assert_eq!(received.plaintext, b"may I?");
    assert_eq!(received.identity_event, None, "approved before it arrived");
}

/// Alice talks with Bob; then Bob's phone is reinstalled under the same
/// address with a new identity key and writes to her again.
fn reinstall(
    w: &mut World,
    alice_policy: TrustPolicy,
) -> (common::world::Dev, common::world::Dev, common::world::Dev) {
    let mut alice = w.device(0, "alice", 1);
    alice.set_policy(alice_policy);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut bob, &alice_user, "before");
    assert_eq!(w.read(&mut alice, &m), "before");
    let m = w.send(&mut alice, &bob_user, "answer");
    assert_eq!(w.read(&mut bob, &m), "answer");
    // The reinstall: a new store, a new identity, the same address.
    let new_bob = {
        let address = bob.address().clone();
        let mut d = sealwire::Device::create(
            &mut w.rng,
            MemoryStore::new(),
            address,
            w.trust.clone(),
            w.now,
        )
        .unwrap();
        w.certify(&mut d);
        w.publish(&mut d, None);
        d
    };
    (alice, bob, new_bob)
}

#[test]
fn a_reinstalled_peer_is_reported_and_the_conversation_recovers() {
    let mut w = World::new(12);
    let (mut alice, old_bob, mut bob) = reinstall(&mut w, TrustPolicy::default());
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());

    // Before Alice knows, she writes on the old session. The relay has
    // no device with that key any more (it bounces it, and the app resets
    // the session: `Sent::recipient` names the device); forced through,
    // the new phone cannot open it.
    let lost = w.send_only(&mut alice, &bob_user, "to the old phone");
    assert_eq!(&lost[0].to, old_bob.identity());
    let err = bob.receive(&lost[0].envelope, w.now).unwrap_err();
    assert_eq!(err, DeviceError::Unseal(sealwire::UnsealError::NotForRecipient));

    // The new Bob writes: Alice accepts the changed key (the default
    // policy) and tells her user.
    let m = w.send(&mut bob, &alice_user, "new phone, same me");
    let received = w.deliver(&mut alice, &m).unwrap();
    assert_eq!(
        received.identity_event,
        Some(IdentityEvent::Changed { previous: *old_bob.identity() })
    );
    assert_eq!(alice.store().load_identity(bob.address()).unwrap().unwrap().key(), bob.identity());
    // Sessions with the old key are gone; Alice's next message reaches
    // the new phone.
    let record = alice.store().load_session(bob.address()).unwrap().unwrap();
    assert!(
        record
            .current()
            .into_iter()
            .chain(record.archived())
            .all(|s| s.remote_identity() == bob.identity())
    );
    let m = w.send(&mut alice, &bob_user, "welcome back");
    assert_eq!(w.read(&mut bob, &m), "welcome back");
    // The safety number changed.
    let before =
        SafetyNumber::new(alice.address(), alice.identity(), old_bob.address(), old_bob.identity());
    assert_ne!(alice.safety_number(bob.address()).unwrap(), before);
}

#[test]
fn a_changed_key_waits_for_the_user_under_a_strict_policy() {
    let mut w = World::new(13);
    let strict = TrustPolicy { on_change: Decision::AskUser, ..TrustPolicy::default() };
    let (mut alice, old_bob, mut bob) = reinstall(&mut w, strict);
    let alice_user = alice.address().user().clone();
    let m = w.send(&mut bob, &alice_user, "new phone");
    let before = alice.store().clone();
    let err = w.deliver(&mut alice, &m).unwrap_err();
    let DeviceError::IdentityChanged(question) = &err else { panic!("{err:?}") };
    assert_eq!(question.previous, Some(*old_bob.identity()));
    assert_eq!(&question.identity, bob.identity());
    assert_eq!(err.action(), Action::AskUser);
    assert!(*alice.store() == before);
    // Sending to the changed device starts nothing either.
    let bundle = w.bundle(bob.address());
    let err = alice.start_session(&mut w.rng, bob.address(), &bundle, w.now).unwrap_err();
    assert!(matches!(err, DeviceError::IdentityChanged(_)), "{err:?}");

    alice.approve_identity(bob.address(), bob.identity(), w.now).unwrap();
    let received = w.deliver(&mut alice, &m).unwrap();
    assert_eq!(received.plaintext, b"new phone");
}

#[test]
fn a_verified_key_never_changes_without_the_user_whatever_the_policy() {
    let mut w = World::new(14);
    let (mut alice, old_bob, mut bob) = reinstall(&mut w, TrustPolicy::default());
    let number = alice.safety_number(old_bob.address()).unwrap();
    alice.mark_verified(old_bob.address(), &number, w.now).unwrap();
    let alice_user = alice.address().user().clone();
    let m = w.send(&mut bob, &alice_user, "trust me");
    let err = w.deliver(&mut alice, &m).unwrap_err();
    assert!(matches!(err, DeviceError::IdentityChanged(_)), "{err:?}");
    alice.approve_identity(bob.address(), bob.identity(), w.now).unwrap();
    assert_eq!(w.read(&mut alice, &m), "trust me");
    let stored = alice.store().load_identity(bob.address()).unwrap().unwrap();
    assert_eq!(stored.trust(), Trust::Accepted, "approval is not verification");
}

#[test]
fn a_device_restored_from_an_old_backup_recovers() {
    let mut w = World::new(15);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut bob, &alice_user, "one");
    assert_eq!(w.read(&mut alice, &m), "one");
    let m = w.send(&mut alice, &bob_user, "two");
    assert_eq!(w.read(&mut bob, &m), "two");

    // Alice's backup, taken now; the conversation goes on for a while.
    let backup = alice.store().clone();
    let revision_then = alice.account_revision();
    for i in 0..3 {
        let m = w.send_only(&mut bob, &alice_user, &format!("b{i}"));
        assert_eq!(w.read(&mut alice, &m), format!("b{i}"));
        let m = w.send_only(&mut alice, &bob_user, &format!("a{i}"));
        assert_eq!(w.read(&mut bob, &m), format!("a{i}"));
    }
    let revision_now = alice.account_revision();

    // Her phone is lost; the backup comes back on a new one. The app kept
    // the account revision outside the backup and sees it went back.
    let mut alice = sealwire::Device::open(backup, w.trust.clone()).unwrap();
    assert_eq!(alice.account_revision(), revision_then);
    assert!(alice.account_revision() <= revision_now);
    alice.after_restore().unwrap();

    // Bob's next message is on a chain the restored state never saw: the
    // library says the session must be renewed rather than "failed".
    let m = w.send_only(&mut bob, &alice_user, "are you there?");
    let err = w.deliver(&mut alice, &m).unwrap_err();
    assert_eq!(err, DeviceError::NoSession(bob.address().clone()));
    assert_eq!(err.action(), Action::ResetSession);

    // No old session sends any more: Alice starts a new one and writes.
    assert_eq!(alice.missing_sessions(&bob_user, w.now).unwrap(), [bob.address().clone()]);
    let m = w.send(&mut alice, &bob_user, "back from a backup");
    let received = w.deliver(&mut bob, &m).unwrap();
    assert!(received.new_session);
    assert_eq!(received.identity_event, None, "the same identity key: no warning");
    // Both sides now use the new session, both ways.
    let m = w.send_only(&mut bob, &alice_user, "welcome back");
    assert_eq!(w.read(&mut alice, &m), "welcome back");
    assert_eq!(current_base_key(&alice, bob.address()), current_base_key(&bob, alice.address()));
    let m = w.send_only(&mut alice, &bob_user, "thanks");
    assert_eq!(w.read(&mut bob, &m), "thanks");
}

#[test]
fn without_the_restore_call_an_old_state_still_leaks_and_forges_nothing() {
    // The app forgot after_restore: the restored state sends again at
    // message numbers it already used. Each gets a fresh nonce; Bob
    // refuses them as duplicates; nothing is shown twice.
    let mut w = World::new(16);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut bob, &alice_user, "hi");
    assert_eq!(w.read(&mut alice, &m), "hi");
    let m = w.send(&mut alice, &bob_user, "zero");
    assert_eq!(w.read(&mut bob, &m), "zero");
    let backup = alice.store().clone();
    let first = w.send(&mut alice, &bob_user, "first");
    assert_eq!(w.read(&mut bob, &first), "first");
    let mut restored = sealwire::Device::open(backup, w.trust.clone()).unwrap();
    let again = w.send(&mut restored, &bob_user, "other text, same number");
    let before = bob.store().clone();
    let err = w.deliver(&mut bob, &again).unwrap_err();
    assert!(
        matches!(err, DeviceError::Decrypt { error: sealwire::DecryptError::Duplicate, .. }),
        "{err:?}"
    );
    assert!(*bob.store() == before);
    assert_ne!(first[0].envelope, again[0].envelope);
}

#[test]
fn a_substituted_bundle_is_refused_when_its_app_must_vouch_for_it() {
    let mut w = World::new(17);
    let alice = w.device(0, "alice", 1);
    let mut carol = w.device(2, "carol", 1);
    let dave = w.device(1, "dave", 1);
    let real = w.bundle(alice.address());

    // The relay's own key, with Alice's real certificate.
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let signed = SignedPreKeyPair::generate(&mut w.rng, &mallory, PreKeyId(1));
    let theirs = PreKeyBundle::new(*mallory.public(), signed.public(), None);
    #[cfg(feature = "pq")]
    let theirs = theirs.with_kem_prekey(
        sealwire::KemPreKeyPair::generate(
            &mut w.rng,
            &mallory,
            PreKeyId(1),
            sealwire::KemPreKeyKind::LastResort,
        )
        .public(),
    );
    let with_alices = theirs.clone().with_certificate(real.certificate().unwrap().clone());
    // The relay's own key, with the certificate of another device (Dave's
    // key, Dave's address).
    let dave_bundle = w.bundle(dave.address());
    let with_daves = dave_bundle.clone();
    let cases = [
        (theirs.clone(), CertificateError::Missing),
        (with_alices, CertificateError::IdentityMismatch),
        (with_daves, CertificateError::AddressMismatch),
    ];
    for (bundle, expected) in cases {
        let before = carol.store().clone();
        let err = carol.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap_err();
        assert_eq!(err, DeviceError::Certificate(expected));
        assert_eq!(err.action(), Action::Drop);
        assert!(*carol.store() == before);
    }
    // The real bundle works.
    carol.start_session(&mut w.rng, alice.address(), &real, w.now).unwrap();

    // The control: where certificates are optional, the relay's key is
    // taken on first contact. This is what the default prevents.
    let mut eve = w.device(2, "eve", 1);
    eve.set_policy(TrustPolicy {
        bundle_certificates: BundleCertificates::Optional,
        ..TrustPolicy::default()
    });
    assert_eq!(
        eve.start_session(&mut w.rng, alice.address(), &theirs, w.now).unwrap(),
        Some(IdentityEvent::New)
    );
    // Across apps only: a device of Alice's own app may start without.
    let mut ann = w.device(0, "ann", 1);
    ann.set_policy(TrustPolicy {
        bundle_certificates: BundleCertificates::RequiredAcrossApps,
        ..TrustPolicy::default()
    });
    ann.start_session(&mut w.rng, alice.address(), &theirs, w.now).unwrap();
    let err = carol.start_session(
        &mut w.rng,
        dave.address(),
        &PreKeyBundle::new(*dave_bundle.identity(), *dave_bundle.signed_prekey(), None),
        w.now,
    );
    assert!(err.is_err(), "chat.c to chat.b needs the certificate");
}

#[test]
fn safety_numbers_match_on_both_sides_and_change_with_the_keys() {
    let mut w = World::new(18);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let m = w.send(&mut bob, &alice_user, "hi");
    w.read(&mut alice, &m);
    let on_alice = alice.safety_number(bob.address()).unwrap();
    let on_bob = bob.safety_number(alice.address()).unwrap();
    assert_eq!(on_alice, on_bob);
    assert_eq!(on_alice.digits().len(), 60);
    assert!(on_alice.matches_scanned(on_bob.scannable()).unwrap());
    // Another device's number differs.
    let carol = w.device(2, "carol", 1);
    let other =
        SafetyNumber::new(alice.address(), alice.identity(), carol.address(), carol.identity());
    assert_ne!(other, on_alice);
    assert!(!on_alice.matches_scanned(other.scannable()).unwrap());
    // No number for a device never seen.
    assert_eq!(
        alice.safety_number(carol.address()).unwrap_err(),
        DeviceError::NoIdentity(carol.address().clone())
    );
}

#[test]
fn after_a_reinstall_nothing_under_the_old_key_gets_through() {
    for strict in [false, true] {
        let mut w = World::new(19);
        let policy = if strict {
            TrustPolicy { on_change: Decision::AskUser, ..TrustPolicy::default() }
        } else {
            TrustPolicy::default()
        };
        let (mut alice, mut old_bob, mut bob) = reinstall(&mut w, policy);
        let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
        // Before the reinstall, old Bob wrote a ratchet message, and started
        // a session with Alice's laptop... here: a message the relay holds.
        let held_ratchet = w.send_only(&mut old_bob, &alice_user, "held, old key");
        // The new phone writes; Alice takes the change (asking first when
        // strict).
        let m = w.send(&mut bob, &alice_user, "new phone");
        if strict {
            let err = w.deliver(&mut alice, &m).unwrap_err();
            assert!(matches!(err, DeviceError::IdentityChanged(_)));
            alice.approve_identity(bob.address(), bob.identity(), w.now).unwrap();
        }
        w.read(&mut alice, &m);
        let stored = alice.store().load_identity(bob.address()).unwrap().unwrap();
        assert_eq!(stored.replaced(), [(*old_bob.identity(), w.now)]);

        // Everything under the old key is refused, quietly: no reset, no
        // question, no change of key.
        let before = alice.store().clone();
        let err = w.deliver(&mut alice, &held_ratchet).unwrap_err();
        assert!(matches!(err, DeviceError::ReplacedIdentity(_)), "{err:?}");
        assert_eq!(err.action(), Action::Drop);
        // An initial message of a new session from the old phone, held back.
        let mut old_phone = old_bob;
        old_phone.reset_session(alice.address()).unwrap();
        let held_initial = w.send(&mut old_phone, &alice_user, "held initial, old key");
        let err = w.deliver(&mut alice, &held_initial).unwrap_err();
        assert!(matches!(err, DeviceError::ReplacedIdentity(_)), "{err:?}");
        assert!(*alice.store() == before, "nothing changed");

        // The new session works both ways.
        let m = w.send(&mut alice, &bob_user, "hello new phone");
        assert_eq!(w.read(&mut bob, &m), "hello new phone");

        // Taking the old key back needs the user's approval.
        alice.approve_identity(bob.address(), old_phone.identity(), w.now).unwrap();
        let stored = alice.store().load_identity(bob.address()).unwrap().unwrap();
        assert_eq!(stored.key(), old_phone.identity());
        assert!(stored.has_replaced(bob.identity()) && !stored.has_replaced(old_phone.identity()));
    }
}

#[test]
fn a_key_is_verified_only_by_the_safety_number_compared() {
    let mut w = World::new(20);
    let (mut alice, old_bob, mut bob) = reinstall(&mut w, TrustPolicy::default());
    let alice_user = alice.address().user().clone();
    // The user starts comparing the number for the old key...
    let shown = alice.safety_number(old_bob.address()).unwrap();
    // ... while the new phone's message arrives and changes the key.
    let m = w.send(&mut bob, &alice_user, "new phone");
    w.read(&mut alice, &m);
    // Marking the number the user compared verifies nothing.
    let err = alice.mark_verified(bob.address(), &shown, w.now).unwrap_err();
    assert_eq!(err, DeviceError::SafetyNumberMismatch(bob.address().clone()));
    assert_eq!(err.action(), Action::AskUser);
    assert_eq!(alice.identity_of(bob.address()).unwrap().unwrap().trust(), Trust::Accepted);
    // The current number verifies the current key.
    let current = alice.safety_number(bob.address()).unwrap();
    alice.mark_verified(bob.address(), &current, w.now).unwrap();
    assert_eq!(alice.identity_of(bob.address()).unwrap().unwrap().trust(), Trust::Verified);
}

#[test]
fn a_restored_device_publishes_everything_anew_under_fresh_ids() {
    use sealwire::limits::{RESTORE_ONE_TIME_ID_GAP, SIGNED_PREKEY_ROTATION_SECS};
    let mut w = World::new(21);
    let mut alice = w.device(0, "alice", 1);
    let alice_user = alice.address().user().clone();
    let backup = alice.store().clone();
    // After the backup: a rotation and a top-up, published.
    w.tick(SIGNED_PREKEY_ROTATION_SECS + 60);
    w.publish(&mut alice, Some(3));
    let before = w.server.published[alice.address()].0.clone();
    // A contact fetches a bundle of that era, and writes only later.
    let mut carol = w.device(2, "carol", 1);
    carol.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    let stale = w.bundle(alice.address());
    carol.start_session(&mut w.rng, alice.address(), &stale, w.now).unwrap();

    // The phone is lost; the backup is restored.
    let mut alice = sealwire::Device::open(backup, w.trust.clone()).unwrap();
    alice.after_restore().unwrap();
    let publication = alice.publication(&mut w.rng, w.now, Some(0)).unwrap();
    assert!(publication.replaces_all());
    // New ids beyond every id handed out before: no key takes an id the
    // server may still hand out with a lost key.
    assert!(publication.signed_prekey().id().0 > before.signed_prekey().id().0);
    let lowest = publication.one_time_prekeys().iter().map(|k| k.id().0).min().unwrap();
    assert!(lowest >= RESTORE_ONE_TIME_ID_GAP);
    assert!(before.one_time_prekeys().iter().all(|k| k.id().0 < lowest));
    w.publish_publication(&mut alice, publication);
    assert!(!alice.publication(&mut w.rng, w.now, Some(100)).unwrap().replaces_all());

    // Carol's session from the stale bundle cannot be accepted: Alice
    // says so, and a new contact from a fresh bundle works.
    let m = w.send_only(&mut carol, &alice_user, "from the stale bundle");
    let err = w.deliver(&mut alice, &m).unwrap_err();
    assert_eq!(err, DeviceError::NoSession(carol.address().clone()));
    let mut dave = w.device(1, "dave", 1);
    let m = w.send(&mut dave, &alice_user, "fresh");
    assert_eq!(w.read(&mut alice, &m), "fresh");
}
