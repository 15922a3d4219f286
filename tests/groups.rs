//! Groups through the device layer and underneath it (docs/protocol.md
//! §21, docs/sessions.md §9): sender keys handed out over the sessions,
//! one sealed copy of each group message for every member, membership
//! changes, and what an attacker tries against them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::world::{Dev, Part, World, split};
use sealwire::limits::{MAX_GROUP_MEMBERS, MAX_SENDER_KEY_SKIP, MAX_SENDER_KEY_SKIPPED_KEYS};
use sealwire::store::{AccountStore, GroupStore};
use sealwire::{
    Action, DecryptError, DeviceError, GroupError, GroupId, GroupMessage, GroupSent,
    IdentityKeyPair, MultiRecipientEnvelope, Padding, ReceivedKind, SealedEnvelope, Sealer,
    SenderKey, SenderKeyRecord, UserAddress, unseal,
};

/// One group send, as the relay delivers it.
struct Delivery {
    sent: GroupSent,
    distributions: Vec<Part>,
    message: Vec<Part>,
}

fn send(w: &mut World, from: &mut Dev, group: &GroupId, text: &str) -> Delivery {
    let sent = from.send_to_group(&mut w.rng, group, text.as_bytes(), w.now).unwrap();
    let distributions = sent.distributions.iter().flat_map(|s| split(&s.envelope)).collect();
    let message = split(&sent.message.envelope);
    Delivery { sent, distributions, message }
}

/// `device` takes its sender key (if the delivery has one for it), then
/// reads the group message.
fn read(w: &World, device: &mut Dev, d: &Delivery) -> String {
    if let Some(part) = d.distributions.iter().find(|p| &p.to == device.identity()) {
        let got = w.receive(device, part).unwrap();
        assert!(matches!(got.kind, ReceivedKind::SenderKey(_)));
        assert!(got.plaintext.is_empty());
    }
    let part = d.message.iter().find(|p| &p.to == device.identity()).expect("no share");
    let got = w.receive(device, part).unwrap();
    assert!(matches!(got.kind, ReceivedKind::GroupMessage(_)));
    String::from_utf8(got.plaintext).unwrap()
}

/// Every device creates the group with `members` and connects to every
/// member's devices.
fn join_all(w: &mut World, devices: &mut [&mut Dev], group: &GroupId, members: &[UserAddress]) {
    for device in devices.iter_mut() {
        device.create_group(group, members).unwrap();
    }
    for device in devices.iter_mut() {
        for user in members {
            w.connect(device, user);
        }
    }
}

fn gid() -> GroupId {
    GroupId::new(b"group-1").unwrap()
}

/// The group message an envelope carries, as its recipient opens it.
fn group_message_of(w: &World, device: &Dev, envelope: &[u8]) -> Vec<u8> {
    let account = device.store().load_account().unwrap().unwrap();
    let opened = unseal(account.identity(), &w.trust, w.now, envelope).unwrap();
    opened.group_message().unwrap().as_bytes().to_vec()
}

fn part_for(parts: &[Part], device: &Dev) -> Part {
    parts.iter().find(|p| &p.to == device.identity()).cloned().expect("no part")
}

#[test]
fn three_users_with_two_devices_each_over_three_apps() {
    let mut w = World::new(90);
    let mut devices: Vec<Dev> = Vec::new();
    for (app, user) in [(0, "alice"), (1, "bob"), (2, "carol")] {
        for d in 1..=2 {
            devices.push(w.device(app, user, d));
        }
    }
    let members: Vec<UserAddress> =
        [(0, "alice"), (1, "bob"), (2, "carol")].iter().map(|(a, u)| w.user(*a, u)).collect();
    let group = gid();
    {
        let mut refs: Vec<&mut Dev> = devices.iter_mut().collect();
        join_all(&mut w, &mut refs, &group, &members);
    }
    // Every device writes twice; every other device reads both. The first
    // message of each carries its sender key to the five others, the
    // second none.
    for round in 0..2 {
        for i in 0..devices.len() {
            let text = format!("{} says {round}", devices[i].address());
            let d = send(&mut w, &mut devices[i], &group, &text);
            assert_eq!(d.message.len(), 5);
            assert_eq!(d.distributions.len(), if round == 0 { 5 } else { 0 });
            assert_eq!(d.sent.distributions.len(), if round == 0 { 3 } else { 0 });
            assert_eq!(d.sent.rotated, round == 0);
            // Every member downloads the same bytes: one copy.
            let len = d.message[0].envelope.len();
            assert!(d.message.iter().all(|p| p.envelope.len() == len));
            let upload = MultiRecipientEnvelope::parse(&d.sent.message.envelope).unwrap();
            assert_eq!(upload.envelope_len(), len);
            for j in 0..devices.len() {
                if j != i {
                    assert_eq!(read(&w, &mut devices[j], &d), text);
                }
            }
        }
    }
    // The messages were kept until acknowledged, with their group.
    let pending = devices[0].pending_received().unwrap();
    assert_eq!(pending.len(), 10);
    assert!(pending.iter().all(|r| r.kind == ReceivedKind::GroupMessage(group.clone())));
}

#[test]
fn a_member_who_joins_reads_what_follows_and_nothing_before() {
    let mut w = World::new(91);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (a, b) = (alice.address().user().clone(), bob.address().user().clone());
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &[a.clone(), b.clone()]);
    let before: Vec<Delivery> =
        (0..3).map(|i| send(&mut w, &mut alice, &group, &format!("before {i}"))).collect();
    for d in &before {
        read(&w, &mut bob, d);
    }

    // Dave joins: everyone applies the new member list.
    let mut dave = w.device(2, "dave", 1);
    let d_user = dave.address().user().clone();
    let members = [a.clone(), b.clone(), d_user.clone()];
    alice.add_group_members(&group, &[d_user.clone()]).unwrap();
    bob.set_group_members(&group, &members).unwrap();
    join_all(&mut w, &mut [&mut dave], &group, &members);
    w.connect(&mut alice, &d_user);
    w.connect(&mut bob, &d_user);

    // Joining needs no new key: Alice's next message hands Dave her key
    // as it is now, and him only.
    let after = send(&mut w, &mut alice, &group, "welcome, Dave");
    assert!(!after.sent.rotated);
    assert_eq!(after.distributions.len(), 1);
    assert_eq!(&after.distributions[0].to, dave.identity());
    assert_eq!(read(&w, &mut dave, &after), "welcome, Dave");
    assert_eq!(read(&w, &mut bob, &after), "welcome, Dave");

    // The earlier messages: the relay has no share of them for Dave, and
    // their group messages do not open under the key he was given, even
    // handed to him directly.
    let mut keys = dave.store().load_sender_key(&group, alice.address()).unwrap().unwrap();
    let copy = keys.to_bytes();
    for d in &before {
        assert!(d.message.iter().all(|p| &p.to != dave.identity()));
        let bytes = group_message_of(&w, &bob, &part_for(&d.message, &bob).envelope);
        let message = GroupMessage::parse(&bytes).unwrap();
        assert_eq!(
            keys.decrypt(alice.identity(), &message),
            Err(DecryptError::StaleMessage.into())
        );
    }
    assert_eq!(keys.to_bytes(), copy);
}

#[test]
fn a_removed_member_reads_nothing_sent_after() {
    let mut w = World::new(92);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mut carol = w.device(2, "carol", 1);
    let users: Vec<UserAddress> =
        [&alice, &bob, &carol].iter().map(|d| d.address().user().clone()).collect();
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob, &mut carol], &group, &users);
    let d = send(&mut w, &mut alice, &group, "all three");
    assert_eq!(read(&w, &mut bob, &d), "all three");
    assert_eq!(read(&w, &mut carol, &d), "all three");
    let d = send(&mut w, &mut carol, &group, "carol's last");
    assert_eq!(read(&w, &mut alice, &d), "carol's last");
    assert_eq!(read(&w, &mut bob, &d), "carol's last");

    // Carol is removed (the server tells Alice and Bob).
    alice.remove_group_members(&group, &[users[2].clone()]).unwrap();
    bob.remove_group_members(&group, &[users[2].clone()]).unwrap();
    assert!(alice.group(&group).unwrap().unwrap().rotation_pending());
    // Her sender keys stay (a re-added member goes on with them), but
    // her group messages are refused from now on (below).
    assert!(!alice.group(&group).unwrap().unwrap().is_member(&users[2]));

    // Alice's next message: a new key, handed to Bob only; no share for
    // Carol.
    let after = send(&mut w, &mut alice, &group, "without carol");
    assert!(after.sent.rotated);
    assert!(after.message.iter().chain(&after.distributions).all(|p| &p.to != carol.identity()));
    assert_eq!(read(&w, &mut bob, &after), "without carol");
    // What Carol holds of Alice's keys does not open it.
    let bytes = group_message_of(&w, &bob, &part_for(&after.message, &bob).envelope);
    let message = GroupMessage::parse(&bytes).unwrap();
    let mut keys = carol.store().load_sender_key(&group, alice.address()).unwrap().unwrap();
    assert_eq!(keys.decrypt(alice.identity(), &message), Err(GroupError::NoSenderKey.into()));
    // Bob keeps Alice's old chain (late messages) and the new one.
    let bobs = bob.store().load_sender_key(&group, alice.address()).unwrap().unwrap();
    assert_eq!(bobs.chain_ids().len(), 2);
    assert!(!keys.chain_ids().contains(&message.chain_id()));

    // Carol still writes to the group as she has it: Bob refuses her
    // group messages now, and her sender key.
    let late = send(&mut w, &mut carol, &group, "am I still here?");
    let part = part_for(&late.message, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::NotAMember, .. }));
    assert_eq!(err.action(), Action::Drop);
}

#[test]
fn group_messages_out_of_order_and_lost_within_the_limits() {
    let mut w = World::new(93);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let first = send(&mut w, &mut alice, &group, "m0");
    let rest: Vec<Delivery> =
        (1..8).map(|i| send(&mut w, &mut alice, &group, &format!("m{i}"))).collect();
    // The sender key, then the messages in a scrambled order, two lost.
    assert_eq!(read(&w, &mut bob, &first), "m0");
    for i in [5usize, 1, 6, 3] {
        let part = part_for(&rest[i].message, &bob);
        assert_eq!(w.receive(&mut bob, &part).unwrap().plaintext, format!("m{}", i + 1).as_bytes());
    }
    // The lost ones (2, 4, 7 here: indices 1, 3, 6 are m2, m4, m7) leave
    // their keys; a replay of a read one is a duplicate.
    let keys = bob.store().load_sender_key(&group, alice.address()).unwrap().unwrap();
    assert_eq!(keys.skipped_keys(), 3);
    let part = part_for(&rest[5].message, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }));
    assert_eq!(err.action(), Action::Drop);
    for i in [0usize, 2, 4] {
        let part = part_for(&rest[i].message, &bob);
        assert_eq!(w.receive(&mut bob, &part).unwrap().plaintext, format!("m{}", i + 1).as_bytes());
    }
    let keys = bob.store().load_sender_key(&group, alice.address()).unwrap().unwrap();
    assert_eq!(keys.skipped_keys(), 0);
}

/// A sender key and a member's record of it, outside the device layer.
fn chain() -> (rand_chacha::ChaCha20Rng, GroupId, SenderKey, sealwire::IdentityKey, SenderKeyRecord)
{
    let mut rng = common::rng(94);
    let group = gid();
    let key = SenderKey::generate(&mut rng);
    let sender = *IdentityKeyPair::generate(&mut rng).public();
    let mut record = SenderKeyRecord::new();
    assert!(record.process(&sender, &key.distribution(&group)));
    (rng, group, key, sender, record)
}

#[test]
fn the_skip_limit_holds_at_its_edge_and_a_refusal_changes_nothing() {
    let (mut rng, group, mut key, sender, mut record) = chain();
    let messages: Vec<Vec<u8>> = (0..=2 * MAX_SENDER_KEY_SKIP + 3)
        .map(|_| key.encrypt(&mut rng, &group, b"x").unwrap())
        .collect();
    // From 0, the message numbered MAX + 1 skips MAX + 1 keys: refused,
    // and the record is as it was.
    let before = record.to_bytes();
    let over = GroupMessage::parse(&messages[MAX_SENDER_KEY_SKIP as usize + 1]).unwrap();
    assert_eq!(record.decrypt(&sender, &over), Err(DecryptError::TooManySkipped.into()));
    assert_eq!(record.to_bytes(), before);
    // The message numbered MAX skips exactly MAX: accepted.
    let edge = GroupMessage::parse(&messages[MAX_SENDER_KEY_SKIP as usize]).unwrap();
    assert_eq!(record.decrypt(&sender, &edge).unwrap(), b"x");
    assert_eq!(record.skipped_keys(), MAX_SENDER_KEY_SKIP as usize);
    // Another MAX, then one more: the total stays at its limit, the
    // oldest key dropped and reported as such.
    let edge = GroupMessage::parse(&messages[2 * MAX_SENDER_KEY_SKIP as usize + 1]).unwrap();
    record.decrypt(&sender, &edge).unwrap();
    assert_eq!(record.skipped_keys(), MAX_SENDER_KEY_SKIPPED_KEYS);
    // (It skips one more: 2 * MAX + 1 keys before the limit applies.)
    let next = GroupMessage::parse(&messages[2 * MAX_SENDER_KEY_SKIP as usize + 3]).unwrap();
    record.decrypt(&sender, &next).unwrap();
    assert_eq!(record.skipped_keys(), MAX_SENDER_KEY_SKIPPED_KEYS);
    let oldest = GroupMessage::parse(&messages[0]).unwrap();
    assert_eq!(record.decrypt(&sender, &oldest), Err(DecryptError::KeyDropped.into()));
    let kept = GroupMessage::parse(&messages[1]).unwrap();
    assert_eq!(record.decrypt(&sender, &kept).unwrap(), b"x");
}

#[test]
fn a_forged_signature_or_ciphertext_is_refused_and_changes_nothing() {
    let (mut rng, group, mut key, sender, mut record) = chain();
    let genuine = key.encrypt(&mut rng, &group, b"pay 10").unwrap();
    let before = record.to_bytes();
    // Every single-bit change anywhere is refused without a change of
    // the record; those in the signed part by the signature.
    for i in 0..genuine.len() {
        let mut forged = genuine.clone();
        forged[i] ^= 0x01;
        if let Ok(message) = GroupMessage::parse(&forged) {
            let err = record.decrypt(&sender, &message).unwrap_err();
            assert!(
                matches!(
                    err,
                    sealwire::Error::Group(GroupError::InvalidSignature | GroupError::NoSenderKey)
                ),
                "byte {i}: {err:?}"
            );
        }
        assert_eq!(record.to_bytes(), before);
    }
    // A member holding the chain key (every member does) writes on the
    // sender's chain under its own signing key: refused.
    let mut other = SenderKey::generate(&mut rng);
    let mine = other.encrypt(&mut rng, &group, b"pay 1000").unwrap();
    let mut forged = genuine.clone();
    let sig_at = forged.len() - 64;
    forged[sig_at..].copy_from_slice(&mine[mine.len() - 64..]);
    let message = GroupMessage::parse(&forged).unwrap();
    assert_eq!(record.decrypt(&sender, &message), Err(GroupError::InvalidSignature.into()));
    // Another identity presenting the sender's message: no key of its own.
    let stranger = *IdentityKeyPair::generate(&mut rng).public();
    let message = GroupMessage::parse(&genuine).unwrap();
    assert_eq!(record.decrypt(&stranger, &message), Err(GroupError::NoSenderKey.into()));
    assert_eq!(record.decrypt(&sender, &message).unwrap(), b"pay 10");
}

#[test]
fn a_forged_group_message_through_the_device_layer() {
    let mut w = World::new(95);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let d = send(&mut w, &mut alice, &group, "genuine");
    assert_eq!(read(&w, &mut bob, &d), "genuine");
    let d = send(&mut w, &mut alice, &group, "second");
    // Whoever holds Alice's identity key (to seal as her) but not her
    // signing key: a changed signature is refused, nothing is stored.
    let mut bytes = group_message_of(&w, &bob, &part_for(&d.message, &bob).envelope);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    let account = alice.store().load_account().unwrap().unwrap();
    let mut sealer = Sealer::new(account.certificate().unwrap().clone());
    let upload = sealer
        .seal_group(&mut w.rng, account.identity(), &[*bob.identity()], &bytes, Padding::Buckets)
        .unwrap();
    let before = bob.store().load_sender_key(&group, alice.address()).unwrap().unwrap().to_bytes();
    let err = w.receive(&mut bob, &split(&upload)[0]).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::InvalidSignature, .. }));
    assert_eq!(err.action(), Action::Drop);
    let after = bob.store().load_sender_key(&group, alice.address()).unwrap().unwrap().to_bytes();
    assert_eq!(before, after);
    assert_eq!(read(&w, &mut bob, &d), "second");
}

#[test]
fn a_sender_key_replayed_or_from_a_non_member_is_refused() {
    let mut w = World::new(96);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mut eve = w.device(2, "eve", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let d = send(&mut w, &mut alice, &group, "hello");
    assert_eq!(read(&w, &mut bob, &d), "hello");
    // The relay replays Alice's sender key: a duplicate of its session.
    let err = w.receive(&mut bob, &d.distributions[0]).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }));
    assert_eq!(err.action(), Action::Drop);

    // Eve, not a member, has the group id and sessions with Bob: her
    // sender key and her group messages are refused, and nothing of hers
    // is stored.
    let eve_user = eve.address().user().clone();
    eve.create_group(&group, &[eve_user.clone(), users[1].clone()]).unwrap();
    w.connect(&mut eve, &users[1]);
    w.connect(&mut bob, &eve_user);
    let e = send(&mut w, &mut eve, &group, "let me in");
    let before = bob.store().load_group(&group).unwrap().unwrap().to_bytes();
    let part = part_for(&e.distributions, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::NotAMember, .. }), "{err:?}");
    let part = part_for(&e.message, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::NotAMember, .. }));
    assert!(bob.store().load_sender_key(&group, eve.address()).unwrap().is_none());
    assert_eq!(bob.store().load_group(&group).unwrap().unwrap().to_bytes(), before);

    // A sender key for a group this device does not have: kept for later.
    let other = GroupId::new(b"other").unwrap();
    alice.create_group(&other, &users).unwrap();
    let o = send(&mut w, &mut alice, &other, "elsewhere");
    let part = part_for(&o.distributions, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::UnknownGroup, .. }));
    assert_eq!(err.action(), Action::KeepForLater);
    // Once the app has the group, the same envelopes open.
    bob.create_group(&other, &users).unwrap();
    assert_eq!(read(&w, &mut bob, &o), "elsewhere");
}

#[test]
fn a_sender_key_sent_again_never_moves_a_chain_back() {
    let (mut rng, group, mut key, sender, mut record) = chain();
    let old = key.distribution(&group);
    let messages: Vec<Vec<u8>> =
        (0..4).map(|_| key.encrypt(&mut rng, &group, b"x").unwrap()).collect();
    for m in &messages[2..] {
        record.decrypt(&sender, &GroupMessage::parse(m).unwrap()).unwrap();
    }
    // The same chain again, at its start (a restored sender's outbox):
    // nothing changes, and the read messages stay read.
    let before = record.to_bytes();
    assert!(!record.process(&sender, &old));
    assert_eq!(record.to_bytes(), before);
    let read = GroupMessage::parse(&messages[3]).unwrap();
    assert_eq!(record.decrypt(&sender, &read), Err(DecryptError::Duplicate.into()));
}

#[test]
fn a_message_before_its_sender_key_is_kept_for_later() {
    let mut w = World::new(97);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let d = send(&mut w, &mut alice, &group, "overtook its key");
    // The relay delivers the message first.
    let part = part_for(&d.message, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::NoSenderKey, .. }));
    assert_eq!(err.action(), Action::KeepForLater);
    assert_eq!(read(&w, &mut bob, &d), "overtook its key");
}

#[test]
fn a_members_device_reinstalled_gets_a_new_key_and_its_own_is_taken() {
    let mut w = World::new(98);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mut carol = w.device(2, "carol", 1);
    let users: Vec<UserAddress> =
        [&alice, &bob, &carol].iter().map(|d| d.address().user().clone()).collect();
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob, &mut carol], &group, &users);
    let d = send(&mut w, &mut alice, &group, "before");
    assert_eq!(read(&w, &mut bob, &d), "before");
    assert_eq!(read(&w, &mut carol, &d), "before");
    let d = send(&mut w, &mut bob, &group, "before");
    assert_eq!(read(&w, &mut alice, &d), "before");
    assert_eq!(read(&w, &mut carol, &d), "before");
    let old_bob_identity = *bob.identity();

    // Bob's phone is reinstalled: a new store, a new identity key, the
    // same address. The app puts the group back from its server.
    let address = bob.address().clone();
    let mut bob = sealwire::Device::create(
        &mut w.rng,
        sealwire::MemoryStore::new(),
        address,
        w.trust.clone(),
        w.now,
    )
    .unwrap();
    w.certify(&mut bob);
    w.publish(&mut bob, None);
    join_all(&mut w, &mut [&mut bob], &group, &users);

    // The new phone writes first: Alice and Carol meet its new key (the
    // default policy accepts it and says so), and its new sender key
    // replaces what they held of the old phone's.
    for user in [&users[0], &users[2]] {
        w.connect(&mut bob, user);
    }
    let d = send(&mut w, &mut bob, &group, "new phone");
    assert_eq!(d.distributions.len(), 2);
    for reader in [&mut alice, &mut carol] {
        assert_eq!(read(&w, reader, &d), "new phone");
        let keys = reader.store().load_sender_key(&group, bob.address()).unwrap().unwrap();
        assert_eq!(keys.identity(), Some(bob.identity()));
        assert_eq!(keys.chain_ids().len(), 1);
    }

    // Alice's next message goes out under a new sender key: the old
    // phone held the one before. The new phone and Carol get it.
    let d = send(&mut w, &mut alice, &group, "after the reinstall");
    assert!(d.sent.rotated);
    assert_eq!(d.distributions.len(), 2, "the new Bob and Carol");
    assert!(d.message.iter().all(|p| p.to != old_bob_identity));
    assert_eq!(read(&w, &mut bob, &d), "after the reinstall");
    assert_eq!(read(&w, &mut carol, &d), "after the reinstall");
}

#[test]
fn a_thousand_members_each_download_the_same_bytes_as_ten() {
    assert!(MAX_GROUP_MEMBERS >= 1000);
    let w = World::new(99);
    let mut rng = common::rng(99);
    let sender = IdentityKeyPair::generate(&mut rng);
    let certificate = w.apps[0].certify("alice", 1, sender.public());
    let mut sealer = Sealer::new(certificate);
    let group = gid();
    let mut key = SenderKey::generate(&mut rng);
    let members: Vec<IdentityKeyPair> =
        (0..1000).map(|_| IdentityKeyPair::generate(&mut rng)).collect();
    let keys: Vec<sealwire::IdentityKey> = members.iter().map(|m| *m.public()).collect();
    let mut download = Vec::new();
    for n in [10usize, 1000] {
        let message = key
            .encrypt(&mut rng, &group, b"64 bytes of group chat, the usual length of one.")
            .unwrap();
        for padding in [Padding::Buckets, Padding::None] {
            let upload =
                sealer.seal_group(&mut rng, &sender, &keys[..n], &message, padding).unwrap();
            let parsed = MultiRecipientEnvelope::parse(&upload).unwrap();
            assert_eq!(parsed.recipient_count(), n);
            // The upload is the payload once and 81 bytes per member.
            assert_eq!(upload.len(), 70 + 81 * n + 4 + parsed.payload().len());
            download.push((n, padding, parsed.envelope_len()));
            if padding == Padding::None && n == 1000 {
                // Every member opens its own envelope, of that length, to
                // the same group message.
                for (share, member) in parsed.recipients().zip(&members) {
                    let envelope = share.to_envelope();
                    assert_eq!(envelope.len(), parsed.envelope_len());
                    assert_eq!(
                        SealedEnvelope::parse(&envelope).unwrap().recipient(),
                        member.public()
                    );
                    let opened = unseal(member, &w.trust, w.now, &envelope).unwrap();
                    assert_eq!(opened.group_message().unwrap().as_bytes(), &message[..]);
                }
            }
        }
    }
    // The download does not grow with the group.
    assert_eq!(download[0].2, download[2].2);
    assert_eq!(download[1].2, download[3].2);
    assert!(download[1].2 < download[0].2);
}

#[test]
fn a_group_of_a_thousand_members_through_the_device_layer() {
    let mut w = World::new(100);
    let mut alice = w.device(0, "alice", 1);
    let mut members: Vec<Dev> = (0..MAX_GROUP_MEMBERS - 1)
        .map(|i| w.device(1 + i % 2, &format!("member-{i}"), 1))
        .collect();
    let mut users = vec![alice.address().user().clone()];
    users.extend(members.iter().map(|m| m.address().user().clone()));
    assert_eq!(users.len(), MAX_GROUP_MEMBERS);
    let group = gid();
    alice.create_group(&group, &users).unwrap();
    for user in &users[1..] {
        w.connect(&mut alice, user);
    }
    let first = send(&mut w, &mut alice, &group, "hello, everyone");
    assert_eq!(first.message.len(), MAX_GROUP_MEMBERS - 1);
    assert_eq!(first.distributions.len(), MAX_GROUP_MEMBERS - 1);
    // One upload of the message: the payload once, 81 bytes per member.
    let upload = MultiRecipientEnvelope::parse(&first.sent.message.envelope).unwrap();
    assert_eq!(
        first.sent.message.envelope.len(),
        70 + 81 * (MAX_GROUP_MEMBERS - 1) + 4 + upload.payload().len()
    );
    let second = send(&mut w, &mut alice, &group, "and again");
    assert!(second.distributions.is_empty());
    // Every member downloads its sender key once, and then the same bytes
    // for each message as a member of a group of two would.
    let len = first.message[0].envelope.len();
    for member in &mut members {
        member.create_group(&group, &users).unwrap();
        assert_eq!(read(&w, member, &first), "hello, everyone");
        assert_eq!(read(&w, member, &second), "and again");
    }
    assert!(first.message.iter().chain(&second.message).all(|p| p.envelope.len() == len));
    // One more member is past the limit.
    let extra = w.user(2, "one-too-many");
    let err = alice.add_group_members(&group, &[extra]).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::TooManyMembers, .. }));
}
