//! Forward secrecy and post-compromise recovery, seen from a thief who
//! copies a device's session state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{copy, pair, rng};
use sealwire::DecryptError;

#[test]
fn state_after_decryption_no_longer_opens_the_message() {
    let mut rng = rng(60);
    let (mut bob, mut alice) = pair(&mut rng);
    let m0 = bob.encrypt(&mut rng, b"m0").unwrap();
    let m1 = bob.encrypt(&mut rng, b"m1").unwrap();
    let m2 = bob.encrypt(&mut rng, b"m2").unwrap();

    // Control: a copy taken before decrypting opens the message.
    assert_eq!(copy(&alice).decrypt(&m0).unwrap(), b"m0");

    alice.decrypt(&m0).unwrap();
    assert_eq!(copy(&alice).decrypt(&m0), Err(DecryptError::Duplicate));

    // The same for a message decrypted from a skipped key.
    alice.decrypt(&m2).unwrap();
    assert_eq!(copy(&alice).decrypt(&m1).unwrap(), b"m1", "control: m1's key is still held");
    alice.decrypt(&m1).unwrap();
    let mut stolen = copy(&alice);
    for m in [&m0, &m1, &m2] {
        assert_eq!(stolen.decrypt(m), Err(DecryptError::Duplicate));
    }
}

#[test]
fn state_after_a_dh_step_no_longer_opens_the_old_chain() {
    let mut rng = rng(61);
    let (mut bob, mut alice) = pair(&mut rng);
    let old = bob.encrypt(&mut rng, b"old chain").unwrap();
    alice.decrypt(&old).unwrap();
    let r = alice.encrypt(&mut rng, b"r").unwrap();
    bob.decrypt(&r).unwrap();
    let new = bob.encrypt(&mut rng, b"new chain").unwrap();
    alice.decrypt(&new).unwrap();
    // The old chain's key is gone from the state, and the old chain key
    // with it: nothing derives it again.
    assert!(copy(&alice).decrypt(&old).is_err());
    assert_eq!(alice.skipped_key_count(), 0);
}

#[test]
fn copy_taken_before_two_dh_steps_cannot_follow_after_them() {
    let mut rng = rng(62);
    let (mut alice, mut bob) = pair(&mut rng);
    // Alice is the initiator here; Bob's state is what the thief takes.
    let before = alice.encrypt(&mut rng, b"before the steps").unwrap();
    let mut stolen = copy(&bob);

    // Control: the stolen copy reads what was in flight when it was taken.
    assert_eq!(copy(&stolen).decrypt(&before).unwrap(), b"before the steps");
    bob.decrypt(&before).unwrap();

    // Two DH ratchet steps: Bob replies under a new ratchet key, Alice
    // answers under a new one of hers.
    let step1 = bob.encrypt(&mut rng, b"step one").unwrap();
    assert_eq!(alice.decrypt(&step1).unwrap(), b"step one");
    let step2 = alice.encrypt(&mut rng, b"step two").unwrap();
    assert_eq!(bob.decrypt(&step2).unwrap(), b"step two");
    let after = bob.encrypt(&mut rng, b"after").unwrap();
    assert_eq!(alice.decrypt(&after).unwrap(), b"after");
    let later = alice.encrypt(&mut rng, b"later").unwrap();
    assert_eq!(bob.decrypt(&later).unwrap(), b"later");

    // The thief's copy opens none of the messages after the steps: their
    // keys depend on ratchet secrets generated after the copy was taken.
    for m in [&step2, &later] {
        assert!(stolen.decrypt(m).is_err());
    }
}

/// Lower-case hex of a byte string.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every 8-byte window of a secret, as hex and as Rust's `Debug` of bytes.
fn fragments(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for w in secret.windows(8) {
        out.push(hex(w));
        out.push(format!("{:?}", w).trim_matches(['[', ']']).to_string());
    }
    out
}

#[test]
fn debug_output_never_shows_secret_bytes() {
    use sealwire::{IdentityKeyPair, OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
    let mut rng = rng(63);
    let identity = IdentityKeyPair::generate(&mut rng);
    let signed = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(1));
    let one_time = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let (mut bob, mut alice) = pair(&mut rng);
    let _skipped = bob.encrypt(&mut rng, b"x").unwrap();
    let m = bob.encrypt(&mut rng, b"y").unwrap();
    alice.decrypt(&m).unwrap();

    // (what Debug prints, the secret encoding whose bytes must not appear,
    //  where the secret part of that encoding starts)
    let cases: Vec<(String, Vec<u8>, usize)> = vec![
        (format!("{identity:?}"), identity.to_bytes().to_vec(), 1),
        (format!("{signed:?}"), signed.to_bytes()[5..37].to_vec(), 0),
        (format!("{one_time:?}"), one_time.to_bytes()[5..].to_vec(), 0),
        // A session's encoding after its public header (role, five keys,
        // prekey ids, flag) is root, chain, ratchet and message keys.
        (format!("{alice:?}"), alice.to_bytes().to_vec(), 177),
        (format!("{bob:?}"), bob.to_bytes().to_vec(), 177),
    ];
    for (shown, encoding, secret_from) in cases {
        assert!(shown.contains("[redacted]"), "{shown}");
        let secret = &encoding[secret_from..];
        for fragment in fragments(secret) {
            // Public parts of a session's state (counters, ratchet public
            // keys) may legitimately be printed; the 8-byte windows of keys
            // are what must not be.
            if fragment.chars().all(|c| c == '0' || c == ',' || c == ' ') {
                continue;
            }
            assert!(!shown.contains(&fragment), "{shown} shows secret bytes {fragment}");
        }
    }
}
