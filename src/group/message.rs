//! The two group formats on the wire (`docs/protocol.md` §21.2, §21.3).
//!
//! A **sender key distribution message**, the plaintext of a session
//! message sealed with a distribution content type:
//!
//! ```text
//! 0xFF 0xB1 | u32 len, group id | u32 chain id | u32 iteration | CK [32] | signing key [32]
//! ```
//!
//! A **group message**, one copy for every member:
//!
//! ```text
//! 0xFF 0xC1 | u32 len, group id | u32 chain id | u32 iteration | nonce [24]
//!           | key commitment [32] | u32 len, ciphertext (plaintext ‖ 16-byte tag)
//!           | signature [64]
//! ```
//!
//! The AEAD's associated data is the header (everything before the
//! ciphertext's length); the signature covers everything before it.

use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::GroupId;
use crate::codec::{Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::labels::{ESCAPE, X_GROUP_MESSAGE, X_SENDER_KEY_DISTRIBUTION};
use crate::limits::{MAX_GROUP_ID_LEN, MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN};
use crate::primitives::aead::{TAG_LEN, XNONCE_LEN};
use crate::primitives::ed25519;

/// Length of the commitment to a group message's key.
pub(crate) const COMMITMENT_LEN: usize = 32;

/// Bytes of a group message's header besides the group id: tag, the id's
/// length, chain id, iteration, nonce and key commitment.
pub(crate) const HEADER_FIXED_LEN: usize = 2 + 4 + 4 + 4 + XNONCE_LEN + COMMITMENT_LEN;

/// Length of the signature that ends a group message.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// A group message, parsed without copying: it borrows its input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct GroupMessage<'a> {
    bytes: &'a [u8],
    group_id: &'a [u8],
    chain_id: u32,
    iteration: u32,
    nonce: [u8; XNONCE_LEN],
    commitment: [u8; COMMITMENT_LEN],
    header_len: usize,
    ciphertext: &'a [u8],
    signature: [u8; SIGNATURE_LEN],
}

impl<'a> GroupMessage<'a> {
    /// The longest group message: the longest plaintext with the longest
    /// group id.
    pub const MAX_ENCODED_LEN: usize =
        HEADER_FIXED_LEN + MAX_GROUP_ID_LEN + 4 + MAX_PLAINTEXT_LEN + TAG_LEN + SIGNATURE_LEN;

    /// Parses a group message, all of `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_GROUP_MESSAGE)?;
            let group_id = r.bytes_u32(MAX_GROUP_ID_LEN)?;
            if group_id.is_empty() {
                return Err(DecodeError::InvalidValue);
            }
            let chain_id = r.u32()?;
            let iteration = r.u32()?;
            let nonce = r.array()?;
            let commitment = r.array()?;
            let header_len = bytes.len() - r.remaining();
            let ciphertext = r.bytes_u32(MAX_PLAINTEXT_LEN + TAG_LEN)?;
            if ciphertext.len() < TAG_LEN {
                return Err(DecodeError::Truncated);
            }
            let signature = r.array()?;
            Ok(Self {
                bytes,
                group_id,
                chain_id,
                iteration,
                nonce,
                commitment,
                header_len,
                ciphertext,
                signature,
            })
        })
    }

    /// The group's id.
    ///
    /// # Errors
    /// Never for a parsed message (the id was checked); kept fallible so
    /// that the id is only ever built through [`GroupId::new`].
    pub fn group_id(&self) -> Result<GroupId, DecodeError> {
        GroupId::new(self.group_id)
    }

    /// The sender's chain this message is on.
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The message's number in its chain.
    pub const fn iteration(&self) -> u32 {
        self.iteration
    }

    pub(crate) const fn nonce(&self) -> &[u8; XNONCE_LEN] {
        &self.nonce
    }

    pub(crate) const fn commitment(&self) -> &[u8; COMMITMENT_LEN] {
        &self.commitment
    }

    /// The header: the AEAD's associated data.
    pub(crate) fn header(&self) -> &'a [u8] {
        self.bytes.get(..self.header_len).unwrap_or_default()
    }

    /// The ciphertext with its tag.
    pub(crate) const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// What the signature covers: everything before it.
    pub(crate) fn signed(&self) -> &'a [u8] {
        self.bytes.get(..self.bytes.len() - SIGNATURE_LEN).unwrap_or_default()
    }

    pub(crate) const fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// The encoding.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl fmt::Debug for GroupMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupMessage")
            .field("group_id", &GroupId(self.group_id.to_vec()))
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// A sender key as its owner hands it to one member device: the chain at
/// its current iteration and the public signing key. Holds a chain key:
/// zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SenderKeyDistribution {
    #[zeroize(skip)]
    group_id: GroupId,
    chain_id: u32,
    iteration: u32,
    chain_key: [u8; 32],
    signing_key: [u8; 32],
}

impl SenderKeyDistribution {
    /// Length of the encoding besides the group id's bytes.
    pub(crate) const FIXED_LEN: usize = 2 + 4 + 4 + 4 + 32 + 32;

    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = Self::FIXED_LEN + MAX_GROUP_ID_LEN;

    pub(crate) fn new(
        group_id: GroupId,
        chain_id: u32,
        iteration: u32,
        chain_key: &[u8; 32],
        signing_key: [u8; 32],
    ) -> Self {
        Self { group_id, chain_id, iteration, chain_key: *chain_key, signing_key }
    }

    /// The group.
    pub fn group_id(&self) -> &GroupId {
        &self.group_id
    }

    /// The chain's id.
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The number of the next message on the chain: the first one the
    /// receiver can read.
    pub const fn iteration(&self) -> u32 {
        self.iteration
    }

    pub(crate) const fn chain_key(&self) -> &[u8; 32] {
        &self.chain_key
    }

    /// The chain's public signing key (Ed25519), as encoded.
    pub const fn signing_key(&self) -> &[u8; 32] {
        &self.signing_key
    }

    /// The encoding. It holds the chain key: the buffer wipes itself.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::MAX_ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_SENDER_KEY_DISTRIBUTION);
        self.group_id.encode(&mut w);
        w.u32(self.chain_id);
        w.u32(self.iteration);
        w.bytes(&self.chain_key);
        w.bytes(&self.signing_key);
        out
    }

    /// Decodes a distribution message, all of `bytes`. The signing key
    /// must be a canonical Ed25519 point of large order.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_SENDER_KEY_DISTRIBUTION)?;
            let group_id = GroupId::read(r)?;
            let chain_id = r.u32()?;
            let iteration = r.u32()?;
            let chain_key = r.array()?;
            let signing_key = read_signing_key(r)?;
            Ok(Self { group_id, chain_id, iteration, chain_key, signing_key })
        })
    }
}

impl fmt::Debug for SenderKeyDistribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeyDistribution")
            .field("group_id", &self.group_id)
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("chain_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Reads a chain's public signing key: canonical, of large order.
pub(crate) fn read_signing_key(r: &mut Reader<'_>) -> Result<[u8; 32], DecodeError> {
    let key: [u8; 32] = r.array()?;
    ed25519::decode_public(&key)?;
    Ok(key)
}

// Every group message fits what the sealed layer carries as one message.
const _: () = assert!(GroupMessage::MAX_ENCODED_LEN <= MAX_MESSAGE_LEN);
