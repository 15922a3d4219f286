//! The device layer's errors.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::address::Address;
use crate::error::{
    Action, AgreementError, CertificateError, DecodeError, DecryptError, EncryptError, GroupError,
    SealError, UnsealError,
};
use crate::identity::IdentityKey;
use crate::store::StoreError;

/// Why a [`crate::Device`] operation failed. Nothing was stored: every
/// operation commits all its changes at once or none.
///
/// `E` is the store's error type. [`DeviceError::code`] gives a stable
/// number (8xx for the device layer, 9xx for the store, and the wrapped
/// error's own code otherwise) and [`DeviceError::action`] what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceError<E> {
    /// The store failed.
    Store(E),
    /// Another handle on the same store changed the same records
    /// [`crate::limits::MAX_COMMIT_ATTEMPTS`] times in a row while this
    /// operation was computed.
    Conflict,
    /// [`crate::Device::open`] on a store that holds no account.
    NoAccount,
    /// [`crate::Device::create`] on a store that holds an account already.
    AccountExists,
    /// Sending needs this device's sender certificate
    /// ([`crate::Device::set_certificate`]).
    NoCertificate,
    /// The call named this device itself as a peer.
    OwnAddress,
    /// An envelope whose certificate names this very device, sealed by
    /// another identity key (this device never writes to itself): the
    /// app's issuer certified someone else as this device.
    FromSelf,
    /// A message this device cannot read in any session: it has no session
    /// with that key, or only sessions from before a restored backup, or
    /// it could not accept the initial message (its prekeys were gone).
    /// The peer believes in a session this device does not share. Call
    /// [`crate::Device::reset_session`], then send to the peer's user:
    /// [`crate::Device::missing_sessions`] lists the device if it is in
    /// its user's device list (a removed device is not), and the new
    /// session replaces the peer's. A reset while the last one still
    /// awaits its reply does nothing, so a relay replaying old envelopes
    /// costs at most one new session per reply.
    NoSession(Address),
    /// No device to send to has a session. Start sessions with the
    /// devices listed (see [`crate::Device::missing_sessions`]).
    NoRecipients {
        /// The devices without a usable session.
        missing: Vec<Address>,
    },
    /// The device is not in its user's device list (removed, or never
    /// listed).
    UnknownDevice(Address),
    /// A device list longer than [`crate::limits::MAX_DEVICES_PER_USER`].
    TooManyDevices,
    /// A device seen for the first time, whose key the trust policy wants
    /// the user to approve ([`crate::Device::approve_identity`]).
    UntrustedIdentity(Box<IdentityQuestion>),
    /// A device whose identity key changed, which the trust policy (or an
    /// earlier verification) wants the user to approve
    /// ([`crate::Device::approve_identity`]).
    IdentityChanged(Box<IdentityQuestion>),
    /// No identity key is stored for this device yet.
    NoIdentity(Address),
    /// An envelope or bundle under a key this device's peer replaced (it
    /// reinstalled): an old one, replayed or held back by the relay.
    /// Nothing changed; to take the old key back, approve it
    /// ([`crate::Device::approve_identity`]).
    ReplacedIdentity(Box<IdentityQuestion>),
    /// [`crate::Device::mark_verified`] with a safety number that is not
    /// the current one for the device: its key changed while the user
    /// compared. Show the current number and compare again.
    SafetyNumberMismatch(Address),
    /// A publication or other value of another device.
    NotThisDevice,
    /// [`crate::limits::MAX_PENDING_RECEIVED`] received messages wait for
    /// the application's acknowledgement: keep the envelope, acknowledge
    /// what is kept ([`crate::Device::acknowledge_received`]), and try
    /// again.
    InboxFull,
    /// [`crate::limits::MAX_PENDING_SENT`] sent messages wait for the
    /// application's acknowledgement: upload and acknowledge them
    /// ([`crate::Device::acknowledge_sent`]) first.
    OutboxFull,
    /// This device has used every prekey id (2^32 of a kind).
    PreKeyIdsExhausted,
    /// A message from `from` did not decrypt.
    Decrypt {
        /// The sender, as its certificate names it.
        from: Address,
        /// Why.
        error: DecryptError,
    },
    /// An initial message could not be accepted (its prekey is gone), or a
    /// bundle does not verify.
    Agreement(AgreementError),
    /// See [`EncryptError`].
    Encrypt(EncryptError),
    /// See [`SealError`].
    Seal(SealError),
    /// The envelope could not be unsealed.
    Unseal(UnsealError),
    /// A bundle's or this device's certificate does not hold.
    Certificate(CertificateError),
    /// Bytes that do not decode.
    Decode(DecodeError),
    /// A group operation failed (see [`GroupError`]); for a group
    /// message, `from` is the sending device.
    Group {
        /// The device the group message or distribution came from, if one
        /// was being received.
        from: Option<Address>,
        /// What failed.
        error: GroupError,
    },
}

/// The identity key a user is asked to approve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityQuestion {
    /// The device.
    pub address: Address,
    /// The key trusted until now, if any.
    pub previous: Option<IdentityKey>,
    /// The key to approve.
    pub identity: IdentityKey,
}

impl<E> DeviceError<E> {
    /// The stable numeric code: 8xx for the device layer, 9xx for the
    /// store, the wrapped error's code otherwise.
    pub const fn code(&self) -> u16 {
        match self {
            Self::NoAccount => 801,
            Self::AccountExists => 802,
            Self::NoCertificate => 803,
            Self::OwnAddress => 804,
            Self::FromSelf => 805,
            Self::NoSession(_) => 806,
            Self::NoRecipients { .. } => 807,
            Self::UnknownDevice(_) => 808,
            Self::TooManyDevices => 809,
            Self::UntrustedIdentity(_) => 810,
            Self::IdentityChanged(_) => 811,
            Self::NoIdentity(_) => 812,
            Self::PreKeyIdsExhausted => 813,
            Self::ReplacedIdentity(_) => 814,
            Self::SafetyNumberMismatch(_) => 815,
            Self::NotThisDevice => 816,
            Self::InboxFull => 817,
            Self::OutboxFull => 818,
            Self::Store(_) => 901,
            Self::Conflict => 902,
            Self::Decrypt { error, .. } => error.code(),
            Self::Agreement(e) => e.code(),
            Self::Encrypt(e) => e.code(),
            Self::Seal(e) => e.code(),
            Self::Group { error, .. } => error.code(),
            Self::Unseal(e) => e.code(),
            Self::Certificate(e) => e.code(),
            Self::Decode(e) => e.code(),
        }
    }

    /// What to do. A store failure: what the store's error says
    /// ([`StoreError::action`]; by default [`Action::KeepForLater`]). A
    /// conflict, or a full inbox or outbox: [`Action::KeepForLater`]
    /// (try again; nothing changed). A message this device has no session
    /// for: [`Action::ResetSession`]. An identity the user must approve, or
    /// a safety number to compare again: [`Action::AskUser`]. An old key's
    /// envelope: [`Action::Drop`] (the relay can replay it). An envelope certified as this device:
    /// [`Action::Alarm`]. A call that cannot succeed as made:
    /// [`Action::FixRequest`]. Wrapped errors answer for themselves.
    pub fn action(&self) -> Action
    where
        E: StoreError,
    {
        match self {
            Self::Store(e) => e.action(),
            Self::Conflict | Self::InboxFull | Self::OutboxFull => Action::KeepForLater,
            Self::NoSession(_) => Action::ResetSession,
            Self::UntrustedIdentity(_)
            | Self::IdentityChanged(_)
            | Self::SafetyNumberMismatch(_) => Action::AskUser,
            Self::ReplacedIdentity(_) => Action::Drop,
            Self::FromSelf => Action::Alarm,
            Self::NoAccount
            | Self::AccountExists
            | Self::NoCertificate
            | Self::OwnAddress
            | Self::NoRecipients { .. }
            | Self::UnknownDevice(_)
            | Self::TooManyDevices
            | Self::NoIdentity(_)
            | Self::PreKeyIdsExhausted
            | Self::NotThisDevice => Action::FixRequest,
            Self::Decrypt { error, .. } => error.action(),
            Self::Agreement(e) => e.action(),
            Self::Encrypt(e) => e.action(),
            Self::Seal(e) => e.action(),
            Self::Group { error, .. } => error.action(),
            Self::Unseal(e) => e.action(),
            Self::Certificate(e) => e.action(),
            Self::Decode(e) => e.action(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for DeviceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => write!(f, "store: {e}"),
            Self::Conflict => f.write_str("the store kept changing under this operation"),
            Self::NoAccount => f.write_str("the store holds no account"),
            Self::AccountExists => f.write_str("the store holds an account already"),
            Self::NoCertificate => f.write_str("this device has no sender certificate"),
            Self::OwnAddress => f.write_str("this device cannot be its own peer"),
            Self::FromSelf => f.write_str("an envelope certified as this very device"),
            Self::NoSession(a) => write!(f, "no session with {a}; a new one is needed"),
            Self::NoRecipients { missing } => {
                write!(f, "no device to send to has a session ({} missing)", missing.len())
            }
            Self::UnknownDevice(a) => write!(f, "{a} is not in its user's device list"),
            Self::TooManyDevices => f.write_str("too many devices for one user"),
            Self::UntrustedIdentity(q) => {
                write!(f, "{} is new (identity {}); approval needed", q.address, q.identity)
            }
            Self::IdentityChanged(q) => {
                write!(f, "identity of {} changed to {}; approval needed", q.address, q.identity)
            }
            Self::NoIdentity(a) => write!(f, "no identity stored for {a}"),
            Self::ReplacedIdentity(q) => {
                write!(f, "{} is under a key {} replaced", q.identity, q.address)
            }
            Self::SafetyNumberMismatch(a) => {
                write!(f, "the safety number compared is not the current one for {a}")
            }
            Self::NotThisDevice => f.write_str("a value of another device"),
            Self::InboxFull => f.write_str("too many received messages wait for acknowledgement"),
            Self::OutboxFull => f.write_str("too many sent messages wait for acknowledgement"),
            Self::PreKeyIdsExhausted => f.write_str("prekey ids exhausted"),
            Self::Decrypt { from, error } => write!(f, "message from {from}: {error}"),
            Self::Agreement(e) => e.fmt(f),
            Self::Encrypt(e) => e.fmt(f),
            Self::Seal(e) => e.fmt(f),
            Self::Group { from: Some(from), error } => {
                write!(f, "group message from {from}: {error}")
            }
            Self::Group { from: None, error } => error.fmt(f),
            Self::Unseal(e) => e.fmt(f),
            Self::Certificate(e) => e.fmt(f),
            Self::Decode(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for DeviceError<E> {}

impl<E> From<AgreementError> for DeviceError<E> {
    fn from(e: AgreementError) -> Self {
        Self::Agreement(e)
    }
}

impl<E> From<EncryptError> for DeviceError<E> {
    fn from(e: EncryptError) -> Self {
        Self::Encrypt(e)
    }
}

impl<E> From<GroupError> for DeviceError<E> {
    fn from(error: GroupError) -> Self {
        Self::Group { from: None, error }
    }
}

impl<E> From<SealError> for DeviceError<E> {
    fn from(e: SealError) -> Self {
        Self::Seal(e)
    }
}

impl<E> From<UnsealError> for DeviceError<E> {
    fn from(e: UnsealError) -> Self {
        Self::Unseal(e)
    }
}

impl<E> From<CertificateError> for DeviceError<E> {
    fn from(e: CertificateError) -> Self {
        Self::Certificate(e)
    }
}

impl<E> From<DecodeError> for DeviceError<E> {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}
