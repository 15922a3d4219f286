//! A store whose calls fail at each point in turn: every device operation
//! either completes or leaves the store exactly as it was, and retried, it
//! gives exactly what a run without the failure gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::cell::Cell;
use std::fmt;

use common::world::{Part, World, for_device};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::store::{
    AccountStore, BaseKeyStore, Changes, CommitError, GroupStore, IdentityStore, PendingStore,
    PreKeyStore, SessionStore, Storage, Store,
};
use sealwire::{
    Account, Address, Device, DeviceError, DeviceList, MemoryStore, OneTimePreKeyPair, PreKeyId,
    Received, RemoteIdentity, Sent, SessionRecord, SignedPreKeyPair, UserAddress, X25519PublicKey,
};

/// The backend's failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Failure;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("injected failure")
    }
}

/// A memory store whose `fail_at`-th call (counting from 0) fails.
struct Failing {
    inner: MemoryStore,
    calls: Cell<usize>,
    fail_at: Cell<Option<usize>>,
    /// Added to the pending counts the store reports, to reach their
    /// limits without that many messages.
    extra_pending: Cell<(usize, usize)>,
}

impl Failing {
    fn new(inner: MemoryStore) -> Self {
        Self {
            inner,
            calls: Cell::new(0),
            fail_at: Cell::new(None),
            extra_pending: Cell::new((0, 0)),
        }
    }

    fn call(&self) -> Result<(), Failure> {
        let n = self.calls.get();
        self.calls.set(n + 1);
        if self.fail_at.get() == Some(n) { Err(Failure) } else { Ok(()) }
    }

    fn arm(&self, at: Option<usize>) {
        self.calls.set(0);
        self.fail_at.set(at);
    }
}

fn inner<T>(r: Result<T, sealwire::store::MemoryStoreError>) -> T {
    r.expect("the memory store itself never fails")
}

impl sealwire::store::StoreError for Failure {}

impl Storage for Failing {
    type Error = Failure;
}

impl AccountStore for Failing {
    fn load_account(&self) -> Result<Option<Account>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_account()))
    }
}

impl IdentityStore for Failing {
    fn load_identity(&self, address: &Address) -> Result<Option<RemoteIdentity>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_identity(address)))
    }
}

impl PreKeyStore for Failing {
    fn load_signed_prekey(&self, id: PreKeyId) -> Result<Option<SignedPreKeyPair>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_signed_prekey(id)))
    }

    fn load_one_time_prekey(&self, id: PreKeyId) -> Result<Option<OneTimePreKeyPair>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_one_time_prekey(id)))
    }

    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>, Failure> {
        self.call()?;
        Ok(inner(self.inner.one_time_prekey_ids()))
    }

    #[cfg(feature = "pq")]
    fn load_kem_prekey(&self, id: PreKeyId) -> Result<Option<sealwire::KemPreKeyPair>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_kem_prekey(id)))
    }

    #[cfg(feature = "pq")]
    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>, Failure> {
        self.call()?;
        Ok(inner(self.inner.kem_prekey_ids()))
    }
}

impl SessionStore for Failing {
    fn load_session(&self, address: &Address) -> Result<Option<SessionRecord>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_session(address)))
    }

    fn load_device_list(&self, user: &UserAddress) -> Result<Option<DeviceList>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_device_list(user)))
    }
}

impl BaseKeyStore for Failing {
    fn is_base_key_accepted(&self, id: PreKeyId, key: &X25519PublicKey) -> Result<bool, Failure> {
        self.call()?;
        Ok(inner(self.inner.is_base_key_accepted(id, key)))
    }
}

impl GroupStore for Failing {
    fn load_group(
        &self,
        group: &sealwire::GroupId,
    ) -> Result<Option<sealwire::GroupRecord>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_group(group)))
    }

    fn load_sender_key(
        &self,
        group: &sealwire::GroupId,
        sender: &Address,
    ) -> Result<Option<sealwire::SenderKeyRecord>, Failure> {
        self.call()?;
        Ok(inner(self.inner.load_sender_key(group, sender)))
    }
}

impl PendingStore for Failing {
    fn pending_received(&self) -> Result<Vec<Received>, Failure> {
        self.call()?;
        Ok(inner(self.inner.pending_received()))
    }

    fn pending_sent(&self) -> Result<Vec<Sent>, Failure> {
        self.call()?;
        Ok(inner(self.inner.pending_sent()))
    }

    fn pending_counts(&self) -> Result<(usize, usize), Failure> {
        self.call()?;
        let (r, s) = inner(self.inner.pending_counts());
        let (er, es) = self.extra_pending.get();
        Ok((r + er, s + es))
    }
}

impl Store for Failing {
    fn commit(&mut self, changes: Changes) -> Result<(), CommitError<Failure>> {
        self.call().map_err(CommitError::Backend)?;
        self.inner.commit(changes).map_err(|e| match e {
            CommitError::Conflict => CommitError::Conflict,
            CommitError::Backend(e) => panic!("{e}"),
        })
    }
}

type Op<'a, T> =
    dyn FnMut(&mut Device<Failing>, &mut ChaCha20Rng) -> Result<T, DeviceError<Failure>> + 'a;

/// Runs `op` on a device opened on `store` with a failure injected at
/// every call in turn, and checks the two promises. Returns how many
/// points were tried.
fn at_every_point<T: PartialEq + fmt::Debug>(
    w: &World,
    store: &MemoryStore,
    op: &mut Op<'_, T>,
) -> usize {
    // The run without a failure: the reference.
    let mut clean = Device::open(Failing::new(store.clone()), w.trust.clone()).unwrap();
    clean.store().arm(None);
    let expected = op(&mut clean, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    let calls = clean.store().calls.get();
    let after = clean.into_store().inner;
    assert!(after != *store, "the operation must change something");
    assert!(calls >= 2);

    for at in 0..calls {
        let mut device = Device::open(Failing::new(store.clone()), w.trust.clone()).unwrap();
        device.store().arm(Some(at));
        let err = op(&mut device, &mut ChaCha20Rng::seed_from_u64(9)).unwrap_err();
        assert_eq!(err, DeviceError::Store(Failure), "failure at call {at}");
        assert!(
            device.store().inner == *store,
            "a failure at call {at} left a change behind: {:?} vs {:?}",
            device.store().inner,
            store
        );
        // Retried on the same device, without the failure.
        device.store().arm(None);
        let again = op(&mut device, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
        assert_eq!(again, expected, "retry after a failure at call {at}");
        assert!(device.into_store().inner == after, "retry after a failure at call {at}");
    }
    calls
}

#[test]
fn every_operation_is_all_or_nothing_at_every_failure_point() {
    let mut w = World::new(30);
    let mut alice = w.device(0, "alice", 1);
    let mut laptop = w.device(0, "alice", 2);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());

    // Receiving an initial message with a one-time prekey: the session,
    // the consumed prekey, the base key, the identity and the device list
    // in one commit.
    let first: Vec<Part> = w.send(&mut bob, &alice_user, "first");
    let part = for_device(&first, &alice);
    let now = w.now;
    let mut points = at_every_point(&w, alice.store(), &mut |d, _| {
        d.receive(&part.envelope, now).map(|r| r.plaintext)
    });
    w.deliver(&mut alice, &first).unwrap();
    w.deliver(&mut laptop, &first).unwrap();

    // Sending to a user with two devices, one of them this user's own.
    w.connect(&mut alice, &bob_user);
    points += at_every_point(&w, alice.store(), &mut |d, rng| {
        d.send(rng, &bob_user, b"reply", now).map(|s| (s.envelope, s.recipients, s.missing))
    });

    // Receiving a ratchet message.
    let reply = w.send_only(&mut alice, &bob_user, "reply");
    let part = for_device(&reply, &bob);
    points += at_every_point(&w, bob.store(), &mut |d, _| {
        d.receive(&part.envelope, now).map(|r| r.plaintext)
    });

    // Starting a session.
    let carol = w.device(2, "carol", 1);
    let bundle = w.bundle(carol.address());
    let carol_address = carol.address().clone();
    points += at_every_point(&w, bob.store(), &mut |d, rng| {
        d.start_session(rng, &carol_address, &bundle, now)
    });

    // Publishing after a week: rotation, replenishing, expiry.
    let later = sealwire::Timestamp(now.0 + sealwire::limits::SIGNED_PREKEY_ROTATION_SECS);
    points += at_every_point(&w, bob.store(), &mut |d, rng| d.publication(rng, later, Some(0)));

    // Device lists and trust decisions.
    points += at_every_point(&w, bob.store(), &mut |d, _| d.set_devices(&alice_user, &[]));
    let laptop_address = laptop.address().clone();
    let number = alice.safety_number(&laptop_address).unwrap();
    points += at_every_point(&w, alice.store(), &mut |d, _| {
        d.mark_verified(&laptop_address, &number, now)
    });
    points += at_every_point(&w, alice.store(), &mut |d, _| d.after_restore());

    // Groups: creating one, sending the first message (sender keys over
    // the sessions, the group record, the uploads kept), receiving the
    // sender key and the group message, and removing a member.
    let group = sealwire::GroupId::new(b"g").unwrap();
    let members = [alice_user.clone(), bob_user.clone()];
    points += at_every_point(&w, bob.store(), &mut |d, _| d.create_group(&group, &members));
    bob.create_group(&group, &members).unwrap();
    alice.create_group(&group, &members).unwrap();
    laptop.create_group(&group, &members).unwrap();
    w.connect(&mut bob, &alice_user);
    points += at_every_point(&w, bob.store(), &mut |d, rng| {
        d.send_to_group(rng, &group, b"to the group", now).map(|s| s.message.envelope)
    });
    let sent = bob.send_to_group(&mut w.rng, &group, b"to the group", now).unwrap();
    let key = sent.distributions.iter().flat_map(|s| common::world::split(&s.envelope));
    let key = key.filter(|p| &p.to == alice.identity()).collect::<Vec<_>>();
    points += at_every_point(&w, alice.store(), &mut |d, _| {
        d.receive(&key[0].envelope, now).map(|r| r.kind)
    });
    alice.receive(&key[0].envelope, now).unwrap();
    let message = for_device(&common::world::split(&sent.message.envelope), &alice);
    points += at_every_point(&w, alice.store(), &mut |d, _| {
        d.receive(&message.envelope, now).map(|r| r.plaintext)
    });
    points += at_every_point(&w, alice.store(), &mut |d, _| {
        d.remove_group_members(&group, std::slice::from_ref(&bob_user))
    });
    // Every load and the commit of thirteen operations.
    assert!(points >= 40, "{points}");
}

#[test]
fn the_inbox_and_the_outbox_stop_at_their_limits_and_nothing_changes() {
    use sealwire::limits::{MAX_PENDING_RECEIVED, MAX_PENDING_SENT};
    let mut w = World::new(31);
    let alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let bob_user = bob.address().user().clone();
    let first = w.send(&mut bob, &alice_user, "one");
    let second = w.send_only(&mut bob, &alice_user, "two");
    let mut alice = Device::open(Failing::new(alice.into_store()), w.trust.clone()).unwrap();

    // One below the limit: the message is received and kept.
    alice.store().extra_pending.set((MAX_PENDING_RECEIVED - 1, 0));
    alice.receive(&first[0].envelope, w.now).unwrap();
    // At the limit: refused, kept for later, nothing changed.
    alice.store().extra_pending.set((MAX_PENDING_RECEIVED - 1, 0));
    let before = alice.store().inner.clone();
    let err = alice.receive(&second[0].envelope, w.now).unwrap_err();
    assert_eq!(err, DeviceError::InboxFull);
    assert_eq!(err.action(), sealwire::Action::KeepForLater);
    assert!(alice.store().inner == before);
    // Once the application acknowledges what it kept, it goes on.
    let kept = alice.pending_received().unwrap();
    alice.acknowledge_received(kept[0].id).unwrap();
    alice.store().extra_pending.set((MAX_PENDING_RECEIVED - 1, 0));
    assert_eq!(alice.receive(&second[0].envelope, w.now).unwrap().plaintext, b"two");

    // The outbox likewise.
    w.connect(&mut alice, &bob_user);
    alice.store().extra_pending.set((0, MAX_PENDING_SENT));
    let before = alice.store().inner.clone();
    let err = alice.send(&mut w.rng, &bob_user, b"later", w.now).unwrap_err();
    assert_eq!(err, DeviceError::OutboxFull);
    assert!(alice.store().inner == before);
    alice.store().extra_pending.set((0, MAX_PENDING_SENT - 1));
    alice.send(&mut w.rng, &bob_user, b"now", w.now).unwrap();
}
