//! Alice and Bob write to a group (docs/protocol.md §21) while the fuzzer
//! plays the network and the apps: it chooses who sends, and delivers,
//! drops, duplicates, tampers with and reorders group messages; it makes
//! either side rotate its sender key, hands a sender key out again, and
//! stores and restores either side's records. Invariants:
//!
//! - an untampered group message decrypts exactly once, to what was sent,
//!   while its chain is held (at most `MAX_SENDER_KEY_CHAINS` chains per
//!   sender): then `Duplicate`; once its chain is forgotten, `NoSenderKey`;
//! - a tampered message is refused (a bad signature, an unknown chain, or
//!   bytes that do not parse);
//! - a sender key handed out again never moves a chain back: what was read
//!   stays read;
//! - every refusal leaves the receiver's record exactly as it was;
//! - storing and restoring a record changes nothing;
//! - no two group messages share a nonce.
use std::collections::{HashMap, HashSet};

use arbitrary::Arbitrary;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::limits::MAX_SENDER_KEY_CHAINS;
use sealwire::{
    DecryptError, Error, GroupError, GroupId, GroupMessage, IdentityKey, IdentityKeyPair,
    SenderKey, SenderKeyDistribution, SenderKeyRecord,
};

/// At most this many operations per input: no gap reaches
/// `MAX_SENDER_KEY_SKIP`, so no key is ever dropped.
const MAX_OPS: usize = 200;

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum GroupOp {
    Send { from_bob: bool, len: u8 },
    Deliver { which: u16 },
    Drop { which: u16 },
    Duplicate { which: u16 },
    Tamper { which: u16, at: u16, mask: u8 },
    Rotate { bob: bool },
    Redistribute { bob: bool },
    Restore { bob: bool },
}

#[derive(Clone)]
struct InFlight {
    to_bob: bool,
    bytes: Vec<u8>,
    original: Vec<u8>,
    plaintext: Vec<u8>,
    /// Which of the sender's chains (0 the first): how many rotations ago
    /// it was made tells whether the receiver still holds it.
    chain: u32,
    tampered: bool,
}

struct Side {
    identity: IdentityKey,
    key: SenderKey,
    /// How many chains this side has had.
    chains: u32,
    /// The sender key of its current chain, as first handed out.
    first: SenderKeyDistribution,
    /// What it holds of the other side's keys.
    record: SenderKeyRecord,
    /// The bytes of every group message it decrypted.
    decrypted: HashSet<Vec<u8>>,
}

/// Runs one group conversation; panics when an invariant fails.
pub fn run(ops: Vec<GroupOp>) {
    let mut rng = ChaCha20Rng::seed_from_u64(ops.len() as u64);
    let group = GroupId::new(b"fuzz").expect("group id");
    let make = |rng: &mut ChaCha20Rng| {
        let identity = *IdentityKeyPair::generate(rng).public();
        let key = SenderKey::generate(rng);
        let first = key.distribution(&group);
        Side {
            identity,
            key,
            chains: 1,
            first,
            record: SenderKeyRecord::new(),
            decrypted: HashSet::new(),
        }
    };
    let mut alice = make(&mut rng);
    let mut bob = make(&mut rng);
    assert!(bob.record.process(&alice.identity, &alice.first));
    assert!(alice.record.process(&bob.identity, &bob.first));
    let mut flight: Vec<InFlight> = Vec::new();
    let mut nonces: HashSet<[u8; 24]> = HashSet::new();
    let mut sent: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();

    for op in ops.into_iter().take(MAX_OPS) {
        match op {
            GroupOp::Send { from_bob, len } => {
                let sender = if from_bob { &mut bob } else { &mut alice };
                let plaintext: Vec<u8> = (0..len % 64).map(|i| i ^ flight.len() as u8).collect();
                let bytes = sender.key.encrypt(&mut rng, &group, &plaintext).expect("encrypt");
                // The nonce: the 24 bytes before the ciphertext's length.
                let at = 2 + 4 + 4 + 4 + 4;
                let nonce: [u8; 24] = bytes[at..at + 24].try_into().expect("nonce");
                assert!(nonces.insert(nonce), "a nonce was used twice");
                sent.insert(bytes.clone(), plaintext.clone());
                flight.push(InFlight {
                    to_bob: !from_bob,
                    original: bytes.clone(),
                    bytes,
                    plaintext,
                    chain: sender.chains - 1,
                    tampered: false,
                });
            }
            GroupOp::Deliver { which } if !flight.is_empty() => {
                let m = flight.remove(usize::from(which) % flight.len());
                let (receiver, sender) =
                    if m.to_bob { (&mut bob, &alice) } else { (&mut alice, &bob) };
                let before = receiver.record.to_bytes().to_vec();
                let result = match GroupMessage::parse(&m.bytes) {
                    Ok(message) => receiver.record.decrypt(&sender.identity, &message),
                    Err(e) => Err(Error::Decode(e)),
                };
                if let Err(e) = &result {
                    assert_eq!(
                        receiver.record.to_bytes().as_slice(),
                        before.as_slice(),
                        "a refusal ({e:?}) changed the record"
                    );
                }
                if let Ok(plaintext) = &result {
                    assert_eq!(sent.get(&m.bytes), Some(plaintext), "decrypted to something else");
                }
                let forgotten = sender.chains - m.chain > MAX_SENDER_KEY_CHAINS as u32;
                if m.tampered {
                    assert!(result.is_err(), "a tampered group message was accepted");
                } else if forgotten {
                    assert_eq!(result, Err(Error::Group(GroupError::NoSenderKey)));
                } else if receiver.decrypted.contains(&m.bytes) {
                    assert_eq!(result, Err(Error::Decrypt(DecryptError::Duplicate)));
                } else {
                    assert_eq!(result, Ok(m.plaintext.clone()), "an honest message was refused");
                    receiver.decrypted.insert(m.bytes);
                }
            }
            GroupOp::Drop { which } if !flight.is_empty() => {
                flight.remove(usize::from(which) % flight.len());
            }
            GroupOp::Duplicate { which } if !flight.is_empty() => {
                let copy = flight[usize::from(which) % flight.len()].clone();
                flight.push(copy);
            }
            GroupOp::Tamper { which, at, mask } if !flight.is_empty() => {
                let i = usize::from(which) % flight.len();
                let m = &mut flight[i];
                let at = usize::from(at) % m.bytes.len();
                m.bytes[at] ^= if mask == 0 { 1 } else { mask };
                m.tampered = m.bytes != m.original;
            }
            GroupOp::Rotate { bob: of_bob } => {
                let (side, other) =
                    if of_bob { (&mut bob, &mut alice) } else { (&mut alice, &mut bob) };
                side.key = SenderKey::generate(&mut rng);
                side.chains += 1;
                side.first = side.key.distribution(&group);
                assert!(other.record.process(&side.identity, &side.first));
            }
            GroupOp::Redistribute { bob: of_bob } => {
                // The current chain's key as it was first handed out,
                // handed out again (a restored sender's outbox, an app
                // that resends): the chain is held, so nothing changes,
                // and what was read stays read.
                let (side, other) = if of_bob { (&bob, &mut alice) } else { (&alice, &mut bob) };
                let before = other.record.to_bytes().to_vec();
                assert!(!other.record.process(&side.identity, &side.first), "a chain moved back");
                assert_eq!(other.record.to_bytes().as_slice(), before.as_slice());
            }
            GroupOp::Restore { bob: restore_bob } => {
                let side = if restore_bob { &mut bob } else { &mut alice };
                let stored = side.record.to_bytes();
                side.record =
                    SenderKeyRecord::from_bytes(&stored).expect("a stored record decodes");
                assert_eq!(side.record.to_bytes().as_slice(), stored.as_slice());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{GroupOp, run};

    fn send(from_bob: bool) -> GroupOp {
        GroupOp::Send { from_bob, len: 9 }
    }

    const DELIVER: GroupOp = GroupOp::Deliver { which: 0 };

    #[test]
    fn messages_out_of_order_with_copies_and_restores() {
        run(vec![
            send(false),
            send(false),
            send(true),
            GroupOp::Duplicate { which: 1 },
            GroupOp::Deliver { which: 2 },
            DELIVER,
            GroupOp::Restore { bob: true },
            DELIVER,
            DELIVER,
        ]);
    }

    #[test]
    fn tampered_messages_are_refused() {
        for at in [0u16, 10, 30, 60, 80, 120] {
            run(vec![send(false), GroupOp::Tamper { which: 0, at, mask: 0x10 }, DELIVER]);
        }
    }

    #[test]
    fn rotations_keep_five_chains_and_a_key_sent_again_moves_nothing_back() {
        let mut ops = vec![send(false)];
        for _ in 0..6 {
            ops.extend([GroupOp::Rotate { bob: false }, send(false)]);
        }
        ops.push(GroupOp::Redistribute { bob: false });
        ops.extend(std::iter::repeat_n(DELIVER, 8));
        run(ops);
        run(vec![send(true), DELIVER, GroupOp::Redistribute { bob: true }, send(true), DELIVER]);
    }
}
