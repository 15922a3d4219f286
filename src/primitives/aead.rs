//! ChaCha20-Poly1305 (RFC 8439), in place, with a detached tag.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};

/// Length of the Poly1305 tag appended to every ciphertext.
pub(crate) const TAG_LEN: usize = 16;

/// An AEAD key and the nonce to use with it, derived together from a
/// message key. Each key seals exactly one message.
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
    /// Splits 44 bytes of key material: the key, then the nonce.
    pub(crate) fn from_okm(okm: &[u8; 44]) -> Self {
        let (key, nonce) = okm.split_at(32);
        let mut out = Self { key: [0; 32], nonce: [0; 12] };
        out.key.copy_from_slice(key);
        out.nonce.copy_from_slice(nonce);
        out
    }

    /// Encrypts `buf` in place and returns the tag. ChaCha20-Poly1305
    /// refuses only plaintexts over 256 GiB; callers enforce a far lower
    /// limit first and report this as a too-long plaintext.
    pub(crate) fn seal(&self, ad: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN], ()> {
        let cipher = ChaCha20Poly1305::new(&self.key.into());
        let nonce = Nonce::from(self.nonce);
        cipher.encrypt_inout_detached(&nonce, ad, buf.into()).map(Into::into).map_err(|_| ())
    }

    /// Checks `tag` over `ad` and `buf`, and only if it is valid decrypts
    /// `buf` in place. On failure `buf` is left as it was.
    pub(crate) fn open(&self, ad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> Result<(), ()> {
        let cipher = ChaCha20Poly1305::new(&self.key.into());
        let nonce = Nonce::from(self.nonce);
        cipher.decrypt_inout_detached(&nonce, ad, buf.into(), &Tag::from(*tag)).map_err(|_| ())
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
        let key = AeadKey::from_okm(&okm);
        let ad = crate::hex::decode("50515253c0c1c2c3c4c5c6c7");
        let plain = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut buf = plain.to_vec();
        let tag = key.seal(&ad, &mut buf).unwrap();
        assert_eq!(tag.to_vec(), crate::hex::decode("1ae10b594f09e26a7e902ecbd0600691"));
        assert_eq!(&buf[..16], &crate::hex::decode("d31a8d34648e60db7b86afbc53ef7ec2")[..]);
        key.open(&ad, &mut buf, &tag).unwrap();
        assert_eq!(&buf[..], &plain[..]);
    }

    #[test]
    fn open_leaves_buffer_untouched_on_a_bad_tag() {
        let key = AeadKey::from_okm(&[7; 44]);
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
