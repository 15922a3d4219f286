//! The device API: one device of one user of one app, with everything it
//! keeps in a [`Store`].
//!
//! [`Device::send`] encrypts for every device of a user (and this user's
//! other devices), each over its own session, in one sealed
//! multi-recipient envelope; [`Device::receive`] unseals an envelope,
//! checks the sender's certificate, applies the trust policy, routes the
//! message to the right session, and stores the outcome, all in one
//! commit. Nothing here does I/O: fetching bundles and moving envelopes
//! is the application's, and every call says what it needs
//! ([`Device::missing_sessions`], [`Sent::missing`]).
//!
//! The rules are in `docs/sessions.md`.

mod error;
mod group;
mod pending;
mod publication;
mod receive;
mod send;

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use crate::account::Account;
use crate::address::{Address, UserAddress};
use crate::certificate::{DeviceId, SenderCertificate, Timestamp, TrustStore};
use crate::device_list::DeviceList;
use crate::error::CertificateError;
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::limits::{MAX_COMMIT_ATTEMPTS, ONE_TIME_PREKEY_BATCH};
use crate::prekey::{OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
use crate::safety_number::SafetyNumber;
use crate::sealed::{Padding, Sealer};
use crate::session::Session;
use crate::session_record::SessionRecord;
use crate::store::{Changes, CommitError, Store};
use crate::trust::{RemoteIdentity, Trust, TrustPolicy};

pub use error::{DeviceError, IdentityQuestion};
pub use group::GroupSent;
pub use pending::MessageId;
pub use publication::Publication;
pub use receive::{Received, ReceivedKind};
pub use send::Sent;

/// The result of a device operation.
pub type DeviceResult<T, S> = Result<T, DeviceError<<S as crate::store::Storage>::Error>>;

/// One device: its account and its store, the app's trust roots, and the
/// trust policy.
///
/// ```
/// use sealwire::{Address, AppId, Device, DeviceId, MemoryStore, Timestamp, TrustStore, UserId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut rng = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
/// let now = Timestamp(1_800_000_000);
/// let address = Address::new(AppId::new("chat.a")?, UserId::new(b"alice")?, DeviceId(1));
/// let device = Device::create(&mut rng, MemoryStore::new(), address, TrustStore::new(), now)?;
/// assert_eq!(device.address().to_string(), "alice@chat.a#1");
/// # Ok(())
/// # }
/// ```
///
/// `examples/conversation.rs` runs a whole conversation between apps.
pub struct Device<S: Store> {
    store: S,
    account: Account,
    trust: TrustStore,
    policy: TrustPolicy,
    sealer: Option<Sealer>,
    padding: Padding,
}

impl<S: Store> Device<S> {
    /// Creates this device's account in an empty `store`: a new identity
    /// key, a signed prekey and [`ONE_TIME_PREKEY_BATCH`] one-time prekeys,
    /// none published yet ([`Device::publication`]). `trust` holds the
    /// roots of the apps this device accepts mail from.
    ///
    /// # Errors
    /// [`DeviceError::AccountExists`] if the store holds an account;
    /// [`DeviceError::Store`].
    pub fn create<R: CryptoRng + ?Sized>(
        rng: &mut R,
        store: S,
        address: Address,
        trust: TrustStore,
        now: Timestamp,
    ) -> DeviceResult<Self, S> {
        let mut store = store;
        if store.load_account().map_err(DeviceError::Store)?.is_some() {
            return Err(DeviceError::AccountExists);
        }
        let identity = IdentityKeyPair::generate(rng);
        let signed = SignedPreKeyPair::generate(rng, &identity, PreKeyId(1));
        let mut account = Account::new(address, identity, now);
        let ids = account
            .take_one_time_ids(ONE_TIME_PREKEY_BATCH)
            .ok_or(DeviceError::PreKeyIdsExhausted)?;
        let mut changes = Changes::new();
        #[cfg(feature = "pq")]
        changes.add_kem_prekey(crate::kem_prekey::KemPreKeyPair::generate(
            rng,
            account.identity(),
            crate::kem_prekey::last_resort_kem_id(signed.id()),
            crate::KemPreKeyKind::LastResort,
        ));
        changes.add_signed_prekey(signed);
        for id in ids {
            changes.add_one_time_prekey(OneTimePreKeyPair::generate(rng, PreKeyId(id)));
            #[cfg(feature = "pq")]
            changes.add_kem_prekey(crate::kem_prekey::KemPreKeyPair::generate(
                rng,
                account.identity(),
                PreKeyId(id),
                crate::KemPreKeyKind::OneTime,
            ));
        }
        account.bump();
        // The store keeps its own copy; this one stays with the device.
        let stored = Account::from_bytes(&account.to_bytes()).map_err(DeviceError::Decode)?;
        changes.set_account(stored);
        match store.commit(changes) {
            Ok(()) => {}
            Err(CommitError::Conflict) => return Err(DeviceError::AccountExists),
            Err(CommitError::Backend(e)) => return Err(DeviceError::Store(e)),
        }
        Ok(Self::with_account(store, account, trust))
    }

    /// Opens the device whose account `store` holds.
    ///
    /// # Errors
    /// [`DeviceError::NoAccount`] for a store without one;
    /// [`DeviceError::Store`].
    pub fn open(store: S, trust: TrustStore) -> DeviceResult<Self, S> {
        let account =
            store.load_account().map_err(DeviceError::Store)?.ok_or(DeviceError::NoAccount)?;
        Ok(Self::with_account(store, account, trust))
    }

    fn with_account(store: S, account: Account, trust: TrustStore) -> Self {
        let sealer = account.certificate().cloned().map(Sealer::new);
        Self {
            store,
            account,
            trust,
            policy: TrustPolicy::default(),
            sealer,
            padding: Padding::Buckets,
        }
    }

    /// This device's address.
    pub fn address(&self) -> &Address {
        self.account.address()
    }

    /// This device's identity key.
    pub fn identity(&self) -> &IdentityKey {
        self.account.identity_key()
    }

    /// How many times this device's account has changed. An app that keeps
    /// this number somewhere a backup does not restore (the OS keystore)
    /// can tell, on the next start, that its store was restored from a
    /// backup: the stored revision is then lower. Call
    /// [`Device::after_restore`] then.
    pub fn account_revision(&self) -> u64 {
        self.account.revision()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The trust policy (see [`TrustPolicy`]).
    pub fn policy(&self) -> &TrustPolicy {
        &self.policy
    }

    /// Replaces the trust policy.
    pub fn set_policy(&mut self, policy: TrustPolicy) {
        self.policy = policy;
    }

    /// The certificate trust store, to add roots, revoke issuers or deny
    /// devices.
    pub fn trust_store_mut(&mut self) -> &mut TrustStore {
        &mut self.trust
    }

    /// Sets whether envelopes are padded (the default:
    /// [`Padding::Buckets`]).
    pub fn set_padding(&mut self, padding: Padding) {
        self.padding = padding;
    }

    /// Stores this device's sender certificate, issued by its app: sealing
    /// needs it, and published bundles carry it.
    ///
    /// # Errors
    /// [`CertificateError::IdentityMismatch`] or
    /// [`CertificateError::AddressMismatch`] (as
    /// [`DeviceError::Certificate`]) if it certifies another key or
    /// device; [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn set_certificate(&mut self, certificate: SenderCertificate) -> DeviceResult<(), S> {
        if certificate.identity_key() != self.identity() {
            return Err(CertificateError::IdentityMismatch.into());
        }
        if Address::of_certificate(&certificate) != *self.address() {
            return Err(CertificateError::AddressMismatch.into());
        }
        self.attempt(|device| {
            let mut account = device.reload_account()?;
            account.set_certificate(certificate.clone());
            device.commit_account(account, Changes::new())
        })?;
        match &mut self.sealer {
            Some(sealer) => sealer.set_certificate(certificate),
            None => self.sealer = Some(Sealer::new(certificate)),
        }
        Ok(())
    }

    /// Replaces the device list of `user` with `devices` (from the server).
    /// Sessions with devices no longer listed are dropped; devices newly
    /// listed need a session ([`Device::missing_sessions`]). This device is
    /// never its own recipient, whether or not its own list names it.
    ///
    /// # Errors
    /// [`DeviceError::TooManyDevices`] above
    /// [`crate::limits::MAX_DEVICES_PER_USER`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn set_devices(
        &mut self,
        user: &UserAddress,
        devices: &[DeviceId],
    ) -> DeviceResult<DeviceListChange, S> {
        let list = DeviceList::new(devices).map_err(|_| DeviceError::TooManyDevices)?;
        self.attempt(|device| {
            let previous = device.store.load_device_list(user).map_err(DeviceError::Store)?;
            let old = previous.clone().unwrap_or_default();
            let mut change = DeviceListChange::default();
            let mut changes = Changes::new();
            for &d in list.devices() {
                if !old.contains(d) {
                    change.added.push(user.device(d));
                }
            }
            for &d in old.devices() {
                if !list.contains(d) {
                    let address = user.device(d);
                    if let Some(mut record) = device.load_session(&address)?
                        && !record.is_empty()
                    {
                        record.clear();
                        record.bump();
                        changes.put_session(address.clone(), record);
                    }
                    change.removed.push(address);
                }
            }
            if previous.as_ref() != Some(&list) {
                changes.put_device_list(user.clone(), previous, list.clone());
            }
            device.commit(changes)?;
            Ok(change)
        })
    }

    /// The devices of `user` (from its device list).
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn devices(&self, user: &UserAddress) -> DeviceResult<Vec<DeviceId>, S> {
        Ok(self.load_device_list(user)?.devices().to_vec())
    }

    /// Whether the current session with `address` began with the
    /// post-quantum agreement (`docs/protocol.md` §20); `None` without a
    /// current session.
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn is_post_quantum(&self, address: &Address) -> DeviceResult<Option<bool>, S> {
        Ok(self.load_session(address)?.and_then(|r| r.current().map(Session::is_post_quantum)))
    }

    /// The identity key stored for `address`, and its trust.
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn identity_of(&self, address: &Address) -> DeviceResult<Option<RemoteIdentity>, S> {
        self.store.load_identity(address).map_err(DeviceError::Store)
    }

    /// Approves `identity` for `address` after the user was asked
    /// ([`DeviceError::UntrustedIdentity`], [`DeviceError::IdentityChanged`],
    /// or to take back a key the device replaced,
    /// [`DeviceError::ReplacedIdentity`]): it becomes the trusted key (a
    /// verified key stays verified), sessions with any other key are
    /// dropped, and the kept envelope can be received again.
    ///
    /// # Errors
    /// [`DeviceError::OwnAddress`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn approve_identity(
        &mut self,
        address: &Address,
        identity: &IdentityKey,
        now: Timestamp,
    ) -> DeviceResult<(), S> {
        if address == self.address() {
            return Err(DeviceError::OwnAddress);
        }
        self.attempt(|device| {
            let stored = device.store.load_identity(address).map_err(DeviceError::Store)?;
            let next = match &stored {
                Some(s) if s.key() == identity => return Ok(()),
                Some(s) => s.replace(*identity, Trust::Accepted, now),
                None => RemoteIdentity::new(*identity, Trust::Accepted, now),
            };
            device.write_identity(address, stored, next)
        })
    }

    /// Marks the key stored for `address` as verified, once the user has
    /// compared `compared`, the safety number shown to them
    /// ([`Device::safety_number`]), with the peer's. If the key changed
    /// since that number was shown, nothing is marked. A change of a
    /// verified key always waits for the user's approval.
    ///
    /// # Errors
    /// [`DeviceError::SafetyNumberMismatch`] if `compared` is not the
    /// current safety number; [`DeviceError::NoIdentity`];
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn mark_verified(
        &mut self,
        address: &Address,
        compared: &SafetyNumber,
        now: Timestamp,
    ) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let stored = device
                .store
                .load_identity(address)
                .map_err(DeviceError::Store)?
                .ok_or_else(|| DeviceError::NoIdentity(address.clone()))?;
            let current =
                SafetyNumber::new(device.address(), device.identity(), address, stored.key());
            if current != *compared {
                return Err(DeviceError::SafetyNumberMismatch(address.clone()));
            }
            let next = stored.replace(*stored.key(), Trust::Verified, now);
            device.write_identity(address, Some(stored), next)
        })
    }

    /// Stores `next` for `address` over `previous`, dropping the sessions
    /// with any other key.
    fn write_identity(
        &mut self,
        address: &Address,
        previous: Option<RemoteIdentity>,
        next: RemoteIdentity,
    ) -> DeviceResult<(), S> {
        let mut changes = Changes::new();
        if let Some(mut record) = self.load_session(address)?
            && record.remote_identity().is_some_and(|k| k != next.key())
        {
            record.keep_identity(next.key());
            record.bump();
            changes.put_session(address.clone(), record);
        }
        changes.put_identity(address.clone(), previous, next);
        self.commit(changes)
    }

    /// The safety number of this device and `address`, from the identity
    /// key stored for it.
    ///
    /// # Errors
    /// [`DeviceError::NoIdentity`] if none is stored;
    /// [`DeviceError::Store`].
    pub fn safety_number(&self, address: &Address) -> DeviceResult<SafetyNumber, S> {
        let theirs = self
            .store
            .load_identity(address)
            .map_err(DeviceError::Store)?
            .ok_or_else(|| DeviceError::NoIdentity(address.clone()))?;
        Ok(SafetyNumber::new(self.address(), self.identity(), address, theirs.key()))
    }

    /// Stops sending on the current session with `address`, so that the
    /// next message starts a new one from a fresh bundle (after
    /// [`DeviceError::NoSession`], or when the peer's messages keep
    /// failing). The old session stays archived for messages in flight.
    /// Does nothing while the current session is one this device started
    /// (in this epoch) and the peer has not answered yet: that is the new
    /// session a reset leads to, and resetting it again would only cost
    /// prekeys and archive room.
    ///
    /// # Errors
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn reset_session(&mut self, address: &Address) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let Some(mut record) = device.load_session(address)? else { return Ok(()) };
            if record.current().is_none() || record.fresh_initiation(device.account.epoch()) {
                return Ok(());
            }
            record.archive_current(false);
            record.bump();
            let mut changes = Changes::new();
            changes.put_session(address.clone(), record);
            device.commit(changes)
        })
    }

    /// Tells the device that its store was restored from a backup (or
    /// copied from another phone): its sessions may be behind its peers'.
    /// No session from before stays current: each peer gets a new session
    /// with the next message ([`Device::missing_sessions`] lists them), and
    /// a message that only an old session could have opened gets
    /// [`DeviceError::NoSession`]. Old sessions still decrypt what they
    /// can. See `docs/sessions.md` §5.4.
    ///
    /// # Errors
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn after_restore(&mut self) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut account = device.reload_account()?;
            account.next_epoch();
            device.commit_account(account, Changes::new())
        })
    }

    /// The received messages the application has not acknowledged yet,
    /// oldest first: after a restart, what it had not kept.
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn pending_received(&self) -> DeviceResult<Vec<Received>, S> {
        self.store.pending_received().map_err(DeviceError::Store)
    }

    /// Acknowledges a received message: the application has kept it. An
    /// id already acknowledged, or unknown, changes nothing.
    ///
    /// # Errors
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn acknowledge_received(&mut self, id: MessageId) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut changes = Changes::new();
            changes.acknowledge_received(id);
            device.commit(changes)
        })
    }

    /// The sent messages the application has not acknowledged yet, oldest
    /// first: after a restart, what it may not have uploaded. Uploading one
    /// again is safe: its recipients refuse the second copy as a
    /// duplicate.
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn pending_sent(&self) -> DeviceResult<Vec<Sent>, S> {
        self.store.pending_sent().map_err(DeviceError::Store)
    }

    /// Acknowledges a sent message: the relay has taken it.
    ///
    /// # Errors
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn acknowledge_sent(&mut self, id: MessageId) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut changes = Changes::new();
            changes.acknowledge_sent(id);
            device.commit(changes)
        })
    }

    // Helpers for the operations.

    /// Runs `op` until it commits, at most [`MAX_COMMIT_ATTEMPTS`] times;
    /// after a conflict the account is read again.
    fn attempt<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> DeviceResult<T, S>,
    ) -> DeviceResult<T, S> {
        for _ in 1..MAX_COMMIT_ATTEMPTS {
            match op(self) {
                Err(DeviceError::Conflict) => {
                    self.account = self.reload_account()?;
                }
                other => return other,
            }
        }
        op(self)
    }

    /// A fresh copy of the stored account.
    fn reload_account(&self) -> DeviceResult<Account, S> {
        self.store.load_account().map_err(DeviceError::Store)?.ok_or(DeviceError::NoAccount)
    }

    /// Commits `changes` with `account` as the next revision of the
    /// account, and keeps `account` as this device's.
    fn commit_account(
        &mut self,
        mut account: Account,
        mut changes: Changes,
    ) -> DeviceResult<(), S> {
        account.bump();
        let stored = Account::from_bytes(&account.to_bytes()).map_err(DeviceError::Decode)?;
        changes.set_account(stored);
        self.commit(changes)?;
        self.account = account;
        Ok(())
    }

    /// Commits `changes`, computed from this device's account as it is:
    /// if another handle changed the account since (an epoch, the
    /// prekeys), the commit conflicts and the operation runs again on the
    /// fresh account.
    fn commit(&mut self, mut changes: Changes) -> DeviceResult<(), S> {
        if changes.is_empty() {
            return Ok(());
        }
        if changes.account().is_none() {
            changes.expect_account(self.account.revision());
        }
        self.store.commit(changes).map_err(|e| match e {
            CommitError::Conflict => DeviceError::Conflict,
            CommitError::Backend(e) => DeviceError::Store(e),
        })
    }

    fn load_session(&self, address: &Address) -> DeviceResult<Option<SessionRecord>, S> {
        self.store.load_session(address).map_err(DeviceError::Store)
    }

    fn load_device_list(&self, user: &UserAddress) -> DeviceResult<DeviceList, S> {
        Ok(self.store.load_device_list(user).map_err(DeviceError::Store)?.unwrap_or_default())
    }
}

/// What [`Device::set_devices`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceListChange {
    /// Devices newly listed: each needs a session.
    pub added: Vec<Address>,
    /// Devices no longer listed: their sessions were dropped.
    pub removed: Vec<Address>,
}

impl<S: Store> fmt::Debug for Device<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("address", self.address())
            .field("identity", self.identity())
            .field("account_revision", &self.account.revision())
            .field("certificate", &self.sealer.is_some())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
