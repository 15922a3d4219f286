//! Where a device keeps its state: small traits to read each kind of
//! record, and one call, [`Store::commit`], that writes every change of
//! one operation atomically.
//!
//! The traits are synchronous and fallible, with an error type the
//! implementor chooses, and they hand out owned records, so that a
//! database can sit behind them. [`MemoryStore`] keeps everything in
//! memory, for tests, examples and `no_std`.
//!
//! # The contract of `commit`
//!
//! `docs/sessions.md` §7 states it in full. In short, [`Store::commit`]
//! applies all of a [`Changes`] or none of it, and applies none of it
//! ([`CommitError::Conflict`]) if another handle changed the same records
//! since they were read:
//!
//! - an account or session record of revision `r` replaces only the
//!   stored record of revision `r - 1` (revision 1 only where none is
//!   stored), and the stored account has the revision the changes expect;
//! - an identity or device list replaces only the one it was computed
//!   from (or none);
//! - every consumed one-time prekey is still stored;
//! - no accepted base key, and no kept message's id, is stored already.
//!
//! A store that refuses a write of an older revision this way cannot be
//! rolled back record by record; restoring a whole older store (a backup)
//! is the application's to handle (`docs/sessions.md` §5.4).

mod memory;

use alloc::vec::Vec;
use core::fmt;

use crate::account::Account;
use crate::address::{Address, UserAddress};
use crate::device::{MessageId, Received, Sent};
use crate::device_list::DeviceList;
use crate::error::Action;
use crate::group::{GroupId, GroupRecord, SenderKeyRecord};
#[cfg(feature = "pq")]
use crate::kem_prekey::KemPreKeyPair;
use crate::prekey::{OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
use crate::primitives::x25519::X25519PublicKey;
use crate::session_record::SessionRecord;
use crate::trust::RemoteIdentity;

pub use memory::{MemoryStore, MemoryStoreError};

/// The error type shared by a store's traits.
pub trait Storage {
    /// What the backend reports when a read or write fails (an I/O error,
    /// a record that does not decode). The device layer passes it on in
    /// [`crate::DeviceError::Store`].
    type Error: StoreError;
}

/// A store's error, and what it tells the application to do:
/// [`crate::DeviceError::action`] answers with it for
/// [`crate::DeviceError::Store`].
pub trait StoreError: fmt::Debug + fmt::Display {
    /// What to do. By default [`Action::KeepForLater`]: the failure may
    /// pass (an I/O error, a lock held by another handle), and nothing was
    /// changed, so the same operation can run again. A store answers
    /// [`Action::Alarm`] for what will not pass by itself: a record that
    /// was tampered with, a key that does not open the store.
    fn action(&self) -> Action {
        Action::KeepForLater
    }
}

impl StoreError for core::convert::Infallible {}

/// Reads this device's own [`Account`].
pub trait AccountStore: Storage {
    /// The account, if the store holds one.
    ///
    /// # Errors
    /// The backend's error.
    fn load_account(&self) -> Result<Option<Account>, Self::Error>;
}

/// Reads the identity keys stored for peers' devices, and their trust.
pub trait IdentityStore: Storage {
    /// The identity stored for `address`, if any.
    ///
    /// # Errors
    /// The backend's error.
    fn load_identity(&self, address: &Address) -> Result<Option<RemoteIdentity>, Self::Error>;
}

/// Reads this device's prekey secrets.
pub trait PreKeyStore: Storage {
    /// The signed prekey with this id, if it is still kept.
    ///
    /// # Errors
    /// The backend's error.
    fn load_signed_prekey(&self, id: PreKeyId) -> Result<Option<SignedPreKeyPair>, Self::Error>;

    /// The one-time prekey with this id, if it is still unused.
    ///
    /// # Errors
    /// The backend's error.
    fn load_one_time_prekey(&self, id: PreKeyId) -> Result<Option<OneTimePreKeyPair>, Self::Error>;

    /// The KEM prekey with this id (one-time and still unused, or last
    /// resort and still kept), if any.
    ///
    /// # Errors
    /// The backend's error.
    #[cfg(feature = "pq")]
    fn load_kem_prekey(&self, id: PreKeyId) -> Result<Option<KemPreKeyPair>, Self::Error>;

    /// The ids of the KEM prekeys stored, ascending.
    ///
    /// # Errors
    /// The backend's error.
    #[cfg(feature = "pq")]
    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>, Self::Error>;

    /// The ids of every stored one-time prekey, in ascending order.
    ///
    /// # Errors
    /// The backend's error.
    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>, Self::Error>;
}

/// Reads session records and device lists.
pub trait SessionStore: Storage {
    /// The sessions with `address`, if any were stored.
    ///
    /// # Errors
    /// The backend's error.
    fn load_session(&self, address: &Address) -> Result<Option<SessionRecord>, Self::Error>;

    /// The devices of `user`, if a list was stored.
    ///
    /// # Errors
    /// The backend's error.
    fn load_device_list(&self, user: &UserAddress) -> Result<Option<DeviceList>, Self::Error>;
}

/// Reads which initial messages were accepted: each is named by the signed
/// prekey it used and its base key.
pub trait BaseKeyStore: Storage {
    /// Whether an initial message with `base_key` for signed prekey
    /// `signed_prekey` was accepted.
    ///
    /// # Errors
    /// The backend's error.
    fn is_base_key_accepted(
        &self,
        signed_prekey: PreKeyId,
        base_key: &X25519PublicKey,
    ) -> Result<bool, Self::Error>;
}

/// Groups: what this device keeps about each group, and the sender keys
/// it holds of other devices (`docs/protocol.md` §21.5).
pub trait GroupStore: Storage {
    /// The record of `group`, if this device has one.
    ///
    /// # Errors
    /// The backend's.
    fn load_group(&self, group: &GroupId) -> Result<Option<GroupRecord>, Self::Error>;

    /// What this device holds of `sender`'s sender keys in `group`.
    ///
    /// # Errors
    /// The backend's.
    fn load_sender_key(
        &self,
        group: &GroupId,
        sender: &Address,
    ) -> Result<Option<SenderKeyRecord>, Self::Error>;
}

/// Reads the messages kept until the application acknowledges them
/// (`docs/sessions.md` §6.6).
pub trait PendingStore: Storage {
    /// The received messages not acknowledged yet, oldest first.
    ///
    /// # Errors
    /// The backend's error.
    fn pending_received(&self) -> Result<Vec<Received>, Self::Error>;

    /// The sent messages not acknowledged yet, oldest first.
    ///
    /// # Errors
    /// The backend's error.
    fn pending_sent(&self) -> Result<Vec<Sent>, Self::Error>;

    /// How many received and sent messages wait, without reading them.
    ///
    /// # Errors
    /// The backend's error.
    fn pending_counts(&self) -> Result<(usize, usize), Self::Error>;
}

/// Everything a device stores, and the one call that changes it.
pub trait Store:
    AccountStore + IdentityStore + PreKeyStore + SessionStore + BaseKeyStore + GroupStore + PendingStore
{
    /// Applies every change in `changes`, atomically, or none of them (see
    /// the module documentation and `docs/sessions.md` §7).
    ///
    /// # Errors
    /// [`CommitError::Conflict`] if a record changed since it was read, a
    /// consumed one-time prekey is gone, or a base key is accepted
    /// already; [`CommitError::Backend`] if the backend failed. Either way
    /// nothing was written.
    fn commit(&mut self, changes: Changes) -> Result<(), CommitError<Self::Error>>;
}

/// Why a commit wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitError<E> {
    /// Another handle changed what this commit was computed from. The
    /// device layer reads again and retries.
    Conflict,
    /// The backend failed.
    Backend(E),
}

impl<E: fmt::Display> fmt::Display for CommitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Conflict => f.write_str("the records changed since they were read"),
            Self::Backend(e) => write!(f, "store: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for CommitError<E> {}

/// The changes of one device operation, which [`Store::commit`] applies
/// together. The device layer builds them; a store reads them.
#[derive(Default)]
pub struct Changes {
    account: Option<Account>,
    account_revision: Option<u64>,
    sessions: Vec<(Address, SessionRecord)>,
    identities: Vec<IdentityChange>,
    device_lists: Vec<DeviceListChange>,
    new_signed_prekeys: Vec<SignedPreKeyPair>,
    deleted_signed_prekeys: Vec<PreKeyId>,
    new_one_time_prekeys: Vec<OneTimePreKeyPair>,
    consumed_one_time_prekeys: Vec<PreKeyId>,
    deleted_one_time_prekeys: Vec<PreKeyId>,
    #[cfg(feature = "pq")]
    new_kem_prekeys: Vec<KemPreKeyPair>,
    #[cfg(feature = "pq")]
    consumed_kem_prekeys: Vec<PreKeyId>,
    #[cfg(feature = "pq")]
    deleted_kem_prekeys: Vec<PreKeyId>,
    accepted_base_keys: Vec<(PreKeyId, X25519PublicKey)>,
    groups: Vec<GroupRecord>,
    deleted_groups: Vec<GroupId>,
    sender_keys: Vec<(GroupId, Address, SenderKeyRecord)>,
    deleted_sender_keys: Vec<(GroupId, Address)>,
    received: Vec<Received>,
    sent: Vec<Sent>,
    acknowledged_received: Vec<MessageId>,
    acknowledged_sent: Vec<MessageId>,
}

/// The plaintexts of received messages are wiped when the changes are
/// dropped (after the commit that stored them).
impl Drop for Changes {
    fn drop(&mut self) {
        for message in &mut self.received {
            zeroize::Zeroize::zeroize(&mut message.plaintext);
        }
    }
}

impl Changes {
    /// No changes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there is nothing to write. (An expected account revision
    /// alone writes nothing.)
    pub fn is_empty(&self) -> bool {
        self.account.is_none()
            && self.sessions.is_empty()
            && self.identities.is_empty()
            && self.device_lists.is_empty()
            && self.new_signed_prekeys.is_empty()
            && self.deleted_signed_prekeys.is_empty()
            && self.new_one_time_prekeys.is_empty()
            && self.consumed_one_time_prekeys.is_empty()
            && self.deleted_one_time_prekeys.is_empty()
            && self.kem_changes_are_empty()
            && self.accepted_base_keys.is_empty()
            && self.groups.is_empty()
            && self.deleted_groups.is_empty()
            && self.sender_keys.is_empty()
            && self.deleted_sender_keys.is_empty()
            && self.received.is_empty()
            && self.sent.is_empty()
            && self.acknowledged_received.is_empty()
            && self.acknowledged_sent.is_empty()
    }

    /// Writes `account`, which must replace the stored account of the
    /// revision before its own.
    pub fn set_account(&mut self, account: Account) {
        self.account = Some(account);
    }

    /// Requires the stored account to be of `revision`: the changes were
    /// computed from it (its epoch, its keys), and another handle may have
    /// changed it since.
    pub fn expect_account(&mut self, revision: u64) {
        self.account_revision = Some(revision);
    }

    /// Writes the session record of `address`, which must replace the
    /// stored record of the revision before its own.
    pub fn put_session(&mut self, address: Address, record: SessionRecord) {
        self.sessions.push((address, record));
    }

    /// Writes the identity stored for `address`, which must replace
    /// `previous` (the identity it was computed from; `None`: none stored).
    pub fn put_identity(
        &mut self,
        address: Address,
        previous: Option<RemoteIdentity>,
        identity: RemoteIdentity,
    ) {
        self.identities.push(IdentityChange { address, previous, identity });
    }

    /// Writes the device list of `user`, which must replace `previous`
    /// (the list it was computed from; `None`: none stored).
    pub fn put_device_list(
        &mut self,
        user: UserAddress,
        previous: Option<DeviceList>,
        list: DeviceList,
    ) {
        self.device_lists.push(DeviceListChange { user, previous, list });
    }

    /// Adds a signed prekey.
    pub fn add_signed_prekey(&mut self, pair: SignedPreKeyPair) {
        self.new_signed_prekeys.push(pair);
    }

    /// Deletes a signed prekey, with every base key accepted under it.
    pub fn delete_signed_prekey(&mut self, id: PreKeyId) {
        self.deleted_signed_prekeys.push(id);
    }

    /// Adds a one-time prekey.
    pub fn add_one_time_prekey(&mut self, pair: OneTimePreKeyPair) {
        self.new_one_time_prekeys.push(pair);
    }

    /// Deletes a one-time prekey that an initial message used. It must
    /// still be stored.
    pub fn consume_one_time_prekey(&mut self, id: PreKeyId) {
        self.consumed_one_time_prekeys.push(id);
    }

    /// Deletes a one-time prekey that was never used, if it is stored.
    pub fn delete_one_time_prekey(&mut self, id: PreKeyId) {
        self.deleted_one_time_prekeys.push(id);
    }

    /// Adds a KEM prekey.
    #[cfg(feature = "pq")]
    pub fn add_kem_prekey(&mut self, pair: KemPreKeyPair) {
        self.new_kem_prekeys.push(pair);
    }

    /// Deletes a one-time KEM prekey that an initial message used. It
    /// must still be stored.
    #[cfg(feature = "pq")]
    pub fn consume_kem_prekey(&mut self, id: PreKeyId) {
        self.consumed_kem_prekeys.push(id);
    }

    /// Deletes a KEM prekey (one never used, or a last-resort one past its
    /// grace period), if it is stored.
    #[cfg(feature = "pq")]
    pub fn delete_kem_prekey(&mut self, id: PreKeyId) {
        self.deleted_kem_prekeys.push(id);
    }

    #[cfg(feature = "pq")]
    fn kem_changes_are_empty(&self) -> bool {
        self.new_kem_prekeys.is_empty()
            && self.consumed_kem_prekeys.is_empty()
            && self.deleted_kem_prekeys.is_empty()
    }

    #[cfg(not(feature = "pq"))]
    fn kem_changes_are_empty(&self) -> bool {
        true
    }

    /// Records an accepted initial message. It must not be recorded yet.
    pub fn accept_base_key(&mut self, signed_prekey: PreKeyId, base_key: X25519PublicKey) {
        self.accepted_base_keys.push((signed_prekey, base_key));
    }

    /// Stores a group record. A record of revision `r` replaces only the
    /// stored one of revision `r - 1` (revision 1 only where none is
    /// stored).
    pub fn put_group(&mut self, record: GroupRecord) {
        self.groups.push(record);
    }

    /// Deletes a group record, whatever its revision. Delete its sender
    /// key records with [`Changes::delete_sender_key`].
    pub fn delete_group(&mut self, group: GroupId) {
        self.deleted_groups.push(group);
    }

    /// Stores what this device holds of `sender`'s sender keys in `group`,
    /// under the same revision rule as [`Changes::put_group`].
    pub fn put_sender_key(&mut self, group: GroupId, sender: Address, record: SenderKeyRecord) {
        self.sender_keys.push((group, sender, record));
    }

    /// Deletes what this device holds of `sender`'s sender keys in
    /// `group`, whatever its revision.
    pub fn delete_sender_key(&mut self, group: GroupId, sender: Address) {
        self.deleted_sender_keys.push((group, sender));
    }

    /// The group records to store.
    pub fn groups(&self) -> &[GroupRecord] {
        &self.groups
    }

    /// The groups to delete.
    pub fn deleted_groups(&self) -> &[GroupId] {
        &self.deleted_groups
    }

    /// The sender key records to store.
    pub fn sender_keys(&self) -> &[(GroupId, Address, SenderKeyRecord)] {
        &self.sender_keys
    }

    /// The sender key records to delete.
    pub fn deleted_sender_keys(&self) -> &[(GroupId, Address)] {
        &self.deleted_sender_keys
    }

    /// Keeps a received message until it is acknowledged. Its id must not
    /// be kept already.
    pub fn add_received(&mut self, message: Received) {
        self.received.push(message);
    }

    /// Keeps a sent message until it is acknowledged. Its id must not be
    /// kept already.
    pub fn add_sent(&mut self, message: Sent) {
        self.sent.push(message);
    }

    /// Forgets a received message, if it is kept.
    pub fn acknowledge_received(&mut self, id: MessageId) {
        self.acknowledged_received.push(id);
    }

    /// Forgets a sent message, if it is kept.
    pub fn acknowledge_sent(&mut self, id: MessageId) {
        self.acknowledged_sent.push(id);
    }

    /// The received messages to keep.
    pub fn received(&self) -> &[Received] {
        &self.received
    }

    /// The sent messages to keep.
    pub fn sent(&self) -> &[Sent] {
        &self.sent
    }

    /// The received messages to forget.
    pub fn acknowledged_received(&self) -> &[MessageId] {
        &self.acknowledged_received
    }

    /// The sent messages to forget.
    pub fn acknowledged_sent(&self) -> &[MessageId] {
        &self.acknowledged_sent
    }

    /// The account to write.
    pub fn account(&self) -> Option<&Account> {
        self.account.as_ref()
    }

    /// The revision the stored account must have, if the changes depend
    /// on it without writing it.
    pub fn expected_account_revision(&self) -> Option<u64> {
        self.account_revision
    }

    /// The session records to write.
    pub fn sessions(&self) -> &[(Address, SessionRecord)] {
        &self.sessions
    }

    /// The identities to write.
    pub fn identities(&self) -> &[IdentityChange] {
        &self.identities
    }

    /// The device lists to write.
    pub fn device_lists(&self) -> &[DeviceListChange] {
        &self.device_lists
    }

    /// The signed prekeys to add.
    pub fn new_signed_prekeys(&self) -> &[SignedPreKeyPair] {
        &self.new_signed_prekeys
    }

    /// The signed prekeys to delete, with the base keys accepted under
    /// them.
    pub fn deleted_signed_prekeys(&self) -> &[PreKeyId] {
        &self.deleted_signed_prekeys
    }

    /// The one-time prekeys to add.
    pub fn new_one_time_prekeys(&self) -> &[OneTimePreKeyPair] {
        &self.new_one_time_prekeys
    }

    /// The one-time prekeys an initial message used: each must still be
    /// stored, and is deleted.
    pub fn consumed_one_time_prekeys(&self) -> &[PreKeyId] {
        &self.consumed_one_time_prekeys
    }

    /// The one-time prekeys to delete if stored (dropped under
    /// [`crate::limits::MAX_ONE_TIME_PREKEYS`]).
    pub fn deleted_one_time_prekeys(&self) -> &[PreKeyId] {
        &self.deleted_one_time_prekeys
    }

    /// The KEM prekeys to add.
    #[cfg(feature = "pq")]
    pub fn new_kem_prekeys(&self) -> &[KemPreKeyPair] {
        &self.new_kem_prekeys
    }

    /// The one-time KEM prekeys an initial message used: each must still
    /// be stored.
    #[cfg(feature = "pq")]
    pub fn consumed_kem_prekeys(&self) -> &[PreKeyId] {
        &self.consumed_kem_prekeys
    }

    /// The KEM prekeys to delete if stored.
    #[cfg(feature = "pq")]
    pub fn deleted_kem_prekeys(&self) -> &[PreKeyId] {
        &self.deleted_kem_prekeys
    }

    /// The base keys of accepted initial messages, each with its signed
    /// prekey: none may be recorded yet.
    pub fn accepted_base_keys(&self) -> &[(PreKeyId, X25519PublicKey)] {
        &self.accepted_base_keys
    }
}

/// An identity to write, and the one it must replace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityChange {
    /// The peer device.
    pub address: Address,
    /// What the change was computed from: it is written only over this.
    pub previous: Option<RemoteIdentity>,
    /// What to write.
    pub identity: RemoteIdentity,
}

/// A device list to write, and the one it must replace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceListChange {
    /// The user.
    pub user: UserAddress,
    /// What the change was computed from: it is written only over this.
    pub previous: Option<DeviceList>,
    /// What to write.
    pub list: DeviceList,
}

impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("account", &self.account.as_ref().map(Account::revision))
            .field("account_revision", &self.account_revision)
            .field(
                "sessions",
                &self.sessions.iter().map(|(a, r)| (a, r.revision())).collect::<Vec<_>>(),
            )
            .field("identities", &self.identities)
            .field("device_lists", &self.device_lists)
            .field(
                "new_signed_prekeys",
                &self.new_signed_prekeys.iter().map(SignedPreKeyPair::id).collect::<Vec<_>>(),
            )
            .field("deleted_signed_prekeys", &self.deleted_signed_prekeys)
            .field("new_one_time_prekeys", &self.new_one_time_prekeys.len())
            .field("consumed_one_time_prekeys", &self.consumed_one_time_prekeys)
            .field("deleted_one_time_prekeys", &self.deleted_one_time_prekeys)
            .field("accepted_base_keys", &self.accepted_base_keys)
            .field("received", &self.received.iter().map(|m| m.id).collect::<Vec<_>>())
            .field("sent", &self.sent.iter().map(|m| m.id).collect::<Vec<_>>())
            .field("acknowledged_received", &self.acknowledged_received)
            .field("acknowledged_sent", &self.acknowledged_sent)
            .finish()
    }
}
