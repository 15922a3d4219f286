//! Alice and Bob talk while the fuzzer plays the network and the apps: it
//! chooses who sends, and delivers, drops, duplicates, tampers with and
//! reorders messages; it stores and restores either session, and takes a
//! snapshot of one and later rolls it back to it (a crash, a backup).
//! Invariants:
//!
//! - an untampered message decrypts exactly once, to what was sent, unless
//!   its chain is old enough that its keys were dropped
//!   (`MAX_RECEIVING_CHAINS`): then it gets `KeyDropped` (or `StaleMessage`
//!   once the record of dropped keys overflowed), or `Failed` once the
//!   chain itself is forgotten (`MAX_CHAIN_HISTORY` chains later at the
//!   earliest: chains without keys are forgotten first);
//! - a copy of a message already decrypted is a `Duplicate` while its
//!   chain is remembered (then `Failed`, or `StaleMessage` for an initial
//!   message); a tampered message is refused;
//! - every refusal leaves the receiving session exactly as it was;
//! - storing and restoring a session changes nothing;
//! - no two messages ever sent share a nonce, rollbacks included;
//! - after a rollback the sides no longer agree on what was sent, so the
//!   run checks only what must hold anyway: a message that decrypts gives
//!   the plaintext sent with those bytes, a receiver never decrypts the
//!   same bytes twice without being rolled back itself, tampering is
//!   refused, refusals change nothing, and nonces never repeat.
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::limits::{MAX_CHAIN_HISTORY, MAX_RECEIVING_CHAINS};
use sealwire::{
    DecryptError, IdentityKeyPair, InitialMessage, Message, OneTimePreKeyPair, PreKeyBundle,
    PreKeyId, Session, SignedPreKeyPair,
};

/// At most this many operations run per input, so no skip gap can reach
/// MAX_SKIP and the store can never hold MAX_SKIPPED_KEYS.
const MAX_OPS: usize = 200;

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    Send { from_bob: bool, len: u8 },
    Deliver { which: u16 },
    Drop { which: u16 },
    Duplicate { which: u16 },
    Tamper { which: u16, at: u16, mask: u8 },
    Restore { bob: bool },
    Snapshot { bob: bool },
    Rollback { bob: bool },
}

#[derive(Clone)]
struct InFlight {
    to_bob: bool,
    bytes: Vec<u8>,
    /// The bytes as sent: a message counts as tampered only while it differs.
    original: Vec<u8>,
    plaintext: Vec<u8>,
    id: u32,
    /// How many ratchet keys the sender had used, this one included.
    epoch: u32,
    tampered: bool,
}

struct Side {
    session: Session,
    /// Sending: the number of ratchet keys used, and the current one.
    epoch: u32,
    last_key: [u8; 32],
    /// Receiving: the newest epoch of the peer's decrypted so far.
    heard: u32,
    delivered: HashSet<u32>,
    /// The bytes of every message this side decrypted since it was last
    /// rolled back (or ever).
    decrypted: HashSet<Vec<u8>>,
    /// The state and model saved by the last `Snapshot`.
    snapshot: Option<Box<Saved>>,
}

struct Saved {
    state: Vec<u8>,
    epoch: u32,
    last_key: [u8; 32],
    heard: u32,
    delivered: HashSet<u32>,
    decrypted: HashSet<Vec<u8>>,
}

impl Side {
    fn new(state: &[u8], epoch: u32, last_key: [u8; 32], heard: u32) -> Self {
        Self {
            session: Session::from_bytes(state).expect("state"),
            epoch,
            last_key,
            heard,
            delivered: HashSet::new(),
            decrypted: HashSet::new(),
            snapshot: None,
        }
    }
}

fn nonce(bytes: &[u8]) -> [u8; 24] {
    match Message::parse(bytes).expect("our own messages parse") {
        Message::Initial(m) => m.message().header().nonce,
        Message::Ratchet(m) => m.header().nonce,
    }
}

/// The sessions right after Bob accepted Alice's first message, made once.
fn start() -> &'static (Vec<u8>, Vec<u8>, [u8; 32]) {
    static START: OnceLock<(Vec<u8>, Vec<u8>, [u8; 32])> = OnceLock::new();
    START.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let alice = IdentityKeyPair::generate(&mut rng);
        let bob = IdentityKeyPair::generate(&mut rng);
        let spk = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
        let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
        let bundle = PreKeyBundle::new(*bob.public(), spk.public(), Some(opk.public()));
        let mut a = Session::initiate(&mut rng, &alice, &bundle).expect("initiate");
        let first = a.encrypt(&mut rng, b"hello").expect("encrypt");
        let (b, _) =
            Session::accept(&bob, &spk, Some(&opk), &InitialMessage::parse(&first).expect("parse"))
                .expect("accept");
        (a.to_bytes().to_vec(), b.to_bytes().to_vec(), ratchet_key(&first))
    })
}

fn ratchet_key(bytes: &[u8]) -> [u8; 32] {
    match Message::parse(bytes).expect("our own messages parse") {
        Message::Initial(m) => *m.message().header().ratchet_key.as_raw(),
        Message::Ratchet(m) => *m.header().ratchet_key.as_raw(),
    }
}

/// Runs one conversation; panics when an invariant fails.
pub fn run(ops: Vec<Op>) {
    let (alice_state, bob_state, first_key) = start();
    let mut alice = Side::new(alice_state, 1, *first_key, 0);
    let mut bob = Side::new(bob_state, 0, [0; 32], 1);
    let mut rng = ChaCha20Rng::seed_from_u64(ops.len() as u64);
    let mut flight: Vec<InFlight> = Vec::new();
    let mut next_id = 0u32;
    // Every nonce sent, and what was sent with each message's bytes.
    let mut nonces: HashSet<[u8; 24]> = HashSet::new();
    let mut sent: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    // Whether either side has been rolled back: the strict expectations
    // end there.
    let mut forked = false;

    for op in ops.into_iter().take(MAX_OPS) {
        match op {
            Op::Send { from_bob, len } => {
                let sender = if from_bob { &mut bob } else { &mut alice };
                let plaintext: Vec<u8> = (0..len % 64).map(|i| i ^ next_id as u8).collect();
                let bytes = sender.session.encrypt(&mut rng, &plaintext).expect("encrypt");
                assert!(nonces.insert(nonce(&bytes)), "a nonce was used twice");
                sent.insert(bytes.clone(), plaintext.clone());
                let key = ratchet_key(&bytes);
                if key != sender.last_key {
                    sender.epoch += 1;
                    sender.last_key = key;
                }
                flight.push(InFlight {
                    to_bob: !from_bob,
                    original: bytes.clone(),
                    bytes,
                    plaintext,
                    id: next_id,
                    epoch: sender.epoch,
                    tampered: false,
                });
                next_id += 1;
            }
            Op::Deliver { which } if !flight.is_empty() => {
                let m = flight.remove(usize::from(which) % flight.len());
                let receiver = if m.to_bob { &mut bob } else { &mut alice };
                let before = receiver.session.to_bytes().to_vec();
                let result = receiver.session.decrypt(&m.bytes);
                if let Err(e) = &result {
                    assert_eq!(
                        receiver.session.to_bytes().as_slice(),
                        before.as_slice(),
                        "a refusal ({e:?}) changed the session"
                    );
                }
                let age = receiver.heard.saturating_sub(m.epoch);
                if let Ok(plaintext) = &result {
                    // Whatever decrypts is what was sent with these bytes,
                    // and only once per receiver (between rollbacks).
                    assert_eq!(sent.get(&m.bytes), Some(plaintext), "decrypted to something else");
                    assert!(receiver.decrypted.insert(m.bytes.clone()), "the same bytes twice");
                }
                if m.tampered {
                    assert!(result.is_err(), "a tampered message was accepted");
                } else if forked {
                    if result.is_ok() {
                        receiver.delivered.insert(m.id);
                        receiver.heard = receiver.heard.max(m.epoch);
                    }
                } else if receiver.delivered.contains(&m.id) {
                    match result {
                        Err(DecryptError::Duplicate) => {}
                        // Its chain forgotten: a ratchet message cannot be
                        // told from a forgery, an initial message (which
                        // names the session) is stale.
                        Err(DecryptError::Failed | DecryptError::StaleMessage)
                            if age >= MAX_CHAIN_HISTORY as u32 => {}
                        other => panic!("a replay got {other:?} (age {age})"),
                    }
                } else {
                    match result {
                        Ok(plaintext) => {
                            assert_eq!(plaintext, m.plaintext, "decrypted to something else");
                            receiver.delivered.insert(m.id);
                            receiver.heard = receiver.heard.max(m.epoch);
                        }
                        Err(DecryptError::KeyDropped | DecryptError::StaleMessage)
                            if age >= MAX_RECEIVING_CHAINS as u32 => {}
                        Err(DecryptError::Failed) if age >= MAX_CHAIN_HISTORY as u32 => {}
                        Err(e) => panic!(
                            "an honest message was refused: {e:?} (epoch {}, heard {})",
                            m.epoch, receiver.heard
                        ),
                    }
                }
            }
            Op::Drop { which } if !flight.is_empty() => {
                flight.remove(usize::from(which) % flight.len());
            }
            Op::Duplicate { which } if !flight.is_empty() => {
                let copy = flight[usize::from(which) % flight.len()].clone();
                flight.push(copy);
            }
            Op::Tamper { which, at, mask } if !flight.is_empty() => {
                let i = usize::from(which) % flight.len();
                let m = &mut flight[i];
                let at = usize::from(at) % m.bytes.len();
                m.bytes[at] ^= if mask == 0 { 1 } else { mask };
                // Two flips of one byte can restore the original.
                m.tampered = m.bytes != m.original;
            }
            Op::Restore { bob: restore_bob } => {
                let side = if restore_bob { &mut bob } else { &mut alice };
                let stored = side.session.to_bytes();
                side.session = Session::from_bytes(&stored).expect("a stored session decodes");
                assert_eq!(side.session.to_bytes().as_slice(), stored.as_slice());
            }
            Op::Snapshot { bob: of_bob } => {
                let side = if of_bob { &mut bob } else { &mut alice };
                side.snapshot = Some(Box::new(Saved {
                    state: side.session.to_bytes().to_vec(),
                    epoch: side.epoch,
                    last_key: side.last_key,
                    heard: side.heard,
                    delivered: side.delivered.clone(),
                    decrypted: side.decrypted.clone(),
                }));
            }
            Op::Rollback { bob: of_bob } => {
                let side = if of_bob { &mut bob } else { &mut alice };
                if let Some(saved) = side.snapshot.take() {
                    let generation = side.session.generation();
                    side.session = Session::from_bytes(&saved.state).expect("a snapshot decodes");
                    assert!(side.session.generation() <= generation, "generations go forward");
                    side.epoch = saved.epoch;
                    side.last_key = saved.last_key;
                    side.heard = saved.heard;
                    side.delivered = saved.delivered;
                    side.decrypted = saved.decrypted;
                    forked = true;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Op, run};

    fn send(from_bob: bool) -> Op {
        Op::Send { from_bob, len: 9 }
    }

    const DELIVER: Op = Op::Deliver { which: 0 };
    const TAMPER: Op = Op::Tamper { which: 0, at: 40, mask: 0x20 };

    #[test]
    fn a_conversation_with_losses_copies_and_restores() {
        run(vec![
            send(false),
            send(false),
            Op::Duplicate { which: 1 },
            Op::Drop { which: 0 },
            DELIVER,
            DELIVER,
            send(true),
            Op::Restore { bob: false },
            DELIVER,
            send(false),
            DELIVER,
        ]);
    }

    #[test]
    fn a_tampered_message_is_refused() {
        run(vec![send(false), TAMPER, DELIVER, send(true), TAMPER, DELIVER]);
    }

    #[test]
    fn replays_are_duplicates() {
        run(vec![send(false), Op::Duplicate { which: 0 }, DELIVER, DELIVER]);
    }

    #[test]
    fn a_rolled_back_sender_repeats_no_nonce() {
        run(vec![
            Op::Snapshot { bob: false },
            send(false),
            send(false),
            DELIVER,
            Op::Rollback { bob: false },
            send(false),
            send(false),
            DELIVER,
            DELIVER,
            send(true),
            DELIVER,
        ]);
    }

    #[test]
    fn a_rolled_back_receiver_decrypts_again_once() {
        run(vec![
            send(false),
            Op::Duplicate { which: 0 },
            Op::Snapshot { bob: true },
            DELIVER,
            Op::Rollback { bob: true },
            DELIVER,
        ]);
    }

    /// The first finding (docs/fuzzing.md): two equal flips of one byte
    /// restore the message, which then rightly decrypts; the harness had
    /// counted it as tampered.
    #[test]
    fn two_equal_flips_restore_the_message() {
        run(vec![send(false), TAMPER, TAMPER, DELIVER]);
    }
}
