//! The two messages a session sends: the ratchet message, and the initial
//! message that carries a ratchet message together with what the
//! responder needs to complete X3DH.
//!
//! Parsing borrows the ciphertext from the input, so decrypting allocates
//! only the plaintext.

use alloc::vec::Vec;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{V_INITIAL_MESSAGE, V_RATCHET_MESSAGE};
use crate::limits::{MAX_MESSAGE_LEN, MAX_PLAINTEXT_LEN};
use crate::prekey::PreKeyId;
use crate::primitives::aead::{TAG_LEN, XNONCE_LEN};
use crate::primitives::x25519::X25519PublicKey;

/// Length of a ratchet message header: version tag, `Encode(DHs)`, `PN`,
/// `N` and the 24-byte nonce.
pub(crate) const HEADER_LEN: usize = 1 + X25519PublicKey::ENCODED_LEN + 4 + 4 + XNONCE_LEN;

/// Bytes a ratchet message adds to its plaintext: header, length, tag.
pub(crate) const RATCHET_OVERHEAD: usize = HEADER_LEN + 4 + TAG_LEN;

/// Length of an ML-KEM-768 ciphertext, as the initial message carries it.
pub(crate) const KEM_CT_LEN: usize = 1088;

/// The longest prefix an initial message puts before its ratchet message:
/// with a one-time prekey id and the KEM prekey id and ciphertext.
pub(crate) const INITIAL_PREFIX_MAX: usize = 1
    + IdentityKey::ENCODED_LEN
    + X25519PublicKey::ENCODED_LEN
    + 4
    + 1
    + 4
    + 1
    + 4
    + KEM_CT_LEN
    + 4;

const MAX_CIPHERTEXT_LEN: usize = MAX_PLAINTEXT_LEN + TAG_LEN;

const _: () = assert!(MAX_PLAINTEXT_LEN + RATCHET_OVERHEAD + INITIAL_PREFIX_MAX <= MAX_MESSAGE_LEN);

/// The header of a ratchet message, authenticated with the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sender's current ratchet public key (`DHs`).
    pub ratchet_key: X25519PublicKey,
    /// How many messages the sender sent in its previous sending chain (`PN`).
    pub previous_counter: u32,
    /// This message's number in the sender's current sending chain (`N`),
    /// at most `u32::MAX − 1`.
    pub counter: u32,
    /// The XChaCha20-Poly1305 nonce the message was sealed with: 24 bytes
    /// from the sender's RNG, fresh for every message.
    pub nonce: [u8; 24],
}

impl Header {
    /// The encoding, version tag included. This is what the AEAD
    /// authenticates after the session's associated data.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (version, rest) = out.split_at_mut(1);
        let (key, rest) = rest.split_at_mut(X25519PublicKey::ENCODED_LEN);
        let (pn, rest) = rest.split_at_mut(4);
        let (n, nonce) = rest.split_at_mut(4);
        version.copy_from_slice(&[V_RATCHET_MESSAGE]);
        key.copy_from_slice(&self.ratchet_key.to_bytes());
        pn.copy_from_slice(&self.previous_counter.to_be_bytes());
        n.copy_from_slice(&self.counter.to_be_bytes());
        nonce.copy_from_slice(&self.nonce);
        out
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_RATCHET_MESSAGE)?;
        let ratchet_key = X25519PublicKey::read(r)?;
        let previous_counter = r.u32()?;
        let counter = r.u32()?;
        // Senders stop at u32::MAX − 1, so the next number always fits.
        if counter == u32::MAX {
            return Err(DecodeError::InvalidValue);
        }
        let nonce = r.array()?;
        Ok(Self { ratchet_key, previous_counter, counter, nonce })
    }
}

/// A message of an established session.
///
/// Encoding (version 2): the 66-byte header (`0x32`, `Encode(DHs)`, u32
/// `PN`, u32 `N`, the 24-byte nonce), then a u32 length and the ciphertext
/// (the encrypted plaintext followed by its 16-byte tag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatchetMessage<'a> {
    header: Header,
    ciphertext: &'a [u8],
}

impl<'a> RatchetMessage<'a> {
    /// The header.
    pub const fn header(&self) -> &Header {
        &self.header
    }

    /// The ciphertext with its tag.
    pub(crate) const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// Parses a ratchet message, all of `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, MAX_MESSAGE_LEN, Self::read)
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + 4 + self.ciphertext.len());
        self.encode(&mut Writer::new(&mut out));
        out
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(&self.header.to_bytes());
        w.bytes_u32(self.ciphertext);
    }

    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let header = Header::read(r)?;
        let ciphertext = r.bytes_u32(MAX_CIPHERTEXT_LEN)?;
        if ciphertext.len() < TAG_LEN {
            return Err(DecodeError::Truncated);
        }
        Ok(Self { header, ciphertext })
    }
}

/// The first messages of a session, sent by its initiator until the
/// responder's first reply arrives: X3DH's (or PQXDH's) initial message.
///
/// Encoding (version 3): `0x23`, `Encode(IK_A)`, `Encode(EK_A)`, the u32 id
/// of the signed prekey used, a flag and the u32 id of the one-time prekey
/// if one was used, a flag and, for the post-quantum agreement, the u32 id
/// of the KEM prekey used and the 1088-byte ML-KEM-768 ciphertext, then a
/// u32 length and a whole ratchet message. Without the `pq` feature a
/// message with KEM fields is refused as unsupported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitialMessage<'a> {
    identity: IdentityKey,
    base_key: X25519PublicKey,
    signed_prekey_id: PreKeyId,
    one_time_prekey_id: Option<PreKeyId>,
    kem: Option<(PreKeyId, &'a [u8; KEM_CT_LEN])>,
    message: RatchetMessage<'a>,
}

impl<'a> InitialMessage<'a> {
    /// The initiator's identity key (`IK_A`).
    pub const fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// The initiator's ephemeral key (`EK_A`), which names the session.
    pub const fn base_key(&self) -> &X25519PublicKey {
        &self.base_key
    }

    /// The id of the responder's signed prekey that was used.
    pub const fn signed_prekey_id(&self) -> PreKeyId {
        self.signed_prekey_id
    }

    /// The id of the responder's one-time prekey that was used, if any.
    pub const fn one_time_prekey_id(&self) -> Option<PreKeyId> {
        self.one_time_prekey_id
    }

    /// The id of the responder's KEM prekey that was used: `Some` for the
    /// post-quantum agreement.
    pub fn kem_prekey_id(&self) -> Option<PreKeyId> {
        self.kem.map(|(id, _)| id)
    }

    /// Whether the message is of the post-quantum agreement.
    pub const fn is_post_quantum(&self) -> bool {
        self.kem.is_some()
    }

    /// The KEM ciphertext, for the post-quantum agreement.
    pub(crate) fn kem_ciphertext(&self) -> Option<&'a [u8; KEM_CT_LEN]> {
        self.kem.map(|(_, ct)| ct)
    }

    /// The ratchet message inside.
    pub const fn message(&self) -> &RatchetMessage<'a> {
        &self.message
    }

    /// Parses an initial message, all of `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, MAX_MESSAGE_LEN, Self::read)
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        self.encode_prefix(&mut w, HEADER_LEN + 4 + self.message.ciphertext.len());
        self.message.encode(&mut w);
        out
    }

    /// Writes everything before the ratchet message, whose encoded length
    /// is `inner_len`.
    pub(crate) fn encode_prefix(&self, w: &mut Writer<'_>, inner_len: usize) {
        write_initial_prefix(
            w,
            &InitialPrefix {
                identity: &self.identity,
                base_key: &self.base_key,
                signed_prekey_id: self.signed_prekey_id,
                one_time_prekey_id: self.one_time_prekey_id,
                kem: self.kem,
            },
            inner_len,
        );
    }

    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.version(V_INITIAL_MESSAGE)?;
        let identity = IdentityKey::read(r)?;
        let base_key = X25519PublicKey::read(r)?;
        let signed_prekey_id = PreKeyId(r.u32()?);
        let one_time_prekey_id = if r.flag()? { Some(PreKeyId(r.u32()?)) } else { None };
        let kem = if r.flag()? {
            if cfg!(not(feature = "pq")) {
                return Err(DecodeError::Unsupported);
            }
            let id = PreKeyId(r.u32()?);
            let ct = r.take(KEM_CT_LEN)?.try_into().map_err(|_| DecodeError::Truncated)?;
            Some((id, ct))
        } else {
            None
        };
        let inner = r.bytes_u32(HEADER_LEN + 4 + MAX_CIPHERTEXT_LEN)?;
        let message = decode_all(inner, MAX_MESSAGE_LEN, RatchetMessage::read)?;
        Ok(Self { identity, base_key, signed_prekey_id, one_time_prekey_id, kem, message })
    }
}

/// The fields an initial message carries before its ratchet message.
pub(crate) struct InitialPrefix<'k> {
    pub(crate) identity: &'k IdentityKey,
    pub(crate) base_key: &'k X25519PublicKey,
    pub(crate) signed_prekey_id: PreKeyId,
    pub(crate) one_time_prekey_id: Option<PreKeyId>,
    pub(crate) kem: Option<(PreKeyId, &'k [u8; KEM_CT_LEN])>,
}

/// Writes an initial message's fields and the length of the ratchet
/// message that follows them.
pub(crate) fn write_initial_prefix(
    w: &mut Writer<'_>,
    prefix: &InitialPrefix<'_>,
    inner_len: usize,
) {
    w.u8(V_INITIAL_MESSAGE);
    prefix.identity.encode(w);
    prefix.base_key.encode(w);
    w.u32(prefix.signed_prekey_id.0);
    w.flag(prefix.one_time_prekey_id.is_some());
    if let Some(id) = prefix.one_time_prekey_id {
        w.u32(id.0);
    }
    w.flag(prefix.kem.is_some());
    if let Some((id, ct)) = prefix.kem {
        w.u32(id.0);
        w.bytes(ct);
    }
    w.u32(u32::try_from(inner_len).unwrap_or(u32::MAX));
}

/// Either message a session sends, told apart by the version tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// An initial message (`0x23`).
    Initial(InitialMessage<'a>),
    /// A ratchet message (`0x32`).
    Ratchet(RatchetMessage<'a>),
}

impl<'a> Message<'a> {
    /// Parses either message, all of `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input, including
    /// [`DecodeError::UnknownVersion`] for a first byte that is neither.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        match bytes.first() {
            Some(&V_INITIAL_MESSAGE) => InitialMessage::parse(bytes).map(Self::Initial),
            Some(&V_RATCHET_MESSAGE) => RatchetMessage::parse(bytes).map(Self::Ratchet),
            Some(&other) => Err(DecodeError::UnknownVersion(other)),
            None => Err(DecodeError::Truncated),
        }
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Initial(m) => m.to_bytes(),
            Self::Ratchet(m) => m.to_bytes(),
        }
    }
}
