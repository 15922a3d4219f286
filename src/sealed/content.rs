//! What a sealed envelope's payload holds once decrypted: the sender
//! certificate, a layout byte, then either one entry per recipient or one
//! group message shared by all recipients, then zero padding.
//!
//! ```text
//! u32 length, sender certificate
//! u8 layout
//!   0x01 (entries): u32 n (1 ..= MAX_RECIPIENTS),
//!                   n × ( Encode(IK_R), u8 content type, u32 length, message )
//!   0x02 (shared):  u8 content type (0x03), u32 length, group message
//! zero bytes of padding to the end
//! ```
//!
//! Content types: `0x01` an initial message and `0x02` a ratchet message
//! of the recipient's session with the sender; `0x11` and `0x12` the same
//! two, whose plaintext is a sender key distribution message
//! (`docs/protocol.md` §21.3) rather than the application's; `0x03` a
//! group message. The version tags of the messages are `0x23`, `0x32` and
//! `0xFF 0xC1`, and each must match its content type.

use alloc::vec::Vec;

use crate::certificate::SenderCertificate;
use crate::codec::{Codec, Reader, Writer};
use crate::error::DecodeError;
use crate::group::GroupMessage;
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, KEY_IDENTITY, V_INITIAL_MESSAGE, V_RATCHET_MESSAGE, X_GROUP_MESSAGE};
use crate::limits::{MAX_MESSAGE_LEN, MAX_RECIPIENTS};

/// The kind of message an envelope carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentType {
    /// An initial (X3DH) message, for [`crate::Session::accept`] or the
    /// session it established.
    Initial,
    /// A ratchet message, for an established session.
    Ratchet,
    /// A group message, for the sender's [`crate::SenderKeyRecord`]: the
    /// same for every recipient of the envelope.
    Group,
}

impl ContentType {
    /// The byte of an entry: `distribution` marks a session message whose
    /// plaintext is a sender key distribution message.
    const fn to_byte(self, distribution: bool) -> u8 {
        let base = match self {
            Self::Initial => 0x01,
            Self::Ratchet => 0x02,
            Self::Group => 0x03,
        };
        if distribution { base | 0x10 } else { base }
    }

    /// The type of a message, from its version tag.
    pub(crate) fn of(message: &[u8]) -> Result<Self, DecodeError> {
        match message {
            [V_INITIAL_MESSAGE, ..] => Ok(Self::Initial),
            [V_RATCHET_MESSAGE, ..] => Ok(Self::Ratchet),
            [ESCAPE, X_GROUP_MESSAGE, ..] => Ok(Self::Group),
            [ESCAPE] | [] => Err(DecodeError::Truncated),
            [other, ..] => Err(DecodeError::UnknownVersion(*other)),
        }
    }
}

/// The layout byte of entries per recipient.
const LAYOUT_ENTRIES: u8 = 0x01;
/// The layout byte of one group message shared by all recipients.
const LAYOUT_SHARED: u8 = 0x02;

/// Bytes an entry adds besides its message.
pub(crate) const ENTRY_OVERHEAD: usize = IdentityKey::ENCODED_LEN + 1 + 4;

/// One recipient's entry, as read: the recipient's key is kept as its
/// encoding, compared with the reader's own rather than decoded.
pub(crate) struct Entry<'a> {
    pub(crate) recipient: [u8; IdentityKey::ENCODED_LEN],
    pub(crate) content_type: ContentType,
    pub(crate) distribution: bool,
    pub(crate) message: &'a [u8],
}

/// A payload's content, as read.
pub(crate) enum Content<'a> {
    /// One entry per recipient.
    Entries(Vec<Entry<'a>>),
    /// One group message for every recipient.
    Shared(&'a [u8]),
}

/// One recipient's entry, to be written.
pub(crate) struct Outgoing<'m> {
    pub(crate) recipient: IdentityKey,
    pub(crate) content_type: ContentType,
    pub(crate) distribution: bool,
    pub(crate) message: &'m [u8],
}

/// What to write.
pub(crate) enum Writing<'e, 'm> {
    Entries(&'e [Outgoing<'m>]),
    Shared(&'m [u8]),
}

/// The length of the content before padding, or `None` if it does not fit
/// a `usize` (on a 32-bit target, 4096 entries of the longest message
/// would not).
pub(crate) fn unpadded_len(certificate: &[u8], content: &Writing<'_, '_>) -> Option<usize> {
    match content {
        Writing::Entries(entries) => {
            unpadded_len_of(certificate.len(), entries.iter().map(|e| e.message.len()))
        }
        Writing::Shared(message) => 4usize
            .checked_add(certificate.len())?
            .checked_add(1 + 1 + 4)?
            .checked_add(message.len()),
    }
}

/// [`unpadded_len`] of entries from the lengths alone.
fn unpadded_len_of(certificate: usize, messages: impl Iterator<Item = usize>) -> Option<usize> {
    messages.fold(4usize.checked_add(certificate)?.checked_add(1 + 4), |sum, m| {
        sum?.checked_add(ENTRY_OVERHEAD)?.checked_add(m)
    })
}

/// Appends the content and `padding` zero bytes. Callers have checked
/// every message's type and the recipient count.
pub(crate) fn write(
    w: &mut Writer<'_>,
    certificate: &[u8],
    content: &Writing<'_, '_>,
    padding: usize,
) {
    w.bytes_u32(certificate);
    match content {
        Writing::Entries(entries) => {
            w.u8(LAYOUT_ENTRIES);
            w.u32(u32::try_from(entries.len()).unwrap_or(u32::MAX));
            for entry in *entries {
                entry.recipient.encode(w);
                w.u8(entry.content_type.to_byte(entry.distribution));
                w.bytes_u32(entry.message);
            }
        }
        Writing::Shared(message) => {
            w.u8(LAYOUT_SHARED);
            w.u8(ContentType::Group.to_byte(false));
            w.bytes_u32(message);
        }
    }
    w.zeros(padding);
}

/// Reads a decrypted payload.
pub(crate) fn read(plaintext: &[u8]) -> Result<(SenderCertificate, Content<'_>), DecodeError> {
    let mut r = Reader::new(plaintext);
    let certificate = SenderCertificate::decode_exact(
        r.bytes_u32(SenderCertificate::MAX_ENCODED_LEN)?,
        SenderCertificate::MAX_ENCODED_LEN,
    )?;
    let content = match r.u8()? {
        LAYOUT_ENTRIES => Content::Entries(read_entries(&mut r)?),
        LAYOUT_SHARED => {
            if r.u8()? != ContentType::Group.to_byte(false) {
                return Err(DecodeError::InvalidValue);
            }
            let message = r.bytes_u32(GroupMessage::MAX_ENCODED_LEN)?;
            GroupMessage::parse(message)?;
            Content::Shared(message)
        }
        _ => return Err(DecodeError::InvalidValue),
    };
    // The rest is padding, which must be zero.
    let padding = r.take(r.remaining())?;
    if padding.iter().any(|&b| b != 0) {
        return Err(DecodeError::InvalidValue);
    }
    Ok((certificate, content))
}

fn read_entries<'a>(r: &mut Reader<'a>) -> Result<Vec<Entry<'a>>, DecodeError> {
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
        let (content_type, distribution) = match r.u8()? {
            0x01 => (ContentType::Initial, false),
            0x02 => (ContentType::Ratchet, false),
            0x11 => (ContentType::Initial, true),
            0x12 => (ContentType::Ratchet, true),
            _ => return Err(DecodeError::InvalidValue),
        };
        let message = r.bytes_u32(MAX_MESSAGE_LEN)?;
        if ContentType::of(message)? != content_type {
            return Err(DecodeError::InconsistentState);
        }
        entries.push(Entry { recipient, content_type, distribution, message });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_is_checked_where_a_usize_is_32_bits() {
        assert_eq!(unpadded_len_of(100, [10, 20].into_iter()), Some(9 + 100 + 2 * 38 + 30));
        // What would wrap on a 32-bit target, written for this one: a sum
        // past usize::MAX is None, not a small number.
        assert_eq!(unpadded_len_of(usize::MAX - 9, core::iter::empty()), Some(usize::MAX));
        assert_eq!(unpadded_len_of(usize::MAX - 8, core::iter::empty()), None);
        assert_eq!(unpadded_len_of(0, [usize::MAX - 47].into_iter()), Some(usize::MAX));
        assert_eq!(unpadded_len_of(0, [usize::MAX - 46].into_iter()), None);
        assert_eq!(unpadded_len_of(0, [usize::MAX / 2, usize::MAX / 2].into_iter()), None);
    }
}
