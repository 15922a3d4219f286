//! The ratchet's keys and the two KDFs of the Double Ratchet specification.
//!
//! ```text
//! KDF_RK(rk, dh_out) = HKDF-SHA256(salt = rk, ikm = dh_out,
//!                                  info = "sealwire/ratchet/root/v1", 64 bytes)
//!                      -> (new root key = bytes 0..32, chain key = bytes 32..64)
//! KDF_CK(ck)         -> message key = HMAC-SHA256(ck, 0x01),
//!                       next chain key = HMAC-SHA256(ck, 0x02)
//! message key        -> HKDF-SHA256(salt = 32 zero bytes, ikm = mk,
//!                                   info = "sealwire/ratchet/message/v1", 44 bytes)
//!                      -> (ChaCha20-Poly1305 key = bytes 0..32, nonce = bytes 32..44)
//! ```

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::labels::{CHAIN_MESSAGE_KEY_SEED, CHAIN_NEXT_KEY_SEED, MESSAGE_KEY_INFO, ROOT_KDF_INFO};
use crate::primitives::aead::AeadKey;
use crate::primitives::kdf::{HmacSha256, hkdf_sha256};
use crate::primitives::x25519::DhOutput;

/// Splits 64 bytes into two 32-byte halves.
fn halves(okm: &[u8; 64]) -> ([u8; 32], [u8; 32]) {
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    let (a, b) = okm.split_at(32);
    first.copy_from_slice(a);
    second.copy_from_slice(b);
    (first, second)
}

/// The root key (`RK`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct RootKey([u8; 32]);

impl RootKey {
    pub(crate) const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `KDF_RK`: the next root key and a new chain key.
    pub(crate) fn step(&self, dh: &DhOutput) -> (Self, ChainKey) {
        let okm = hkdf_sha256::<64>(&self.0, &[dh.as_bytes()], &[ROOT_KDF_INFO]);
        let (root, chain) = halves(&okm);
        (Self(root), ChainKey(chain))
    }
}

/// A sending or receiving chain key (`CKs`, `CKr`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ChainKey([u8; 32]);

impl ChainKey {
    pub(crate) const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A second copy, for deriving ahead without touching the stored key.
    pub(crate) const fn duplicate(&self) -> Self {
        Self(self.0)
    }

    /// `KDF_CK`: the next chain key and this step's message key.
    pub(crate) fn step(&self) -> (Self, MessageKey) {
        let keyed = HmacSha256::new(&self.0);
        let message = keyed.clone().mac(&[CHAIN_MESSAGE_KEY_SEED]);
        let next = keyed.mac(&[CHAIN_NEXT_KEY_SEED]);
        (Self(*next), MessageKey(*message))
    }
}

/// A message key (`MK`): seals exactly one message.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct MessageKey([u8; 32]);

impl MessageKey {
    pub(crate) const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The AEAD key and nonce for this message.
    pub(crate) fn aead_key(&self) -> AeadKey {
        let okm = hkdf_sha256::<44>(&[0u8; 32], &[&self.0], &[MESSAGE_KEY_INFO]);
        AeadKey::from_okm(&okm)
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn chain_step_is_hmac_with_the_spec_constants() {
        let ck = ChainKey::from_bytes([0x11; 32]);
        let (next, mk) = ck.step();
        let reference = |input: u8| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&[0x11; 32]).unwrap();
            mac.update(&[input]);
            mac.finalize().into_bytes().to_vec()
        };
        assert_eq!(mk.as_bytes().to_vec(), reference(0x01));
        assert_eq!(next.as_bytes().to_vec(), reference(0x02));
        assert_ne!(next.as_bytes(), mk.as_bytes());
    }

    #[test]
    fn root_step_is_hkdf_with_the_root_key_as_salt() {
        use crate::primitives::x25519::X25519KeyPair;
        let a = X25519KeyPair::from_secret_bytes([1; 32]);
        let b = X25519KeyPair::from_secret_bytes([2; 32]);
        let dh = a.dh(b.public()).unwrap();
        let rk = RootKey::from_bytes([0x22; 32]);
        let (root, chain) = rk.step(&dh);

        let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0x22; 32]), dh.as_bytes());
        let mut okm = [0u8; 64];
        hk.expand(b"sealwire/ratchet/root/v1", &mut okm).unwrap();
        assert_eq!(root.as_bytes(), &okm[..32]);
        assert_eq!(chain.as_bytes(), &okm[32..]);
    }
}
