//! The contract of `Store::commit` (docs/sessions.md §7), checked on the
//! memory store, and two device handles on one store that race: neither
//! loses the other's update.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::world::World;
use sealwire::store::{
    AccountStore, BaseKeyStore, Changes, CommitError, GroupStore, IdentityStore, MemoryStoreError,
    PendingStore, PreKeyStore, SessionStore, Storage, Store,
};
use sealwire::{
    Account, Address, DecryptError, Device, DeviceError, DeviceList, MemoryStore,
    OneTimePreKeyPair, PreKeyId, Received, RemoteIdentity, Sent, SessionRecord, SignedPreKeyPair,
    UserAddress, X25519PublicKey,
};

#[test]
fn a_commit_computed_from_stale_records_writes_nothing() {
    let mut w = World::new(40);
    let mut alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let m = w.send(&mut bob, &alice_user, "hi");
    w.read(&mut alice, &m);
    let store = alice.store().clone();

    // A record of the stored revision, written back unchanged: its
    // revision is not one above the stored one.
    let record = store.load_session(bob.address()).unwrap().unwrap();
    let mut s = store.clone();
    let mut changes = Changes::new();
    changes.put_session(bob.address().clone(), record);
    assert_eq!(s.commit(changes), Err(CommitError::Conflict));
    assert!(s == store);

    // The account likewise.
    let mut changes = Changes::new();
    changes.set_account(store.load_account().unwrap().unwrap());
    assert_eq!(s.commit(changes), Err(CommitError::Conflict));

    // A one-time prekey consumed twice, a base key accepted twice.
    let mut changes = Changes::new();
    changes.consume_one_time_prekey(PreKeyId(1));
    assert_eq!(s.commit(changes), Err(CommitError::Conflict), "prekey 1 was used by Bob");
    let mut changes = Changes::new();
    let accepted = common::world::current_base_key(&alice, bob.address()).unwrap();
    changes.accept_base_key(PreKeyId(1), accepted);
    assert_eq!(s.commit(changes), Err(CommitError::Conflict));
    // And a commit that mixes a valid change with a stale one writes
    // neither.
    let mut changes = Changes::new();
    changes.delete_one_time_prekey(PreKeyId(50));
    changes.accept_base_key(PreKeyId(1), accepted);
    assert_eq!(s.commit(changes), Err(CommitError::Conflict));
    assert!(s == store);
    assert!(s.load_one_time_prekey(PreKeyId(50)).unwrap().is_some());

    // An identity or a device list over another value than the one it was
    // computed from; an expected account revision that is not the stored.
    let identity = store.load_identity(bob.address()).unwrap().unwrap();
    let mut changes = Changes::new();
    changes.put_identity(bob.address().clone(), None, identity.clone());
    assert_eq!(s.commit(changes), Err(CommitError::Conflict), "an identity is stored");
    let list = DeviceList::new(&[sealwire::DeviceId(1)]).unwrap();
    let mut changes = Changes::new();
    changes.put_device_list(bob.address().user().clone(), Some(list.clone()), list.clone());
    assert_eq!(s.commit(changes), Err(CommitError::Conflict), "no list is stored");
    let revision = store.load_account().unwrap().unwrap().revision();
    let mut changes = Changes::new();
    changes.expect_account(revision + 1);
    changes.put_device_list(bob.address().user().clone(), None, list.clone());
    assert_eq!(s.commit(changes), Err(CommitError::Conflict));
    assert!(s == store);
    // And the same, computed from what is stored, goes through.
    let mut changes = Changes::new();
    changes.expect_account(revision);
    changes.put_device_list(bob.address().user().clone(), None, list);
    changes.put_identity(bob.address().clone(), Some(identity.clone()), identity);
    assert_eq!(s.commit(changes), Ok(()));
}

/// One memory store shared by several handles, as two processes share a
/// database.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<MemoryStore>>);

impl Storage for Shared {
    type Error = MemoryStoreError;
}
impl AccountStore for Shared {
    fn load_account(&self) -> Result<Option<Account>, MemoryStoreError> {
        self.0.borrow().load_account()
    }
}
impl IdentityStore for Shared {
    fn load_identity(&self, a: &Address) -> Result<Option<RemoteIdentity>, MemoryStoreError> {
        self.0.borrow().load_identity(a)
    }
}
impl PreKeyStore for Shared {
    fn load_signed_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<SignedPreKeyPair>, MemoryStoreError> {
        self.0.borrow().load_signed_prekey(id)
    }
    fn load_one_time_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<OneTimePreKeyPair>, MemoryStoreError> {
        self.0.borrow().load_one_time_prekey(id)
    }
    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>, MemoryStoreError> {
        self.0.borrow().one_time_prekey_ids()
    }
    #[cfg(feature = "pq")]
    fn load_kem_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<sealwire::KemPreKeyPair>, MemoryStoreError> {
        self.0.borrow().load_kem_prekey(id)
    }
    #[cfg(feature = "pq")]
    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>, MemoryStoreError> {
        self.0.borrow().kem_prekey_ids()
    }
}
impl SessionStore for Shared {
    fn load_session(&self, a: &Address) -> Result<Option<SessionRecord>, MemoryStoreError> {
        self.0.borrow().load_session(a)
    }
    fn load_device_list(&self, u: &UserAddress) -> Result<Option<DeviceList>, MemoryStoreError> {
        self.0.borrow().load_device_list(u)
    }
}
impl BaseKeyStore for Shared {
    fn is_base_key_accepted(
        &self,
        id: PreKeyId,
        k: &X25519PublicKey,
    ) -> Result<bool, MemoryStoreError> {
        self.0.borrow().is_base_key_accepted(id, k)
    }
}
impl GroupStore for Shared {
    fn load_group(
        &self,
        g: &sealwire::GroupId,
    ) -> Result<Option<sealwire::GroupRecord>, MemoryStoreError> {
        self.0.borrow().load_group(g)
    }
    fn load_sender_key(
        &self,
        g: &sealwire::GroupId,
        a: &Address,
    ) -> Result<Option<sealwire::SenderKeyRecord>, MemoryStoreError> {
        self.0.borrow().load_sender_key(g, a)
    }
}
impl PendingStore for Shared {
    fn pending_received(&self) -> Result<Vec<Received>, MemoryStoreError> {
        self.0.borrow().pending_received()
    }
    fn pending_sent(&self) -> Result<Vec<Sent>, MemoryStoreError> {
        self.0.borrow().pending_sent()
    }
    fn pending_counts(&self) -> Result<(usize, usize), MemoryStoreError> {
        self.0.borrow().pending_counts()
    }
}
impl Store for Shared {
    fn commit(&mut self, changes: Changes) -> Result<(), CommitError<MemoryStoreError>> {
        self.0.borrow_mut().commit(changes)
    }
}

#[test]
fn two_handles_on_one_store_lose_no_update() {
    let mut w = World::new(41);
    let alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    let shared = Shared(Rc::new(RefCell::new(alice.into_store())));
    let mut one = Device::open(shared.clone(), w.trust.clone()).unwrap();
    let mut two = Device::open(shared.clone(), w.trust.clone()).unwrap();

    // Both handles receive, interleaved, each from the same session: every
    // commit is computed from what is stored, so none overwrites another.
    let mut texts = Vec::new();
    for i in 0..6 {
        let m = w.send(&mut bob, &alice_user, &format!("m{i}"));
        let handle = if i % 2 == 0 { &mut one } else { &mut two };
        let received = handle.receive(&m[0].envelope, w.now).unwrap();
        texts.push(String::from_utf8(received.plaintext).unwrap());
        // A replay through the other handle is refused.
        let other = if i % 2 == 0 { &mut two } else { &mut one };
        let err = other.receive(&m[0].envelope, w.now).unwrap_err();
        assert!(
            matches!(err, DeviceError::Decrypt { error: DecryptError::Duplicate, .. }),
            "{err:?}"
        );
    }
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4", "m5"]);

    // A handle whose account is stale (the other rotated and published)
    // retries on the conflict and keeps both changes.
    let later = sealwire::Timestamp(w.now.0 + sealwire::limits::SIGNED_PREKEY_ROTATION_SECS);
    let first = one.publication(&mut w.rng, later, Some(0)).unwrap();
    let second = two.publication(&mut w.rng, later, Some(0)).unwrap();
    assert_eq!(first.signed_prekey(), second.signed_prekey(), "rotated once, not twice");
    one.mark_published(&first).unwrap();
    two.mark_published(&second).unwrap();
    let stored = shared.load_account().unwrap().unwrap();
    assert!(stored.is_published(PreKeyId(first.one_time_prekeys().last().unwrap().id().0)));
}

#[test]
fn two_handles_lose_no_identity_or_device_list_and_see_a_restore() {
    let mut w = World::new(42);
    let alice = w.device(0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let (alice_user, bob_user) = (alice.address().user().clone(), bob.address().user().clone());
    let shared = Shared(Rc::new(RefCell::new(alice.into_store())));
    let mut one = Device::open(shared.clone(), w.trust.clone()).unwrap();
    let mut two = Device::open(shared.clone(), w.trust.clone()).unwrap();
    let m = w.send(&mut bob, &alice_user, "hi");
    one.receive(&m[0].envelope, w.now).unwrap();

    // Handle one shows the safety number; meanwhile handle two takes Bob's
    // new key (he reinstalled). One's verification must not land on it.
    let shown = one.safety_number(bob.address()).unwrap();
    let mut new_bob = sealwire::Device::create(
        &mut w.rng,
        MemoryStore::new(),
        bob.address().clone(),
        w.trust.clone(),
        w.now,
    )
    .unwrap();
    w.certify(&mut new_bob);
    w.publish(&mut new_bob, None);
    let m = w.send(&mut new_bob, &alice_user, "new phone");
    let received = two.receive(&m[0].envelope, w.now).unwrap();
    assert!(received.identity_event.is_some());
    let err = one.mark_verified(bob.address(), &shown, w.now).unwrap_err();
    assert_eq!(err, DeviceError::SafetyNumberMismatch(bob.address().clone()));
    let stored = shared.load_identity(bob.address()).unwrap().unwrap();
    assert_eq!((stored.key(), stored.trust()), (new_bob.identity(), sealwire::Trust::Accepted));

    // Both handles write Bob's device list from what they last heard: the
    // later write is computed from the earlier one's result, not lost.
    one.set_devices(&bob_user, &[sealwire::DeviceId(1)]).unwrap();
    two.set_devices(&bob_user, &[sealwire::DeviceId(1), sealwire::DeviceId(3)]).unwrap();
    assert_eq!(one.devices(&bob_user).unwrap().len(), 2);

    // Handle one is told of a restore; handle two, with its account read
    // before, must not send on a session from before it.
    one.after_restore().unwrap();
    let err = two.send(&mut w.rng, &bob_user, b"from before the restore?", w.now).unwrap_err();
    assert!(matches!(err, DeviceError::NoRecipients { .. }), "{err:?}");
    assert!(two.missing_sessions(&bob_user, w.now).unwrap().contains(bob.address()));
    let _ = &mut bob;
}
