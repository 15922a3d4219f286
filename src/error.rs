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
                write!(
                    f,
                    "no one-time prekey with id {} (never issued or already used)",
                    id.0
                )
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
}

impl Error {
    /// The stable numeric code of the wrapped error. Codes are grouped by
    /// area: 1xx decoding, 2xx agreement, 3xx decryption, 4xx encryption.
    pub const fn code(&self) -> u16 {
        match self {
            Self::Decode(e) => e.code(),
            Self::Agreement(e) => e.code(),
            Self::Decrypt(e) => e.code(),
            Self::Encrypt(e) => e.code(),
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
        ];
        let mut codes: alloc::vec::Vec<u16> = all.iter().map(Error::code).collect();
        for e in &all {
            let area = match e {
                Error::Decode(_) => 1,
                Error::Agreement(_) => 2,
                Error::Decrypt(_) => 3,
                Error::Encrypt(_) => 4,
            };
            assert_eq!(e.code() / 100, area, "{e:?}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
