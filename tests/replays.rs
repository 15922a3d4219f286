//! What a session says about a message it cannot decrypt (docs/protocol.md
//! §6.4, §6.6): a message it decrypted before, from any chain it
//! remembers, the initial message included, is a `Duplicate`; one whose
//! key it dropped under the limits is `KeyDropped`; `StaleMessage` only
//! once its record of dropped keys has overflowed; and a forgery is
//! `Failed`. Every limit involved is tested at its edge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Device, assert_refused, pair, rng, state};
use rand_chacha::ChaCha20Rng;
use sealwire::limits::{MAX_CHAIN_HISTORY, MAX_DROPPED_RANGES, MAX_RECEIVING_CHAINS};
use sealwire::{Action, DecryptError, IdentityKeyPair, Session};

fn burst(from: &mut Session, rng: &mut ChaCha20Rng, n: u32) -> Vec<Vec<u8>> {
    (0..n).map(|i| from.encrypt(rng, &i.to_be_bytes()).unwrap()).collect()
}

/// One round trip: Bob writes (a new chain of his, once he has heard from
/// Alice), Alice reads it and answers, Bob reads the answer.
fn round_trip(bob: &mut Session, alice: &mut Session, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let m = bob.encrypt(rng, b"turn").unwrap();
    alice.decrypt(&m).unwrap();
    let reply = alice.encrypt(rng, b"answer").unwrap();
    bob.decrypt(&reply).unwrap();
    m
}

#[test]
fn the_initial_message_replayed_after_the_first_reply_is_a_duplicate() {
    for one_time_prekeys in [1u32, 0] {
        let mut rng = rng(110 + u64::from(one_time_prekeys));
        let mut alice = Device::new(&mut rng, one_time_prekeys);
        let bob_identity = IdentityKeyPair::generate(&mut rng);
        let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
        let initial = bob.encrypt(&mut rng, b"hello").unwrap();
        let (mut alice_session, _) = alice.accept(&initial).unwrap();
        // Straight after, and after the first reply and several turns.
        assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::Duplicate);
        let reply = alice_session.encrypt(&mut rng, b"hi").unwrap();
        bob.decrypt(&reply).unwrap();
        assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::Duplicate);
        for _ in 0..5 {
            round_trip(&mut bob, &mut alice_session, &mut rng);
        }
        assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::Duplicate);
        assert_eq!(DecryptError::Duplicate.action(), Action::Drop);
    }
}

#[test]
fn a_replay_from_an_earlier_chain_is_a_duplicate_until_the_history_forgets_it() {
    let mut rng = rng(112);
    let (mut bob, mut alice) = pair(&mut rng);
    let old = round_trip(&mut bob, &mut alice, &mut rng);
    // `old`'s chain is the newest remembered; MAX_CHAIN_HISTORY − 1 more
    // chains still remember it (the current one included).
    for _ in 0..MAX_CHAIN_HISTORY - 1 {
        round_trip(&mut bob, &mut alice, &mut rng);
    }
    assert_eq!(assert_refused(&mut alice, &old), DecryptError::Duplicate);
    // One more chain and it is forgotten: a replay from that far back can
    // no longer be told from a forgery.
    round_trip(&mut bob, &mut alice, &mut rng);
    assert_eq!(assert_refused(&mut alice, &old), DecryptError::Failed);
}

#[test]
fn a_replay_of_a_message_read_from_a_skipped_key_is_a_duplicate() {
    let mut rng = rng(113);
    let (mut bob, mut alice) = pair(&mut rng);
    let m = burst(&mut bob, &mut rng, 3);
    alice.decrypt(&m[2]).unwrap();
    alice.decrypt(&m[0]).unwrap();
    round_trip(&mut bob, &mut alice, &mut rng);
    assert_eq!(assert_refused(&mut alice, &m[0]), DecryptError::Duplicate);
    assert_eq!(assert_refused(&mut alice, &m[2]), DecryptError::Duplicate);
    // m[1] was never read and its key is still held, in an earlier chain.
    assert_eq!(alice.decrypt(&m[1]).unwrap(), 1u32.to_be_bytes());
    assert_eq!(assert_refused(&mut alice, &m[1]), DecryptError::Duplicate);
}

/// Bob sends `2n` messages in one chain; Alice reads the last, then every
/// odd-numbered one: the even ones stay skipped, none next to another.
/// Then Bob opens MAX_RECEIVING_CHAINS new chains, each leaving a skipped
/// key, so the first chain's keys are all dropped: `n` dropped ranges.
fn scattered_drops(n: u32, seed: u64) -> (Session, Vec<Vec<u8>>) {
    let mut rng = rng(seed);
    let (mut bob, mut alice) = pair(&mut rng);
    let chain = burst(&mut bob, &mut rng, 2 * n + 1);
    alice.decrypt(&chain[2 * n as usize]).unwrap();
    for k in (1..2 * n).step_by(2) {
        alice.decrypt(&chain[k as usize]).unwrap();
    }
    for _ in 0..MAX_RECEIVING_CHAINS {
        let reply = alice.encrypt(&mut rng, b"r").unwrap();
        bob.decrypt(&reply).unwrap();
        let m = burst(&mut bob, &mut rng, 2);
        alice.decrypt(&m[1]).unwrap();
    }
    (alice, chain)
}

#[test]
fn dropped_keys_are_told_from_duplicates_at_the_edge_of_the_range_record() {
    // MAX_DROPPED_RANGES ranges: every dropped key is known as dropped,
    // every read message as read.
    let n = MAX_DROPPED_RANGES as u32;
    let (mut alice, chain) = scattered_drops(n, 114);
    for k in 0..2 * n {
        let expected = if k % 2 == 0 { DecryptError::KeyDropped } else { DecryptError::Duplicate };
        assert_eq!(assert_refused(&mut alice, &chain[k as usize]), expected, "message {k}");
    }
    assert_eq!(DecryptError::KeyDropped.action(), Action::Drop);

    // One range more: the oldest range (message 0) is forgotten, and below
    // it the session can no longer tell; above it, it still can.
    let (mut alice, chain) = scattered_drops(n + 1, 115);
    assert_eq!(assert_refused(&mut alice, &chain[0]), DecryptError::StaleMessage);
    assert_eq!(assert_refused(&mut alice, &chain[1]), DecryptError::Duplicate);
    assert_eq!(assert_refused(&mut alice, &chain[2]), DecryptError::KeyDropped);
    assert_eq!(assert_refused(&mut alice, &chain[3]), DecryptError::Duplicate);
    assert_eq!(DecryptError::StaleMessage.action(), Action::Drop);
}

#[test]
fn a_forged_header_can_claim_a_replay_but_changes_nothing() {
    // These errors are decided before authentication: the relay can cause
    // them by rewriting a header. They are safe because nothing moves.
    let mut rng = rng(116);
    let (mut bob, mut alice) = pair(&mut rng);
    let m = burst(&mut bob, &mut rng, 2);
    alice.decrypt(&m[0]).unwrap();
    alice.decrypt(&m[1]).unwrap();
    let fresh = bob.encrypt(&mut rng, b"fresh").unwrap();
    // `fresh` (number 2) relabelled as number 0: a duplicate by its header.
    let mut relabelled = fresh.clone();
    relabelled[38..42].copy_from_slice(&0u32.to_be_bytes());
    let before = state(&alice);
    assert_eq!(alice.decrypt(&relabelled), Err(DecryptError::Duplicate));
    assert_eq!(state(&alice), before);
    // The genuine message still opens.
    assert_eq!(alice.decrypt(&fresh).unwrap(), b"fresh");
}

#[test]
fn a_chain_with_a_held_key_outlives_the_history_and_its_message_still_opens() {
    // The relay holds back message 1 of Bob's first chain; Alice reads 0
    // and 2, holding one key. Then many round trips: the history forgets
    // chains without keys first, so the held message still opens, and the
    // initial message (of that same chain) is still a duplicate.
    let mut rng = rng(118);
    let mut alice = Device::new(&mut rng, 1);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    let initial = bob.encrypt(&mut rng, b"m0").unwrap();
    let held = bob.encrypt(&mut rng, b"m1, held back").unwrap();
    let third = bob.encrypt(&mut rng, b"m2").unwrap();
    let (mut alice_session, _) = alice.accept(&initial).unwrap();
    alice_session.decrypt(&third).unwrap();
    assert_eq!(alice_session.skipped_key_count(), 1);
    for _ in 0..MAX_CHAIN_HISTORY + 8 {
        round_trip(&mut bob, &mut alice_session, &mut rng);
    }
    assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::Duplicate);
    assert_eq!(alice_session.decrypt(&held).unwrap(), b"m1, held back");
    assert_eq!(assert_refused(&mut alice_session, &held), DecryptError::Duplicate);
}

#[test]
fn the_initial_message_replayed_after_the_history_forgot_its_chain_is_stale_not_forged() {
    let mut rng = rng(119);
    let mut alice = Device::new(&mut rng, 0);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    let initial = bob.encrypt(&mut rng, b"hello").unwrap();
    let (mut alice_session, _) = alice.accept(&initial).unwrap();
    // The initial chain is the oldest; the first round trip stays on it
    // (Bob has not heard from Alice), each later one starts a chain, and
    // MAX_CHAIN_HISTORY − 1 newer chains still leave it remembered.
    for _ in 0..MAX_CHAIN_HISTORY {
        round_trip(&mut bob, &mut alice_session, &mut rng);
    }
    assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::Duplicate);
    round_trip(&mut bob, &mut alice_session, &mut rng);
    // Forgotten: the session cannot tell a replay from a late message
    // whose key it no longer has, and says so.
    assert_eq!(assert_refused(&mut alice_session, &initial), DecryptError::StaleMessage);
}
