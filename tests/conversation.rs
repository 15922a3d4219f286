//! Conversations as users have them: long, in both directions, with the
//! initiator writing several times before the first reply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;

use common::{Device, copy, pair, ratchet_key, rng, state};
use rand_core::Rng;
use sealwire::limits::MAX_PLAINTEXT_LEN;
use sealwire::{EncryptError, IdentityKeyPair, InitialMessage, Message, Role, Session};

#[test]
fn long_conversation_in_both_directions_with_many_ratchet_steps() {
    let mut rng = rng(1);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut bob_keys = HashSet::new();
    let mut alice_keys = HashSet::new();

    for round in 0..60u32 {
        // A burst from Bob, then a burst from Alice: every change of turn is
        // a DH ratchet step.
        for i in 0..(1 + round % 4) {
            let text = format!("bob {round}.{i}");
            let m = bob.encrypt(&mut rng, text.as_bytes()).unwrap();
            bob_keys.insert(ratchet_key(&m));
            assert_eq!(alice.decrypt(&m).unwrap(), text.as_bytes());
        }
        for i in 0..(1 + round % 3) {
            let text = format!("alice {round}.{i}");
            let m = alice.encrypt(&mut rng, text.as_bytes()).unwrap();
            alice_keys.insert(ratchet_key(&m));
            assert_eq!(bob.decrypt(&m).unwrap(), text.as_bytes());
        }
    }
    // One new ratchet key per turn and side.
    assert_eq!(bob_keys.len(), 60);
    assert_eq!(alice_keys.len(), 60);
    assert!(bob_keys.is_disjoint(&alice_keys));
    assert_eq!(bob.skipped_key_count(), 0);
    assert_eq!(alice.skipped_key_count(), 0);
}

#[test]
fn one_direction_only_stays_in_one_chain() {
    let mut rng = rng(2);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut keys = HashSet::new();
    for i in 0..200u32 {
        let m = bob.encrypt(&mut rng, &i.to_be_bytes()).unwrap();
        keys.insert(ratchet_key(&m));
        assert_eq!(alice.decrypt(&m).unwrap(), i.to_be_bytes());
    }
    assert_eq!(keys.len(), 1, "no DH step without a reply");
}

#[test]
fn initiator_repeats_the_x3dh_fields_until_the_first_reply() {
    let mut rng = rng(3);
    let mut alice = Device::new(&mut rng, 1);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    assert_eq!(bob.role(), Role::Initiator);

    let sent: Vec<Vec<u8>> =
        (0..3).map(|i| bob.encrypt(&mut rng, format!("m{i}").as_bytes()).unwrap()).collect();
    for m in &sent {
        assert!(matches!(Message::parse(m).unwrap(), Message::Initial(_)));
    }

    let (mut alice_session, first) = alice.accept(&sent[0]).unwrap();
    assert_eq!(first, b"m0");
    assert_eq!(alice_session.role(), Role::Responder);
    assert_eq!(alice_session.base_key(), bob.base_key());
    // The later initial messages belong to the same session.
    assert_eq!(alice_session.decrypt(&sent[2]).unwrap(), b"m2");
    assert_eq!(alice_session.decrypt(&sent[1]).unwrap(), b"m1");

    let reply = alice_session.encrypt(&mut rng, b"got them").unwrap();
    assert!(matches!(Message::parse(&reply).unwrap(), Message::Ratchet(_)));
    assert_eq!(bob.decrypt(&reply).unwrap(), b"got them");

    let after = bob.encrypt(&mut rng, b"good").unwrap();
    assert!(matches!(Message::parse(&after).unwrap(), Message::Ratchet(_)));
    assert_eq!(alice_session.decrypt(&after).unwrap(), b"good");
}

#[test]
fn first_message_lost_the_second_establishes_the_session() {
    let mut rng = rng(4);
    let mut alice = Device::new(&mut rng, 1);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    let lost = bob.encrypt(&mut rng, b"first").unwrap();
    let second = bob.encrypt(&mut rng, b"second").unwrap();

    let (mut alice_session, text) = alice.accept(&second).unwrap();
    assert_eq!(text, b"second");
    assert_eq!(alice_session.skipped_key_count(), 1);
    assert_eq!(alice.store.one_time_prekey_count(), 0);

    // The "lost" one turns up late after all.
    assert_eq!(alice_session.decrypt(&lost).unwrap(), b"first");
    assert_eq!(alice_session.skipped_key_count(), 0);
}

#[test]
fn session_without_one_time_prekeys() {
    let mut rng = rng(5);
    let mut alice = Device::new(&mut rng, 0);
    let bundle = alice.bundle();
    assert!(bundle.one_time_prekey().is_none());
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &bundle).unwrap();
    let m = bob.encrypt(&mut rng, b"no opk").unwrap();
    let initial = InitialMessage::parse(&m).unwrap();
    assert_eq!(initial.one_time_prekey_id(), None);
    let (mut alice_session, text) = alice.store.accept(&alice.identity, &initial).unwrap();
    assert_eq!(text, b"no opk");
    let r = alice_session.encrypt(&mut rng, b"fine").unwrap();
    assert_eq!(bob.decrypt(&r).unwrap(), b"fine");
}

#[test]
fn stored_sessions_resume_mid_conversation_with_pending_skipped_keys() {
    let mut rng = rng(6);
    let (mut bob, mut alice) = pair(&mut rng);
    let held_back: Vec<_> = (0..5).map(|i| bob.encrypt(&mut rng, &[i]).unwrap()).collect();
    let m5 = bob.encrypt(&mut rng, &[5]).unwrap();
    assert_eq!(alice.decrypt(&m5).unwrap(), [5]);
    assert_eq!(alice.skipped_key_count(), 5);

    // Both sides are stored and restored, as an app would between messages.
    let mut alice = copy(&alice);
    let mut bob = copy(&bob);
    assert_eq!(alice.skipped_key_count(), 5);

    for (i, m) in held_back.iter().enumerate().rev() {
        assert_eq!(alice.decrypt(m).unwrap(), [i as u8]);
    }
    assert_eq!(alice.skipped_key_count(), 0);
    let r = alice.encrypt(&mut rng, b"all five").unwrap();
    assert_eq!(bob.decrypt(&r).unwrap(), b"all five");
    let again = bob.encrypt(&mut rng, b"and on").unwrap();
    assert_eq!(alice.decrypt(&again).unwrap(), b"and on");
}

#[test]
fn plaintext_size_limit_at_its_edge() {
    let mut rng = rng(7);
    let (mut bob, mut alice) = pair(&mut rng);

    let mut big = vec![0u8; MAX_PLAINTEXT_LEN];
    rng.fill_bytes(&mut big);
    let m = bob.encrypt(&mut rng, &big).unwrap();
    assert_eq!(alice.decrypt(&m).unwrap(), big);

    big.push(0);
    let before = state(&bob);
    assert_eq!(bob.encrypt(&mut rng, &big), Err(EncryptError::PlaintextTooLong));
    assert_eq!(state(&bob), before);

    let mut out = b"prefix".to_vec();
    assert_eq!(bob.encrypt_into(&mut rng, &big, &mut out), Err(EncryptError::PlaintextTooLong));
    assert_eq!(out, b"prefix", "a failed encrypt_into appends nothing");
}

#[test]
fn empty_messages_are_messages() {
    let mut rng = rng(8);
    let (mut bob, mut alice) = pair(&mut rng);
    let m = bob.encrypt(&mut rng, b"").unwrap();
    assert_eq!(alice.decrypt(&m).unwrap(), b"");
}

#[test]
fn encrypt_into_appends_to_the_callers_buffer() {
    let mut rng = rng(9);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut out = b"frame:".to_vec();
    bob.encrypt_into(&mut rng, b"payload", &mut out).unwrap();
    assert_eq!(&out[..6], b"frame:");
    assert_eq!(alice.decrypt(&out[6..]).unwrap(), b"payload");
}

#[test]
fn identities_and_roles_are_reported() {
    let mut rng = rng(10);
    let mut alice = Device::new(&mut rng, 1);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let (bob, alice_session) = common::pair_with(&mut rng, &bob_identity, &mut alice);
    assert_eq!(bob.remote_identity(), alice.identity.public());
    assert_eq!(bob.local_identity(), bob_identity.public());
    assert_eq!(alice_session.remote_identity(), bob_identity.public());
    assert_eq!(alice_session.local_identity(), alice.identity.public());
    let shown = format!("{bob:?}");
    assert!(shown.contains("Initiator") && shown.contains("[redacted]"));
}
