//! One store type for the device handle: in memory, or the SQLite store.

use std::fmt;

use sealwire::sqlite::{SqliteStore, SqliteStoreError};
use sealwire::store::{
    AccountStore, BaseKeyStore, Changes, CommitError, GroupStore, IdentityStore, MemoryStoreError,
    PendingStore, PreKeyStore, SessionStore, Storage, Store, StoreError,
};
use sealwire::{
    Account, Action, Address, DeviceList, GroupId, GroupRecord, KemPreKeyPair, MemoryStore,
    OneTimePreKeyPair, PreKeyId, Received, RemoteIdentity, SenderKeyRecord, Sent, SessionRecord,
    SignedPreKeyPair, UserAddress, X25519PublicKey,
};

/// The store behind a device handle.
pub(crate) enum AnyStore {
    Memory(Box<MemoryStore>),
    Sqlite(Box<SqliteStore>),
}

/// Its errors.
#[derive(Debug)]
pub(crate) enum AnyStoreError {
    Memory(MemoryStoreError),
    Sqlite(SqliteStoreError),
}

impl fmt::Display for AnyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory(e) => e.fmt(f),
            Self::Sqlite(e) => e.fmt(f),
        }
    }
}

impl StoreError for AnyStoreError {
    fn action(&self) -> Action {
        match self {
            Self::Memory(e) => e.action(),
            Self::Sqlite(e) => e.action(),
        }
    }
}

impl Storage for AnyStore {
    type Error = AnyStoreError;
}

/// Forwards a read to the store inside.
macro_rules! forward {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            AnyStore::Memory(s) => s.$method($($arg),*).map_err(AnyStoreError::Memory),
            AnyStore::Sqlite(s) => s.$method($($arg),*).map_err(AnyStoreError::Sqlite),
        }
    };
}

impl AccountStore for AnyStore {
    fn load_account(&self) -> Result<Option<Account>, AnyStoreError> {
        forward!(self.load_account())
    }
}

impl IdentityStore for AnyStore {
    fn load_identity(&self, address: &Address) -> Result<Option<RemoteIdentity>, AnyStoreError> {
        forward!(self.load_identity(address))
    }
}

impl PreKeyStore for AnyStore {
    fn load_signed_prekey(&self, id: PreKeyId) -> Result<Option<SignedPreKeyPair>, AnyStoreError> {
        forward!(self.load_signed_prekey(id))
    }

    fn load_one_time_prekey(
        &self,
        id: PreKeyId,
    ) -> Result<Option<OneTimePreKeyPair>, AnyStoreError> {
        forward!(self.load_one_time_prekey(id))
    }

    fn load_kem_prekey(&self, id: PreKeyId) -> Result<Option<KemPreKeyPair>, AnyStoreError> {
        forward!(self.load_kem_prekey(id))
    }

    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>, AnyStoreError> {
        forward!(self.kem_prekey_ids())
    }

    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>, AnyStoreError> {
        forward!(self.one_time_prekey_ids())
    }
}

impl SessionStore for AnyStore {
    fn load_session(&self, address: &Address) -> Result<Option<SessionRecord>, AnyStoreError> {
        forward!(self.load_session(address))
    }

    fn load_device_list(&self, user: &UserAddress) -> Result<Option<DeviceList>, AnyStoreError> {
        forward!(self.load_device_list(user))
    }
}

impl BaseKeyStore for AnyStore {
    fn is_base_key_accepted(
        &self,
        signed_prekey: PreKeyId,
        base_key: &X25519PublicKey,
    ) -> Result<bool, AnyStoreError> {
        forward!(self.is_base_key_accepted(signed_prekey, base_key))
    }
}

impl GroupStore for AnyStore {
    fn load_group(&self, group: &GroupId) -> Result<Option<GroupRecord>, AnyStoreError> {
        forward!(self.load_group(group))
    }

    fn load_sender_key(
        &self,
        group: &GroupId,
        sender: &Address,
    ) -> Result<Option<SenderKeyRecord>, AnyStoreError> {
        forward!(self.load_sender_key(group, sender))
    }
}

impl PendingStore for AnyStore {
    fn pending_received(&self) -> Result<Vec<Received>, AnyStoreError> {
        forward!(self.pending_received())
    }

    fn pending_sent(&self) -> Result<Vec<Sent>, AnyStoreError> {
        forward!(self.pending_sent())
    }

    fn pending_counts(&self) -> Result<(usize, usize), AnyStoreError> {
        forward!(self.pending_counts())
    }
}

impl Store for AnyStore {
    fn commit(&mut self, changes: Changes) -> Result<(), CommitError<AnyStoreError>> {
        match self {
            AnyStore::Memory(s) => s.commit(changes).map_err(|e| match e {
                CommitError::Conflict => CommitError::Conflict,
                CommitError::Backend(e) => CommitError::Backend(AnyStoreError::Memory(e)),
            }),
            AnyStore::Sqlite(s) => s.commit(changes).map_err(|e| match e {
                CommitError::Conflict => CommitError::Conflict,
                CommitError::Backend(e) => CommitError::Backend(AnyStoreError::Sqlite(e)),
            }),
        }
    }
}
