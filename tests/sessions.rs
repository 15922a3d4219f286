//! Session selection through the device layer (docs/sessions.md §4): which
//! session a message goes to, simultaneous initiation, replayed initial
//! messages with and without one-time prekeys, and signed prekey rotation
//! with a message in flight.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::world::{World, current_base_key, for_device};
use sealwire::limits::{
    MAX_ARCHIVED_SESSIONS, SIGNED_PREKEY_GRACE_SECS, SIGNED_PREKEY_ROTATION_SECS,
};
use sealwire::store::{BaseKeyStore, PreKeyStore, SessionStore};
use sealwire::{Action, DecryptError, DeviceError};

#[test]
fn both_sides_initiating_at_once_converge_without_losing_a_message() {
    // Run the race many times: which side's base key is smaller varies.
    for seed in 0..12 {
        let mut w = World::new(100 + seed);
        let mut alice = w.device(0, "alice", 1);
        let mut bob = w.device(1, "bob", 1);
        let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());

        // Each starts a session from the other's bundle and writes before
        // anything arrives.
        let from_alice = w.send(&mut alice, &bob_user, "a1");
        let from_bob = w.send(&mut bob, &alice_user, "b1");
        assert_eq!(w.read(&mut bob, &from_alice), "a1");
        assert_eq!(w.read(&mut alice, &from_bob), "b1");

        // Both now send over the same session.
        let key_at_alice = current_base_key(&alice, bob.address()).unwrap();
        let key_at_bob = current_base_key(&bob, alice.address()).unwrap();
        assert_eq!(key_at_alice, key_at_bob, "seed {seed}: the two sides chose different sessions");

        // And the conversation goes on both ways, nothing lost.
        for round in 0..3 {
            let m = w.send_only(&mut alice, &bob_user, &format!("a{round}"));
            assert_eq!(w.read(&mut bob, &m), format!("a{round}"));
            let m = w.send_only(&mut bob, &alice_user, &format!("b{round}"));
            assert_eq!(w.read(&mut alice, &m), format!("b{round}"));
        }
        assert_eq!(
            current_base_key(&alice, bob.address()),
            current_base_key(&bob, alice.address())
        );
    }
}

#[test]
fn a_late_message_of_the_losing_session_does_not_turn_the_winner_back() {
    let mut bob_lost = 0;
    for seed in 0..12 {
        let mut w = World::new(300 + seed);
        let mut alice = w.device(0, "alice", 1);
        let mut bob = w.device(1, "bob", 1);
        let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
        let a1 = w.send(&mut alice, &bob_user, "a1");
        let alices_own = current_base_key(&alice, bob.address()).unwrap();
        let b1 = w.send(&mut bob, &alice_user, "b1");
        let b2 = w.send_only(&mut bob, &alice_user, "b2");
        assert_eq!(w.read(&mut alice, &b1), "b1");
        assert_eq!(w.read(&mut bob, &a1), "a1");
        let agreed = current_base_key(&bob, alice.address()).unwrap();
        assert_eq!(current_base_key(&alice, bob.address()), Some(agreed), "seed {seed}");
        // Bob's second message was made on his own session before he saw
        // Alice's. It still opens, and if Bob's session lost the race it
        // stays archived: Alice keeps sending on the agreed one.
        assert_eq!(w.read(&mut alice, &b2), "b2");
        bob_lost += usize::from(agreed == alices_own);
        assert_eq!(current_base_key(&alice, bob.address()), Some(agreed), "seed {seed}");
    }
    // The seeds cover both outcomes of the race.
    assert!((1..12).contains(&bob_lost), "{bob_lost}");
}

#[test]
fn a_late_initial_message_from_a_race_is_read_and_the_sides_still_converge() {
    for seed in 0..8 {
        let mut w = World::new(200 + seed);
        let mut alice = w.device(0, "alice", 1);
        let mut bob = w.device(1, "bob", 1);
        let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());

        let from_alice = w.send(&mut alice, &bob_user, "a1");
        let from_bob = w.send(&mut bob, &alice_user, "b1 (delayed)");
        // Bob reads Alice's first and answers before his own first arrives.
        assert_eq!(w.read(&mut bob, &from_alice), "a1");
        let answer = w.send_only(&mut bob, &alice_user, "b2");
        assert_eq!(w.read(&mut alice, &answer), "b2");
        assert_eq!(w.read(&mut alice, &from_bob), "b1 (delayed)");
        // Two more exchanges and both send over one session.
        for round in 0..2 {
            let m = w.send_only(&mut alice, &bob_user, &format!("a{round}"));
            assert_eq!(w.read(&mut bob, &m), format!("a{round}"));
            let m = w.send_only(&mut bob, &alice_user, &format!("b{round}"));
            assert_eq!(w.read(&mut alice, &m), format!("b{round}"));
        }
        assert_eq!(
            current_base_key(&alice, bob.address()),
            current_base_key(&bob, alice.address()),
            "seed {seed}"
        );
    }
}

#[test]
fn an_initial_message_replayed_after_the_prekeys_ran_out_is_refused() {
    let mut w = World::new(1);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    // The server has no one-time prekeys left for Alice (or withholds
    // them): Bob's initial message uses the signed prekey alone.
    w.exhaust_one_time_prekeys(alice.address());
    let first = w.send(&mut bob, &alice_user, "only once");
    let part = for_device(&first, &alice);
    let received = w.receive(&mut alice, &part).unwrap();
    assert!(received.new_session);
    assert_eq!(received.plaintext, b"only once");
    let first_key = current_base_key(&alice, bob.address()).unwrap();

    // The relay replays it: a duplicate, not a second session.
    let before = alice.store().clone();
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }), "{err:?}");
    assert_eq!(err.action(), Action::Drop);
    assert!(*alice.store() == before, "a refused replay changed the store");

    // Bob starts session after session (each answered, as after a reset)
    // until the first one falls out of Alice's archive. The replay is still
    // refused.
    let bob_user = bob.address().user().clone();
    let answer = w.send(&mut alice, &bob_user, "answer");
    w.read(&mut bob, &answer);
    for i in 0..=MAX_ARCHIVED_SESSIONS {
        let bundle = w.bundle(alice.address());
        bob.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap();
        let m = w.send_only(&mut bob, &alice_user, &format!("session {i}"));
        assert_eq!(w.read(&mut alice, &m), format!("session {i}"));
        let answer = w.send(&mut alice, &bob_user, "answer");
        w.read(&mut bob, &answer);
    }
    let record = alice.store().load_session(bob.address()).unwrap().unwrap();
    assert!(
        record.current().into_iter().chain(record.archived()).all(|s| s.base_key() != &first_key),
        "the first session should have left the archive"
    );
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }), "{err:?}");

    // The record of accepted base keys is what answers: without it the
    // replay would open a new session (the control).
    assert!(alice.store().is_base_key_accepted(sealwire::PreKeyId(1), &first_key).unwrap());
}

#[test]
fn an_initial_message_replayed_with_a_one_time_prekey_is_a_duplicate_too() {
    let mut w = World::new(2);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let first = w.send(&mut bob, &alice_user, "with a one-time prekey");
    let part = for_device(&first, &alice);
    let used = alice.store().one_time_prekey_ids().unwrap().len();
    w.receive(&mut alice, &part).unwrap();
    assert_eq!(alice.store().one_time_prekey_ids().unwrap().len(), used - 1);
    // While the session exists, and after Alice's device list drops Bob
    // and with him the session: a duplicate both times.
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }), "{err:?}");
    let bob_user = bob.address().user().clone();
    alice.set_devices(&bob_user, &[sealwire::DeviceId(1)]).unwrap();
    alice.set_devices(&bob_user, &[]).unwrap();
    assert!(alice.store().load_session(bob.address()).unwrap().unwrap().is_empty());
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }), "{err:?}");
}

#[test]
fn later_initial_messages_of_one_session_go_to_that_session() {
    let mut w = World::new(3);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    // Bob writes three times before Alice answers: three initial messages
    // of one session, delivered in reverse.
    let parts: Vec<_> = (0..3).map(|i| w.send(&mut bob, &alice_user, &format!("m{i}"))).collect();
    for (i, p) in parts.iter().enumerate().rev() {
        let received = w.deliver(&mut alice, p).unwrap();
        assert_eq!(received.plaintext, format!("m{i}").as_bytes());
        assert_eq!(received.new_session, i == 2, "only the first to arrive starts a session");
    }
    let record = alice.store().load_session(bob.address()).unwrap().unwrap();
    assert_eq!(record.archived().count(), 0, "one session, not three");
}

#[test]
fn a_message_in_flight_across_a_signed_prekey_rotation_still_opens() {
    let mut w = World::new(4);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    // Bob's first message is made from signed prekey 1, then held up.
    let held = w.send(&mut bob, &alice_user, "sent before the rotation");

    // A week later Alice rotates: signed prekey 2 is current, 1 retired.
    w.tick(SIGNED_PREKEY_ROTATION_SECS);
    w.publish(&mut alice, None);
    let publication = w.server.published[alice.address()].0.clone();
    assert_eq!(publication.signed_prekey().id(), sealwire::PreKeyId(2));
    assert_eq!(alice.store().signed_prekey_ids(), [sealwire::PreKeyId(1), sealwire::PreKeyId(2)]);

    // The held message arrives within the grace period: it opens.
    w.tick(SIGNED_PREKEY_GRACE_SECS - 60);
    assert_eq!(w.read(&mut alice, &held), "sent before the rotation");
    // A replay of it is a duplicate.
    let err = w.deliver(&mut alice, &held).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }));

    // Another message made from signed prekey 1 arrives after the grace
    // period: the key is gone (and with it the record of base keys
    // accepted under it), so it cannot open.
    let mut carol = w.device(2, "carol", 1);
    let stale_bundle = {
        // A bundle Carol fetched long ago, naming signed prekey 1.
        let mut old = w.bundle(alice.address());
        let p = &w.server.published[alice.address()].0;
        assert_eq!(p.signed_prekey().id(), sealwire::PreKeyId(2));
        let stale = sealwire::PreKeyBundle::new(*old.identity(), signed_prekey_one(&alice), None);
        // Its KEM prekey: the last-resort one made with signed prekey 1.
        #[cfg(feature = "pq")]
        let stale = {
            use sealwire::store::PreKeyStore;
            let id = sealwire::PreKeyId(1 | 1 << 31);
            stale.with_kem_prekey(alice.store().load_kem_prekey(id).unwrap().unwrap().public())
        };
        old = stale.with_certificate(old.certificate().unwrap().clone());
        old
    };
    carol.set_devices(&alice_user, &[alice.address().device()]).unwrap();
    carol.start_session(&mut w.rng, alice.address(), &stale_bundle, w.now).unwrap();
    let late = w.send_only(&mut carol, &alice_user, "too late");
    w.tick(120);
    w.publish(&mut alice, None);
    assert!(!alice.store().signed_prekey_ids().contains(&sealwire::PreKeyId(1)));
    assert_eq!(alice.store().accepted_base_key_count(), 0, "base keys go with their signed prekey");
    let err = w.deliver(&mut alice, &late).unwrap_err();
    // Carol's session can never be accepted: Alice says so, and remembers
    // its base key, so that the session she starts next wins against it.
    assert_eq!(err, DeviceError::NoSession(carol.address().clone()));
    assert_eq!(err.action(), Action::ResetSession);
    let refused = alice.store().load_session(carol.address()).unwrap().unwrap();
    assert!(refused.refused().is_some());
}

/// Alice's signed prekey 1, as it was published.
fn signed_prekey_one(alice: &common::world::Dev) -> sealwire::SignedPreKey {
    alice.store().load_signed_prekey(sealwire::PreKeyId(1)).unwrap().unwrap().public()
}

#[test]
fn a_relay_replaying_an_old_envelope_costs_at_most_one_new_session() {
    // Bob reinstalls under a new key; Alice and he talk on the new session.
    // Then the relay replays an envelope of a session Alice dropped (here:
    // one of Bob's, after Alice cleared his record), again and again, and
    // Alice's app follows every NoSession literally: reset, then start a
    // session from a fresh bundle.
    let mut w = World::new(5);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut bob, &alice_user, "hi");
    w.read(&mut alice, &m);
    let m = w.send(&mut alice, &bob_user, "hey");
    w.read(&mut bob, &m);
    let old = w.send_only(&mut bob, &alice_user, "old");
    w.read(&mut alice, &old);
    alice.set_devices(&bob_user, &[]).unwrap();
    alice.set_devices(&bob_user, &[sealwire::DeviceId(1)]).unwrap();
    let supply = w.server.published[bob.address()].1.len();

    let mut resets = 0;
    for i in 0..(MAX_ARCHIVED_SESSIONS + 2) {
        let err = w.deliver(&mut alice, &old).unwrap_err();
        if i == 0 {
            assert_eq!(err, DeviceError::NoSession(bob.address().clone()));
        }
        // Whatever the answer, the app does what it says.
        if err.action() == Action::ResetSession {
            resets += 1;
            alice.reset_session(bob.address()).unwrap();
            let bundle = w.bundle(bob.address());
            alice.start_session(&mut w.rng, bob.address(), &bundle, w.now).unwrap();
        } else {
            assert_eq!(err.action(), Action::Drop, "{err:?}");
        }
    }
    // One session was started, with one one-time prekey: once a session is
    // on its way, the replay is just a message no session opens.
    assert_eq!(resets, 1);
    let record = alice.store().load_session(bob.address()).unwrap().unwrap();
    assert_eq!(record.archived().count(), 0);
    assert_eq!(w.server.published[bob.address()].1.len(), supply - 1);
    // The conversation goes on both ways.
    let m = w.send_only(&mut alice, &bob_user, "back");
    assert_eq!(w.read(&mut bob, &m), "back");
    let m = w.send_only(&mut bob, &alice_user, "good");
    assert_eq!(w.read(&mut alice, &m), "good");
}

#[test]
fn an_initiation_the_peer_cannot_accept_is_recovered_on_both_sides() {
    // The relay hands Alice's bundle, with one one-time prekey, to both
    // Bob and Carol. Carol's session opens; Bob's can never be accepted.
    // Alice says so (NoSession), remembers Bob's base key, and her new
    // session is made to win the race, whatever the seed.
    for seed in 0..16 {
        let mut w = World::new(400 + seed);
        let mut alice = w.device(0, "alice", 1);
        let mut bob = w.device(1, "bob", 1);
        let mut carol = w.device(2, "carol", 1);
        let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
        let bundle = w.bundle(alice.address());
        for d in [&mut bob, &mut carol] {
            d.set_devices(&alice_user, &[alice.address().device()]).unwrap();
            d.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap();
        }
        let m = w.send_only(&mut carol, &alice_user, "carol");
        assert_eq!(w.read(&mut alice, &m), "carol");
        let dead = w.send_only(&mut bob, &alice_user, "never readable");
        let err = w.deliver(&mut alice, &dead).unwrap_err();
        assert_eq!(err, DeviceError::NoSession(bob.address().clone()), "seed {seed}");
        let refused =
            *alice.store().load_session(bob.address()).unwrap().unwrap().refused().unwrap();

        // Alice follows the error: reset, start a session, write.
        alice.reset_session(bob.address()).unwrap();
        let m = w.send(&mut alice, &bob_user, "alice starts over");
        let started = current_base_key(&alice, bob.address()).unwrap();
        assert!(started < refused, "seed {seed}: the new base key must win the race");
        assert_eq!(w.read(&mut bob, &m), "alice starts over");
        // Bob now sends over Alice's session, and both ways work.
        let m = w.send_only(&mut bob, &alice_user, "bob answers");
        assert_eq!(w.read(&mut alice, &m), "bob answers", "seed {seed}");
        let m = w.send_only(&mut alice, &bob_user, "and again");
        assert_eq!(w.read(&mut bob, &m), "and again", "seed {seed}");
        assert_eq!(
            current_base_key(&alice, bob.address()),
            current_base_key(&bob, alice.address())
        );
    }
}

#[test]
fn starting_a_session_already_on_its_way_does_nothing() {
    let mut w = World::new(6);
    let alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    w.connect(&mut bob, &alice_user);
    let before = bob.store().clone();
    let bundle = w.bundle(alice.address());
    // An app that starts a session on every hint (a NoSession, a retry)
    // without asking missing_sessions first.
    assert_eq!(bob.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap(), None);
    assert!(*bob.store() == before, "a second session while the first awaits its reply");
    // Once the first is too old to send, a new one is started.
    w.tick(sealwire::limits::MAX_UNACKNOWLEDGED_SESSION_SECS + 1);
    let bundle = w.bundle(alice.address());
    bob.start_session(&mut w.rng, alice.address(), &bundle, w.now).unwrap();
    let record = bob.store().load_session(alice.address()).unwrap().unwrap();
    assert_eq!(record.archived().count(), 1);
}
