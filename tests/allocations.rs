//! The per-message path allocates at most the output buffer, and nothing
//! at all when the caller provides one with room.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use allocation_counter::measure;
use common::{pair, rng};

#[test]
fn encrypt_allocates_only_its_output() {
    let mut rng = rng(1);
    let (mut bob, _alice) = pair(&mut rng);
    bob.encrypt(&mut rng, b"warm up").unwrap();
    for len in [0usize, 64, 1024, 16 * 1024] {
        let plaintext = vec![7u8; len];
        let info = measure(|| {
            let m = bob.encrypt(&mut rng, &plaintext).unwrap();
            assert_eq!(m.len(), len + 62);
        });
        assert_eq!(info.count_total, 1, "{len} bytes: {info:?}");
    }
}

#[test]
fn encrypt_into_a_buffer_with_room_allocates_nothing() {
    let mut rng = rng(2);
    let (mut bob, _alice) = pair(&mut rng);
    bob.encrypt(&mut rng, b"warm up").unwrap();
    let mut out = Vec::with_capacity(2048);
    let info = measure(|| {
        for _ in 0..10 {
            out.clear();
            bob.encrypt_into(&mut rng, &[1u8; 1024], &mut out).unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn decrypt_allocates_only_its_output() {
    let mut rng = rng(3);
    let (mut bob, mut alice) = pair(&mut rng);
    for len in [0usize, 64, 1024, 16 * 1024] {
        let m = bob.encrypt(&mut rng, &vec![9u8; len]).unwrap();
        let info = measure(|| {
            assert_eq!(alice.decrypt(&m).unwrap().len(), len);
        });
        // An empty plaintext needs no buffer at all.
        assert_eq!(info.count_total, u64::from(len > 0), "{len} bytes: {info:?}");
    }
}

#[test]
fn decrypt_into_a_buffer_with_room_allocates_nothing() {
    let mut rng = rng(4);
    let (mut bob, mut alice) = pair(&mut rng);
    let messages: Vec<Vec<u8>> =
        (0..10).map(|_| bob.encrypt(&mut rng, &[5u8; 1024]).unwrap()).collect();
    let mut out = Vec::with_capacity(2048);
    let info = measure(|| {
        for m in &messages {
            out.clear();
            alice.decrypt_into(m, &mut out).unwrap();
            assert_eq!(out.len(), 1024);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn a_dh_ratchet_step_allocates_nothing_more() {
    let mut rng = rng(5);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut buf = Vec::with_capacity(256);
    let mut plain = Vec::with_capacity(256);
    for _ in 0..4 {
        // Each turn starts a new chain on both sides.
        let info = measure(|| {
            buf.clear();
            plain.clear();
            bob.encrypt_into(&mut rng, b"turn", &mut buf).unwrap();
            alice.decrypt_into(&buf, &mut plain).unwrap();
        });
        assert_eq!(info.count_total, 0, "{info:?}");
        std::mem::swap(&mut bob, &mut alice);
    }
}

#[test]
fn a_refused_message_leaves_the_buffer_as_it_was() {
    let mut rng = rng(6);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut m = bob.encrypt(&mut rng, b"x").unwrap();
    let last = m.len() - 1;
    m[last] ^= 1;
    let mut out = b"kept".to_vec();
    assert!(alice.decrypt_into(&m, &mut out).is_err());
    assert_eq!(out, b"kept");
}
