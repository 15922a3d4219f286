//! Out-of-order and lost messages, and the limits on skipped keys at their
//! exact edges.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Device, assert_refused, pair, rng, state};
use rand_core::Rng;
use sealwire::limits::{MAX_RECEIVING_CHAINS, MAX_SKIP, MAX_SKIPPED_KEYS};
use sealwire::{DecryptError, IdentityKeyPair, Session};

/// Fisher-Yates with the test's own RNG.
fn shuffle<T>(items: &mut [T], rng: &mut impl Rng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[test]
fn any_order_within_a_chain() {
    let mut rng = rng(20);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut sent: Vec<(usize, Vec<u8>)> =
        (0..40).map(|i| (i, bob.encrypt(&mut rng, format!("{i}").as_bytes()).unwrap())).collect();
    shuffle(&mut sent, &mut rng);
    for (i, m) in &sent {
        assert_eq!(alice.decrypt(m).unwrap(), format!("{i}").as_bytes());
    }
    assert_eq!(alice.skipped_key_count(), 0);
}

#[test]
fn late_messages_across_several_chains() {
    let mut rng = rng(21);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut late = Vec::new();
    for turn in 0..4 {
        // Bob sends three; Alice sees only the last, which opens a new chain.
        let msgs: Vec<_> = (0..3)
            .map(|i| bob.encrypt(&mut rng, format!("{turn}.{i}").as_bytes()).unwrap())
            .collect();
        assert_eq!(alice.decrypt(&msgs[2]).unwrap(), format!("{turn}.2").as_bytes());
        late.push((format!("{turn}.0"), msgs[0].clone()));
        late.push((format!("{turn}.1"), msgs[1].clone()));
        let r = alice.encrypt(&mut rng, b"next").unwrap();
        assert_eq!(bob.decrypt(&r).unwrap(), b"next");
    }
    assert_eq!(alice.skipped_key_count(), 8);
    // They arrive at last, newest chain first.
    late.reverse();
    for (text, m) in &late {
        assert_eq!(alice.decrypt(m).unwrap(), text.as_bytes());
    }
    assert_eq!(alice.skipped_key_count(), 0);
}

#[test]
fn end_of_previous_chain_arrives_after_the_new_chain() {
    let mut rng = rng(22);
    let (mut bob, mut alice) = pair(&mut rng);
    let a0 = bob.encrypt(&mut rng, b"a0").unwrap();
    let a1 = bob.encrypt(&mut rng, b"a1").unwrap();
    let a2 = bob.encrypt(&mut rng, b"a2").unwrap();
    assert_eq!(alice.decrypt(&a0).unwrap(), b"a0");
    let r = alice.encrypt(&mut rng, b"r").unwrap();
    assert_eq!(bob.decrypt(&r).unwrap(), b"r");
    // Bob's new chain; its header says 3 were sent in the old one (PN = 3).
    let b0 = bob.encrypt(&mut rng, b"b0").unwrap();
    assert_eq!(alice.decrypt(&b0).unwrap(), b"b0");
    assert_eq!(alice.skipped_key_count(), 2);
    assert_eq!(alice.decrypt(&a2).unwrap(), b"a2");
    assert_eq!(alice.decrypt(&a1).unwrap(), b"a1");
}

#[test]
fn lost_messages_never_block_the_conversation() {
    let mut rng = rng(23);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut delivered = 0;
    for round in 0..30u32 {
        for i in 0..5u32 {
            let m = bob.encrypt(&mut rng, &[round as u8, i as u8]).unwrap();
            // Lose about a third.
            if !rng.next_u32().is_multiple_of(3) {
                assert_eq!(alice.decrypt(&m).unwrap(), [round as u8, i as u8]);
                delivered += 1;
            }
        }
        let r = alice.encrypt(&mut rng, b"r").unwrap();
        if round % 4 != 3 {
            bob.decrypt(&r).unwrap();
        }
    }
    assert!(delivered > 60);
    assert!(alice.skipped_key_count() <= MAX_SKIPPED_KEYS);
}

/// Sends `n` messages from `from` and returns them.
fn burst(from: &mut Session, rng: &mut impl rand_core::CryptoRng, n: u32) -> Vec<Vec<u8>> {
    (0..n).map(|i| from.encrypt(rng, &i.to_be_bytes()).unwrap()).collect()
}

#[test]
fn max_skip_within_the_current_chain() {
    let mut rng = rng(24);
    let (mut bob, mut alice) = pair(&mut rng);
    let first = bob.encrypt(&mut rng, b"open").unwrap();
    alice.decrypt(&first).unwrap();
    // Next expected: 1. Message 1 + MAX_SKIP + 1 skips MAX_SKIP + 1 keys;
    // message 1 + MAX_SKIP skips exactly MAX_SKIP.
    let msgs = burst(&mut bob, &mut rng, MAX_SKIP + 2);
    let too_far = &msgs[(MAX_SKIP + 1) as usize];
    assert_eq!(assert_refused(&mut alice, too_far), DecryptError::TooManySkipped);
    let at_edge = &msgs[MAX_SKIP as usize];
    assert_eq!(alice.decrypt(at_edge).unwrap(), MAX_SKIP.to_be_bytes());
    assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
    // Now the far one is within reach, and every skipped one still opens.
    alice.decrypt(too_far).unwrap();
    for (i, m) in msgs.iter().enumerate().take(MAX_SKIP as usize) {
        assert_eq!(alice.decrypt(m).unwrap(), (i as u32).to_be_bytes());
    }
}

#[test]
fn max_skip_at_the_start_of_a_new_chain() {
    let mut rng = rng(25);
    let (mut bob, mut alice) = pair(&mut rng);
    // Alice has replied (in `pair`), so Bob's next message opens a chain.
    let msgs = burst(&mut bob, &mut rng, MAX_SKIP + 2);
    assert_eq!(
        assert_refused(&mut alice, &msgs[(MAX_SKIP + 1) as usize]),
        DecryptError::TooManySkipped
    );
    alice.decrypt(&msgs[MAX_SKIP as usize]).unwrap();
    assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
}

#[test]
fn max_skip_at_the_start_of_the_first_chain() {
    let mut rng = rng(26);
    let mut alice = Device::new(&mut rng, 2);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    let msgs = burst(&mut bob, &mut rng, MAX_SKIP + 2);
    let err = alice.accept(&msgs[(MAX_SKIP + 1) as usize]).unwrap_err();
    assert_eq!(err, sealwire::Error::Decrypt(DecryptError::TooManySkipped));
    assert_eq!(alice.store.one_time_prekey_count(), 2, "a refused message uses no prekey");
    let (session, _) = alice.accept(&msgs[MAX_SKIP as usize]).unwrap();
    assert_eq!(session.skipped_key_count(), MAX_SKIP as usize);
}

#[test]
fn max_skip_for_the_end_of_the_previous_chain() {
    let mut rng = rng(27);
    let (mut bob, mut alice) = pair(&mut rng);
    // Alice sees message 0 of Bob's chain; Bob then sends `tail` more there
    // that Alice never sees, and starts a new chain after her reply. The new
    // chain's header says PN = tail + 1, so Alice must skip `tail` keys.
    for (tail, ok) in [(MAX_SKIP + 1, false), (MAX_SKIP, true)] {
        let open = bob.encrypt(&mut rng, b"open").unwrap();
        alice.decrypt(&open).unwrap();
        let _unseen = burst(&mut bob, &mut rng, tail);
        let r = alice.encrypt(&mut rng, b"r").unwrap();
        bob.decrypt(&r).unwrap();
        let next = bob.encrypt(&mut rng, b"new chain").unwrap();
        if ok {
            assert_eq!(alice.decrypt(&next).unwrap(), b"new chain");
            assert_eq!(alice.skipped_key_count(), MAX_SKIP as usize);
        } else {
            assert_eq!(assert_refused(&mut alice, &next), DecryptError::TooManySkipped);
            // Start the next attempt from a clean pair.
            (bob, alice) = pair(&mut rng);
        }
    }
}

#[test]
fn total_skipped_keys_cap_drops_the_oldest_first() {
    let mut rng = rng(28);
    let (mut bob, mut alice) = pair(&mut rng);
    // Chain A: Alice sees only message MAX_SKIP, so keys 0..MAX_SKIP stay.
    let chain_a = burst(&mut bob, &mut rng, MAX_SKIP + 1);
    alice.decrypt(&chain_a[MAX_SKIP as usize]).unwrap();
    let r = alice.encrypt(&mut rng, b"r").unwrap();
    bob.decrypt(&r).unwrap();
    // Chain B: the same again.
    let chain_b = burst(&mut bob, &mut rng, MAX_SKIP + 3);
    alice.decrypt(&chain_b[MAX_SKIP as usize]).unwrap();
    assert_eq!(alice.skipped_key_count(), 2 * MAX_SKIP as usize);
    assert_eq!(2 * MAX_SKIP as usize, MAX_SKIPPED_KEYS, "this test fills the store exactly");

    // Full, and nothing has been dropped: the oldest key still opens... but
    // using it would free a slot, so check on a copy.
    assert_eq!(common::copy(&alice).decrypt(&chain_a[0]).unwrap(), 0u32.to_be_bytes());

    // One more skipped key (B's MAX_SKIP + 1, skipped by + 2) pushes out A's 0.
    alice.decrypt(&chain_b[(MAX_SKIP + 2) as usize]).unwrap();
    assert_eq!(alice.skipped_key_count(), MAX_SKIPPED_KEYS);
    // The key was dropped before its message arrived: the message is lost,
    // and the session says so rather than calling it a replay.
    assert_eq!(assert_refused(&mut alice, &chain_a[0]), DecryptError::KeyDropped);
    assert_eq!(alice.decrypt(&chain_a[1]).unwrap(), 1u32.to_be_bytes());
    // A message decrypted before is still a duplicate.
    assert_eq!(assert_refused(&mut alice, &chain_a[1]), DecryptError::Duplicate);
    alice.decrypt(&chain_b[(MAX_SKIP + 1) as usize]).unwrap();
    alice.decrypt(&chain_b[0]).unwrap();
}

#[test]
fn receiving_chain_cap_forgets_the_oldest_chain() {
    let mut rng = rng(29);
    let (mut bob, mut alice) = pair(&mut rng);
    // Each round, Bob opens a new chain with two messages; Alice sees only
    // the second, keeping one skipped key in that chain, then replies.
    let mut firsts = Vec::new();
    for _ in 0..=MAX_RECEIVING_CHAINS {
        let m = burst(&mut bob, &mut rng, 2);
        alice.decrypt(&m[1]).unwrap();
        firsts.push(m[0].clone());
        let r = alice.encrypt(&mut rng, b"r").unwrap();
        bob.decrypt(&r).unwrap();
    }
    // MAX_RECEIVING_CHAINS + 1 chains were opened; only the newest
    // MAX_RECEIVING_CHAINS hold keys. The oldest chain's key was dropped,
    // and the session knows it.
    assert_eq!(alice.skipped_key_count(), MAX_RECEIVING_CHAINS);
    let before = state(&alice);
    assert_eq!(alice.decrypt(&firsts[0]), Err(DecryptError::KeyDropped));
    assert_eq!(state(&alice), before);
    for (i, m) in firsts.iter().enumerate().skip(1) {
        assert_eq!(alice.decrypt(m).unwrap(), 0u32.to_be_bytes(), "chain {i}");
    }
}

#[test]
fn a_burst_at_the_chain_limit_keeps_every_chain() {
    let mut rng = rng(30);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut firsts = Vec::new();
    for _ in 0..MAX_RECEIVING_CHAINS {
        let m = burst(&mut bob, &mut rng, 2);
        alice.decrypt(&m[1]).unwrap();
        firsts.push(m[0].clone());
        let r = alice.encrypt(&mut rng, b"r").unwrap();
        bob.decrypt(&r).unwrap();
    }
    // Exactly at the limit: all of them open.
    for m in &firsts {
        alice.decrypt(m).unwrap();
    }
}
