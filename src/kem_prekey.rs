//! KEM prekeys for the post-quantum agreement (PQXDH, `docs/protocol.md`
//! §20): ML-KEM-768 key pairs that a device publishes, each signed by its
//! identity key under its own label, as the signed prekey is.
//!
//! A device keeps one-time KEM prekeys, each used by one initial message
//! and then deleted, and one last-resort KEM prekey that the server hands
//! out when the one-time ones have run out. The last-resort one is used by
//! many initial messages; replaying one of them is refused by the accepted
//! base keys (`docs/sessions.md` §4.3), as for the signed prekey.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{AgreementError, DecodeError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::labels::{ESCAPE, KEM_PREKEY_SIGNATURE, KEY_ML_KEM, X_KEM_PREKEY, X_KEM_PREKEY_PAIR};
use crate::prekey::PreKeyId;
use crate::primitives::ml_kem::{CIPHERTEXT_LEN, KemKeyPair, KemPublicKey, PUBLIC_LEN, SEED_LEN};

/// Length of `Encode(PQPK)`: the key type `0x03` and the 1184-byte
/// ML-KEM-768 encapsulation key.
pub(crate) const KEM_KEY_ENCODED_LEN: usize = 1 + PUBLIC_LEN;

/// Length of a KEM prekey's fields inside other formats: id, kind,
/// `Encode(PQPK)`, signature.
pub(crate) const KEM_PREKEY_FIELDS_LEN: usize = 4 + 1 + KEM_KEY_ENCODED_LEN + 64;

/// The bit that marks a last-resort KEM prekey's id: the device layer
/// gives the last-resort KEM prekey made with signed prekey `n` the id
/// `n | 2^31`, and each one-time KEM prekey the id of the one-time prekey
/// made with it (below 2^31), so that the account's prekey schedule covers
/// both (`docs/sessions.md` §6.2).
pub(crate) const LAST_RESORT_KEM_ID_BIT: u32 = 1 << 31;

/// The id of the last-resort KEM prekey that goes with a signed prekey.
pub(crate) const fn last_resort_kem_id(signed: PreKeyId) -> PreKeyId {
    PreKeyId(signed.0 | LAST_RESORT_KEM_ID_BIT)
}

/// Length of an ML-KEM-768 ciphertext.
pub const KEM_CIPHERTEXT_LEN: usize = CIPHERTEXT_LEN;

/// Whether a KEM prekey is used once or is the last resort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KemPreKeyKind {
    /// Used by one initial message, then deleted.
    OneTime,
    /// Handed out when no one-time KEM prekey is left; kept until it is
    /// rotated.
    LastResort,
}

impl KemPreKeyKind {
    const fn to_byte(self) -> u8 {
        match self {
            Self::OneTime => 0x00,
            Self::LastResort => 0x01,
        }
    }

    fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            0x00 => Ok(Self::OneTime),
            0x01 => Ok(Self::LastResort),
            _ => Err(DecodeError::InvalidValue),
        }
    }
}

/// The public record of a KEM prekey: its id, its kind, its ML-KEM-768
/// encapsulation key, and the identity key's Ed25519 signature over
/// `"sealwire/kem-prekey/v1" || u32 id || u8 kind || Encode(PQPK)`.
#[derive(Clone, PartialEq, Eq)]
pub struct KemPreKey {
    id: PreKeyId,
    kind: KemPreKeyKind,
    key: KemPublicKey,
    signature: [u8; 64],
}

impl KemPreKey {
    /// Length of the standalone encoding.
    pub const ENCODED_LEN: usize = 2 + KEM_PREKEY_FIELDS_LEN;

    /// The prekey's id (a space of its own, apart from the other prekeys).
    pub const fn id(&self) -> PreKeyId {
        self.id
    }

    /// One-time or last resort.
    pub const fn kind(&self) -> KemPreKeyKind {
        self.kind
    }

    /// The signature over the prekey.
    pub const fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    pub(crate) const fn key(&self) -> &KemPublicKey {
        &self.key
    }

    /// ML-KEM-768 encapsulation to this prekey with a given `m`: the
    /// ciphertext and the shared secret. For the test vectors only: `m`
    /// must be 32 fresh random bytes every time, which
    /// [`crate::Session::initiate`] draws itself.
    #[doc(hidden)]
    pub fn encapsulate_for_vectors(&self, m: &[u8; 32]) -> (Vec<u8>, [u8; 32]) {
        let (ciphertext, secret) = self.key.encapsulate_with(m);
        (ciphertext.to_vec(), *secret)
    }

    /// The encapsulation key's 1184 bytes.
    pub fn key_bytes(&self) -> &[u8; PUBLIC_LEN] {
        self.key.as_bytes()
    }

    /// Checks the signature with `identity`'s key.
    ///
    /// # Errors
    /// [`AgreementError::InvalidKemSignature`] if it does not verify.
    pub fn verify(&self, identity: &IdentityKey) -> Result<(), AgreementError> {
        let message = kem_prekey_message(self.id, self.kind, &self.key);
        if identity.verify(&message, &self.signature) {
            Ok(())
        } else {
            Err(AgreementError::InvalidKemSignature)
        }
    }

    /// The standalone encoding: `0xFF 0x91`, then the fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes the standalone encoding. The key is checked as FIPS 203
    /// requires; the signature is not ([`KemPreKey::verify`] does that).
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input, an encapsulation key
    /// with a coefficient out of range included.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }

    /// Writes the fields without a version tag, as inside a bundle.
    pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
        w.u32(self.id.0);
        w.u8(self.kind.to_byte());
        encode_kem_key(w, &self.key);
        w.bytes(&self.signature);
    }

    /// Reads the fields written by `encode_fields`.
    pub(crate) fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = PreKeyId(r.u32()?);
        let kind = KemPreKeyKind::from_byte(r.u8()?)?;
        let key = read_kem_key(r)?;
        Ok(Self { id, kind, key, signature: r.array()? })
    }
}

impl Codec for KemPreKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_KEM_PREKEY);
        self.encode_fields(w);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_KEM_PREKEY)?;
        Self::read_fields(r)
    }
}

impl fmt::Debug for KemPreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemPreKey")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("key", &self.key)
            .finish()
    }
}

/// `Encode(PQPK)`: `0x03` and the encapsulation key.
fn encode_kem_key(w: &mut Writer<'_>, key: &KemPublicKey) {
    w.u8(KEY_ML_KEM);
    w.bytes(key.as_bytes());
}

fn read_kem_key(r: &mut Reader<'_>) -> Result<KemPublicKey, DecodeError> {
    if r.u8()? != KEY_ML_KEM {
        return Err(DecodeError::InvalidValue);
    }
    let bytes: [u8; PUBLIC_LEN] = r.array()?;
    KemPublicKey::from_bytes(&bytes).ok_or(DecodeError::InvalidValue)
}

/// The message an identity key signs to certify a KEM prekey.
fn kem_prekey_message(id: PreKeyId, kind: KemPreKeyKind, key: &KemPublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(KEM_PREKEY_SIGNATURE.len() + 5 + KEM_KEY_ENCODED_LEN);
    let mut w = Writer::new(&mut message);
    w.bytes(KEM_PREKEY_SIGNATURE);
    w.u32(id.0);
    w.u8(kind.to_byte());
    encode_kem_key(&mut w, key);
    message
}

/// A KEM prekey with its secret, kept by the device that published it.
pub struct KemPreKeyPair(Box<KemPreKeyInner>);

struct KemPreKeyInner {
    id: PreKeyId,
    kind: KemPreKeyKind,
    pair: KemKeyPair,
    signature: [u8; 64],
}

impl KemPreKeyPair {
    /// Length of the stored encoding.
    pub const ENCODED_LEN: usize = 2 + 4 + 1 + SEED_LEN + 64;

    /// A fresh KEM prekey of `kind` with the given id, signed by
    /// `identity`: 64 bytes from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        id: PreKeyId,
        kind: KemPreKeyKind,
    ) -> Self {
        let pair = KemKeyPair::generate(rng);
        Self::sign(identity, id, kind, pair)
    }

    /// The KEM prekey of a given seed `d || z` (FIPS 203
    /// ML-KEM.KeyGen_internal), for the test vectors.
    #[doc(hidden)]
    pub fn from_seed(
        identity: &IdentityKeyPair,
        id: PreKeyId,
        kind: KemPreKeyKind,
        seed: &[u8; SEED_LEN],
    ) -> Self {
        Self::sign(identity, id, kind, KemKeyPair::from_seed(seed))
    }

    fn sign(
        identity: &IdentityKeyPair,
        id: PreKeyId,
        kind: KemPreKeyKind,
        pair: KemKeyPair,
    ) -> Self {
        let signature = identity.sign(&kem_prekey_message(id, kind, pair.public()));
        Self(Box::new(KemPreKeyInner { id, kind, pair, signature }))
    }

    /// The prekey's id.
    pub fn id(&self) -> PreKeyId {
        self.0.id
    }

    /// One-time or last resort.
    pub fn kind(&self) -> KemPreKeyKind {
        self.0.kind
    }

    /// The public record, to publish.
    pub fn public(&self) -> KemPreKey {
        KemPreKey {
            id: self.0.id,
            kind: self.0.kind,
            key: self.0.pair.public().clone(),
            signature: self.0.signature,
        }
    }

    /// Decapsulates a ciphertext (implicit rejection: a wrong ciphertext
    /// gives a secret nobody else has).
    pub(crate) fn decapsulate(&self, ciphertext: &[u8; CIPHERTEXT_LEN]) -> Zeroizing<[u8; 32]> {
        self.0.pair.decapsulate(ciphertext)
    }

    /// The stored encoding: `0xFF 0xA1`, u32 id, u8 kind, the 64-byte
    /// seed, the 64-byte signature. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_KEM_PREKEY_PAIR);
        w.u32(self.0.id.0);
        w.u8(self.0.kind.to_byte());
        w.bytes(self.0.pair.seed());
        w.bytes(&self.0.signature);
        out
    }

    /// Decodes the stored encoding (the key pair is derived again from
    /// its seed).
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (id, kind, seed, signature) = decode_all(bytes, Self::ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_KEM_PREKEY_PAIR)?;
            let id = PreKeyId(r.u32()?);
            let kind = KemPreKeyKind::from_byte(r.u8()?)?;
            Ok((id, kind, Zeroizing::new(r.array::<SEED_LEN>()?), r.array()?))
        })?;
        let pair = KemKeyPair::from_seed(&seed);
        Ok(Self(Box::new(KemPreKeyInner { id, kind, pair, signature })))
    }
}

impl zeroize::ZeroizeOnDrop for KemPreKeyPair {}

impl fmt::Debug for KemPreKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemPreKeyPair")
            .field("id", &self.0.id)
            .field("kind", &self.0.kind)
            .field("key", self.0.pair.public())
            .finish_non_exhaustive()
    }
}
