//! Four devices of two users of two apps talk through the device API while
//! the fuzzer plays the network and the apps: it chooses who writes to
//! whom and when sessions are started, and delivers, drops, duplicates,
//! tampers with and reorders what the relay holds; it also lets time pass
//! so that prekeys rotate and replenish.
//!
//! Invariants:
//!
//! - a part the relay delivers untampered opens at most once at its
//!   device, to exactly what was sent; the first time it is delivered it
//!   opens (unless its key was dropped under the limits), later times it
//!   is refused as a `Duplicate` or, its session forgotten, refused;
//! - a tampered part never opens;
//! - every refusal leaves the device's store exactly as it was;
//! - a device's first message from another device reports a new identity,
//!   and no later one does (no identity ever changes here);
//! - nothing panics.
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::limits::SIGNED_PREKEY_GRACE_SECS;
use sealwire::{
    Address, AppId, CertificateKeyPair, DecryptError, Device, DeviceError, DeviceId, IdentityEvent,
    IdentityKey, IssuerCertificate, MemoryStore, MultiRecipientEnvelope, OneTimePreKey,
    Publication, SealedEnvelope, SenderCertificate, Timestamp, TrustRoot, TrustStore, UserAddress,
    UserId,
};

/// At most this many operations run per input.
const MAX_OPS: usize = 160;

/// The devices: alice#1 and alice#2 of chat.a, bob#1 and bob#2 of chat.b.
const DEVICES: usize = 4;

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// Device `from` writes to the other user (and its own other device).
    Send {
        from: u8,
        len: u8,
    },
    /// Device `from` starts sessions with every device it is missing.
    Connect {
        from: u8,
    },
    Deliver {
        which: u16,
    },
    Drop {
        which: u16,
    },
    Duplicate {
        which: u16,
    },
    Swap {
        a: u16,
        b: u16,
    },
    Tamper {
        which: u16,
        at: u16,
        mask: u8,
    },
    /// A day passes, and `device` publishes (rotating and replenishing).
    Publish {
        device: u8,
        days: u8,
    },
}

#[derive(Clone)]
struct Part {
    to: usize,
    bytes: Vec<u8>,
    original: Vec<u8>,
    plaintext: Vec<u8>,
    /// Which upload this part came from, and the sender.
    id: u32,
    from: usize,
    /// When it was sent.
    sent_at: u64,
}

/// What is made once: the stores of four devices with certificates and
/// published prekeys, the trust roots, and what the server holds.
struct Start {
    stores: Vec<MemoryStore>,
    trust: TrustStore,
    publications: Vec<Publication>,
    addresses: Vec<Address>,
    identities: Vec<IdentityKey>,
}

const NOW: u64 = 1_000_000;

fn start() -> &'static Start {
    static START: OnceLock<Start> = OnceLock::new();
    START.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut trust = TrustStore::new();
        let mut issuers = Vec::new();
        for name in ["chat.a", "chat.b"] {
            let app = AppId::new(name).expect("app id");
            let root = CertificateKeyPair::generate(&mut rng);
            let key = CertificateKeyPair::generate(&mut rng);
            let issuer = IssuerCertificate::issue(
                &root,
                &app,
                1,
                &key.public(),
                Timestamp(0),
                Timestamp(u64::MAX),
            )
            .expect("issuer");
            trust.add_root(&TrustRoot::new(app.clone(), root.public()));
            issuers.push((app, key, issuer));
        }
        let mut stores = Vec::new();
        let mut publications = Vec::new();
        let mut addresses = Vec::new();
        let mut identities = Vec::new();
        for i in 0..DEVICES {
            let (app, key, issuer) = &issuers[i / 2];
            let user = UserId::new(if i < 2 { b"alice" } else { b"bob" }).expect("user");
            let address = Address::new(app.clone(), user.clone(), DeviceId(i as u32 % 2 + 1));
            let mut device = Device::create(
                &mut rng,
                MemoryStore::new(),
                address.clone(),
                trust.clone(),
                Timestamp(NOW),
            )
            .expect("create");
            let certificate = SenderCertificate::issue(
                key,
                issuer,
                user,
                address.device(),
                device.identity(),
                Timestamp(u64::MAX),
            )
            .expect("certificate");
            device.set_certificate(certificate).expect("set certificate");
            let publication = device.publication(&mut rng, Timestamp(NOW), None).expect("publish");
            device.mark_published(&publication).expect("mark");
            identities.push(*device.identity());
            publications.push(publication);
            addresses.push(address);
            stores.push(device.into_store());
        }
        Start { stores, trust, publications, addresses, identities }
    })
}

struct World {
    devices: Vec<Device<MemoryStore>>,
    /// (device, peer) pairs where the device has stored the peer's
    /// identity: it reported it when the first message came, or it started
    /// a session from the peer's bundle.
    met: HashSet<(usize, usize)>,
    publications: Vec<Publication>,
    one_time: Vec<Vec<OneTimePreKey>>,
    now: u64,
    rng: ChaCha20Rng,
}

impl World {
    fn user(&self, i: usize) -> UserAddress {
        start().addresses[i].user().clone()
    }

    fn connect(&mut self, from: usize) {
        let other = self.user(if from < 2 { 2 } else { 0 });
        let own = self.user(from);
        for user in [&other, &own] {
            self.devices[from].set_devices(user, &[DeviceId(1), DeviceId(2)]).expect("device list");
        }
        let missing =
            self.devices[from].missing_sessions(&other, Timestamp(self.now)).expect("missing");
        for address in missing {
            let to = start().addresses.iter().position(|a| *a == address).expect("known device");
            let one_time = self.one_time[to].pop();
            let bundle = self.publications[to].bundle(one_time);
            let event = self.devices[from]
                .start_session(&mut self.rng, &address, &bundle, Timestamp(self.now))
                .expect("a genuine bundle starts a session");
            let first = self.met.insert((from, to));
            assert_eq!(event, first.then_some(IdentityEvent::New), "identity events on starting");
        }
    }
}

pub fn run(ops: Vec<Op>) {
    let s = start();
    let mut w = World {
        devices: s
            .stores
            .iter()
            .map(|store| Device::open(store.clone(), s.trust.clone()).expect("open"))
            .collect(),
        met: HashSet::new(),
        publications: s.publications.clone(),
        one_time: s.publications.iter().map(|p| p.one_time_prekeys().to_vec()).collect(),
        now: NOW,
        rng: ChaCha20Rng::seed_from_u64(5),
    };
    let mut flight: Vec<Part> = Vec::new();
    // (recipient, upload id) of every part that opened.
    let mut opened: HashSet<(usize, u32)> = HashSet::new();
    let mut sent: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut next_id = 0u32;

    for op in ops.into_iter().take(MAX_OPS) {
        match op {
            Op::Send { from, len } => {
                let from = usize::from(from) % DEVICES;
                let to = w.user(if from < 2 { 2 } else { 0 });
                let plaintext: Vec<u8> = (0..len).chain(next_id.to_be_bytes()).collect();
                let result = w.devices[from].send(&mut w.rng, &to, &plaintext, Timestamp(w.now));
                let sent_parts = match result {
                    Ok(sent) => sent,
                    Err(DeviceError::NoRecipients { .. }) => continue,
                    Err(e) => panic!("sending failed: {e:?}"),
                };
                let upload = MultiRecipientEnvelope::parse(&sent_parts.envelope).expect("upload");
                for share in upload.recipients() {
                    let bytes = share.to_envelope();
                    let key = *SealedEnvelope::parse(&bytes).expect("part").recipient();
                    let to = s.identities.iter().position(|k| *k == key).expect("a known device");
                    flight.push(Part {
                        to,
                        original: bytes.clone(),
                        bytes,
                        plaintext: plaintext.clone(),
                        id: next_id,
                        from,
                        sent_at: w.now,
                    });
                }
                sent.insert(next_id, plaintext);
                next_id += 1;
            }
            Op::Connect { from } => w.connect(usize::from(from) % DEVICES),
            Op::Deliver { which } if !flight.is_empty() => {
                let part = flight.remove(usize::from(which) % flight.len());
                deliver(&mut w, &part, &mut opened, &sent);
            }
            Op::Drop { which } if !flight.is_empty() => {
                flight.remove(usize::from(which) % flight.len());
            }
            Op::Duplicate { which } if !flight.is_empty() => {
                let copy = flight[usize::from(which) % flight.len()].clone();
                flight.push(copy);
            }
            Op::Swap { a, b } if !flight.is_empty() => {
                let n = flight.len();
                flight.swap(usize::from(a) % n, usize::from(b) % n);
            }
            Op::Tamper { which, at, mask } if !flight.is_empty() && mask != 0 => {
                let i = usize::from(which) % flight.len();
                let part = &mut flight[i];
                let at = usize::from(at) % part.bytes.len();
                part.bytes[at] ^= mask;
            }
            Op::Publish { device, days } => {
                let i = usize::from(device) % DEVICES;
                w.now += u64::from(days % 8) * 24 * 3600;
                let publication = w.devices[i]
                    .publication(&mut w.rng, Timestamp(w.now), Some(w.one_time[i].len()))
                    .expect("publication");
                w.devices[i].mark_published(&publication).expect("mark");
                w.one_time[i].extend(publication.one_time_prekeys().iter().copied());
                w.publications[i] = publication;
            }
            _ => {}
        }
    }
}

fn deliver(
    w: &mut World,
    part: &Part,
    opened: &mut HashSet<(usize, u32)>,
    sent: &HashMap<u32, Vec<u8>>,
) {
    let tampered = part.bytes != part.original;
    let before = w.devices[part.to].store().clone();
    let result = w.devices[part.to].receive(&part.bytes, Timestamp(w.now));
    match result {
        Ok(received) => {
            assert!(!tampered, "a tampered part opened");
            assert_eq!(received.plaintext, part.plaintext, "opened to something else");
            assert_eq!(sent.get(&part.id), Some(&part.plaintext));
            assert_eq!(received.from, start().addresses[part.from], "the wrong sender");
            assert!(opened.insert((part.to, part.id)), "a part opened twice");
            let first = w.met.insert((part.to, part.from));
            assert_eq!(
                received.identity_event,
                first.then_some(IdentityEvent::New),
                "identity events: first contact only"
            );
        }
        Err(e) => {
            assert!(w.devices[part.to].store() == &before, "a refusal changed the store ({e:?})");
            if tampered {
                return;
            }
            if opened.contains(&(part.to, part.id)) {
                // A replay: a duplicate while its session remembers it.
                assert!(
                    matches!(
                        e,
                        DeviceError::Decrypt {
                            error: DecryptError::Duplicate
                                | DecryptError::StaleMessage
                                | DecryptError::Failed,
                            ..
                        }
                    ),
                    "a replay got {e:?}"
                );
            } else {
                // A first delivery opens, unless its key went under the
                // limits, or it waited at the relay past the signed
                // prekey's grace period (then the session is refused).
                let late = w.now.saturating_sub(part.sent_at) > SIGNED_PREKEY_GRACE_SECS;
                assert!(
                    matches!(
                        e,
                        DeviceError::Decrypt {
                            error: DecryptError::KeyDropped | DecryptError::StaleMessage,
                            ..
                        }
                    ) || (late && matches!(e, DeviceError::NoSession(_))),
                    "an honest part was refused: {e:?}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_with_replays_and_reordering_runs() {
        let mut ops = Vec::new();
        for from in 0..4 {
            ops.push(Op::Connect { from });
        }
        for round in 0..6u16 {
            for from in 0..4 {
                ops.push(Op::Send { from, len: 10 });
            }
            ops.push(Op::Duplicate { which: round });
            ops.push(Op::Swap { a: 1, b: round + 3 });
            ops.push(Op::Tamper { which: 2, at: 200, mask: 1 });
            for _ in 0..14 {
                ops.push(Op::Deliver { which: round });
            }
            ops.push(Op::Publish { device: round as u8, days: 7 });
        }
        run(ops);
    }

    #[test]
    #[should_panic(expected = "a part opened twice")]
    fn the_model_catches_a_double_delivery() {
        // Delivered twice to a device that forgets it opened the first
        // copy: reopen its store from before the first delivery.
        let s = start();
        let mut w = World {
            devices: s
                .stores
                .iter()
                .map(|st| Device::open(st.clone(), s.trust.clone()).unwrap())
                .collect(),
            met: HashSet::new(),
            publications: s.publications.clone(),
            one_time: s.publications.iter().map(|p| p.one_time_prekeys().to_vec()).collect(),
            now: NOW,
            rng: ChaCha20Rng::seed_from_u64(5),
        };
        w.connect(0);
        let to = w.user(2);
        let sent = w.devices[0].send(&mut w.rng, &to, b"x", Timestamp(NOW)).unwrap();
        let upload = MultiRecipientEnvelope::parse(&sent.envelope).unwrap();
        let bytes = upload
            .recipients()
            .find(|r| *r.recipient() == s.identities[2].to_bytes())
            .unwrap()
            .to_envelope();
        let part = Part {
            to: 2,
            original: bytes.clone(),
            bytes,
            plaintext: b"x".to_vec(),
            id: 0,
            from: 0,
            sent_at: NOW,
        };
        let mut opened = HashSet::new();
        let sent_map = HashMap::from([(0, b"x".to_vec())]);
        let saved = w.devices[2].store().clone();
        deliver(&mut w, &part, &mut opened, &sent_map);
        w.devices[2] = Device::open(saved, s.trust.clone()).unwrap();
        w.met.clear();
        deliver(&mut w, &part, &mut opened, &sent_map);
    }
}
