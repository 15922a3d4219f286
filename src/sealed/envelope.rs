//! The two envelope formats.
//!
//! A **sealed envelope** (`0xC1`) is what a recipient receives:
//!
//! ```text
//! 0xC1 | Encode(IK_R) | Encode(E) | C_R [32] | tag_R [16] | u32 length | payload
//! ```
//!
//! A **multi-recipient envelope** (`0xD1`) is what a sender hands the relay
//! to reach several recipients with one upload; the payload appears once:
//!
//! ```text
//! 0xD1 | Encode(E) | u32 n | n × ( Encode(IK_R) | C_R [32] | tag_R [16] ) | u32 length | payload
//! ```
//!
//! The relay turns it into one sealed envelope per recipient by copying that
//! recipient's share next to the ephemeral key and the payload. It needs no
//! key for that and learns nothing but the recipients.

use alloc::vec::Vec;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{V_MULTI_ENVELOPE, V_SEALED_ENVELOPE};
use crate::limits::{MAX_ENVELOPE_LEN, MAX_RECIPIENTS};
use crate::primitives::aead;
use crate::primitives::x25519::X25519PublicKey;
use crate::sealed::keys::TAG_LEN;

/// One recipient's part of an envelope: who it is for, the wrapped
/// envelope secret, and the tag that authenticates the sender.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Share {
    pub(crate) recipient: IdentityKey,
    pub(crate) wrapped: [u8; 32],
    pub(crate) tag: [u8; TAG_LEN],
}

/// Length of a share.
pub(crate) const SHARE_LEN: usize = IdentityKey::ENCODED_LEN + 32 + TAG_LEN;

/// Bytes of a sealed envelope besides its payload.
pub(crate) const ENVELOPE_OVERHEAD: usize = 1 + SHARE_LEN + X25519PublicKey::ENCODED_LEN + 4;

/// The longest payload a sealed envelope carries.
pub(crate) const MAX_PAYLOAD_LEN: usize = MAX_ENVELOPE_LEN - ENVELOPE_OVERHEAD;

impl Share {
    fn encode(&self, w: &mut Writer<'_>) {
        self.recipient.encode(w);
        w.bytes(&self.wrapped);
        w.bytes(&self.tag);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { recipient: IdentityKey::read(r)?, wrapped: r.array()?, tag: r.array()? })
    }
}

/// Reads the payload field: a u32 length, at least an AEAD tag and at most
/// [`MAX_PAYLOAD_LEN`] bytes.
fn read_payload<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let payload = r.bytes_u32(MAX_PAYLOAD_LEN)?;
    if payload.len() < aead::TAG_LEN {
        return Err(DecodeError::Truncated);
    }
    Ok(payload)
}

/// A sealed envelope's fields with the recipient left as its encoding: all
/// of §10.4's checks but the recipient key's. Unsealing compares that
/// encoding with its own instead of decoding a point.
pub(crate) struct RawEnvelope<'a> {
    pub(crate) recipient: [u8; IdentityKey::ENCODED_LEN],
    pub(crate) ephemeral: X25519PublicKey,
    pub(crate) wrapped: [u8; 32],
    pub(crate) tag: [u8; TAG_LEN],
    pub(crate) payload: &'a [u8],
}

impl<'a> RawEnvelope<'a> {
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, MAX_ENVELOPE_LEN, |r| {
            r.version(V_SEALED_ENVELOPE)?;
            Ok(Self {
                recipient: r.array()?,
                ephemeral: X25519PublicKey::read(r)?,
                wrapped: r.array()?,
                tag: r.array()?,
                payload: read_payload(r)?,
            })
        })
    }
}

/// A sealed envelope for one recipient, parsed without copying its payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SealedEnvelope<'a> {
    pub(crate) share: Share,
    pub(crate) ephemeral: X25519PublicKey,
    pub(crate) payload: &'a [u8],
}

impl<'a> SealedEnvelope<'a> {
    /// Parses a sealed envelope, all of `bytes`, at most
    /// [`MAX_ENVELOPE_LEN`] bytes.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let raw = RawEnvelope::parse(bytes)?;
        let recipient = IdentityKey::from_bytes(&raw.recipient)?;
        let share = Share { recipient, wrapped: raw.wrapped, tag: raw.tag };
        Ok(Self { share, ephemeral: raw.ephemeral, payload: raw.payload })
    }

    /// The recipient the envelope is addressed to: all the relay needs.
    pub const fn recipient(&self) -> &IdentityKey {
        &self.share.recipient
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENVELOPE_OVERHEAD + self.payload.len());
        let mut w = Writer::new(&mut out);
        w.u8(V_SEALED_ENVELOPE);
        self.share.recipient.encode(&mut w);
        self.ephemeral.encode(&mut w);
        w.bytes(&self.share.wrapped);
        w.bytes(&self.share.tag);
        w.bytes_u32(self.payload);
        out
    }
}

/// A multi-recipient envelope, as the relay receives it from a sender.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MultiRecipientEnvelope<'a> {
    ephemeral: X25519PublicKey,
    shares: Vec<Share>,
    payload: &'a [u8],
}

impl<'a> MultiRecipientEnvelope<'a> {
    /// The longest multi-recipient envelope.
    pub const MAX_ENCODED_LEN: usize =
        1 + X25519PublicKey::ENCODED_LEN + 4 + MAX_RECIPIENTS * SHARE_LEN + 4 + MAX_PAYLOAD_LEN;

    /// Parses a multi-recipient envelope, all of `bytes`. Recipients must be
    /// distinct; there are 1 to [`MAX_RECIPIENTS`] of them.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input;
    /// [`DecodeError::InconsistentState`] for a repeated recipient.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let (ephemeral, shares, payload) = decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(V_MULTI_ENVELOPE)?;
            let ephemeral = X25519PublicKey::read(r)?;
            let raw = r.u32()?;
            let count = r.count(raw, MAX_RECIPIENTS, SHARE_LEN)?;
            if count == 0 {
                return Err(DecodeError::InvalidValue);
            }
            let mut shares = Vec::with_capacity(count);
            for _ in 0..count {
                shares.push(Share::read(r)?);
            }
            Ok((ephemeral, shares, read_payload(r)?))
        })?;
        let mut keys: Vec<&[u8; 32]> = shares.iter().map(|s| s.recipient.ed25519_bytes()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|pair| matches!(pair, [a, b] if a == b)) {
            return Err(DecodeError::InconsistentState);
        }
        Ok(Self { ephemeral, shares, payload })
    }

    /// The recipients, in the order the sender listed them.
    pub fn recipients(&self) -> impl Iterator<Item = &IdentityKey> {
        self.shares.iter().map(|s| &s.recipient)
    }

    /// The sealed envelope for `recipient`, or `None` if the envelope has no
    /// share for it.
    pub fn envelope_for(&self, recipient: &IdentityKey) -> Option<Vec<u8>> {
        let share = self.shares.iter().find(|s| s.recipient == *recipient)?;
        Some(
            SealedEnvelope { share: *share, ephemeral: self.ephemeral, payload: self.payload }
                .to_bytes(),
        )
    }

    /// One sealed envelope per recipient.
    pub fn split(&self) -> Vec<(IdentityKey, Vec<u8>)> {
        self.shares
            .iter()
            .map(|share| {
                let envelope = SealedEnvelope {
                    share: *share,
                    ephemeral: self.ephemeral,
                    payload: self.payload,
                };
                (share.recipient, envelope.to_bytes())
            })
            .collect()
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            1 + X25519PublicKey::ENCODED_LEN
                + 8
                + self.shares.len() * SHARE_LEN
                + self.payload.len(),
        );
        let mut w = Writer::new(&mut out);
        w.u8(V_MULTI_ENVELOPE);
        self.ephemeral.encode(&mut w);
        w.u32(u32::try_from(self.shares.len()).unwrap_or(u32::MAX));
        for share in &self.shares {
            share.encode(&mut w);
        }
        w.bytes_u32(self.payload);
        out
    }
}
