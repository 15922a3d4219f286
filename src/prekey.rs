//! Prekeys: the signed prekey and the one-time prekeys a device publishes
//! so that others can start sessions with it while it is offline.
//!
//! Each prekey has a public record (what the server stores and hands out)
//! and a key pair (what the device keeps). A device looks its key pairs up
//! by id through a [`PreKeyStore`] when an initial message arrives.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{AgreementError, DecodeError};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::labels::{
    SIGNED_PREKEY_SIGNATURE, V_ONE_TIME_PREKEY, V_ONE_TIME_PREKEY_PAIR, V_SIGNED_PREKEY,
    V_SIGNED_PREKEY_PAIR,
};
use crate::primitives::x25519::{DhOutput, X25519KeyPair, X25519PublicKey};

/// The id of a prekey, chosen by the device that owns it. Ids of signed
/// prekeys and of one-time prekeys are separate spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PreKeyId(pub u32);

/// The public record of a signed prekey: its id, its X25519 key, and the
/// identity key's Ed25519 signature over
/// `"sealwire/signed-prekey/v1" || u32 id || Encode(key)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignedPreKey {
    id: PreKeyId,
    key: X25519PublicKey,
    signature: [u8; 64],
}

/// Length of a signed prekey's fields inside other formats.
pub(crate) const SIGNED_PREKEY_FIELDS_LEN: usize = 4 + X25519PublicKey::ENCODED_LEN + 64;

impl SignedPreKey {
    /// Length of the standalone encoding.
    pub const ENCODED_LEN: usize = 1 + SIGNED_PREKEY_FIELDS_LEN;

    /// The prekey's id.
    pub const fn id(&self) -> PreKeyId {
        self.id
    }

    /// The prekey's public key.
    pub const fn key(&self) -> &X25519PublicKey {
        &self.key
    }

    /// The signature over the prekey.
    pub const fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// Checks the signature with `identity`'s key.
    ///
    /// # Errors
    /// [`AgreementError::InvalidSignature`] if it does not verify.
    pub fn verify(&self, identity: &IdentityKey) -> Result<(), AgreementError> {
        let message = signed_prekey_message(self.id, &self.key);
        if identity.verify(&message, &self.signature) {
            Ok(())
        } else {
            Err(AgreementError::InvalidSignature)
        }
    }

    /// The standalone encoding: `0x61`, then the fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes the standalone encoding. The signature is not checked here;
    /// [`SignedPreKey::verify`] does that.
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }

    /// Writes the fields (id, key, signature) without a version tag, as
    /// they appear inside a bundle.
    pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
        w.u32(self.id.0);
        self.key.encode(w);
        w.bytes(&self.signature);
    }

    /// Reads the fields written by `encode_fields`.
    pub(crate) fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { id: PreKeyId(r.u32()?), key: X25519PublicKey::read(r)?, signature: r.array()? })
    }
}

impl Codec for SignedPreKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_SIGNED_PREKEY);
        self.encode_fields(w);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_SIGNED_PREKEY)?;
        Self::read_fields(r)
    }
}

impl fmt::Debug for SignedPreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedPreKey").field("id", &self.id).field("key", &self.key).finish()
    }
}

/// The message an identity key signs to certify a signed prekey.
fn signed_prekey_message(id: PreKeyId, key: &X25519PublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNED_PREKEY_SIGNATURE.len() + 4 + 33);
    let mut w = Writer::new(&mut message);
    w.bytes(SIGNED_PREKEY_SIGNATURE);
    w.u32(id.0);
    key.encode(&mut w);
    message
}

/// A signed prekey with its secret, kept by the device that published it.
pub struct SignedPreKeyPair(Box<SignedPreKeyInner>);

struct SignedPreKeyInner {
    id: PreKeyId,
    pair: X25519KeyPair,
    signature: [u8; 64],
}

impl SignedPreKeyPair {
    /// Length of the stored encoding.
    pub const ENCODED_LEN: usize = 1 + 4 + 32 + 64;

    /// A fresh signed prekey with the given id, signed by `identity`.
    pub fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        id: PreKeyId,
    ) -> Self {
        let pair = X25519KeyPair::generate(rng);
        let signature = identity.sign(&signed_prekey_message(id, pair.public()));
        Self(Box::new(SignedPreKeyInner { id, pair, signature }))
    }

    /// The prekey's id.
    pub fn id(&self) -> PreKeyId {
        self.0.id
    }

    /// The public record, to publish.
    pub fn public(&self) -> SignedPreKey {
        SignedPreKey { id: self.0.id, key: *self.0.pair.public(), signature: self.0.signature }
    }

    /// X25519 with `their` key, refusing an all-zero output.
    pub(crate) fn dh(&self, their: &X25519PublicKey) -> Option<DhOutput> {
        self.0.pair.dh(their)
    }

    /// The stored encoding: `0x71`, u32 id, 32-byte secret, 64-byte
    /// signature. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(V_SIGNED_PREKEY_PAIR);
        w.u32(self.0.id.0);
        w.bytes(self.0.pair.secret_bytes().as_slice());
        w.bytes(&self.0.signature);
        out
    }

    /// Decodes the stored encoding.
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (id, secret, signature) = decode_all(bytes, Self::ENCODED_LEN, |r| {
            r.version(V_SIGNED_PREKEY_PAIR)?;
            Ok((PreKeyId(r.u32()?), Zeroizing::new(r.array::<32>()?), r.array()?))
        })?;
        let pair = X25519KeyPair::from_secret_bytes(*secret);
        Ok(Self(Box::new(SignedPreKeyInner { id, pair, signature })))
    }
}

impl zeroize::ZeroizeOnDrop for SignedPreKeyPair {}

impl fmt::Debug for SignedPreKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedPreKeyPair")
            .field("id", &self.0.id)
            .field("key", self.0.pair.public())
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// The public record of a one-time prekey.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OneTimePreKey {
    id: PreKeyId,
    key: X25519PublicKey,
}

/// Length of a one-time prekey's fields inside other formats.
pub(crate) const ONE_TIME_PREKEY_FIELDS_LEN: usize = 4 + X25519PublicKey::ENCODED_LEN;

impl OneTimePreKey {
    /// Length of the standalone encoding.
    pub const ENCODED_LEN: usize = 1 + ONE_TIME_PREKEY_FIELDS_LEN;

    /// The prekey's id.
    pub const fn id(&self) -> PreKeyId {
        self.id
    }

    /// The prekey's public key.
    pub const fn key(&self) -> &X25519PublicKey {
        &self.key
    }

    /// The standalone encoding: `0x81`, u32 id, `Encode(key)`.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes the standalone encoding.
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }

    /// Writes the fields (id, key) as they appear inside a bundle.
    pub(crate) fn encode_fields(&self, w: &mut Writer<'_>) {
        w.u32(self.id.0);
        self.key.encode(w);
    }

    /// Reads the fields written by `encode_fields`.
    pub(crate) fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self { id: PreKeyId(r.u32()?), key: X25519PublicKey::read(r)? })
    }
}

impl Codec for OneTimePreKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_ONE_TIME_PREKEY);
        self.encode_fields(w);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_ONE_TIME_PREKEY)?;
        Self::read_fields(r)
    }
}

/// A one-time prekey with its secret. It is used for at most one session:
/// [`crate::Session::accept`] removes it from the store once the session
/// is established, and the pair is not `Clone`.
pub struct OneTimePreKeyPair(Box<OneTimePreKeyInner>);

struct OneTimePreKeyInner {
    id: PreKeyId,
    pair: X25519KeyPair,
}

impl OneTimePreKeyPair {
    /// Length of the stored encoding.
    pub const ENCODED_LEN: usize = 1 + 4 + 32;

    /// A fresh one-time prekey with the given id.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, id: PreKeyId) -> Self {
        Self(Box::new(OneTimePreKeyInner { id, pair: X25519KeyPair::generate(rng) }))
    }

    /// The prekey's id.
    pub fn id(&self) -> PreKeyId {
        self.0.id
    }

    /// The public record, to publish.
    pub fn public(&self) -> OneTimePreKey {
        OneTimePreKey { id: self.0.id, key: *self.0.pair.public() }
    }

    /// X25519 with `their` key, refusing an all-zero output.
    pub(crate) fn dh(&self, their: &X25519PublicKey) -> Option<DhOutput> {
        self.0.pair.dh(their)
    }

    /// The stored encoding: `0x91`, u32 id, 32-byte secret. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(V_ONE_TIME_PREKEY_PAIR);
        w.u32(self.0.id.0);
        w.bytes(self.0.pair.secret_bytes().as_slice());
        out
    }

    /// Decodes the stored encoding.
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (id, secret) = decode_all(bytes, Self::ENCODED_LEN, |r| {
            r.version(V_ONE_TIME_PREKEY_PAIR)?;
            Ok((PreKeyId(r.u32()?), Zeroizing::new(r.array::<32>()?)))
        })?;
        let pair = X25519KeyPair::from_secret_bytes(*secret);
        Ok(Self(Box::new(OneTimePreKeyInner { id, pair })))
    }
}

impl zeroize::ZeroizeOnDrop for OneTimePreKeyPair {}

impl fmt::Debug for OneTimePreKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneTimePreKeyPair")
            .field("id", &self.0.id)
            .field("key", self.0.pair.public())
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn signature_binds_id_and_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let identity = IdentityKeyPair::generate(&mut rng);
        let spk = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(7)).public();
        assert_eq!(spk.verify(identity.public()), Ok(()));

        let other = IdentityKeyPair::generate(&mut rng);
        assert_eq!(spk.verify(other.public()), Err(AgreementError::InvalidSignature));

        let renumbered = SignedPreKey { id: PreKeyId(8), ..spk };
        assert_eq!(renumbered.verify(identity.public()), Err(AgreementError::InvalidSignature));

        let rekeyed = SignedPreKey {
            key: *OneTimePreKeyPair::generate(&mut rng, PreKeyId(1)).public().key(),
            ..spk
        };
        assert_eq!(rekeyed.verify(identity.public()), Err(AgreementError::InvalidSignature));
    }

    #[test]
    fn stored_pairs_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let identity = IdentityKeyPair::generate(&mut rng);
        let spk = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(3));
        let again = SignedPreKeyPair::from_bytes(&spk.to_bytes()).unwrap();
        assert_eq!(again.public(), spk.public());
        assert_eq!(SignedPreKey::from_bytes(&spk.public().to_bytes()), Ok(spk.public()));

        let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(9));
        let again = OneTimePreKeyPair::from_bytes(&opk.to_bytes()).unwrap();
        assert_eq!(again.public(), opk.public());
        assert_eq!(OneTimePreKey::from_bytes(&opk.public().to_bytes()), Ok(opk.public()));
    }
}
