//! What a sealed envelope's payload holds once decrypted: the sender
//! certificate and one entry per recipient, then zero padding.
//!
//! ```text
//! u32 length, sender certificate
//! u32 n (1 ..= MAX_RECIPIENTS)
//! n × ( Encode(IK_R), u8 content type, u32 length, message )
//! zero bytes of padding to the end
//! ```
//!
//! Each recipient's entry carries the message for its own session with the
//! sender: an initial message (content type `0x01`) or a ratchet message
//! (`0x02`). A single-recipient envelope has one entry. The version tags
//! of the messages are `0x22` and `0x32`.

use alloc::vec::Vec;

use crate::certificate::SenderCertificate;
use crate::codec::{Codec, Reader, Writer};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{KEY_IDENTITY, V_INITIAL_MESSAGE, V_RATCHET_MESSAGE};
use crate::limits::{MAX_MESSAGE_LEN, MAX_RECIPIENTS};

/// The kind of message an entry carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    /// An initial (X3DH) message, for [`crate::Session::accept`] or the
    /// session it established.
    Initial,
    /// A ratchet message, for an established session.
    Ratchet,
}

impl ContentType {
    const fn to_byte(self) -> u8 {
        match self {
            Self::Initial => 0x01,
            Self::Ratchet => 0x02,
        }
    }

    /// The type of a message, from its version tag.
    pub(crate) fn of(message: &[u8]) -> Result<Self, DecodeError> {
        match message.first() {
            Some(&V_INITIAL_MESSAGE) => Ok(Self::Initial),
            Some(&V_RATCHET_MESSAGE) => Ok(Self::Ratchet),
            Some(&other) => Err(DecodeError::UnknownVersion(other)),
            None => Err(DecodeError::Truncated),
        }
    }
}

/// Bytes an entry adds besides its message.
pub(crate) const ENTRY_OVERHEAD: usize = IdentityKey::ENCODED_LEN + 1 + 4;

/// One recipient's entry, as read: the recipient's key is kept as its
/// encoding, compared with the reader's own rather than decoded.
pub(crate) struct Entry<'a> {
    pub(crate) recipient: [u8; IdentityKey::ENCODED_LEN],
    pub(crate) content_type: ContentType,
    pub(crate) message: &'a [u8],
}

/// One recipient's entry, to be written.
pub(crate) struct Outgoing<'m> {
    pub(crate) recipient: IdentityKey,
    pub(crate) content_type: ContentType,
    pub(crate) message: &'m [u8],
}

/// The length of the content before padding, or `None` if it does not fit
/// a `usize` (on a 32-bit target, 4096 entries of the longest message
/// would not).
pub(crate) fn unpadded_len(certificate: &[u8], entries: &[(IdentityKey, &[u8])]) -> Option<usize> {
    unpadded_len_of(certificate.len(), entries.iter().map(|(_, m)| m.len()))
}

/// [`unpadded_len`] from the lengths alone.
fn unpadded_len_of(certificate: usize, messages: impl Iterator<Item = usize>) -> Option<usize> {
    messages.fold(4usize.checked_add(certificate)?.checked_add(4), |sum, m| {
        sum?.checked_add(ENTRY_OVERHEAD)?.checked_add(m)
    })
}

/// Appends the content and `padding` zero bytes. Callers have checked
/// every message's type and the recipient count.
pub(crate) fn write(
    w: &mut Writer<'_>,
    certificate: &[u8],
    entries: &[Outgoing<'_>],
    padding: usize,
) {
    w.bytes_u32(certificate);
    w.u32(u32::try_from(entries.len()).unwrap_or(u32::MAX));
    for entry in entries {
        entry.recipient.encode(w);
        w.u8(entry.content_type.to_byte());
        w.bytes_u32(entry.message);
    }
    w.zeros(padding);
}

/// Reads a decrypted payload.
pub(crate) fn read(plaintext: &[u8]) -> Result<(SenderCertificate, Vec<Entry<'_>>), DecodeError> {
    let mut r = Reader::new(plaintext);
    let certificate = SenderCertificate::decode_exact(
        r.bytes_u32(SenderCertificate::MAX_ENCODED_LEN)?,
        SenderCertificate::MAX_ENCODED_LEN,
    )?;
    let raw = r.u32()?;
    let count = r.count(raw, MAX_RECIPIENTS, ENTRY_OVERHEAD)?;
    if count == 0 {
        return Err(DecodeError::InvalidValue);
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let recipient: [u8; IdentityKey::ENCODED_LEN] = r.array()?;
        if recipient.first() != Some(&KEY_IDENTITY) {
            return Err(DecodeError::UnexpectedKeyType(recipient.first().copied().unwrap_or(0)));
        }
        let content_type = match r.u8()? {
            0x01 => ContentType::Initial,
            0x02 => ContentType::Ratchet,
            _ => return Err(DecodeError::InvalidValue),
        };
        let message = r.bytes_u32(MAX_MESSAGE_LEN)?;
        if ContentType::of(message)? != content_type {
            return Err(DecodeError::InconsistentState);
        }
        entries.push(Entry { recipient, content_type, message });
    }
    // The rest is padding, which must be zero.
    let padding = r.take(r.remaining())?;
    if padding.iter().any(|&b| b != 0) {
        return Err(DecodeError::InvalidValue);
    }
    Ok((certificate, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_is_checked_where_a_usize_is_32_bits() {
        assert_eq!(unpadded_len_of(100, [10, 20].into_iter()), Some(8 + 100 + 2 * 38 + 30));
        // What would wrap on a 32-bit target, written for this one: a sum
        // past usize::MAX is None, not a small number.
        assert_eq!(unpadded_len_of(usize::MAX - 8, core::iter::empty()), Some(usize::MAX));
        assert_eq!(unpadded_len_of(usize::MAX - 7, core::iter::empty()), None);
        assert_eq!(unpadded_len_of(0, [usize::MAX - 46].into_iter()), Some(usize::MAX));
        assert_eq!(unpadded_len_of(0, [usize::MAX - 45].into_iter()), None);
        assert_eq!(unpadded_len_of(0, [usize::MAX / 2, usize::MAX / 2].into_iter()), None);
    }
}
