//! Groups: sender keys, as in Signal's sender keys and Matrix's Megolm.
//!
//! Each device that writes to a group has, for that group, a **sender
//! key**: a chain key that moves forward one HMAC step per message, and an
//! Ed25519 signing key. A group message is one chain step, one
//! XChaCha20-Poly1305 seal and one signature, and every member receives
//! the same ciphertext. The sender hands its sender key to each member
//! device over their pairwise session, in a [`SenderKeyDistribution`]
//! (sealed with its own content type); a member that gets it can read the
//! sender's messages from that point of the chain on, never earlier ones.
//!
//! ```text
//! seed_i  = HMAC-SHA256(CK_i, 0x01)          CK_{i+1} = HMAC-SHA256(CK_i, 0x02)
//! K_i     = HKDF-SHA256(salt = 32 zero bytes, ikm = seed_i,
//!                       info = "sealwire/group/message-key/v1", 32 bytes)
//! message = header (group id, chain id, i, nonce) ‖ XChaCha20-Poly1305(K_i, nonce, AD = header)
//!           ‖ Ed25519 signature of everything before it, by the chain's signing key
//! ```
//!
//! A receiver keeps, per group and sender device, a [`SenderKeyRecord`]:
//! at most [`MAX_SENDER_KEY_CHAINS`] chains of that sender (the current
//! one and those it rotated away from), each with its skipped keys
//! (bounded by [`MAX_SENDER_KEY_SKIP`] per message and
//! [`MAX_SENDER_KEY_SKIPPED_KEYS`] in all) and what it needs to tell a
//! replay from a dropped key. Decryption checks the signature first, then
//! works on copies of the keys and changes the record only once the
//! message has opened: a message that fails leaves it as it was.
//!
//! Membership is the application's (its server keeps the member list);
//! [`crate::Device`]'s group calls apply the rules of
//! `docs/protocol.md` §21: a new member gets each sender's current key
//! (so it cannot read what came before), and when a member or one of its
//! devices leaves, every remaining sender rotates its key before its next
//! message (so the one who left cannot read what comes after).
//!
//! [`MAX_SENDER_KEY_CHAINS`]: crate::limits::MAX_SENDER_KEY_CHAINS
//! [`MAX_SENDER_KEY_SKIP`]: crate::limits::MAX_SENDER_KEY_SKIP
//! [`MAX_SENDER_KEY_SKIPPED_KEYS`]: crate::limits::MAX_SENDER_KEY_SKIPPED_KEYS

mod message;
mod record;
mod sender_key;

use alloc::vec::Vec;
use core::fmt;

use crate::codec::{Reader, Writer};
use crate::error::DecodeError;
use crate::limits::MAX_GROUP_ID_LEN;

pub use message::{GroupMessage, SenderKeyDistribution};
pub use record::GroupRecord;
pub use sender_key::{SenderKey, SenderKeyRecord};

/// A group's id: 1 to [`MAX_GROUP_ID_LEN`] bytes that the application's
/// server chose. sealwire only compares ids; the relay never sees them
/// (they travel inside sealed envelopes).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(Vec<u8>);

impl GroupId {
    /// Checks and wraps a group id.
    ///
    /// # Errors
    /// [`DecodeError::InvalidValue`] for an empty id,
    /// [`DecodeError::TooLong`] above [`MAX_GROUP_ID_LEN`].
    pub fn new(id: &[u8]) -> Result<Self, DecodeError> {
        if id.len() > MAX_GROUP_ID_LEN {
            return Err(DecodeError::TooLong);
        }
        if id.is_empty() {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self(id.to_vec()))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes_u32(&self.0);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::new(r.bytes_u32(MAX_GROUP_ID_LEN)?)
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupId(")?;
        fmt::Display::fmt(self, f)?;
        f.write_str(")")
    }
}

impl fmt::Display for GroupId {
    /// The id as text where it is printable ASCII, with other bytes (and
    /// `%`) written as `%XX`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() && b != b'%' {
                write!(f, "{}", char::from(b))?;
            } else {
                write!(f, "%{b:02X}")?;
            }
        }
        Ok(())
    }
}
