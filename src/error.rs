//! Errors, one enum per area, and a top-level [`Error`] that wraps them.
//!
//! Every variant has a stable numeric code ([`Error::code`]) for callers
//! that cannot match on Rust enums (code in other languages, logs). Codes are never
//! reused: a variant that is removed leaves a gap.
//!
//! Decryption failures are deliberately coarse: [`DecryptError::Failed`]
//! covers a bad tag, a wrong key and a message from another session alike,
//! so that an attacker learns nothing from which check failed. The finer
//! errors ([`DecryptError::Malformed`], [`DecryptError::TooManySkipped`],
//! [`DecryptError::Duplicate`], [`DecryptError::KeyDropped`],
//! [`DecryptError::StaleMessage`]) depend only on public header fields and
//! on what the session has received, never on a secret. They are decided
//! before the message is authenticated, so the relay can cause any of
//! them with a forged header; none of them changes the session.
//!
//! Every error answers what an application should do about it:
//! [`Error::action`] (and `action` on each area's enum) returns an
//! [`Action`].

use core::fmt;

use crate::prekey::PreKeyId;

/// What an application should do about an error, as [`Error::action`]
/// answers it. Every error maps to exactly one action; the variant's own
/// documentation says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Discard the input and carry on. Nothing the application holds has
    /// changed. The input was a duplicate, a forgery, corrupted, misrouted,
    /// or a message that can no longer be read; the relay can cause every
    /// error with this answer.
    Drop,
    /// Keep the input and try it again later: it may become readable once
    /// something else has happened (the device clock has caught up, another
    /// message has arrived). Bound how long and how much is kept.
    KeepForLater,
    /// The session with this peer cannot continue as it is: start a new
    /// one from a fresh bundle, or accept the new one the peer started. A
    /// relay that replays an old envelope after the session it belonged to
    /// was dropped can cause it; following it costs a one-time prekey and
    /// a round trip, never a message.
    ResetSession,
    /// Evidence that someone holding a key misused it: a certified sender
    /// that sealed an initial message naming another identity, or an
    /// issuer that certified another key as this very device. Refuse the
    /// input and tell whoever handles security (log it, warn the user).
    /// The relay alone cannot cause any of these, not even by replaying:
    /// each needs a certificate the relay cannot make, for content it
    /// cannot change. (A revoked issuer, a denied sender or a broken chain
    /// is not among them: the relay can replay an envelope sealed before
    /// the revocation, or seal one under a key of its own.) Also a store
    /// that does not open or holds a record that was changed
    /// ([`crate::store::StoreError::action`]): the device's own files were
    /// altered, or the disk failed.
    Alarm,
    /// The call itself was wrong (a plaintext too long, a recipient listed
    /// twice, a certificate that does not match): change the request.
    /// Nothing was sent or changed.
    FixRequest,
    /// A decision only the user can make: a peer's identity key is new or
    /// has changed, and the trust policy wants approval. Keep the input,
    /// show the user the change (and the safety number), and try the input
    /// again once they approve it. Nothing was changed.
    AskUser,
}

/// Bytes that are not a valid encoding of the format they were read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the format was complete.
    Truncated,
    /// Bytes remained after the end of the format.
    TrailingBytes,
    /// The first byte is not a version tag this build reads for this format.
    UnknownVersion(u8),
    /// A key's type tag is not the one this field holds.
    UnexpectedKeyType(u8),
    /// A public key is not a canonical encoding of a usable point.
    InvalidKey,
    /// A length, count or whole input is above the limit for its field.
    TooLong,
    /// A flag or enumeration byte has a value the format does not define.
    InvalidValue,
    /// A field that this version reserves for a later feature is present.
    Unsupported,
    /// Stored state decodes but breaks an invariant (counters out of
    /// order, a role that contradicts the chains present, and so on).
    InconsistentState,
}

impl DecodeError {
    /// The stable numeric code of this error (100–199).
    pub const fn code(&self) -> u16 {
        match self {
            Self::Truncated => 101,
            Self::TrailingBytes => 102,
            Self::UnknownVersion(_) => 103,
            Self::UnexpectedKeyType(_) => 104,
            Self::InvalidKey => 105,
            Self::TooLong => 106,
            Self::InvalidValue => 107,
            Self::Unsupported => 108,
            Self::InconsistentState => 109,
        }
    }

    /// What to do: [`Action::Drop`]. Bytes that do not decode cannot become
    /// valid later. (For stored state the application wrote itself, a
    /// decode error means the storage is corrupt.)
    pub const fn action(&self) -> Action {
        Action::Drop
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("input ends before the encoding is complete"),
            Self::TrailingBytes => f.write_str("unexpected bytes after the end of the encoding"),
            Self::UnknownVersion(v) => write!(f, "unknown version tag 0x{v:02x} for this format"),
            Self::UnexpectedKeyType(t) => write!(f, "unexpected key type tag 0x{t:02x}"),
            Self::InvalidKey => f.write_str("public key is not a canonical, usable point"),
            Self::TooLong => f.write_str("length or count above the limit for this field"),
            Self::InvalidValue => f.write_str("flag or enumeration byte has an undefined value"),
            Self::Unsupported => f.write_str("field reserved for a later protocol feature is set"),
            Self::InconsistentState => f.write_str("stored state is internally inconsistent"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A key agreement (X3DH) that could not be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgreementError {
    /// The signed prekey's signature does not verify under the bundle's
    /// identity key. The bundle may have been tampered with by the server.
    InvalidSignature,
    /// The initial message names a signed prekey this device does not hold
    /// (never issued, or rotated out and deleted).
    UnknownSignedPreKey(PreKeyId),
    /// The initial message names a one-time prekey this device does not
    /// hold: never issued, or already used by an earlier initial message.
    UnknownOneTimePreKey(PreKeyId),
    /// A Diffie-Hellman output was all zero: a peer key is of low order.
    NonContributory,
    /// The bundle's KEM prekey signature does not verify under its
    /// identity key: the bundle was altered (a KEM key swapped in from
    /// another bundle, or made up). It is refused, never used without
    /// its KEM prekey.
    InvalidKemSignature,
    /// The initial message names a KEM prekey this device does not hold:
    /// never issued, a one-time KEM prekey already used, or a last-resort
    /// one rotated out and deleted.
    UnknownKemPreKey(PreKeyId),
    /// Post-quantum agreement is required and this one is classic: a
    /// bundle without a KEM prekey (the server ran out, or stripped it), or
    /// an initial message without a KEM ciphertext.
    PostQuantumRequired,
}

impl AgreementError {
    /// The stable numeric code of this error (200–299).
    pub const fn code(&self) -> u16 {
        match self {
            Self::InvalidSignature => 201,
            Self::UnknownSignedPreKey(_) => 202,
            Self::UnknownOneTimePreKey(_) => 203,
            Self::NonContributory => 204,
            Self::InvalidKemSignature => 205,
            Self::UnknownKemPreKey(_) => 206,
            Self::PostQuantumRequired => 207,
        }
    }

    /// What to do: [`Action::Drop`]. A bundle whose signature does not
    /// verify was altered on its way from the peer's device, by the server
    /// or the network: discard it and fetch another. An initial message
    /// naming a prekey this device no longer holds, or carrying a low-order
    /// key, can never be accepted (the sender starts over when it gets no
    /// reply). A classic agreement where post-quantum is required: drop
    /// it; the server may have stripped the KEM prekey, and a peer that
    /// cannot do better must be updated.
    pub const fn action(&self) -> Action {
        Action::Drop
    }
}

impl fmt::Display for AgreementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSignature => f.write_str("signed prekey signature does not verify"),
            Self::UnknownSignedPreKey(id) => write!(f, "no signed prekey with id {}", id.0),
            Self::UnknownOneTimePreKey(id) => {
                write!(f, "no one-time prekey with id {} (never issued or already used)", id.0)
            }
            Self::NonContributory => f.write_str("Diffie-Hellman output is all zero"),
            Self::InvalidKemSignature => f.write_str("KEM prekey signature does not verify"),
            Self::UnknownKemPreKey(id) => {
                write!(f, "no KEM prekey with id {} (never issued, used or deleted)", id.0)
            }
            Self::PostQuantumRequired => {
                f.write_str("post-quantum agreement is required and this one is classic")
            }
        }
    }
}

impl core::error::Error for AgreementError {}

/// A message that could not be decrypted. The session is unchanged.
///
/// All but [`DecryptError::Failed`] are decided from the message's header
/// and what the session has received, before anything is authenticated:
/// the relay can cause them with a forged header. That is safe, since none
/// of them changes the session; it is why their [`Action`] is never more
/// than [`Action::Drop`] or [`Action::ResetSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The bytes are not a well-formed message.
    Malformed(DecodeError),
    /// Authentication failed. The message was altered, belongs to another
    /// session, was not made by the peer, or claims a message number the
    /// peer never sent in a chain that has ended. Deliberately coarse.
    Failed,
    /// The session no longer holds this message's key and cannot tell
    /// whether it decrypted the message before or dropped its key under
    /// the limits: its record of the chain's dropped keys overflowed
    /// [`crate::limits::MAX_DROPPED_RANGES`].
    StaleMessage,
    /// Decrypting would mean skipping more than [`crate::limits::MAX_SKIP`]
    /// messages in one chain. The relay can cause this with a forged
    /// header; a genuine message this far ahead means more than `MAX_SKIP`
    /// of the peer's messages were lost.
    TooManySkipped,
    /// An initial message for a different session (another base key or
    /// another sender). Route initial messages by their base key to the
    /// session that has it, or accept a new one: [`crate::Device::receive`]
    /// does both. The relay can cause this by rewriting a header.
    OtherSession,
    /// This session has already decrypted this message: a replay, or the
    /// relay delivering it twice. The plaintext was returned the first time.
    Duplicate,
    /// The message was never decrypted, and its key was dropped under the
    /// limits of [`crate::limits`] (too many skipped keys or receiving
    /// chains) before it arrived: it can no longer be read. The sender
    /// sent it; the application may tell the user a message was lost.
    KeyDropped,
}

impl DecryptError {
    /// The stable numeric code of this error (300–399).
    pub const fn code(&self) -> u16 {
        match self {
            Self::Malformed(_) => 301,
            Self::Failed => 302,
            Self::StaleMessage => 303,
            Self::TooManySkipped => 304,
            Self::OtherSession => 305,
            Self::Duplicate => 306,
            Self::KeyDropped => 307,
        }
    }

    /// What to do: [`Action::Drop`] for every one. The message is a
    /// duplicate, a forgery, corrupted, misrouted or can no longer be read,
    /// and the session is as it was; the relay can cause each by replaying,
    /// withholding or rewriting messages. (An initial message for another
    /// session is routed by its base key, not a reason to reset.) If a
    /// peer's authentic messages keep failing with
    /// [`DecryptError::Failed`] or [`DecryptError::TooManySkipped`], the two
    /// sides no longer share a state, for example after one of them sent
    /// from a restored copy across a DH step: a new session recovers
    /// ([`crate::Device::reset_session`]).
    pub const fn action(&self) -> Action {
        match self {
            Self::OtherSession
            | Self::Malformed(_)
            | Self::Failed
            | Self::StaleMessage
            | Self::TooManySkipped
            | Self::Duplicate
            | Self::KeyDropped => Action::Drop,
        }
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed message: {e}"),
            Self::Failed => f.write_str("could not decrypt"),
            Self::StaleMessage => f.write_str(
                "message key no longer held; decrypted before or dropped, the session cannot tell",
            ),
            Self::TooManySkipped => f.write_str("too many skipped messages in one chain"),
            Self::OtherSession => f.write_str("initial message belongs to a different session"),
            Self::Duplicate => f.write_str("message already decrypted (a replay)"),
            Self::KeyDropped => {
                f.write_str("message key dropped under the limits before the message arrived")
            }
        }
    }
}

impl core::error::Error for DecryptError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for DecryptError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

/// A message that could not be encrypted. The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptError {
    /// The plaintext is longer than [`crate::limits::MAX_PLAINTEXT_LEN`].
    PlaintextTooLong,
    /// The sending chain has used every message number a `u32` holds. It
    /// renews when the peer's next message arrives.
    ChainExhausted,
    /// A Diffie-Hellman output was all zero.
    NonContributory,
}

impl EncryptError {
    /// The stable numeric code of this error (400–499).
    pub const fn code(&self) -> u16 {
        match self {
            Self::PlaintextTooLong => 401,
            Self::ChainExhausted => 402,
            Self::NonContributory => 403,
        }
    }

    /// What to do. A plaintext too long: [`Action::FixRequest`]. A sending
    /// chain with no numbers left, or a peer ratchet key of low order:
    /// [`Action::ResetSession`].
    pub const fn action(&self) -> Action {
        match self {
            Self::PlaintextTooLong => Action::FixRequest,
            Self::ChainExhausted | Self::NonContributory => Action::ResetSession,
        }
    }
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PlaintextTooLong => f.write_str("plaintext longer than MAX_PLAINTEXT_LEN"),
            Self::ChainExhausted => f.write_str("sending chain has no message numbers left"),
            Self::NonContributory => f.write_str("Diffie-Hellman output is all zero"),
        }
    }
}

impl core::error::Error for EncryptError {}

/// A sender certificate that does not hold at the given time, or a
/// certificate that cannot be issued as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// The certificate's app has no trust root in the recipient's store.
    UntrustedApp,
    /// A signature in the chain does not verify, or the issuer certificate
    /// names another app than the sender certificate.
    BrokenChain,
    /// The issuer is revoked: its key id, or its key itself, is on the
    /// trust store's revocation list.
    Revoked,
    /// The issuer certificate is not valid yet.
    NotYetValid,
    /// The issuer or the sender certificate has expired.
    Expired,
    /// Issuing: the signing key is not the key the issuer certificate names.
    KeyMismatch,
    /// Issuing: the validity window ends before it starts.
    InvalidValidity,
    /// The sender's identity key, or this very certificate, is on the
    /// trust store's deny list.
    Denied,
    /// A prekey bundle carries no certificate, where one is required.
    Missing,
    /// A bundle's certificate certifies another identity key than the
    /// bundle's.
    IdentityMismatch,
    /// A bundle's certificate certifies another device than the one
    /// being contacted.
    AddressMismatch,
}

impl CertificateError {
    /// The stable numeric code of this error (500–599).
    pub const fn code(&self) -> u16 {
        match self {
            Self::UntrustedApp => 501,
            Self::BrokenChain => 502,
            Self::Revoked => 503,
            Self::NotYetValid => 504,
            Self::Expired => 505,
            Self::KeyMismatch => 506,
            Self::InvalidValidity => 507,
            Self::Denied => 508,
            Self::Missing => 509,
            Self::IdentityMismatch => 510,
            Self::AddressMismatch => 511,
        }
    }

    /// What to do. Every certificate error: [`Action::Drop`], except one
    /// not valid yet, which a device whose clock runs slow sees:
    /// [`Action::KeepForLater`]; and errors of issuing:
    /// [`Action::FixRequest`]. None is [`Action::Alarm`], because the relay
    /// can cause each alone: it can seal an envelope under a key of its own
    /// with a made-up chain (a broken chain), replay an envelope sealed
    /// before this device revoked an issuer, denied a sender or replaced a
    /// root (revoked, denied, broken), and hand out a bundle without its
    /// certificate or with another device's (missing, mismatched). Start
    /// no session from such a bundle.
    pub const fn action(&self) -> Action {
        match self {
            Self::UntrustedApp
            | Self::BrokenChain
            | Self::Revoked
            | Self::Expired
            | Self::Denied
            | Self::Missing
            | Self::IdentityMismatch
            | Self::AddressMismatch => Action::Drop,
            Self::NotYetValid => Action::KeepForLater,
            Self::KeyMismatch | Self::InvalidValidity => Action::FixRequest,
        }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UntrustedApp => f.write_str("no trust root for the certificate's app"),
            Self::BrokenChain => f.write_str("certificate chain does not verify"),
            Self::Revoked => f.write_str("the certificate's issuer is revoked"),
            Self::NotYetValid => f.write_str("the issuer certificate is not valid yet"),
            Self::Expired => f.write_str("certificate expired"),
            Self::KeyMismatch => f.write_str("signing key is not the issuer certificate's key"),
            Self::InvalidValidity => f.write_str("validity window ends before it starts"),
            Self::Denied => f.write_str("the sender's identity or certificate is denied"),
            Self::Missing => f.write_str("the bundle carries no certificate"),
            Self::IdentityMismatch => {
                f.write_str("the bundle's certificate certifies another identity key")
            }
            Self::AddressMismatch => {
                f.write_str("the bundle's certificate certifies another device")
            }
        }
    }
}

impl core::error::Error for CertificateError {}

/// An envelope that could not be unsealed. Nothing anywhere is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsealError {
    /// The bytes are not a well-formed envelope, or its decrypted contents
    /// are not well formed.
    Malformed(DecodeError),
    /// The envelope, or its contents, is addressed to another recipient.
    NotForRecipient,
    /// The envelope does not decrypt: altered, or not sealed to this key.
    Failed,
    /// The envelope was not sealed by the identity key its certificate
    /// names: a valid certificate used with another key, or a share tag
    /// altered on the way (which the relay can do).
    SenderMismatch,
    /// The sender certificate does not validate.
    Certificate(CertificateError),
    /// The envelope was sealed by the identity its certificate names, but
    /// carries an initial message that names another identity: a certified
    /// sender passing a session off as someone else's.
    ForeignInitialMessage,
    /// [`crate::Unsealed::decrypt`] was handed a session with another peer
    /// than the envelope's sender. Nothing was decrypted; use the sender's
    /// session.
    WrongSession,
}

impl UnsealError {
    /// The stable numeric code of this error (600–699); a certificate
    /// error gives its own 5xx code.
    pub const fn code(&self) -> u16 {
        match self {
            Self::Malformed(_) => 601,
            Self::NotForRecipient => 602,
            Self::Failed => 603,
            Self::SenderMismatch => 604,
            Self::ForeignInitialMessage => 605,
            Self::WrongSession => 606,
            Self::Certificate(e) => e.code(),
        }
    }

    /// What to do. An envelope that does not parse, is not for this
    /// device, does not decrypt or does not verify under its certificate's
    /// identity: [`Action::Drop`] (the relay can cause each). One whose
    /// certified sender sealed an initial message naming another identity:
    /// [`Action::Alarm`]. The wrong session handed to
    /// [`crate::Unsealed::decrypt`]: [`Action::FixRequest`]. A certificate
    /// error answers as [`CertificateError::action`].
    pub const fn action(&self) -> Action {
        match self {
            Self::Malformed(_) | Self::NotForRecipient | Self::Failed | Self::SenderMismatch => {
                Action::Drop
            }
            Self::ForeignInitialMessage => Action::Alarm,
            Self::WrongSession => Action::FixRequest,
            Self::Certificate(e) => e.action(),
        }
    }
}

impl fmt::Display for UnsealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed envelope: {e}"),
            Self::NotForRecipient => f.write_str("envelope addressed to another recipient"),
            Self::Failed => f.write_str("could not unseal"),
            Self::SenderMismatch => {
                f.write_str("envelope not sealed by the identity its certificate names")
            }
            Self::Certificate(e) => write!(f, "sender certificate: {e}"),
            Self::ForeignInitialMessage => {
                f.write_str("initial message names another identity than its sender's certificate")
            }
            Self::WrongSession => f.write_str("session is with another peer than the sender"),
        }
    }
}

impl core::error::Error for UnsealError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Malformed(e) => Some(e),
            Self::Certificate(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for UnsealError {
    fn from(e: DecodeError) -> Self {
        Self::Malformed(e)
    }
}

impl From<CertificateError> for UnsealError {
    fn from(e: CertificateError) -> Self {
        Self::Certificate(e)
    }
}

/// An envelope that could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SealError {
    /// The sealing identity is not the one the sender certificate names.
    CertificateMismatch,
    /// No recipients were given.
    NoRecipients,
    /// More than [`crate::limits::MAX_RECIPIENTS`] recipients.
    TooManyRecipients,
    /// A recipient was given twice.
    DuplicateRecipient,
    /// A message to seal is not an initial or ratchet message.
    InvalidMessage(DecodeError),
    /// The envelope would exceed [`crate::limits::MAX_ENVELOPE_LEN`], or
    /// its recipients times its length would exceed
    /// [`crate::limits::MAX_FANOUT_BYTES`].
    TooLong,
    /// A Diffie-Hellman output was all zero: a recipient key of low order.
    NonContributory,
    /// An initial message to seal names another identity than the sealing
    /// one: the recipient would refuse it (it must come from the identity
    /// the certificate names).
    ForeignInitialMessage,
}

impl SealError {
    /// The stable numeric code of this error (700–799).
    pub const fn code(&self) -> u16 {
        match self {
            Self::CertificateMismatch => 701,
            Self::NoRecipients => 702,
            Self::TooManyRecipients => 703,
            Self::DuplicateRecipient => 704,
            Self::InvalidMessage(_) => 705,
            Self::TooLong => 706,
            Self::NonContributory => 707,
            Self::ForeignInitialMessage => 708,
        }
    }

    /// What to do: [`Action::FixRequest`]. Every sealing error is decided by
    /// the arguments, before anything is sent.
    pub const fn action(&self) -> Action {
        Action::FixRequest
    }
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CertificateMismatch => {
                f.write_str("sealing identity is not the sender certificate's")
            }
            Self::NoRecipients => f.write_str("no recipients"),
            Self::TooManyRecipients => f.write_str("more recipients than MAX_RECIPIENTS"),
            Self::DuplicateRecipient => f.write_str("a recipient appears twice"),
            Self::InvalidMessage(e) => write!(f, "not a sealwire message: {e}"),
            Self::TooLong => f.write_str("envelope longer than MAX_ENVELOPE_LEN"),
            Self::NonContributory => f.write_str("Diffie-Hellman output is all zero"),
            Self::ForeignInitialMessage => {
                f.write_str("initial message names another identity than the sealer's")
            }
        }
    }
}

impl core::error::Error for SealError {}

/// A group operation that failed (sender keys, `docs/protocol.md` §21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupError {
    /// No sender key of the sending device opens this message: its
    /// distribution message has not arrived yet, or the chain was
    /// forgotten (past [`crate::limits::MAX_SENDER_KEY_CHAINS`]). Decided
    /// from the message's header alone, so the relay can cause it.
    NoSenderKey,
    /// The group message's signature does not verify under the sender
    /// key's signing key: a forgery, or a message of another chain.
    InvalidSignature,
    /// The sender is not a member of the group as this device has it.
    NotAMember,
    /// This device has no group of that id.
    UnknownGroup,
    /// A group of that id exists already.
    GroupExists,
    /// More members than [`crate::limits::MAX_GROUP_MEMBERS`].
    TooManyMembers,
    /// The members' device lists name more devices than
    /// [`crate::limits::MAX_GROUP_DEVICES`].
    TooManyDevices,
    /// A sender key from one more device than a group record holds
    /// (at most [`crate::limits::MAX_GROUP_DEVICES`] senders): refused.
    TooManySenders,
}

impl GroupError {
    /// The stable numeric code of this error (1000–1099).
    pub const fn code(&self) -> u16 {
        match self {
            Self::NoSenderKey => 1001,
            Self::InvalidSignature => 1002,
            Self::NotAMember => 1003,
            Self::UnknownGroup => 1004,
            Self::GroupExists => 1005,
            Self::TooManyMembers => 1006,
            Self::TooManyDevices => 1007,
            Self::TooManySenders => 1008,
        }
    }

    /// What to do. No sender key, or no such group here yet:
    /// [`Action::KeepForLater`] (receive the envelope again once the
    /// sender's distribution message, or the group from the app's server,
    /// has arrived). A forged signature, or a sender outside the group:
    /// [`Action::Drop`]. A call that cannot succeed as made:
    /// [`Action::FixRequest`].
    pub const fn action(&self) -> Action {
        match self {
            Self::NoSenderKey | Self::UnknownGroup => Action::KeepForLater,
            Self::InvalidSignature | Self::NotAMember | Self::TooManySenders => Action::Drop,
            Self::GroupExists | Self::TooManyMembers | Self::TooManyDevices => Action::FixRequest,
        }
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSenderKey => "no sender key of the sending device opens this group message",
            Self::InvalidSignature => "group message signature does not verify",
            Self::NotAMember => "the sender is not a member of the group",
            Self::UnknownGroup => "no group of that id on this device",
            Self::GroupExists => "a group of that id exists already",
            Self::TooManyMembers => "more members than MAX_GROUP_MEMBERS",
            Self::TooManyDevices => "more devices than MAX_GROUP_DEVICES",
            Self::TooManySenders => "more senders in one group than MAX_GROUP_DEVICES",
        })
    }
}

impl core::error::Error for GroupError {}

/// Any sealwire error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// See [`DecodeError`].
    Decode(DecodeError),
    /// See [`AgreementError`].
    Agreement(AgreementError),
    /// See [`DecryptError`].
    Decrypt(DecryptError),
    /// See [`EncryptError`].
    Encrypt(EncryptError),
    /// See [`CertificateError`].
    Certificate(CertificateError),
    /// See [`UnsealError`].
    Unseal(UnsealError),
    /// See [`SealError`].
    Seal(SealError),
    /// See [`GroupError`].
    Group(GroupError),
}

impl Error {
    /// The stable numeric code of the wrapped error. Codes are grouped by
    /// area: 1xx decoding, 2xx agreement, 3xx decryption, 4xx encryption,
    /// 5xx certificates, 6xx unsealing, 7xx sealing, 10xx groups (8xx and
    /// 9xx are the device layer's and the store's,
    /// [`crate::DeviceError::code`]).
    pub const fn code(&self) -> u16 {
        match self {
            Self::Decode(e) => e.code(),
            Self::Agreement(e) => e.code(),
            Self::Decrypt(e) => e.code(),
            Self::Encrypt(e) => e.code(),
            Self::Certificate(e) => e.code(),
            Self::Unseal(e) => e.code(),
            Self::Seal(e) => e.code(),
            Self::Group(e) => e.code(),
        }
    }

    /// What the application should do about this error (see [`Action`]).
    pub const fn action(&self) -> Action {
        match self {
            Self::Decode(e) => e.action(),
            Self::Agreement(e) => e.action(),
            Self::Decrypt(e) => e.action(),
            Self::Encrypt(e) => e.action(),
            Self::Certificate(e) => e.action(),
            Self::Unseal(e) => e.action(),
            Self::Seal(e) => e.action(),
            Self::Group(e) => e.action(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::Agreement(e) => e.fmt(f),
            Self::Decrypt(e) => e.fmt(f),
            Self::Encrypt(e) => e.fmt(f),
            Self::Certificate(e) => e.fmt(f),
            Self::Unseal(e) => e.fmt(f),
            Self::Seal(e) => e.fmt(f),
            Self::Group(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::Agreement(e) => Some(e),
            Self::Decrypt(e) => Some(e),
            Self::Encrypt(e) => Some(e),
            Self::Certificate(e) => Some(e),
            Self::Unseal(e) => Some(e),
            Self::Seal(e) => Some(e),
            Self::Group(e) => Some(e),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<AgreementError> for Error {
    fn from(e: AgreementError) -> Self {
        Self::Agreement(e)
    }
}

impl From<DecryptError> for Error {
    fn from(e: DecryptError) -> Self {
        Self::Decrypt(e)
    }
}

impl From<EncryptError> for Error {
    fn from(e: EncryptError) -> Self {
        Self::Encrypt(e)
    }
}

impl From<CertificateError> for Error {
    fn from(e: CertificateError) -> Self {
        Self::Certificate(e)
    }
}

impl From<UnsealError> for Error {
    fn from(e: UnsealError) -> Self {
        Self::Unseal(e)
    }
}

impl From<SealError> for Error {
    fn from(e: SealError) -> Self {
        Self::Seal(e)
    }
}

impl From<GroupError> for Error {
    fn from(e: GroupError) -> Self {
        Self::Group(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_in_their_area() {
        let all = [
            Error::Decode(DecodeError::Truncated),
            Error::Decode(DecodeError::TrailingBytes),
            Error::Decode(DecodeError::UnknownVersion(0)),
            Error::Decode(DecodeError::UnexpectedKeyType(0)),
            Error::Decode(DecodeError::InvalidKey),
            Error::Decode(DecodeError::TooLong),
            Error::Decode(DecodeError::InvalidValue),
            Error::Decode(DecodeError::Unsupported),
            Error::Decode(DecodeError::InconsistentState),
            Error::Agreement(AgreementError::InvalidSignature),
            Error::Agreement(AgreementError::UnknownSignedPreKey(PreKeyId(1))),
            Error::Agreement(AgreementError::UnknownOneTimePreKey(PreKeyId(1))),
            Error::Agreement(AgreementError::NonContributory),
            Error::Decrypt(DecryptError::Malformed(DecodeError::Truncated)),
            Error::Decrypt(DecryptError::Failed),
            Error::Decrypt(DecryptError::StaleMessage),
            Error::Decrypt(DecryptError::TooManySkipped),
            Error::Decrypt(DecryptError::OtherSession),
            Error::Decrypt(DecryptError::Duplicate),
            Error::Decrypt(DecryptError::KeyDropped),
            Error::Encrypt(EncryptError::PlaintextTooLong),
            Error::Encrypt(EncryptError::ChainExhausted),
            Error::Encrypt(EncryptError::NonContributory),
            Error::Certificate(CertificateError::UntrustedApp),
            Error::Certificate(CertificateError::BrokenChain),
            Error::Certificate(CertificateError::Revoked),
            Error::Certificate(CertificateError::NotYetValid),
            Error::Certificate(CertificateError::Expired),
            Error::Certificate(CertificateError::KeyMismatch),
            Error::Certificate(CertificateError::InvalidValidity),
            Error::Certificate(CertificateError::Denied),
            Error::Certificate(CertificateError::Missing),
            Error::Certificate(CertificateError::IdentityMismatch),
            Error::Certificate(CertificateError::AddressMismatch),
            Error::Unseal(UnsealError::Malformed(DecodeError::Truncated)),
            Error::Unseal(UnsealError::NotForRecipient),
            Error::Unseal(UnsealError::Failed),
            Error::Unseal(UnsealError::SenderMismatch),
            Error::Unseal(UnsealError::ForeignInitialMessage),
            Error::Unseal(UnsealError::WrongSession),
            Error::Seal(SealError::CertificateMismatch),
            Error::Seal(SealError::NoRecipients),
            Error::Seal(SealError::TooManyRecipients),
            Error::Seal(SealError::DuplicateRecipient),
            Error::Seal(SealError::InvalidMessage(DecodeError::Truncated)),
            Error::Seal(SealError::TooLong),
            Error::Seal(SealError::NonContributory),
            Error::Seal(SealError::ForeignInitialMessage),
            Error::Group(GroupError::NoSenderKey),
            Error::Group(GroupError::InvalidSignature),
            Error::Group(GroupError::NotAMember),
            Error::Group(GroupError::UnknownGroup),
            Error::Group(GroupError::GroupExists),
            Error::Group(GroupError::TooManyMembers),
            Error::Group(GroupError::TooManyDevices),
            Error::Group(GroupError::TooManySenders),
        ];
        let mut codes: alloc::vec::Vec<u16> = all.iter().map(Error::code).collect();
        for e in &all {
            let area = match e {
                Error::Decode(_) => 1,
                Error::Agreement(_) => 2,
                Error::Decrypt(_) => 3,
                Error::Encrypt(_) => 4,
                Error::Certificate(_) => 5,
                Error::Unseal(_) => 6,
                Error::Seal(_) => 7,
                Error::Group(_) => 10,
            };
            assert_eq!(e.code() / 100, area, "{e:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
