//! A [`Store`] in memory.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    AccountStore, BaseKeyStore, Changes, CommitError, GroupStore, IdentityStore, PendingStore,
    PreKeyStore, SessionStore, Storage, Store,
};
use crate::account::Account;
use crate::address::{Address, UserAddress};
use crate::device::{MessageId, Received, Sent};
use crate::device_list::DeviceList;
use crate::error::DecodeError;
use crate::group::{GroupId, GroupRecord, SenderKeyRecord};
#[cfg(feature = "pq")]
use crate::kem_prekey::KemPreKeyPair;
use crate::prekey::{OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
use crate::primitives::x25519::X25519PublicKey;
use crate::session_record::SessionRecord;
use crate::trust::RemoteIdentity;

/// Records with a revision, by key: the revision and the encoding.
type Revisioned<K> = BTreeMap<K, (u64, Zeroizing<Vec<u8>>)>;

/// Every record in memory, in its stored encoding, so that each load
/// decodes a fresh owned record as a database would. Cloning it copies the
/// whole store: a backup, in tests.
///
/// Nothing is encrypted: the memory is the application's own. For a store
/// on disk, see `docs/sessions.md` §7.
#[derive(Clone, Default)]
pub struct MemoryStore {
    account: Option<(u64, Zeroizing<Vec<u8>>)>,
    identities: BTreeMap<Address, Vec<u8>>,
    signed: BTreeMap<PreKeyId, Zeroizing<Vec<u8>>>,
    one_time: BTreeMap<PreKeyId, Zeroizing<Vec<u8>>>,
    #[cfg(feature = "pq")]
    kem: BTreeMap<PreKeyId, Zeroizing<Vec<u8>>>,
    sessions: BTreeMap<Address, (u64, Zeroizing<Vec<u8>>)>,
    device_lists: BTreeMap<UserAddress, Vec<u8>>,
    base_keys: BTreeSet<(PreKeyId, X25519PublicKey)>,
    groups: Revisioned<GroupId>,
    sender_keys: Revisioned<(GroupId, Address)>,
    /// Kept messages, oldest first, each with its id and encoding.
    received: Vec<(MessageId, Zeroizing<Vec<u8>>)>,
    sent: Vec<(MessageId, Vec<u8>)>,
}

/// A record in a [`MemoryStore`] that does not decode. Only a bug can
/// cause it: the store holds nothing it did not encode itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStoreError(pub DecodeError);

impl fmt::Display for MemoryStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored record does not decode: {}", self.0)
    }
}

impl core::error::Error for MemoryStoreError {}

/// [`crate::Action::Alarm`]: the store holds only what it encoded, so a record
/// that does not decode means memory was corrupted or a bug.
impl super::StoreError for MemoryStoreError {
    fn action(&self) -> crate::Action {
        crate::Action::Alarm
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many base keys of accepted initial messages are recorded.
    pub fn accepted_base_key_count(&self) -> usize {
        self.base_keys.len()
    }

    /// How many session records are stored.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The signed prekeys stored, by id.
    pub fn signed_prekey_ids(&self) -> Vec<PreKeyId> {
        self.signed.keys().copied().collect()
    }

    /// Whether `changes` may be applied: the checks of the contract.
    fn conflicts(&self, changes: &Changes) -> bool {
        let stored_account = self.account.as_ref().map_or(0, |(r, _)| *r);
        if changes.account().is_some_and(|a| a.revision() != stored_account + 1)
            || changes.expected_account_revision().is_some_and(|r| r != stored_account)
        {
            return true;
        }
        for change in changes.identities() {
            let stored =
                self.identities.get(&change.address).map(|b| RemoteIdentity::from_bytes(b));
            let same = match (stored, &change.previous) {
                (None, None) => true,
                (Some(Ok(stored)), Some(previous)) => stored == *previous,
                _ => false,
            };
            if !same {
                return true;
            }
        }
        for change in changes.device_lists() {
            let stored = self.device_lists.get(&change.user).map(|b| DeviceList::from_bytes(b));
            let same = match (stored, &change.previous) {
                (None, None) => true,
                (Some(Ok(stored)), Some(previous)) => stored == *previous,
                _ => false,
            };
            if !same {
                return true;
            }
        }
        for (address, record) in changes.sessions() {
            let stored = self.sessions.get(address).map_or(0, |(r, _)| *r);
            if record.revision() != stored + 1 {
                return true;
            }
        }
        // A record listed twice in one commit would skip the check above.
        let mut addresses: Vec<&Address> = changes.sessions().iter().map(|(a, _)| a).collect();
        addresses.sort_unstable();
        if addresses.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return true;
        }
        for record in changes.groups() {
            let stored = self.groups.get(record.id()).map_or(0, |(r, _)| *r);
            if record.revision() != stored + 1 {
                return true;
            }
        }
        let mut ids: Vec<&GroupId> = changes.groups().iter().map(GroupRecord::id).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return true;
        }
        for (group, sender, record) in changes.sender_keys() {
            let key = (group.clone(), sender.clone());
            let stored = self.sender_keys.get(&key).map_or(0, |(r, _)| *r);
            if record.revision() != stored + 1 {
                return true;
            }
        }
        let mut keys: Vec<(&GroupId, &Address)> =
            changes.sender_keys().iter().map(|(g, a, _)| (g, a)).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return true;
        }
        changes.consumed_one_time_prekeys().iter().any(|id| !self.one_time.contains_key(id))
            || self.kem_conflicts(changes)
            || changes.accepted_base_keys().iter().any(|key| self.base_keys.contains(key))
            || changes.received().iter().any(|m| self.received.iter().any(|(id, _)| *id == m.id))
            || changes.sent().iter().any(|m| self.sent.iter().any(|(id, _)| *id == m.id))
    }
}

/// Two stores are equal when they hold the same records. Secret records
/// are compared in constant time (for a given length).
impl PartialEq for MemoryStore {
    fn eq(&self, other: &Self) -> bool {
        fn same(a: &[u8], b: &[u8]) -> bool {
            a.ct_eq(b).into()
        }
        fn revisioned<K: Ord>(a: &Revisioned<K>, b: &Revisioned<K>) -> bool {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, (ra, x)), (kb, (rb, y)))| ka == kb && ra == rb && same(x, y))
        }
        fn same_map<K: Ord, V: AsRef<[u8]>>(a: &BTreeMap<K, V>, b: &BTreeMap<K, V>) -> bool {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va.as_ref(), vb.as_ref()))
        }
        let account = match (&self.account, &other.account) {
            (None, None) => true,
            (Some((ra, a)), Some((rb, b))) => ra == rb && same(a, b),
            _ => false,
        };
        let sessions = self.sessions.len() == other.sessions.len()
            && self
                .sessions
                .iter()
                .zip(&other.sessions)
                .all(|((ka, (ra, a)), (kb, (rb, b)))| ka == kb && ra == rb && same(a, b));
        account
            && sessions
            && revisioned(&self.groups, &other.groups)
            && revisioned(&self.sender_keys, &other.sender_keys)
            && same_map(&self.identities, &other.identities)
            && same_map(&self.signed, &other.signed)
            && same_map(&self.one_time, &other.one_time)
            && self.same_kem(other)
            && same_map(&self.device_lists, &other.device_lists)
            && self.base_keys == other.base_keys
            && self.received.len() == other.received.len()
            && self
                .received
                .iter()
                .zip(&other.received)
                .all(|((a, x), (b, y))| a == b && same(x, y))
            && self.sent == other.sent
    }
}

impl Eq for MemoryStore {}

impl MemoryStore {
    #[cfg(feature = "pq")]
    fn kem_conflicts(&self, changes: &Changes) -> bool {
        changes.consumed_kem_prekeys().iter().any(|id| !self.kem.contains_key(id))
    }

    #[cfg(not(feature = "pq"))]
    fn kem_conflicts(&self, _: &Changes) -> bool {
        false
    }

    #[cfg(feature = "pq")]
    fn same_kem(&self, other: &Self) -> bool {
        self.kem.len() == other.kem.len()
            && self.kem.iter().zip(&other.kem).all(|((ka, va), (kb, vb))| {
                ka == kb && bool::from(va.as_slice().ct_eq(vb.as_slice()))
            })
    }

    #[cfg(not(feature = "pq"))]
    fn same_kem(&self, _: &Self) -> bool {
        true
    }

    #[cfg(feature = "pq")]
    fn kem_count(&self) -> usize {
        self.kem.len()
    }

    #[cfg(not(feature = "pq"))]
    fn kem_count(&self) -> usize {
        0
    }
}

impl Storage for MemoryStore {
    type Error = MemoryStoreError;
}

impl AccountStore for MemoryStore {
    fn load_account(&self) -> Result<Option<Account>, MemoryStoreError> {
        self.account
            .as_ref()
            .map(|(_, bytes)| Account::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }
}

impl IdentityStore for MemoryStore {
    fn load_identity(&self, address: &Address) -> Result<Option<RemoteIdentity>, MemoryStoreError> {
        self.identities
            .get(address)
            .map(|bytes| RemoteIdentity::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }
}

impl PreKeyStore for MemoryStore {
    fn load_signed_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<SignedPreKeyPair>, MemoryStoreError> {
        self.signed
            .get(&id)
            .map(|bytes| SignedPreKeyPair::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }

    fn load_one_time_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<OneTimePreKeyPair>, MemoryStoreError> {
        self.one_time
            .get(&id)
            .map(|bytes| OneTimePreKeyPair::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }

    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>, MemoryStoreError> {
        Ok(self.one_time.keys().copied().collect())
    }

    #[cfg(feature = "pq")]
    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>, MemoryStoreError> {
        Ok(self.kem.keys().copied().collect())
    }

    #[cfg(feature = "pq")]
    fn load_kem_prekey(&self, id: PreKeyId) -> Result<Option<KemPreKeyPair>, MemoryStoreError> {
        self.kem
            .get(&id)
            .map(|bytes| KemPreKeyPair::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }
}

impl SessionStore for MemoryStore {
    fn load_session(&self, address: &Address) -> Result<Option<SessionRecord>, MemoryStoreError> {
        self.sessions
            .get(address)
            .map(|(_, bytes)| SessionRecord::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }

    fn load_device_list(&self, user: &UserAddress) -> Result<Option<DeviceList>, MemoryStoreError> {
        self.device_lists
            .get(user)
            .map(|bytes| DeviceList::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }
}

impl GroupStore for MemoryStore {
    fn load_group(&self, group: &GroupId) -> Result<Option<GroupRecord>, MemoryStoreError> {
        self.groups
            .get(group)
            .map(|(_, bytes)| GroupRecord::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }

    fn load_sender_key(
        &self,
        group: &GroupId,
        sender: &Address,
    ) -> Result<Option<SenderKeyRecord>, MemoryStoreError> {
        self.sender_keys
            .get(&(group.clone(), sender.clone()))
            .map(|(_, bytes)| SenderKeyRecord::from_bytes(bytes).map_err(MemoryStoreError))
            .transpose()
    }
}

impl PendingStore for MemoryStore {
    fn pending_received(&self) -> Result<Vec<Received>, MemoryStoreError> {
        self.received
            .iter()
            .map(|(_, bytes)| Received::from_bytes(bytes).map_err(MemoryStoreError))
            .collect()
    }

    fn pending_sent(&self) -> Result<Vec<Sent>, MemoryStoreError> {
        self.sent
            .iter()
            .map(|(_, bytes)| Sent::from_bytes(bytes).map_err(MemoryStoreError))
            .collect()
    }

    fn pending_counts(&self) -> Result<(usize, usize), MemoryStoreError> {
        Ok((self.received.len(), self.sent.len()))
    }
}

impl BaseKeyStore for MemoryStore {
    fn is_base_key_accepted(
        &self,
        signed_prekey: PreKeyId,
        base_key: &X25519PublicKey,
    ) -> Result<bool, MemoryStoreError> {
        Ok(self.base_keys.contains(&(signed_prekey, *base_key)))
    }
}

impl Store for MemoryStore {
    fn commit(&mut self, changes: Changes) -> Result<(), CommitError<MemoryStoreError>> {
        if self.conflicts(&changes) {
            return Err(CommitError::Conflict);
        }
        if let Some(account) = changes.account() {
            self.account = Some((account.revision(), account.to_bytes()));
        }
        for (address, record) in changes.sessions() {
            self.sessions.insert(address.clone(), (record.revision(), record.to_bytes()));
        }
        for change in changes.identities() {
            self.identities.insert(change.address.clone(), change.identity.to_bytes());
        }
        for change in changes.device_lists() {
            self.device_lists.insert(change.user.clone(), change.list.to_bytes());
        }
        for pair in changes.new_signed_prekeys() {
            self.signed.insert(pair.id(), pair.to_bytes());
        }
        for id in changes.deleted_signed_prekeys() {
            self.signed.remove(id);
            self.base_keys.retain(|(signed, _)| signed != id);
        }
        for pair in changes.new_one_time_prekeys() {
            self.one_time.insert(pair.id(), pair.to_bytes());
        }
        for id in
            changes.consumed_one_time_prekeys().iter().chain(changes.deleted_one_time_prekeys())
        {
            self.one_time.remove(id);
        }
        #[cfg(feature = "pq")]
        {
            for pair in changes.new_kem_prekeys() {
                self.kem.insert(pair.id(), pair.to_bytes());
            }
            for id in changes.consumed_kem_prekeys().iter().chain(changes.deleted_kem_prekeys()) {
                self.kem.remove(id);
            }
        }
        self.base_keys.extend(changes.accepted_base_keys().iter().copied());
        for id in changes.deleted_groups() {
            self.groups.remove(id);
        }
        for record in changes.groups() {
            self.groups.insert(record.id().clone(), (record.revision(), record.to_bytes()));
        }
        for key in changes.deleted_sender_keys() {
            self.sender_keys.remove(key);
        }
        for (group, sender, record) in changes.sender_keys() {
            self.sender_keys
                .insert((group.clone(), sender.clone()), (record.revision(), record.to_bytes()));
        }
        for m in changes.received() {
            self.received.push((m.id, Zeroizing::new(m.to_bytes())));
        }
        for m in changes.sent() {
            self.sent.push((m.id, m.to_bytes()));
        }
        self.received.retain(|(id, _)| !changes.acknowledged_received().contains(id));
        self.sent.retain(|(id, _)| !changes.acknowledged_sent().contains(id));
        Ok(())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("account", &self.account.as_ref().map(|(r, _)| r))
            .field("identities", &self.identities.len())
            .field("signed_prekeys", &self.signed.keys().collect::<Vec<_>>())
            .field("one_time_prekeys", &self.one_time.len())
            .field("kem_prekeys", &self.kem_count())
            .field("sessions", &self.sessions.len())
            .field("device_lists", &self.device_lists.len())
            .field("groups", &self.groups.len())
            .field("sender_keys", &self.sender_keys.len())
            .field("accepted_base_keys", &self.base_keys.len())
            .field("pending_received", &self.received.len())
            .field("pending_sent", &self.sent.len())
            .finish()
    }
}
