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

// `SigningKey` zeroizes itself on drop (the `zeroize` feature).
impl zeroize::ZeroizeOnDrop for Ed25519Secret {}

impl fmt::Debug for Ed25519Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Secret([redacted])")
    }
}

/// Checks a 32-byte Ed25519 public key: its `y` is below p, it
/// decompresses, and it is not of small order. Returns the decompressed key.
///
/// That is exactly "canonical and not weak": an encoding is canonical when
/// `y < p` and, for `x = 0`, the sign bit is clear. The points with `x = 0`
/// are (0, 1) and (0, −1), both of small order, so the second condition is
/// covered by the third. Checking `y` on the bytes saves re-compressing
/// the point (a field inversion).
pub(crate) fn decode_public(bytes: &[u8; 32]) -> Result<VerifyingKey, DecodeError> {
    if !y_is_canonical(bytes) {
        return Err(DecodeError::InvalidKey);
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| DecodeError::InvalidKey)?;
    if key.is_weak() {
        return Err(DecodeError::InvalidKey);
    }
    Ok(key)
}

/// `true` if the `y` of an encoded Edwards point (the little-endian bytes
/// without the sign bit) is below p = 2^255 − 19.
pub(crate) fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    let [low, middle @ .., high] = bytes;
    // y >= p only for 0x7fff...ffed to 0x7fff...ffff (sign bit aside).
    !((high & 0x7f) == 0x7f && middle.iter().all(|&b| b == 0xff) && *low >= 0xed)
}

/// Verifies with the strict rules (`verify_strict`): canonical `S`, `R`
/// and key not of small order, the recomputed `R` equal to the given one.
/// `public` must have been checked by [`decode_public`].
pub(crate) fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(public).is_ok_and(|key| verify_with(&key, message, signature))
}

/// [`verify`] with a key already decompressed.
pub(crate) fn verify_with(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    key.verify_strict(message, &Signature::from_bytes(signature)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_check_refuses_exactly_the_non_canonical_y() {
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xec; // p - 1
        assert!(y_is_canonical(&p));
        p[0] = 0xed; // p
        assert!(!y_is_canonical(&p));
        p[31] = 0xff; // p with the sign bit set
        assert!(!y_is_canonical(&p));
        p[0] = 0xec; // p - 1 with the sign bit set: canonical y
        assert!(y_is_canonical(&p));
    }

    #[test]
    fn decoding_agrees_with_recompression() {
        // For any 32 bytes, decode_public accepts exactly the non-weak
        // points whose re-compression gives the same bytes.
        let mut bytes = [0u8; 32];
        for i in 0..2000u32 {
            for (j, b) in bytes.iter_mut().enumerate() {
                *b = (i.wrapping_mul(2_654_435_761).rotate_left(j as u32) >> 3) as u8 ^ j as u8;
            }
            if i % 7 == 0 {
                bytes[31] |= 0x7f;
                bytes[1..31].fill(0xff);
            }
            let slow = VerifyingKey::from_bytes(&bytes)
                .ok()
                .filter(|k| k.to_edwards().compress().to_bytes() == bytes && !k.is_weak());
            assert_eq!(decode_public(&bytes).is_ok(), slow.is_some(), "{bytes:02x?}");
        }
    }
}
