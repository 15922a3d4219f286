//! Devices and fan-out through the device layer (docs/sessions.md §6):
//! device lists that change mid-conversation, and three users with three
//! devices each writing through a network that loses and reorders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::world::{Dev, Part, World};
use rand_core::Rng;
use sealwire::{Action, DecryptError, DeviceError, DeviceId};

#[test]
fn a_device_added_and_one_removed_mid_conversation() {
    let mut w = World::new(20);
    let mut phone = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (alice, bob_user) = (phone.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut bob, &alice, "one device");
    assert_eq!(m.len(), 1);
    assert_eq!(w.read(&mut phone, &m), "one device");

    // Alice adds a laptop. Bob learns of it from the server's list, which
    // reports it as added; it needs a session before it can get mail.
    let mut laptop = w.device(0, "alice", 2);
    let change = bob.set_devices(&alice, &w.devices_of(&alice)).unwrap();
    assert_eq!(change.added, [laptop.address().clone()]);
    assert_eq!(bob.missing_sessions(&alice, w.now).unwrap(), [laptop.address().clone()]);
    // Sending before the session is started reaches the phone only, and
    // says who missed it.
    let sent = bob.send(&mut w.rng, &alice, b"just the phone", w.now).unwrap();
    assert_eq!(sent.missing, [laptop.address().clone()]);
    assert_eq!(sent.recipients.len(), 1);
    w.read(&mut phone, &common::world::split(&sent.envelope));
    let m = w.send(&mut bob, &alice, "both devices now");
    assert_eq!(m.len(), 2);
    assert_eq!(w.read(&mut phone, &m), "both devices now");
    assert_eq!(w.read(&mut laptop, &m), "both devices now");
    // The phone's answer reaches Bob and, as a copy, the laptop.
    let m = w.send(&mut phone, &bob_user, "from the phone");
    assert_eq!(w.read(&mut bob, &m), "from the phone");
    assert_eq!(w.read(&mut laptop, &m), "from the phone");

    // The phone is removed. Bob's next list drops it, and its sessions.
    w.unlist(phone.address());
    let change = bob.set_devices(&alice, &w.devices_of(&alice)).unwrap();
    assert_eq!(change.removed, [phone.address().clone()]);
    let m = w.send(&mut bob, &alice, "laptop only");
    assert_eq!(m.len(), 1);
    assert_eq!(w.read(&mut laptop, &m), "laptop only");
    // A message to the removed device is a typed result, not a send.
    let err = bob.send_to_device(&mut w.rng, phone.address(), b"hello?", w.now).unwrap_err();
    assert_eq!(err, DeviceError::UnknownDevice(phone.address().clone()));
    assert_eq!(err.action(), Action::FixRequest);
    // If the relay bounces a recipient it no longer knows, the app finds
    // the device by its key.
    let sent = bob.send(&mut w.rng, &alice, b"again", w.now).unwrap();
    assert_eq!(sent.recipient(laptop.identity()), Some(laptop.address()));
    assert_eq!(sent.recipient(phone.identity()), None);
}

#[test]
fn a_message_with_no_device_to_reach_is_refused_before_anything_changes() {
    let mut w = World::new(21);
    let phone = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice = phone.address().user().clone();
    bob.set_devices(&alice, &[DeviceId(1)]).unwrap();
    let before = bob.store().clone();
    let err = bob.send(&mut w.rng, &alice, b"anyone?", w.now).unwrap_err();
    assert_eq!(err, DeviceError::NoRecipients { missing: vec![phone.address().clone()] });
    assert!(*bob.store() == before);
}

/// Three users of three apps with three devices each. Every device writes
/// to every other user in turn; the network reorders what it delivers and
/// loses some of it. Every delivered message opens exactly once, replays
/// are refused, and the conversation never stalls.
#[test]
fn three_users_with_three_devices_each_through_a_lossy_reordering_network() {
    let mut w = World::new(22);
    let names = ["alice", "bob", "carol"];
    let mut devices: Vec<Dev> = Vec::new();
    for (app, name) in names.iter().enumerate() {
        for d in 1..=3 {
            devices.push(w.device(app, name, d));
        }
    }
    let users: Vec<_> = names.iter().enumerate().map(|(app, n)| w.user(app, n)).collect();
    // In flight: (recipient index, part, text).
    let mut network: Vec<(usize, Part, String)> = Vec::new();
    let mut opened: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut sent_to: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let index_of = |devices: &[Dev], part: &Part| {
        devices.iter().position(|d| d.identity() == &part.to).unwrap()
    };
    let mut lost = 0;
    let mut replays = 0;
    for round in 0..6 {
        for sender in 0..devices.len() {
            let to = &users[(sender / 3 + 1 + round % 2) % 3];
            let text = format!("r{round} from {sender}");
            let parts = w.send(&mut devices[sender], to, &text);
            // Every device of the recipient user and the sender's two
            // other devices.
            assert_eq!(parts.len(), 5, "{text}");
            for part in parts {
                let i = index_of(&devices, &part);
                sent_to.entry(i).or_default().insert(text.clone());
                network.push((i, part, text.clone()));
            }
        }
        // The network shuffles, loses one part in ten and delivers the
        // rest, with one part in eight delivered twice.
        shuffle(&mut w.rng, &mut network);
        for (i, part, text) in network.drain(..) {
            if w.rng.next_u32().is_multiple_of(10) {
                lost += 1;
                continue;
            }
            let received = w.receive(&mut devices[i], &part).unwrap();
            assert_eq!(received.plaintext, text.as_bytes());
            assert!(
                opened.entry(i).or_default().insert(text.clone()),
                "{text} opened twice at {i}"
            );
            if w.rng.next_u32().is_multiple_of(8) {
                let err = w.receive(&mut devices[i], &part).unwrap_err();
                assert!(
                    matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }),
                    "{err:?}"
                );
                replays += 1;
            }
        }
    }
    assert!(lost > 0 && replays > 0);
    let delivered: usize = opened.values().map(BTreeSet::len).sum();
    let total: usize = sent_to.values().map(BTreeSet::len).sum();
    assert_eq!(delivered + lost, total);
    // Nothing stalled: a last message from each device to each user opens.
    for sender in 0..devices.len() {
        for to in &users {
            let parts = w.send(&mut devices[sender], to, "last");
            for part in parts {
                let i = index_of(&devices, &part);
                assert_eq!(w.receive(&mut devices[i], &part).unwrap().plaintext, b"last");
            }
        }
    }
}

fn shuffle<T>(rng: &mut impl Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        items.swap(i, j);
    }
}

#[test]
fn a_sent_message_splits_into_one_envelope_per_device() {
    let mut w = World::new(23);
    let mut phone = w.device(0, "alice", 1);
    let mut laptop = w.device(0, "alice", 2);
    let mut bob = w.device(1, "bob", 1);
    let alice = phone.address().user().clone();
    w.connect(&mut bob, &alice);
    let sent = bob.send(&mut w.rng, &alice, b"one each", w.now).unwrap();
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 2);
    for (address, envelope) in envelopes {
        let device = if &address == phone.address() { &mut phone } else { &mut laptop };
        assert_eq!(device.address(), &address);
        let received = device.receive(&envelope, w.now).unwrap();
        assert_eq!(received.plaintext, b"one each");
    }
}

#[test]
fn a_removed_device_cannot_put_itself_back() {
    let mut w = World::new(24);
    let mut phone = w.device(0, "alice", 1);
    let mut stolen = w.device(0, "alice", 2);
    let mut bob = w.device(1, "bob", 1);
    let (alice, bob_user) = (phone.address().user().clone(), bob.address().user().clone());
    let m = w.send(&mut phone, &bob_user, "hi bob");
    w.read(&mut bob, &m);
    w.read(&mut stolen, &m);
    // The laptop is stolen; Alice removes it.
    w.unlist(stolen.address());
    let change = phone.set_devices(&alice, &w.devices_of(&alice)).unwrap();
    assert_eq!(change.removed, [stolen.address().clone()]);
    // The thief (its certificate still valid) starts a session with the
    // phone and writes: the message is shown, flagged as from a device not
    // listed, and the device stays unlisted.
    stolen.set_devices(&alice, &[DeviceId(1), DeviceId(2)]).unwrap();
    stolen.reset_session(phone.address()).unwrap();
    let bundle = w.bundle(phone.address());
    stolen.start_session(&mut w.rng, phone.address(), &bundle, w.now).unwrap();
    let m = w.send_only(&mut stolen, &alice, "it's me, your laptop");
    let received = w.deliver(&mut phone, &m).unwrap();
    assert!(!received.listed);
    assert_eq!(phone.devices(&alice).unwrap(), [DeviceId(1)]);
    // What Alice sends next reaches Bob, not the thief.
    let sent = phone.send(&mut w.rng, &bob_user, b"secret for bob", w.now).unwrap();
    assert_eq!(sent.recipients.len(), 1);
    assert_eq!(&sent.recipients[0].0, bob.address());
}

#[test]
fn a_denied_device_gets_nothing_and_no_new_session() {
    let mut w = World::new(25);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mut bob_laptop = w.device(1, "bob", 2);
    let bob_user = bob.address().user().clone();
    let m = w.send(&mut alice, &bob_user, "hi");
    w.read(&mut bob, &m);
    w.read(&mut bob_laptop, &m);
    // Bob reports his laptop lost; Alice's app denies its key.
    alice.trust_store_mut().deny_identity(bob_laptop.identity());
    let sent = alice.send(&mut w.rng, &bob_user, b"not for the laptop", w.now).unwrap();
    assert_eq!(sent.denied, [bob_laptop.address().clone()]);
    assert_eq!(sent.recipients.len(), 1);
    // No session either, whatever the bundle (the relay stripped its
    // certificate, the key being known).
    alice.reset_session(bob_laptop.address()).unwrap();
    let bundle = w.bundle(bob_laptop.address());
    let stripped = sealwire::PreKeyBundle::new(*bundle.identity(), *bundle.signed_prekey(), None);
    let err = alice.start_session(&mut w.rng, bob_laptop.address(), &stripped, w.now).unwrap_err();
    assert_eq!(err, DeviceError::Certificate(sealwire::CertificateError::Denied));
}

#[test]
fn publishing_needs_a_certificate_and_marks_only_this_device() {
    let mut w = World::new(26);
    let address = w.user(0, "alice").device(DeviceId(1));
    let mut bare = sealwire::Device::create(
        &mut w.rng,
        sealwire::MemoryStore::new(),
        address,
        w.trust.clone(),
        w.now,
    )
    .unwrap();
    let err = bare.publication(&mut w.rng, w.now, None).unwrap_err();
    assert_eq!(err, DeviceError::NoCertificate);
    let mut other = w.device(1, "bob", 1);
    w.certify(&mut bare);
    let theirs = other.publication(&mut w.rng, w.now, None).unwrap();
    assert_eq!(bare.mark_published(&theirs).unwrap_err(), DeviceError::NotThisDevice);
}

#[test]
fn a_message_is_neither_lost_nor_shown_twice_across_restarts() {
    let mut w = World::new(27);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    w.connect(&mut bob, &alice_user);
    let sent = bob.send(&mut w.rng, &alice_user, b"survive this", w.now).unwrap();
    // Bob's app dies before it uploads: the message is still pending.
    let mut bob = sealwire::Device::open(bob.into_store(), w.trust.clone()).unwrap();
    let pending = bob.pending_sent().unwrap();
    assert_eq!(pending, std::slice::from_ref(&sent));
    // It uploads now, dies before it acknowledges, uploads again.
    let parts = common::world::split(&pending[0].envelope);
    let received = w.deliver(&mut alice, &parts).unwrap();
    assert_eq!(received.plaintext, b"survive this");
    bob.acknowledge_sent(sent.id).unwrap();
    bob.acknowledge_sent(sent.id).unwrap();
    assert!(bob.pending_sent().unwrap().is_empty());
    // Alice's app dies before it keeps the plaintext: the message waits.
    let mut alice = sealwire::Device::open(alice.into_store(), w.trust.clone()).unwrap();
    assert_eq!(alice.pending_received().unwrap(), std::slice::from_ref(&received));
    // The relay delivers again (the second upload): a duplicate.
    let err = w.deliver(&mut alice, &parts).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }));
    // The app keeps it and acknowledges: shown once.
    alice.acknowledge_received(received.id).unwrap();
    assert!(alice.pending_received().unwrap().is_empty());
}
