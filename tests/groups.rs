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
    SenderKey, SenderKeyRecord, Session, UserAddress, unseal,
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
            for (j, reader) in devices.iter_mut().enumerate() {
                if j != i {
                    assert_eq!(read(&w, reader, &d), text);
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
    alice.add_group_members(&group, std::slice::from_ref(&d_user)).unwrap();
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
    const { assert!(MAX_GROUP_MEMBERS >= 1000) };
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

/// The XChaCha20-Poly1305 key of a group message and the commitment to it
/// (docs/protocol.md §21.3), from the chain key `ck` of its iteration:
/// seed = HMAC-SHA256(CK, 0x01), then HKDF-SHA256 to 64 bytes.
fn group_message_keys(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(ck).unwrap();
    mac.update(&[0x01]);
    let seed: [u8; 32] = mac.finalize().into_bytes().into();
    let mut okm = [0u8; 64];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), &seed)
        .expand(b"sealwire/group/message-key/v1", &mut okm)
        .unwrap();
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// A sender key distribution message built by hand (§21.2).
fn distribution_bytes(
    group: &GroupId,
    chain: u32,
    iteration: u32,
    ck: &[u8; 32],
    signing: &[u8; 32],
) -> Vec<u8> {
    let mut out = vec![0xFF, 0xB1];
    out.extend_from_slice(&(group.as_bytes().len() as u32).to_be_bytes());
    out.extend_from_slice(group.as_bytes());
    out.extend_from_slice(&chain.to_be_bytes());
    out.extend_from_slice(&iteration.to_be_bytes());
    out.extend_from_slice(ck);
    out.extend_from_slice(signing);
    out
}

/// A malicious member hands Alice chain key CK1 and Bob CK2 under one
/// chain id and one signing key, then uploads ONE group message whose
/// ciphertext opens under both message keys (Poly1305 does not commit to
/// its key: one solved block is enough), signed, with the commitment to
/// CK1's key. Without the commitment Alice and Bob would each read a
/// different plaintext from the same upload; with it Bob refuses it, and
/// stores nothing.
#[test]
fn one_upload_cannot_be_read_as_two_plaintexts() {
    use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    use chacha20poly1305::aead::AeadInOut;
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
    use common::poly1305::{blocks, collide, tag, xchacha_poly_key};
    use ed25519_dalek::{Signer, SigningKey};
    use rand_core::Rng;

    let mut w = World::new(101);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    // Mallory: a member, certified by her app, with no library between
    // her and the bytes she sends.
    let mallory = IdentityKeyPair::generate(&mut w.rng);
    let mut sealer = Sealer::new(w.apps[2].certify("mallory", 1, mallory.public()));
    let users =
        [alice.address().user().clone(), bob.address().user().clone(), w.user(2, "mallory")];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);

    let mut seed = [0u8; 32];
    w.rng.fill_bytes(&mut seed);
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    let chain = 7u32;
    let mut ck1 = [0u8; 32];
    w.rng.fill_bytes(&mut ck1);
    let (k1, commitment) = group_message_keys(&ck1);

    // The header (the AEAD's associated data), committing to CK1's key.
    let mut nonce = [0u8; 24];
    w.rng.fill_bytes(&mut nonce);
    let mut header = vec![0xFF, 0xC1];
    header.extend_from_slice(&(group.as_bytes().len() as u32).to_be_bytes());
    header.extend_from_slice(group.as_bytes());
    header.extend_from_slice(&chain.to_be_bytes());
    header.extend_from_slice(&0u32.to_be_bytes());
    header.extend_from_slice(&nonce);
    header.extend_from_slice(&commitment);

    // Alice's plaintext under K1; its middle block is then solved for a
    // second chain key CK2 whose message key gives the same tag (a few
    // tries).
    let plaintext: &[u8; 48] = b"The meeting is at noon, in the usual room. -- M.";
    let mut ciphertext = plaintext.to_vec();
    let mut cipher = chacha20::XChaCha20::new(&k1.into(), &nonce.into());
    cipher.seek(64u32);
    cipher.apply_keystream(&mut ciphertext);
    let (r1, s1) = xchacha_poly_key(&k1, &nonce);
    let (ck2, k2) = loop {
        let mut ck2 = [0u8; 32];
        w.rng.fill_bytes(&mut ck2);
        let (k2, _) = group_message_keys(&ck2);
        let (r2, s2) = xchacha_poly_key(&k2, &nonce);
        if let Some(x) = collide(&header, &ciphertext, 1, (&r1, &s1), (&r2, &s2)) {
            ciphertext[16..32].copy_from_slice(&x);
            break (ck2, k2);
        }
    };
    let tag = tag(&r1, &s1, &blocks(&header, &ciphertext));

    // Control: the ciphertext opens under both keys, to two plaintexts.
    let open = |key: &[u8; 32]| {
        let mut buf = ciphertext.clone();
        XChaCha20Poly1305::new(&(*key).into())
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                &header,
                buf.as_mut_slice().into(),
                &tag.into(),
            )
            .map(|()| buf)
    };
    let (read1, read2) = (open(&k1).unwrap(), open(&k2).unwrap());
    assert_ne!(read1, read2);

    // The group message, signed with the one signing key both hold.
    let mut message = header.clone();
    message.extend_from_slice(&((ciphertext.len() + 16) as u32).to_be_bytes());
    message.extend_from_slice(&ciphertext);
    message.extend_from_slice(&tag);
    let signature = signing.sign(&message).to_bytes();
    message.extend_from_slice(&signature);

    // The two sender keys, each over a new session of Mallory's.
    for (device, ck) in [(&mut alice, &ck1), (&mut bob, &ck2)] {
        let bundle = w.bundle(device.address());
        let mut session = Session::initiate(&mut w.rng, &mallory, &bundle).unwrap();
        let sealed = session
            .encrypt(&mut w.rng, &distribution_bytes(&group, chain, 0, ck, &public))
            .unwrap();
        let upload = sealer
            .seal_distributions(
                &mut w.rng,
                &mallory,
                &[(*device.identity(), &sealed)],
                Padding::Buckets,
            )
            .unwrap();
        let got = w.receive(device, &split(&upload)[0]).unwrap();
        assert_eq!(got.kind, ReceivedKind::SenderKey(group.clone()));
    }

    // One upload for both.
    let upload = sealer
        .seal_group(
            &mut w.rng,
            &mallory,
            &[*alice.identity(), *bob.identity()],
            &message,
            Padding::Buckets,
        )
        .unwrap();
    let parts = split(&upload);
    // Alice reads what the commitment names.
    let part = part_for(&parts, &alice);
    let got = w.receive(&mut alice, &part).unwrap();
    assert_eq!(got.kind, ReceivedKind::GroupMessage(group.clone()));
    assert_eq!(got.plaintext, read1);
    assert_eq!(&got.plaintext[..16], &plaintext[..16]);
    // Bob's key opens the ciphertext but is not the one committed to:
    // refused, and nothing stored.
    let before = bob.store().clone();
    let part = part_for(&parts, &bob);
    let err = w.receive(&mut bob, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Decrypt { error: DecryptError::Failed, .. }), "{err:?}");
    assert!(bob.store() == &before);
    assert!(bob.pending_received().unwrap().is_empty());
}

/// Bob's phone is reinstalled, but the old install still runs (or a
/// thief holds it). Once Alice has accepted the new install's key (it
/// wrote to her first), a group message sealed under the old key is
/// refused as a session message would be: a replaced identity, dropped,
/// and not "no sender key yet" (keep for later).
#[test]
fn a_reinstalled_devices_old_install_cannot_write_to_the_group() {
    let mut w = World::new(102);
    let mut alice = w.device(0, "alice", 1);
    let mut old_bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), old_bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut old_bob], &group, &users);
    let d = send(&mut w, &mut old_bob, &group, "old install");
    assert_eq!(read(&w, &mut alice, &d), "old install");

    // The new install: same address, new identity key; it writes first.
    let mut new_bob = sealwire::Device::create(
        &mut w.rng,
        sealwire::MemoryStore::new(),
        old_bob.address().clone(),
        w.trust.clone(),
        w.now,
    )
    .unwrap();
    w.certify(&mut new_bob);
    w.publish(&mut new_bob, None);
    join_all(&mut w, &mut [&mut new_bob], &group, &users);
    let d = send(&mut w, &mut new_bob, &group, "new install");
    assert_eq!(read(&w, &mut alice, &d), "new install");

    // The old install writes again, under the key Alice held for it.
    let d = send(&mut w, &mut old_bob, &group, "still the old one");
    assert!(d.distributions.is_empty());
    let before = alice.store().clone();
    let part = part_for(&d.message, &alice);
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::ReplacedIdentity(_)), "{err:?}");
    assert_eq!(err.action(), Action::Drop);
    assert!(alice.store() == &before);
}

/// A sender restored from an older backup hands out again a chain the
/// receiver has already dropped (past MAX_SENDER_KEY_CHAINS). Taken in
/// again, it would start over and open once more the messages read on it;
/// it must be refused, and nothing change.
#[test]
fn a_forgotten_chain_handed_out_again_is_not_taken_in() {
    use sealwire::limits::MAX_SENDER_KEY_CHAINS;
    let (mut rng, group, mut a, sender, mut record) = chain();
    let original = a.distribution(&group);
    let first = a.encrypt(&mut rng, &group, b"read once").unwrap();
    let first = GroupMessage::parse(&first).unwrap();
    assert_eq!(record.decrypt(&sender, &first).unwrap(), b"read once");
    // MAX_SENDER_KEY_CHAINS rotations later, chain A is dropped.
    for _ in 0..MAX_SENDER_KEY_CHAINS {
        let next = SenderKey::generate(&mut rng);
        assert!(record.process(&sender, &next.distribution(&group)));
    }
    assert!(!record.chain_ids().contains(&original.chain_id()));
    // A's distribution again: refused, the record as it was.
    let before = record.to_bytes();
    assert!(!record.process(&sender, &original));
    assert_eq!(record.to_bytes(), before);
    assert!(!record.chain_ids().contains(&original.chain_id()));
    // The message read before stays unreadable.
    assert_eq!(record.decrypt(&sender, &first), Err(GroupError::NoSenderKey.into()));
}

/// Alice's phone is restored from a backup taken before her last group
/// message: her sender key there is behind the one her members hold. Her
/// next message must go out under a new sender key (and Bob read it),
/// not again at a message number Bob has read (a Duplicate, lost).
#[test]
fn a_sender_restored_from_a_backup_rotates() {
    let mut w = World::new(104);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let d = send(&mut w, &mut alice, &group, "before the backup");
    assert_eq!(read(&w, &mut bob, &d), "before the backup");
    let backup = alice.store().clone();
    let d = send(&mut w, &mut alice, &group, "after the backup");
    assert_eq!(read(&w, &mut bob, &d), "after the backup");

    // The backup comes back; the app tells the device and republishes.
    let mut alice = sealwire::Device::open(backup, w.trust.clone()).unwrap();
    alice.after_restore().unwrap();
    w.publish(&mut alice, None);
    w.connect(&mut alice, &users[1]);
    let d = send(&mut w, &mut alice, &group, "back from the backup");
    assert!(d.sent.rotated);
    assert_eq!(d.distributions.len(), 1);
    assert_eq!(read(&w, &mut bob, &d), "back from the backup");
    // And on from there, under the new key.
    let d = send(&mut w, &mut alice, &group, "and on");
    assert!(!d.sent.rotated);
    assert_eq!(read(&w, &mut bob, &d), "and on");
}

/// The server's member list omits this user (a list the app got wrong, or
/// a server that tries it): this device must not drop its own other
/// devices' sender keys, nor rotate for them.
#[test]
fn this_user_is_never_removed_from_its_own_view() {
    let mut w = World::new(105);
    let mut alice1 = w.device(0, "alice", 1);
    let mut alice2 = w.device(0, "alice", 2);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice1.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice1, &mut alice2, &mut bob], &group, &users);
    let d = send(&mut w, &mut alice1, &group, "from one");
    assert_eq!(read(&w, &mut alice2, &d), "from one");
    assert_eq!(read(&w, &mut bob, &d), "from one");
    let d = send(&mut w, &mut alice2, &group, "from two");
    assert_eq!(read(&w, &mut alice1, &d), "from two");

    // Device 1 applies a list without Alice.
    alice1.set_group_members(&group, &users[1..]).unwrap();
    let record = alice1.group(&group).unwrap().unwrap();
    assert!(!record.rotation_pending());
    assert!(record.senders().contains(alice2.address()));
    assert!(alice1.store().load_sender_key(&group, alice2.address()).unwrap().is_some());

    // Device 2 writes on its chain: device 1 reads it.
    let d = send(&mut w, &mut alice2, &group, "still from two");
    assert!(d.distributions.is_empty());
    assert_eq!(read(&w, &mut alice1, &d), "still from two");
    // Device 1's next message: the same key, to device 2 as well.
    let d = send(&mut w, &mut alice1, &group, "still from one");
    assert!(!d.sent.rotated);
    assert_eq!(read(&w, &mut alice2, &d), "still from one");
}

/// The application removes and re-adds a member (the documented way to
/// ask for a rotation before rotate_group_key): the member's later
/// messages must still open for the remover. Then rotate_group_key and
/// resend_group_key do what they say.
#[test]
fn remove_and_re_add_a_member_then_rotate_and_resend() {
    let mut w = World::new(106);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let users = [alice.address().user().clone(), bob.address().user().clone()];
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob], &group, &users);
    let d = send(&mut w, &mut bob, &group, "bob's first");
    assert_eq!(read(&w, &mut alice, &d), "bob's first");
    let d = send(&mut w, &mut alice, &group, "alice's first");
    assert_eq!(read(&w, &mut bob, &d), "alice's first");

    alice.remove_group_members(&group, &users[1..]).unwrap();
    alice.add_group_members(&group, &users[1..]).unwrap();
    // Bob did not notice (nothing changed for him): his next message, on
    // the chain Alice had, opens for her.
    let d = send(&mut w, &mut bob, &group, "bob again");
    assert!(d.distributions.is_empty());
    assert_eq!(read(&w, &mut alice, &d), "bob again");
    // Alice's next message is under a new key (the removal asked for it).
    let d = send(&mut w, &mut alice, &group, "new key");
    assert!(d.sent.rotated);
    assert_eq!(read(&w, &mut bob, &d), "new key");

    // rotate_group_key: the next message is under a new key again.
    let chain_before = alice.group(&group).unwrap().unwrap().sender_key().unwrap().chain_id();
    alice.rotate_group_key(&group).unwrap();
    assert!(alice.group(&group).unwrap().unwrap().rotation_pending());
    let d = send(&mut w, &mut alice, &group, "rotated on request");
    assert!(d.sent.rotated);
    assert_eq!(d.distributions.len(), 1);
    assert_ne!(
        alice.group(&group).unwrap().unwrap().sender_key().unwrap().chain_id(),
        chain_before
    );
    assert_eq!(read(&w, &mut bob, &d), "rotated on request");
    let d = send(&mut w, &mut alice, &group, "same key");
    assert!(!d.sent.rotated);
    assert!(d.sent.distributions.is_empty());
    assert_eq!(read(&w, &mut bob, &d), "same key");

    // resend_group_key: the next message hands Bob the same key again.
    alice.resend_group_key(&group, bob.address()).unwrap();
    let d = send(&mut w, &mut alice, &group, "your key again");
    assert!(!d.sent.rotated);
    assert_eq!(d.sent.distributions.len(), 1);
    assert!(d.sent.distributions[0].recipients.iter().any(|(a, _)| a == bob.address()));
    assert_eq!(read(&w, &mut bob, &d), "your key again");
}

/// A group record that already lists MAX_GROUP_DEVICES − 1 senders (put
/// in the store directly: making that many devices would take minutes)
/// takes one more sender key, and refuses the next one with
/// TooManySenders, leaving the store as it was: the senders list, and so
/// the record, stays bounded.
#[test]
fn the_senders_list_is_bounded() {
    use sealwire::limits::MAX_GROUP_DEVICES;
    use sealwire::store::{Changes, Store};

    let mut w = World::new(107);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let mut carol = w.device(2, "carol", 1);
    let users: Vec<UserAddress> =
        [&alice, &bob, &carol].iter().map(|d| d.address().user().clone()).collect();
    let group = gid();
    join_all(&mut w, &mut [&mut alice, &mut bob, &mut carol], &group, &users);

    // MAX_GROUP_DEVICES − 1 senders Alice holds keys of, as members with
    // 32 devices each (written into her record's stored form).
    let per_user = 32;
    let fake_users: Vec<UserAddress> = (0..MAX_GROUP_DEVICES.div_ceil(per_user))
        .map(|i| w.user(1, &format!("member-{i}")))
        .collect();
    alice.add_group_members(&group, &fake_users).unwrap();
    let mut senders: Vec<sealwire::Address> = fake_users
        .iter()
        .flat_map(|u| (1..=per_user as u32).map(|d| u.device(sealwire::DeviceId(d))))
        .take(MAX_GROUP_DEVICES - 1)
        .collect();
    senders.sort();
    let mut bytes = alice.group(&group).unwrap().unwrap().to_bytes().to_vec();
    assert_eq!(bytes[bytes.len() - 4..], [0, 0, 0, 0], "no senders yet");
    bytes.truncate(bytes.len() - 4);
    bytes.extend_from_slice(&(senders.len() as u32).to_be_bytes());
    for s in &senders {
        bytes.extend_from_slice(&s.to_bytes());
    }
    let revision = u64::from_be_bytes(bytes[2..10].try_into().unwrap());
    bytes[2..10].copy_from_slice(&(revision + 1).to_be_bytes());
    let record = sealwire::GroupRecord::from_bytes(&bytes).unwrap();
    assert_eq!(record.senders().len(), MAX_GROUP_DEVICES - 1);
    let mut store = alice.store().clone();
    let mut changes = Changes::new();
    changes.put_group(record);
    store.commit(changes).unwrap();
    let mut alice = sealwire::Device::open(store, w.trust.clone()).unwrap();

    // Bob's sender key fills the list.
    let d = send(&mut w, &mut bob, &group, "the last one in");
    assert_eq!(read(&w, &mut alice, &d), "the last one in");
    assert_eq!(alice.group(&group).unwrap().unwrap().senders().len(), MAX_GROUP_DEVICES);
    // Carol's is one too many: refused (dropped), nothing stored, and her
    // group message has no sender key here.
    let d = send(&mut w, &mut carol, &group, "one too many");
    let before = alice.store().clone();
    let part = part_for(&d.distributions, &alice);
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::TooManySenders, .. }), "{err:?}");
    assert_eq!(err.action(), Action::Drop);
    assert!(alice.store() == &before);
    let part = part_for(&d.message, &alice);
    let err = w.receive(&mut alice, &part).unwrap_err();
    assert!(matches!(err, DeviceError::Group { error: GroupError::NoSenderKey, .. }), "{err:?}");
}
