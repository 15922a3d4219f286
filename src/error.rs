//! Errors, one enum per area, and a top-level [`Error`] that wraps them.
//!
//! Every variant has a stable numeric code ([`Error::code`]) for callers
//! that cannot match on Rust enums, such as the C ABI. Codes are never
//! reused: a variant that is removed leaves a gap.
//!
//! Decryption failures are deliberately coarse: [`DecryptError::Failed`]
//! covers a bad tag, a wrong key and a message from another session alike,
//! so that an attacker learns nothing from which check failed. The finer
//! errors ([`DecryptError::Malformed`], [`DecryptError::TooManySkipped`],
//! [`DecryptError::StaleMessage`]) depend only on public header fields.

use core::fmt;

use crate::prekey::PreKeyId;

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
}

impl AgreementError {
    /// The stable numeric code of this error (200–299).
    pub const fn code(&self) -> u16 {
        match self {
            Self::InvalidSignature => 201,
            Self::UnknownSignedPreKey(_) => 202,
            Self::UnknownOneTimePreKey(_) => 203,
            Self::NonContributory => 204,
        }
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
        }
    }
}

impl core::error::Error for AgreementError {}

/// A message that could not be decrypted. The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The bytes are not a well-formed message.
    Malformed(DecodeError),
    /// Authentication failed. The message was altered, belongs to another
    /// session, or was not made by the peer. Deliberately coarse.
    Failed,
    /// The message's key is no longer held: the message was decrypted
    /// before (a replay), or its key was discarded under the storage
    /// limits of [`crate::limits`].
    StaleMessage,
    /// Decrypting would mean skipping more than [`crate::limits::MAX_SKIP`]
    /// messages in one chain.
    TooManySkipped,
    /// An initial message for a different session (another base key or
    /// another sender). If it is a new session from the peer, accept it with
    /// [`crate::Session::accept`].
    OtherSession,
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
        }
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed message: {e}"),
            Self::Failed => f.write_str("could not decrypt"),
            Self::StaleMessage => f.write_str("message key no longer held (replayed or too old)"),
            Self::TooManySkipped => f.write_str("too many skipped messages in one chain"),
            Self::OtherSession => f.write_str("initial message belongs to a different session"),
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
    /// The issuer's key id is on the revocation list.
    Revoked,
    /// The issuer certificate is not valid yet.
    NotYetValid,
    /// The issuer or the sender certificate has expired.
    Expired,
    /// Issuing: the signing key is not the key the issuer certificate names.
    KeyMismatch,
    /// Issuing: the validity window ends before it starts.
    InvalidValidity,
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
    /// names (a valid certificate used with another key), or its message
    /// names another identity than its certificate.
    SenderMismatch,
    /// The sender certificate does not validate.
    Certificate(CertificateError),
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
            Self::Certificate(e) => e.code(),
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
    /// The envelope would exceed [`crate::limits::MAX_ENVELOPE_LEN`].
    TooLong,
    /// A Diffie-Hellman output was all zero.
    NonContributory,
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
        }
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
        }
    }
}

impl core::error::Error for SealError {}

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
}

impl Error {
    /// The stable numeric code of the wrapped error. Codes are grouped by
    /// area: 1xx decoding, 2xx agreement, 3xx decryption, 4xx encryption,
    /// 5xx certificates, 6xx unsealing, 7xx sealing.
    pub const fn code(&self) -> u16 {
        match self {
            Self::Decode(e) => e.code(),
            Self::Agreement(e) => e.code(),
            Self::Decrypt(e) => e.code(),
            Self::Encrypt(e) => e.code(),
            Self::Certificate(e) => e.code(),
            Self::Unseal(e) => e.code(),
            Self::Seal(e) => e.code(),
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
            Error::Unseal(UnsealError::Malformed(DecodeError::Truncated)),
            Error::Unseal(UnsealError::NotForRecipient),
            Error::Unseal(UnsealError::Failed),
            Error::Unseal(UnsealError::SenderMismatch),
            Error::Seal(SealError::CertificateMismatch),
            Error::Seal(SealError::NoRecipients),
            Error::Seal(SealError::TooManyRecipients),
            Error::Seal(SealError::DuplicateRecipient),
            Error::Seal(SealError::InvalidMessage(DecodeError::Truncated)),
            Error::Seal(SealError::TooLong),
            Error::Seal(SealError::NonContributory),
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
            };
            assert_eq!(e.code() / 100, area, "{e:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
