//! Long-term identity keys: one per device, able to sign and to agree.
//!
//! An identity is an Ed25519 key pair (RFC 8032). It signs prekeys (and,
//! with sealed sender, envelopes' certificates are bound to it). For
//! Diffie-Hellman it is used in its X25519 form: the public key mapped from
//! Edwards to Montgomery form, and the secret scalar `SHA-512(seed)[0..32]`,
//! clamped as X25519 always clamps. `docs/protocol.md` explains why this,
//! rather than XEdDSA, was chosen.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::VerifyingKey;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::labels::{IDENTITY_SEED_RETRY, KEY_IDENTITY, V_IDENTITY_KEY_PAIR};
use crate::primitives::ed25519::{self, Ed25519Secret};
use crate::primitives::x25519::{DhOutput, X25519PublicKey, dh_checked, dh_checked_edwards};

/// The public identity key of a device.
///
/// Its one encoding, `Encode(IK)`, is the tag `0x01` followed by the 32-byte
/// Ed25519 public key. Decoding refuses non-canonical encodings, keys of
/// small order, keys with a torsion component and keys with an odd `x`
/// (the sign bit set), so that one X25519 key is the form of exactly one
/// identity key ([`IdentityKeyPair::generate`] only makes such keys).
///
/// Keys compare in constant time, hash and order by their encoding, and
/// display as the first 8 bytes in hex (`{:#}` shows all 32), so an app
/// can key maps by them and print them.
#[derive(Clone, Copy)]
pub struct IdentityKey {
    /// The Ed25519 public key, checked canonical and not of small order.
    ed25519: [u8; 32],
    /// Its X25519 form, computed once when the key is decoded.
    x25519: X25519PublicKey,
}

impl IdentityKey {
    /// Length of the encoding: tag byte and 32 bytes.
    pub const ENCODED_LEN: usize = 33;

    /// The encoding `Encode(IK)`.
    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        let (tag, rest) = out.split_at_mut(1);
        tag.copy_from_slice(&[KEY_IDENTITY]);
        rest.copy_from_slice(&self.ed25519);
        out
    }

    /// Decodes `Encode(IK)`, all of `bytes` and nothing else. Costs a
    /// decompression, a subgroup check (about one scalar multiplication) and
    /// an inversion.
    ///
    /// # Errors
    /// A [`DecodeError`] for a wrong length or tag, a non-canonical point,
    /// a key of small order, one with a torsion component or one with its
    /// sign bit set.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }

    /// The raw 32-byte Ed25519 public key.
    pub const fn ed25519_bytes(&self) -> &[u8; 32] {
        &self.ed25519
    }

    /// The X25519 form of this key, for Diffie-Hellman.
    pub(crate) const fn x25519(&self) -> &X25519PublicKey {
        &self.x25519
    }

    /// Verifies an Ed25519 signature with the strict rules of
    /// `verify_strict` (no small-order keys, canonical `R` and `s`).
    /// Signatures are rare enough that the decompressed point is not kept.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        ed25519::verify(&self.ed25519, message, signature)
    }

    /// Length of [`IdentityKey::encode_stored`]'s output.
    pub(crate) const STORED_LEN: usize = Self::ENCODED_LEN + X25519PublicKey::ENCODED_LEN;

    /// Writes the key as a stored session keeps it: `Encode(IK)`, then the
    /// encoding of its X25519 form.
    pub(crate) fn encode_stored(&self, w: &mut Writer<'_>) {
        self.encode(w);
        self.x25519.encode(w);
    }

    /// Reads [`IdentityKey::encode_stored`] without the two field
    /// exponentiations of [`IdentityKey::read`] (about 6 µs): the Ed25519
    /// key is checked for its tag and a canonical `y` but not decompressed,
    /// and the X25519 form is taken as stored. This key was checked when
    /// the session first met it; storage is the app's own (see
    /// `docs/protocol.md`, "Stored session state").
    pub(crate) fn read_stored(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            KEY_IDENTITY => {}
            other => return Err(DecodeError::UnexpectedKeyType(other)),
        }
        let ed25519 = r.array()?;
        if !ed25519::y_is_canonical(&ed25519) || ed25519::sign_bit(&ed25519) {
            return Err(DecodeError::InvalidKey);
        }
        let x25519 = X25519PublicKey::read(r)?;
        Ok(Self { ed25519, x25519 })
    }

    fn from_verifying_key(key: &VerifyingKey) -> Self {
        let x25519 = X25519PublicKey::from_montgomery(&key.to_montgomery());
        Self { ed25519: key.to_bytes(), x25519 }
    }
}

impl ConstantTimeEq for IdentityKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.ed25519.ct_eq(&other.ed25519)
    }
}

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for IdentityKey {}

impl core::hash::Hash for IdentityKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.ed25519.hash(state);
    }
}

impl PartialOrd for IdentityKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By the encoding's bytes (public, so not in constant time).
impl Ord for IdentityKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.ed25519.cmp(&other.ed25519)
    }
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::write_short(f, &self.ed25519)
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(")?;
        crate::hex::write(f, &self.ed25519)?;
        f.write_str(")")
    }
}

impl Codec for IdentityKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(KEY_IDENTITY);
        w.bytes(&self.ed25519);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            KEY_IDENTITY => {}
            other => return Err(DecodeError::UnexpectedKeyType(other)),
        }
        let key = ed25519::decode_identity(&r.array()?)?;
        Ok(Self::from_verifying_key(&key))
    }
}

/// A device's identity key pair. The secret is boxed, so moving the pair
/// moves a pointer and leaves no copy behind, and it is zeroized on drop.
pub struct IdentityKeyPair(Box<IdentitySecret>);

struct IdentitySecret {
    signing: Ed25519Secret,
    dh: StaticSecret,
    public: IdentityKey,
}

impl IdentityKeyPair {
    /// Length of the stored encoding: version tag and 32-byte seed.
    pub const ENCODED_LEN: usize = 33;

    /// A fresh identity from the caller's RNG: one 32-byte draw.
    ///
    /// The draw is the Ed25519 seed, unless its public key has an odd `x`
    /// (the sign bit set; half of all seeds), which an identity key may
    /// not have: then the seed is replaced by
    /// `SHA-256("sealwire/identity-seed/v1" || seed)` until it gives an even
    /// one, twice on average. Deterministic from the one draw, so it ends
    /// whatever the RNG does (`docs/protocol.md` §3).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut_slice());
        Self::from_drawn_seed(&mut seed)
    }

    /// The identity of a drawn seed, in tests.
    #[cfg(test)]
    fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_drawn_seed(&mut { *seed })
    }

    /// The identity a drawn seed gives (see [`IdentityKeyPair::generate`]).
    fn from_drawn_seed(seed: &mut [u8; 32]) -> Self {
        loop {
            let signing = Ed25519Secret::from_seed(seed);
            if !ed25519::sign_bit(signing.verifying_key().as_bytes()) {
                return Self::from_secret(signing);
            }
            let mut next = Sha256::new();
            next.update(IDENTITY_SEED_RETRY);
            next.update(seed.as_slice());
            Digest::finalize_into(next, <&mut _>::from(&mut *seed));
        }
    }

    fn from_secret(signing: Ed25519Secret) -> Self {
        let dh = StaticSecret::from(*signing.x25519_scalar());
        let public = IdentityKey::from_verifying_key(&signing.verifying_key());
        Self(Box::new(IdentitySecret { signing, dh, public }))
    }

    /// The public identity key.
    pub fn public(&self) -> &IdentityKey {
        &self.0.public
    }

    /// The stored encoding: `0x52` then the 32-byte seed. Secret: keep it
    /// where the app keeps its other keys.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(V_IDENTITY_KEY_PAIR);
        w.bytes(self.0.signing.seed());
        out
    }

    /// Decodes the stored encoding.
    ///
    /// # Errors
    /// A [`DecodeError`] for a wrong length or version tag;
    /// [`DecodeError::InvalidKey`] for a seed whose public key has an odd
    /// `x`, which [`IdentityKeyPair::generate`] never stores.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let seed = decode_all(bytes, Self::ENCODED_LEN, |r| {
            r.version(V_IDENTITY_KEY_PAIR)?;
            Ok(Zeroizing::new(r.array::<32>()?))
        })?;
        let signing = Ed25519Secret::from_seed(&seed);
        if ed25519::sign_bit(signing.verifying_key().as_bytes()) {
            return Err(DecodeError::InvalidKey);
        }
        Ok(Self::from_secret(signing))
    }

    /// Signs `message` with Ed25519.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.signing.sign(message)
    }

    /// X25519 between this identity's secret and `their` key, refusing an
    /// all-zero output.
    pub(crate) fn dh(&self, their: &X25519PublicKey) -> Option<DhOutput> {
        dh_checked(&self.0.dh, their)
    }

    /// The same X25519 as `self.dh(their.x25519())`, computed on the
    /// Edwards form of `their` key (see [`dh_checked_edwards`]): a
    /// decompression and an Edwards multiplication, which cost less than
    /// the ladder where curve25519-dalek has a vector backend. `None` for
    /// an all-zero output.
    pub(crate) fn dh_identity(&self, their: &IdentityKey) -> Option<DhOutput> {
        let point = CompressedEdwardsY(their.ed25519).decompress()?;
        dh_checked_edwards(&self.0.dh, &point)
    }
}

// Both secrets zeroize themselves on drop (see the zeroize checks in lib.rs).
impl zeroize::ZeroizeOnDrop for IdentityKeyPair {}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKeyPair")
            .field("public", &self.0.public)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::x25519::X25519KeyPair;

    // RFC 8032, section 7.1, test 1: the seed's public key and signature of
    // the empty message.
    #[test]
    fn rfc8032_test_1() {
        let seed = crate::hex::decode32(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        );
        let pair = IdentityKeyPair::from_seed(&seed);
        assert_eq!(
            pair.public().ed25519_bytes(),
            &crate::hex::decode32(
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
            )
        );
        let sig = pair.sign(b"");
        assert_eq!(
            &sig[..32],
            &crate::hex::decode32(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            )
        );
        assert!(pair.public().verify(b"", &sig));
        assert!(!pair.public().verify(b"x", &sig));
    }

    #[test]
    fn a_seed_with_an_odd_key_is_hashed_until_even() {
        // Some seed [i; 32] has an odd x.
        let odd = (0..=255u8)
            .map(|i| [i; 32])
            .find(|seed| {
                ed25519::sign_bit(Ed25519Secret::from_seed(seed).verifying_key().as_bytes())
            })
            .unwrap();
        let pair = IdentityKeyPair::from_seed(&odd);
        assert!(!ed25519::sign_bit(pair.public().ed25519_bytes()));
        // The stored seed is the hashed one, whose key is the pair's.
        let mut next = odd;
        loop {
            let digest: [u8; 32] = Sha256::new()
                .chain_update(IDENTITY_SEED_RETRY)
                .chain_update(next)
                .finalize()
                .into();
            next = digest;
            if !ed25519::sign_bit(Ed25519Secret::from_seed(&next).verifying_key().as_bytes()) {
                break;
            }
        }
        assert_eq!(&pair.to_bytes()[1..], &next[..]);
        // A stored seed with an odd key is refused.
        let mut stored = alloc::vec![V_IDENTITY_KEY_PAIR];
        stored.extend_from_slice(&odd);
        assert_eq!(IdentityKeyPair::from_bytes(&stored).unwrap_err(), DecodeError::InvalidKey);
        assert_eq!(
            IdentityKey::from_bytes(&{
                let mut k = [KEY_IDENTITY; 33];
                k[1..].copy_from_slice(Ed25519Secret::from_seed(&odd).verifying_key().as_bytes());
                k
            }),
            Err(DecodeError::InvalidKey)
        );
    }

    #[test]
    fn x25519_form_of_public_and_secret_agree() {
        let a = IdentityKeyPair::from_seed(&[1; 32]);
        let b = X25519KeyPair::from_secret_bytes([2; 32]);
        let ab = a.dh(b.public()).unwrap();
        let ba = b.dh(a.public().x25519()).unwrap();
        assert_eq!(ab.as_bytes(), ba.as_bytes());
    }

    // `dh_identity` takes another route to X25519; it must give the same
    // bytes as the ladder for every pair of identities.
    #[test]
    fn identity_dh_on_the_edwards_form_equals_the_ladder() {
        for i in 0..64u8 {
            let a = IdentityKeyPair::from_seed(&[i; 32]);
            let b = IdentityKeyPair::from_seed(&[i.wrapping_mul(7).wrapping_add(1); 32]);
            let ladder = a.dh(b.public().x25519()).unwrap();
            let edwards = a.dh_identity(b.public()).unwrap();
            assert_eq!(ladder.as_bytes(), edwards.as_bytes(), "seed {i}");
            let back = b.dh_identity(a.public()).unwrap();
            assert_eq!(back.as_bytes(), edwards.as_bytes(), "seed {i}");
        }
    }

    // A key with a small-order component added still gives the ladder's
    // output (clamping clears it), and a small-order point alone gives the
    // all-zero output, which is refused on both routes.
    #[test]
    fn identity_dh_on_the_edwards_form_handles_torsion_like_the_ladder() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let ours = IdentityKeyPair::from_seed(&[3; 32]);
        let theirs = IdentityKeyPair::from_seed(&[4; 32]);
        let point = CompressedEdwardsY(theirs.public().ed25519).decompress().unwrap();
        for torsion in EIGHT_TORSION {
            let bytes = (point + torsion).compress().to_bytes();
            let mixed = IdentityKey {
                ed25519: bytes,
                x25519: X25519PublicKey::from_montgomery(&(point + torsion).to_montgomery()),
            };
            let ladder = ours.dh(mixed.x25519()).unwrap();
            let edwards = ours.dh_identity(&mixed).unwrap();
            assert_eq!(ladder.as_bytes(), edwards.as_bytes());

            let small = IdentityKey {
                ed25519: torsion.compress().to_bytes(),
                x25519: X25519PublicKey::from_montgomery(&torsion.to_montgomery()),
            };
            assert!(ours.dh(small.x25519()).is_none());
            assert!(ours.dh_identity(&small).is_none());
        }
    }

    #[test]
    fn encodings_round_trip() {
        let pair = IdentityKeyPair::from_seed(&[3; 32]);
        let public = *pair.public();
        assert_eq!(IdentityKey::from_bytes(&public.to_bytes()), Ok(public));
        let stored = pair.to_bytes();
        assert_eq!(stored.len(), IdentityKeyPair::ENCODED_LEN);
        let again = IdentityKeyPair::from_bytes(&stored).unwrap();
        assert_eq!(again.public(), pair.public());
        assert_eq!(&*again.to_bytes(), &*stored);
    }

    #[test]
    fn weak_and_non_canonical_keys_are_refused() {
        // The identity point (y = 1) has small order.
        let mut identity_point = [0u8; 33];
        identity_point[0] = KEY_IDENTITY;
        identity_point[1] = 1;
        assert_eq!(IdentityKey::from_bytes(&identity_point), Err(DecodeError::InvalidKey));
        // y = p + 1 is a non-canonical encoding of the same point.
        let mut non_canonical = [0xffu8; 33];
        non_canonical[0] = KEY_IDENTITY;
        non_canonical[1] = 0xee;
        non_canonical[32] = 0x7f;
        assert_eq!(IdentityKey::from_bytes(&non_canonical), Err(DecodeError::InvalidKey));
        // Wrong tag.
        let mut tagged = IdentityKeyPair::from_seed(&[4; 32]).public().to_bytes();
        tagged[0] = 0x02;
        assert_eq!(IdentityKey::from_bytes(&tagged), Err(DecodeError::UnexpectedKeyType(2)));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let pair = IdentityKeyPair::from_seed(&[0x5a; 32]);
        let shown = alloc::format!("{pair:?}");
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains("5a5a5a5a"));
    }
}
