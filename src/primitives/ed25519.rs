//! Ed25519 (RFC 8032): secret keys that sign, public keys that decode only
//! in their canonical form, and strict verification.

use alloc::boxed::Box;
use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::DecodeError;

/// An Ed25519 secret key, boxed so that moving it leaves no copy, and
/// zeroized on drop (by ed25519-dalek).
pub(crate) struct Ed25519Secret(Box<SigningKey>);

impl Ed25519Secret {
    /// A fresh key: 32 bytes from the caller's RNG as the seed.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut_slice());
        Self::from_seed(&seed)
    }

    /// The key of a 32-byte seed (the RFC 8032 secret key).
    pub(crate) fn from_seed(seed: &[u8; 32]) -> Self {
        Self(Box::new(SigningKey::from_bytes(seed)))
    }

    /// The seed, for storage.
    pub(crate) fn seed(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The public key's 32-byte encoding.
    pub(crate) fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The public key, decompressed, for callers that need the point.
    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        self.0.verifying_key()
    }

    /// The first half of `SHA-512(seed)`, the scalar X25519 uses for this
    /// key's Montgomery form.
    pub(crate) fn x25519_scalar(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_scalar_bytes())
    }

    /// Signs `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for Ed25519Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Secret([redacted])")
    }
}

/// Checks a 32-byte Ed25519 public key: it decompresses, its encoding is
/// canonical (re-compressing gives the same bytes), and it is not of small
/// order. Returns the decompressed key.
pub(crate) fn decode_public(bytes: &[u8; 32]) -> Result<VerifyingKey, DecodeError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| DecodeError::InvalidKey)?;
    let canonical = key.to_edwards().compress().to_bytes() == *bytes;
    if !canonical || key.is_weak() {
        return Err(DecodeError::InvalidKey);
    }
    Ok(key)
}

/// Verifies with the strict rules (`verify_strict`): canonical `S`, `R`
/// and key not of small order, the recomputed `R` equal to the given one.
/// `public` must have been checked by [`decode_public`].
pub(crate) fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(public)
        .is_ok_and(|key| key.verify_strict(message, &Signature::from_bytes(signature)).is_ok())
}
