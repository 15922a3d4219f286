//! The two envelope formats.
//!
//! A **sealed envelope** (`0xC3`) is what a recipient receives:
//!
//! ```text
//! 0xC3 | Encode(IK_R) | Encode(E) | K_C [32] | C_R [32] | T_R [16] | u32 length | payload
//! ```
//!
//! A **multi-recipient envelope** (`0xD3`) is what a sender hands the relay
//! to reach several recipients with one upload; the payload appears once:
//!
//! ```text
//! 0xD3 | Encode(E) | K_C [32] | u32 n | n × ( Encode(IK_R) | C_R [32] | T_R [16] ) | u32 length | payload
//! ```
//!
//! The relay splits it without a key and without copying the payload: each
//! recipient's sealed envelope is a 151-byte prefix, made from that
//! recipient's share ([`RecipientShare::envelope_prefix`]), followed by
//! the payload the upload holds once. It learns nothing but the recipients.

use alloc::vec::Vec;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{KEY_IDENTITY, V_MULTI_ENVELOPE, V_SEALED_ENVELOPE};
use crate::limits::{MAX_ENVELOPE_LEN, MAX_FANOUT_BYTES, MAX_RECIPIENTS};
use crate::primitives::aead;
use crate::primitives::ed25519;
use crate::primitives::x25519::X25519PublicKey;
use crate::sealed::keys::{COMMITMENT_LEN, TAG_LEN};

/// Length of a share in a multi-recipient envelope: the recipient's
/// `Encode(IK_R)`, the wrapped secret `C_R` and the tag `T_R`.
pub(crate) const SHARE_LEN: usize = IdentityKey::ENCODED_LEN + 32 + TAG_LEN;

/// Bytes of a sealed envelope before its payload: the prefix a relay
/// writes for each recipient of a multi-recipient envelope.
pub(crate) const ENVELOPE_OVERHEAD: usize =
    1 + IdentityKey::ENCODED_LEN + X25519PublicKey::ENCODED_LEN + COMMITMENT_LEN + 32 + TAG_LEN + 4;

/// The longest payload a sealed envelope carries.
pub(crate) const MAX_PAYLOAD_LEN: usize = MAX_ENVELOPE_LEN - ENVELOPE_OVERHEAD;

/// Bytes of a multi-recipient envelope before its shares.
pub(crate) const MULTI_HEADER_LEN: usize = 1 + X25519PublicKey::ENCODED_LEN + COMMITMENT_LEN + 4;

/// Reads the payload field: a u32 length, at least an AEAD tag and at most
/// [`MAX_PAYLOAD_LEN`] bytes.
fn read_payload<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    let payload = r.bytes_u32(MAX_PAYLOAD_LEN)?;
    if payload.len() < aead::TAG_LEN {
        return Err(DecodeError::Truncated);
    }
    Ok(payload)
}

/// Checks a recipient field on its bytes alone: the identity key tag, a
/// clear sign bit and a canonical `y`. The relay routes by these 33 bytes;
/// it need not decode the point (a recipient compares them with its own
/// encoding).
fn check_recipient_field(field: &[u8; IdentityKey::ENCODED_LEN]) -> Result<(), DecodeError> {
    let (tag, key) = field.split_first_chunk::<1>().ok_or(DecodeError::Truncated)?;
    if tag[0] != KEY_IDENTITY {
        return Err(DecodeError::UnexpectedKeyType(tag[0]));
    }
    let key: &[u8; 32] = key.try_into().map_err(|_| DecodeError::Truncated)?;
    if ed25519::y_is_canonical(key) && !ed25519::sign_bit(key) {
        Ok(())
    } else {
        Err(DecodeError::InvalidKey)
    }
}

/// A sealed envelope's fields with the recipient left as its encoding: all
/// of §10.4's checks but the recipient key's. Unsealing compares that
/// encoding with its own instead of decoding a point.
pub(crate) struct RawEnvelope<'a> {
    pub(crate) recipient: [u8; IdentityKey::ENCODED_LEN],
    pub(crate) ephemeral: X25519PublicKey,
    pub(crate) commitment: [u8; COMMITMENT_LEN],
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
                commitment: r.array()?,
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
    recipient: IdentityKey,
    ephemeral: X25519PublicKey,
    commitment: [u8; COMMITMENT_LEN],
    wrapped: [u8; 32],
    tag: [u8; TAG_LEN],
    payload: &'a [u8],
}

impl<'a> SealedEnvelope<'a> {
    /// Bytes of a sealed envelope before its payload (151).
    pub const PREFIX_LEN: usize = ENVELOPE_OVERHEAD;

    /// Parses a sealed envelope, all of `bytes`, at most
    /// [`MAX_ENVELOPE_LEN`] bytes. The recipient key is fully decoded.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        // The fields in order, each checked as it is read (§2.1 rule 7):
        // the recipient key before anything after it.
        decode_all(bytes, MAX_ENVELOPE_LEN, |r| {
            r.version(V_SEALED_ENVELOPE)?;
            Ok(Self {
                recipient: IdentityKey::read(r)?,
                ephemeral: X25519PublicKey::read(r)?,
                commitment: r.array()?,
                wrapped: r.array()?,
                tag: r.array()?,
                payload: read_payload(r)?,
            })
        })
    }

    /// The recipient the envelope is addressed to: all the relay needs.
    pub const fn recipient(&self) -> &IdentityKey {
        &self.recipient
    }

    /// The encrypted payload.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENVELOPE_OVERHEAD.saturating_add(self.payload.len()));
        let mut w = Writer::new(&mut out);
        w.u8(V_SEALED_ENVELOPE);
        self.recipient.encode(&mut w);
        self.ephemeral.encode(&mut w);
        w.bytes(&self.commitment);
        w.bytes(&self.wrapped);
        w.bytes(&self.tag);
        w.bytes_u32(self.payload);
        out
    }
}

/// A multi-recipient envelope, as the relay receives it from a sender,
/// parsed without copying: it borrows the upload.
///
/// Parsing checks the structure, that recipients are distinct, and that
/// the upload makes the relay deliver at most [`MAX_FANOUT_BYTES`] in all.
/// Recipient fields are checked on their bytes (tag, canonical encoding),
/// not decoded as points: the relay routes by them.
///
/// Splitting copies nothing: [`MultiRecipientEnvelope::recipients`] gives
/// each recipient's [`RecipientShare`], whose
/// [`RecipientShare::envelope_prefix`] followed by
/// [`MultiRecipientEnvelope::payload`] is that recipient's sealed
/// envelope. A relay keeps the upload once and writes prefix and payload
/// when it delivers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MultiRecipientEnvelope<'a> {
    ephemeral: X25519PublicKey,
    commitment: [u8; COMMITMENT_LEN],
    shares: &'a [u8],
    payload: &'a [u8],
}

/// One recipient's share of a multi-recipient envelope, borrowed from it:
/// a few pointers, so a relay can keep one per recipient for the price of
/// a small index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecipientShare<'s> {
    recipient: &'s [u8; IdentityKey::ENCODED_LEN],
    wrapped_and_tag: &'s [u8; 32 + TAG_LEN],
    envelope: &'s MultiRecipientEnvelope<'s>,
}

impl<'s> RecipientShare<'s> {
    /// The recipient's `Encode(IK_R)`, as the sender wrote it (checked for
    /// its tag and a canonical encoding, not decoded). The relay delivers
    /// to the device that registered this key.
    pub fn recipient(&self) -> &'s [u8; IdentityKey::ENCODED_LEN] {
        self.recipient
    }

    /// The first [`SealedEnvelope::PREFIX_LEN`] bytes of this recipient's
    /// sealed envelope; the payload follows them.
    pub fn envelope_prefix(&self) -> [u8; SealedEnvelope::PREFIX_LEN] {
        let mut out = [0u8; SealedEnvelope::PREFIX_LEN];
        let (version, tail) = out.split_at_mut(1);
        version.copy_from_slice(&[V_SEALED_ENVELOPE]);
        let (r, tail) = tail.split_at_mut(IdentityKey::ENCODED_LEN);
        r.copy_from_slice(self.recipient);
        let (e, tail) = tail.split_at_mut(X25519PublicKey::ENCODED_LEN);
        e.copy_from_slice(&self.envelope.ephemeral.to_bytes());
        let (k, tail) = tail.split_at_mut(COMMITMENT_LEN);
        k.copy_from_slice(&self.envelope.commitment);
        let (share, len) = tail.split_at_mut(32 + TAG_LEN);
        share.copy_from_slice(self.wrapped_and_tag);
        let payload_len = u32::try_from(self.envelope.payload.len()).unwrap_or(u32::MAX);
        len.copy_from_slice(&payload_len.to_be_bytes());
        out
    }

    /// This recipient's whole sealed envelope, in a new buffer (a copy of
    /// the payload: for tests and small fan-outs; a relay writes
    /// [`RecipientShare::envelope_prefix`] and the shared payload instead).
    pub fn to_envelope(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(ENVELOPE_OVERHEAD.saturating_add(self.envelope.payload.len()));
        out.extend_from_slice(&self.envelope_prefix());
        out.extend_from_slice(self.envelope.payload);
        out
    }
}

impl<'a> MultiRecipientEnvelope<'a> {
    /// The longest multi-recipient envelope: [`MAX_RECIPIENTS`] shares, or
    /// the longest payload, whichever the fan-out bound allows.
    pub const MAX_ENCODED_LEN: usize =
        MULTI_HEADER_LEN + MAX_RECIPIENTS * SHARE_LEN + 4 + MAX_PAYLOAD_LEN;

    /// Parses a multi-recipient envelope, all of `bytes`. There are 1 to
    /// [`MAX_RECIPIENTS`] distinct recipients, and recipients times each
    /// one's envelope length is at most [`MAX_FANOUT_BYTES`]. Allocates
    /// only a list of references to the recipients, to check that they are
    /// distinct.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input; [`DecodeError::TooLong`] past
    /// the fan-out bound; [`DecodeError::InconsistentState`] for a
    /// repeated recipient.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let envelope = decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(V_MULTI_ENVELOPE)?;
            let ephemeral = X25519PublicKey::read(r)?;
            let commitment = r.array()?;
            let raw = r.u32()?;
            let count = r.count(raw, MAX_RECIPIENTS, SHARE_LEN)?;
            if count == 0 {
                return Err(DecodeError::InvalidValue);
            }
            let shares = r.take(count.checked_mul(SHARE_LEN).ok_or(DecodeError::TooLong)?)?;
            let payload = read_payload(r)?;
            Ok(Self { ephemeral, commitment, shares, payload })
        })?;
        let delivered = (envelope.payload.len() as u64 + ENVELOPE_OVERHEAD as u64)
            .checked_mul(envelope.recipient_count() as u64)
            .ok_or(DecodeError::TooLong)?;
        if delivered > MAX_FANOUT_BYTES {
            return Err(DecodeError::TooLong);
        }
        let mut keys: Vec<&[u8; IdentityKey::ENCODED_LEN]> =
            Vec::with_capacity(envelope.recipient_count());
        for share in envelope.share_bytes() {
            let (recipient, _) = share
                .split_first_chunk::<{ IdentityKey::ENCODED_LEN }>()
                .ok_or(DecodeError::Truncated)?;
            check_recipient_field(recipient)?;
            keys.push(recipient);
        }
        keys.sort_unstable();
        if keys.windows(2).any(|pair| matches!(pair, [a, b] if a == b)) {
            return Err(DecodeError::InconsistentState);
        }
        Ok(envelope)
    }

    fn share_bytes(&self) -> impl Iterator<Item = &'a [u8; SHARE_LEN]> + use<'a> {
        self.shares.chunks_exact(SHARE_LEN).filter_map(|s| s.try_into().ok())
    }

    /// How many recipients the envelope has.
    pub fn recipient_count(&self) -> usize {
        self.shares.len() / SHARE_LEN
    }

    /// Each recipient's share, in the order the sender listed them.
    pub fn recipients(&self) -> impl Iterator<Item = RecipientShare<'_>> {
        self.share_bytes().filter_map(move |share| {
            let (recipient, rest) = share.split_first_chunk::<{ IdentityKey::ENCODED_LEN }>()?;
            let wrapped_and_tag = rest.try_into().ok()?;
            Some(RecipientShare { recipient, wrapped_and_tag, envelope: self })
        })
    }

    /// The payload, which every recipient's sealed envelope ends with.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The length of each recipient's sealed envelope.
    pub fn envelope_len(&self) -> usize {
        ENVELOPE_OVERHEAD + self.payload.len()
    }

    /// The sealed envelope for `recipient`, in a new buffer, or `None` if
    /// the envelope has no share for it.
    pub fn envelope_for(&self, recipient: &IdentityKey) -> Option<Vec<u8>> {
        let wanted = recipient.to_bytes();
        self.recipients().find(|share| *share.recipient() == wanted).map(|s| s.to_envelope())
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            MULTI_HEADER_LEN
                .saturating_add(self.shares.len())
                .saturating_add(4)
                .saturating_add(self.payload.len()),
        );
        let mut w = Writer::new(&mut out);
        w.u8(V_MULTI_ENVELOPE);
        self.ephemeral.encode(&mut w);
        w.bytes(&self.commitment);
        w.u32(u32::try_from(self.recipient_count()).unwrap_or(u32::MAX));
        w.bytes(self.shares);
        w.bytes_u32(self.payload);
        out
    }
}
