//! The ratchet's keys and the two KDFs of the Double Ratchet specification.
//!
//! ```text
//! KDF_RK(rk, dh_out) = HKDF-SHA256(salt = rk, ikm = dh_out,
//!                                  info = "sealwire/ratchet/root/v1", 64 bytes)
//!                      -> (new root key = bytes 0..32, chain key = bytes 32..64)
//! KDF_CK(ck)         -> message key = HMAC-SHA256(ck, 0x01),
//!                       next chain key = HMAC-SHA256(ck, 0x02)
//! ```
//!
//! The message key is the XChaCha20-Poly1305 key of its message, used with
//! a random 24-byte nonce (see `docs/protocol.md` §6.1, §17.2).
//!
//! Every derivation writes into keys the caller already holds, and its
//! intermediate output sits in a buffer that wipes itself: no key is
//! returned by value, so none is left behind in a temporary.

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::labels::{CHAIN_MESSAGE_KEY_SEED, CHAIN_NEXT_KEY_SEED, ROOT_KDF_INFO};
use crate::primitives::kdf::{HmacSha256, hkdf_sha256};
use crate::primitives::x25519::DhOutput;

/// The root key (`RK`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct RootKey([u8; 32]);

impl RootKey {
    /// An all-zero key, to be filled in place.
    pub(crate) const fn zero() -> Self {
        Self([0; 32])
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Overwrites this key with `bytes`.
    pub(crate) fn set(&mut self, bytes: &[u8; 32]) {
        self.0.copy_from_slice(bytes);
    }

    /// `KDF_RK`: writes the next root key into `root` and the new chain key
    /// into `chain`, leaving this key as it is.
    pub(crate) fn derive(&self, dh: &DhOutput, root: &mut RootKey, chain: &mut ChainKey) {
        let mut okm = Zeroizing::new([0u8; 64]);
        hkdf_sha256(&self.0, &[dh.as_bytes()], &[ROOT_KDF_INFO], &mut okm);
        let (r, c) = okm.split_at(32);
        root.0.copy_from_slice(r);
        chain.0.copy_from_slice(c);
    }

    /// `KDF_RK` in place: this key becomes the next root key, and `chain`
    /// the new chain key.
    pub(crate) fn advance(&mut self, dh: &DhOutput, chain: &mut ChainKey) {
        let mut okm = Zeroizing::new([0u8; 64]);
        hkdf_sha256(&self.0, &[dh.as_bytes()], &[ROOT_KDF_INFO], &mut okm);
        let (r, c) = okm.split_at(32);
        self.0.copy_from_slice(r);
        chain.0.copy_from_slice(c);
    }
}

/// A sending or receiving chain key (`CKs`, `CKr`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ChainKey([u8; 32]);

impl ChainKey {
    /// An all-zero key, to be filled in place.
    pub(crate) const fn zero() -> Self {
        Self([0; 32])
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Overwrites this key with `bytes`.
    pub(crate) fn set(&mut self, bytes: &[u8; 32]) {
        self.0.copy_from_slice(bytes);
    }

    /// `KDF_CK` in place: writes this step's message key into `message`,
    /// and this key becomes the next chain key.
    pub(crate) fn advance(&mut self, message: &mut MessageKey) {
        let keyed = HmacSha256::new(&self.0);
        keyed.clone().mac_into(&[CHAIN_MESSAGE_KEY_SEED], &mut message.0);
        keyed.mac_into(&[CHAIN_NEXT_KEY_SEED], &mut self.0);
    }
}

/// A message key (`MK`): the XChaCha20-Poly1305 key of exactly one message.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct MessageKey([u8; 32]);

impl MessageKey {
    /// An all-zero key, to be filled in place.
    pub(crate) const fn zero() -> Self {
        Self([0; 32])
    }

    pub(crate) const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Overwrites this key with `bytes`.
    pub(crate) fn set(&mut self, bytes: &[u8; 32]) {
        self.0.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn chain_step_is_hmac_with_the_spec_constants() {
        let mut ck = ChainKey([0x11; 32]);
        let mut mk = MessageKey::zero();
        ck.advance(&mut mk);
        let reference = |input: u8| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&[0x11; 32]).unwrap();
            mac.update(&[input]);
            mac.finalize().into_bytes().to_vec()
        };
        assert_eq!(mk.as_bytes().to_vec(), reference(0x01));
        assert_eq!(ck.as_bytes().to_vec(), reference(0x02));
        assert_ne!(ck.as_bytes(), mk.as_bytes());
    }

    #[test]
    fn root_step_is_hkdf_with_the_root_key_as_salt() {
        use crate::primitives::x25519::X25519KeyPair;
        let a = X25519KeyPair::from_secret_bytes([1; 32]);
        let b = X25519KeyPair::from_secret_bytes([2; 32]);
        let dh = a.dh(b.public()).unwrap();
        let rk = RootKey([0x22; 32]);
        let (mut root, mut chain) = (RootKey::zero(), ChainKey::zero());
        rk.derive(&dh, &mut root, &mut chain);

        let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0x22; 32]), dh.as_bytes());
        let mut okm = [0u8; 64];
        hk.expand(b"sealwire/ratchet/root/v1", &mut okm).unwrap();
        assert_eq!(root.as_bytes(), &okm[..32]);
        assert_eq!(chain.as_bytes(), &okm[32..]);

        // In place gives the same keys.
        let mut in_place = RootKey([0x22; 32]);
        let mut chain2 = ChainKey::zero();
        in_place.advance(&dh, &mut chain2);
        assert_eq!(in_place.as_bytes(), root.as_bytes());
        assert_eq!(chain2.as_bytes(), chain.as_bytes());
    }
}
