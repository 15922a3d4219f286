//! A session restored from an older copy: a crash between sending and
//! saving, a backup restored, a phone migrated, a state cloned. It derives
//! message keys it has already used. docs/protocol.md §6.1 and §17.2: each
//! message is sealed under a random nonce from the caller's RNG, so the
//! restored copy never repeats a keystream or a Poly1305 key, and the two
//! messages give an eavesdropper nothing: no XOR of plaintexts, no
//! Poly1305 key, no forgery.
//!
//! The receiving side of a rollback (a restored receiver decrypts a
//! replay again) is what `Session::generation` is for; the last test
//! shows it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use common::poly1305::{self as poly, blocks, recover_key, tag};
use common::{assert_refused, pair, rng, state};
use hmac::{Hmac, Mac};
use sealwire::{DecryptError, RatchetMessage, Session};
use sha2::Sha256;

/// Where a ratchet message's parts are (docs/protocol.md §7.1).
const HEADER_LEN: usize = 66;
const BODY_AT: usize = HEADER_LEN + 4;

/// Offsets in an initiator's stored state with a one-time prekey and a
/// sending chain (§8.2): version, role, generation, two stored identity
/// keys, base key, prekey ids, the KEM flag, awaiting flag; then RK, PN, Encode(DHr), the
/// sending flag, the DHs secret and Encode(DHs), and CKs.
const RATCHET_AT: usize = 1 + 1 + 8 + 66 + 66 + 33 + 4 + 1 + 4 + 1 + 1;
const SENDING_PUBLIC_AT: usize = RATCHET_AT + 32 + 4 + 33 + 1 + 32;
const SENDING_CHAIN_KEY_AT: usize = SENDING_PUBLIC_AT + 33;

/// The associated data of a message: `AD || header`, AD being the two
/// identity keys, initiator first (§6.1).
fn associated_data(initiator: &Session, message: &[u8]) -> Vec<u8> {
    let mut ad = initiator.local_identity().to_bytes().to_vec();
    ad.extend_from_slice(&initiator.remote_identity().to_bytes());
    ad.extend_from_slice(&message[..HEADER_LEN]);
    ad
}

fn body(message: &[u8]) -> (&[u8], [u8; 16]) {
    let (body, tag) = message[BODY_AT..].split_at(message.len() - BODY_AT - 16);
    (body, tag.try_into().unwrap())
}

/// A copy of `message` with its ciphertext and tag replaced.
fn with_body(message: &[u8], ciphertext: &[u8], tag: &[u8; 16]) -> Vec<u8> {
    let mut out = message[..BODY_AT].to_vec();
    out.extend_from_slice(ciphertext);
    out.extend_from_slice(tag);
    out
}

/// Two plaintexts of four blocks that differ only in the last block, the
/// case in which two tags under one Poly1305 key give the key away.
fn plaintexts() -> ([u8; 64], [u8; 64]) {
    let p1 = *b"Meet at the north gate at ten. Bring the documents. Code: ALPHA.";
    let mut p2 = p1;
    p2[48..].copy_from_slice(b"nts. Code: OMEGA");
    (p1, p2)
}

/// The attack on the earlier construction, shown to work: two messages
/// sealed with ChaCha20-Poly1305 under one key and nonce (what version 1
/// did after a rollback, since its key and nonce came from the message key
/// alone). From the two tags the attacker finds the Poly1305 key and makes
/// a third message that the AEAD accepts.
#[test]
fn control_the_forgery_works_when_key_and_nonce_repeat() {
    let (p1, p2) = plaintexts();
    let key = [0x42u8; 32];
    let nonce = [0x24u8; 12];
    let ad = [0x5au8; 132];
    let cipher = ChaCha20Poly1305::new(&key.into());
    let seal = |plaintext: &[u8]| {
        let mut buf = plaintext.to_vec();
        let tag =
            cipher.encrypt_inout_detached(&Nonce::from(nonce), &ad, buf.as_mut_slice().into());
        (buf, <[u8; 16]>::from(tag.unwrap()))
    };
    let ((c1, t1), (c2, t2)) = (seal(&p1), seal(&p2));

    // Confidentiality is gone: c1 XOR c2 = p1 XOR p2.
    let xor = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| x ^ y).collect::<Vec<_>>();
    assert_eq!(xor(&c1, &c2), xor(&p1, &p2));

    // Integrity is gone: the Poly1305 key, then a forgery.
    let candidates = recover_key(&ad, (&c1, &t1), (&c2, &t2));
    assert!(candidates.contains(&poly::chacha_poly_key(&key, &nonce)));
    let mut forged = c1.clone();
    forged[0] ^= b'M' ^ b'X'; // "Meet" becomes "Xeet"
    let accepted = candidates.iter().any(|(r, s)| {
        let forged_tag = tag(r, s, &blocks(&ad, &forged));
        let mut buf = forged.clone();
        cipher
            .decrypt_inout_detached(
                &Nonce::from(nonce),
                &ad,
                buf.as_mut_slice().into(),
                &forged_tag.into(),
            )
            .is_ok()
    });
    assert!(accepted, "the attack must work on a repeated key and nonce");
}

#[test]
fn a_restored_copy_seals_under_a_fresh_nonce_and_gives_nothing_away() {
    let mut rng = rng(100);
    let (mut bob, mut alice) = pair(&mut rng);
    // Bob has a sending chain, saves, sends p1 and crashes before saving
    // again. He restores the saved copy and sends p2 at the same number.
    let first = bob.encrypt(&mut rng, b"before the save").unwrap();
    alice.decrypt(&first).unwrap();
    let saved = bob.to_bytes();
    let (p1, p2) = plaintexts();
    let m1 = bob.encrypt(&mut rng, &p1).unwrap();
    let mut restored = Session::from_bytes(&saved).unwrap();
    let m2 = restored.encrypt(&mut rng, &p2).unwrap();

    let (h1, h2) = (
        *RatchetMessage::parse(&m1).unwrap().header(),
        *RatchetMessage::parse(&m2).unwrap().header(),
    );
    assert_eq!((h1.ratchet_key, h1.counter), (h2.ratchet_key, h2.counter), "one message key");
    assert_ne!(h1.nonce, h2.nonce, "two nonces");

    // The message key both used, computed from the saved state (KDF_CK of
    // the stored CKs), and the two Poly1305 keys XChaCha20 derived from it:
    // they differ, so the attack's premise fails.
    assert_eq!(saved[SENDING_PUBLIC_AT], 0x02);
    assert_eq!(&saved[SENDING_PUBLIC_AT + 1..SENDING_PUBLIC_AT + 33], h1.ratchet_key.as_raw());
    let chain_key = &saved[SENDING_CHAIN_KEY_AT..SENDING_CHAIN_KEY_AT + 32];
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(chain_key).unwrap();
    mac.update(&[0x01]);
    let message_key: [u8; 32] = mac.finalize().into_bytes().into();
    let key1 = poly::xchacha_poly_key(&message_key, &h1.nonce);
    let key2 = poly::xchacha_poly_key(&message_key, &h2.nonce);
    assert_ne!(key1, key2);
    // (Control: that is the key that sealed m1.)
    let (c1, t1) = body(&m1);
    assert_eq!(tag(&key1.0, &key1.1, &blocks(&associated_data(&bob, &m1), c1)), t1);

    // No shared keystream: no 16-byte block of one keystream appears in
    // the other.
    let (c2, t2) = body(&m2);
    let keystream = |c: &[u8], p: &[u8]| c.iter().zip(p).map(|(x, y)| x ^ y).collect::<Vec<u8>>();
    let (k1, k2) = (keystream(c1, &p1), keystream(c2, &p2));
    for a in k1.chunks(16) {
        assert!(!k2.chunks(16).any(|b| a == b));
    }

    // The attacker assumes a repeated key and nonce anyway, recovers what
    // it can from the two tags (with m1's header, as the nonce is the
    // only difference), and tries every forgery that gives. Whatever it
    // sends is refused, and Alice's state does not move.
    let ad = associated_data(&bob, &m1);
    let candidates = recover_key(&ad, (c1, &t1), (c2, &t2));
    let mut forged_body = c1.to_vec();
    forged_body[0] ^= b'M' ^ b'X';
    let mut attempts = vec![with_body(&m1, &forged_body, &t1)];
    for (r, s) in &candidates {
        attempts.push(with_body(&m1, &forged_body, &tag(r, s, &blocks(&ad, &forged_body))));
    }
    // Splicing m2's tag or body onto m1's header is no better.
    attempts.push(with_body(&m1, c2, &t2));
    attempts.push(with_body(&m2, c1, &t1));
    for forged in &attempts {
        assert_eq!(assert_refused(&mut alice, forged), DecryptError::Failed);
    }

    // Alice reads m1. m2 has the same number: to her it is a duplicate.
    // (A message sent from an older copy is lost if the peer has already
    // read that number: which is why a sender saves before it sends.)
    assert_eq!(alice.decrypt(&m1).unwrap(), p1);
    assert_eq!(assert_refused(&mut alice, &m2), DecryptError::Duplicate);
}

#[test]
fn a_restored_receiver_decrypts_a_replay_again_and_its_generation_shows_it() {
    let mut rng = rng(101);
    let (mut bob, mut alice) = pair(&mut rng);
    let saved = alice.to_bytes();
    let generation = alice.generation();
    let m = bob.encrypt(&mut rng, b"once").unwrap();
    assert_eq!(alice.decrypt(&m).unwrap(), b"once");
    assert_eq!(alice.generation(), generation + 1);
    assert_eq!(assert_refused(&mut alice, &m), DecryptError::Duplicate);
    assert_eq!(alice.generation(), generation + 1, "a refusal changes nothing");

    let later = bob.encrypt(&mut rng, b"later").unwrap();
    alice.decrypt(&later).unwrap();

    // An app that goes back to the old copy lets the replay in again: the
    // old state has not seen m. Its generation is below the newer copy's,
    // which is how a store refuses to write it over the newer one.
    let mut rolled_back = Session::from_bytes(&saved).unwrap();
    assert_eq!(rolled_back.generation(), generation);
    assert_eq!(rolled_back.decrypt(&m).unwrap(), b"once");
    assert!(rolled_back.generation() < alice.generation());

    // Two copies of one state that each take a different step reach the
    // same generation with different states: a store must also compare
    // and swap on the generation it handed out (Session's documentation).
    let mut one = Session::from_bytes(&saved).unwrap();
    let mut other = Session::from_bytes(&saved).unwrap();
    one.decrypt(&m).unwrap();
    other.encrypt(&mut rng, b"meanwhile").unwrap();
    assert_eq!(one.generation(), other.generation());
    assert_ne!(state(&one), state(&other));
}

#[test]
fn every_successful_call_moves_the_generation_and_no_failed_one_does() {
    let mut rng = rng(102);
    let mut device = common::Device::new(&mut rng, 1);
    let identity = sealwire::IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &identity, &device.bundle()).unwrap();
    assert_eq!(bob.generation(), 0);
    let first = bob.encrypt(&mut rng, b"1").unwrap();
    assert_eq!(bob.generation(), 1);
    let (mut alice, _) = device.accept(&first).unwrap();
    assert_eq!(alice.generation(), 1, "accepting decrypted one message");
    let reply = alice.encrypt(&mut rng, b"2").unwrap();
    assert_eq!(alice.generation(), 2);
    assert_eq!(bob.decrypt(&reply).unwrap(), b"2");
    assert_eq!(bob.generation(), 2);
    // Failures: a forgery, a replay, an oversized plaintext.
    let mut forged = reply.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert!(bob.decrypt(&forged).is_err());
    assert!(bob.decrypt(&reply).is_err());
    let huge = vec![0u8; sealwire::limits::MAX_PLAINTEXT_LEN + 1];
    assert!(bob.encrypt(&mut rng, &huge).is_err());
    assert_eq!(bob.generation(), 2);
    // It is stored with the session.
    assert_eq!(Session::from_bytes(&bob.to_bytes()).unwrap().generation(), 2);
}
