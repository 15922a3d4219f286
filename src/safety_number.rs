//! Safety numbers: a fingerprint of two devices' identity keys that two
//! people compare, read aloud or scanned, to know that no one sits between
//! them.
//!
//! For each side, with `Encode(IK)` its identity key and `Encode(A)` its
//! address (`docs/sessions.md` §8):
//!
//! ```text
//! H_0 = "sealwire/safety-number/v1" || Encode(IK) || Encode(A)
//! H_i = SHA-512(H_(i-1) || Encode(IK))     for i = 1 ..= 5200
//! ```
//!
//! The first 30 bytes of `H_5200` give 30 digits: six 5-byte big-endian
//! chunks, each taken modulo 100000 and written as 5 digits. The safety
//! number is the two sides' digits, the smaller first, so both sides see
//! the same 60 digits. The scannable form is `0xFF 0x61` and the first 32
//! bytes of each side's `H_5200`, in the same order.

use core::fmt;

use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::address::Address;
use crate::codec::{Codec, Writer};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, SAFETY_NUMBER, X_SAFETY_NUMBER};

/// How many times each side's fingerprint is hashed: as libsignal, so that
/// finding a key whose fingerprint collides in the 30 digits a person
/// compares costs 5200 SHA-512 per try (about 2^112 of them).
pub const SAFETY_NUMBER_ITERATIONS: usize = 5200;

/// Digits per side.
const SIDE_DIGITS: usize = 30;

/// The safety number of a pair of devices. The same on both devices and in
/// every app: [`SafetyNumber::new`] does not care which side is local.
#[derive(Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    digits: [u8; 2 * SIDE_DIGITS],
    scannable: [u8; SafetyNumber::SCANNABLE_LEN],
}

impl SafetyNumber {
    /// Length of the scannable form (for a QR code).
    pub const SCANNABLE_LEN: usize = 2 + 2 * 32;

    /// The safety number of two devices, each given by its address and
    /// identity key. Costs 10,400 SHA-512 (about 3 ms).
    pub fn new(a: &Address, a_key: &IdentityKey, b: &Address, b_key: &IdentityKey) -> Self {
        let a = side(a, a_key);
        let b = side(b, b_key);
        let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        let mut digits = [0u8; 2 * SIDE_DIGITS];
        let (d1, d2) = digits.split_at_mut(SIDE_DIGITS);
        d1.copy_from_slice(&first.0);
        d2.copy_from_slice(&second.0);
        let mut scannable = [0u8; Self::SCANNABLE_LEN];
        let (tag, rest) = scannable.split_at_mut(2);
        tag.copy_from_slice(&[ESCAPE, X_SAFETY_NUMBER]);
        let (s1, s2) = rest.split_at_mut(32);
        s1.copy_from_slice(&first.1);
        s2.copy_from_slice(&second.1);
        Self { digits, scannable }
    }

    /// The 60 digits, without spaces.
    pub fn digits(&self) -> &str {
        // Only ASCII digits are written, so this never falls back.
        core::str::from_utf8(&self.digits).unwrap_or("")
    }

    /// The scannable form, for a QR code.
    pub fn scannable(&self) -> &[u8; Self::SCANNABLE_LEN] {
        &self.scannable
    }

    /// Whether `scanned` (the other device's scannable form) matches this
    /// one, compared in constant time.
    ///
    /// # Errors
    /// A [`DecodeError`] if `scanned` is not a scannable safety number of
    /// this version, checked as every fixed-size format is: longer than
    /// [`SafetyNumber::SCANNABLE_LEN`] is `TooLong`, then the tag, then
    /// shorter is `Truncated`.
    pub fn matches_scanned(&self, scanned: &[u8]) -> Result<bool, DecodeError> {
        if scanned.len() > Self::SCANNABLE_LEN {
            return Err(DecodeError::TooLong);
        }
        match scanned {
            [ESCAPE, X_SAFETY_NUMBER, ..] if scanned.len() == Self::SCANNABLE_LEN => {
                Ok(self.scannable.ct_eq(scanned).into())
            }
            [ESCAPE, X_SAFETY_NUMBER, ..] | [ESCAPE] | [] => Err(DecodeError::Truncated),
            [ESCAPE, other, ..] | [other, ..] => Err(DecodeError::UnknownVersion(*other)),
        }
    }
}

/// One side's 30 digits and the first 32 bytes of its hash.
fn side(address: &Address, key: &IdentityKey) -> ([u8; SIDE_DIGITS], [u8; 32]) {
    let key = key.to_bytes();
    let mut first = alloc::vec::Vec::with_capacity(SAFETY_NUMBER.len() + key.len() + 80);
    let mut w = Writer::new(&mut first);
    w.bytes(SAFETY_NUMBER);
    w.bytes(&key);
    address.encode(&mut w);
    let mut hash = Sha512::new().chain_update(&first).chain_update(key).finalize();
    for _ in 1..SAFETY_NUMBER_ITERATIONS {
        hash = Sha512::new().chain_update(hash).chain_update(key).finalize();
    }
    let mut digits = [0u8; SIDE_DIGITS];
    for (chunk, out) in hash.chunks_exact(5).zip(digits.chunks_exact_mut(5)) {
        let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) % 100_000;
        let mut v = value;
        for d in out.iter_mut().rev() {
            // A decimal digit: below 10.
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let mut prefix = [0u8; 32];
    prefix.copy_from_slice(hash.get(..32).unwrap_or(&[0; 32]));
    (digits, prefix)
}

impl fmt::Display for SafetyNumber {
    /// Twelve groups of five digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.digits.chunks(5).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(core::str::from_utf8(group).unwrap_or(""))?;
        }
        Ok(())
    }
}

impl fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafetyNumber({self})")
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::certificate::{AppId, DeviceId, UserId};
    use crate::identity::IdentityKeyPair;

    fn address(user: &[u8]) -> Address {
        Address::new(AppId::new("chat.a").unwrap(), UserId::new(user).unwrap(), DeviceId(1))
    }

    #[test]
    fn both_sides_agree_and_anything_changed_changes_it() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (a, b) = (address(b"alice"), address(b"bob"));
        let ka = *IdentityKeyPair::generate(&mut rng).public();
        let kb = *IdentityKeyPair::generate(&mut rng).public();
        let n = SafetyNumber::new(&a, &ka, &b, &kb);
        assert_eq!(n, SafetyNumber::new(&b, &kb, &a, &ka));
        assert_eq!(n.digits().len(), 60);
        assert!(n.digits().bytes().all(|d| d.is_ascii_digit()));
        assert_eq!(n.to_string().len(), 60 + 11);
        assert_eq!(n.matches_scanned(SafetyNumber::new(&b, &kb, &a, &ka).scannable()), Ok(true));

        let other = *IdentityKeyPair::generate(&mut rng).public();
        let changed = SafetyNumber::new(&a, &ka, &b, &other);
        assert_ne!(changed.digits(), n.digits());
        assert_eq!(n.matches_scanned(changed.scannable()), Ok(false));
        // The same keys at another address.
        assert_ne!(SafetyNumber::new(&a, &ka, &address(b"carol"), &kb).digits(), n.digits());
    }

    #[test]
    fn scanned_input_is_checked() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (a, b) = (address(b"alice"), address(b"bob"));
        let ka = *IdentityKeyPair::generate(&mut rng).public();
        let kb = *IdentityKeyPair::generate(&mut rng).public();
        let n = SafetyNumber::new(&a, &ka, &b, &kb);
        let s = n.scannable();
        assert_eq!(n.matches_scanned(&s[..65]), Err(DecodeError::Truncated));
        let mut long = s.to_vec();
        long.push(0);
        assert_eq!(n.matches_scanned(&long), Err(DecodeError::TooLong));
        assert_eq!(n.matches_scanned(&[0xff, 0x62]), Err(DecodeError::UnknownVersion(0x62)));
        assert_eq!(n.matches_scanned(&[]), Err(DecodeError::Truncated));
        assert_eq!(n.matches_scanned(&[0xff]), Err(DecodeError::Truncated));
        assert_eq!(n.matches_scanned(&[0x61]), Err(DecodeError::UnknownVersion(0x61)));
    }
}
