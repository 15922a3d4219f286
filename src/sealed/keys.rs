//! The keys of a sealed envelope.
//!
//! ```text
//! payload key, nonce = HKDF(salt = 32 zero bytes, ikm = M,
//!                           info = "sealwire/sealed/payload/v1", 44 bytes)
//! wrap_R             = HKDF(salt = 32 zero bytes, ikm = DH(E, IK_R),
//!                           info = "sealwire/sealed/wrap/v1" || Encode(E) || Encode(IK_R), 32)
//! auth_SR            = HKDF(salt = 32 zero bytes, ikm = DH(IK_S, IK_R),
//!                           info = "sealwire/sealed/auth/v1" || Encode(IK_S) || Encode(IK_R), 32)
//! tag_R              = HMAC(auth_SR, Encode(E) || Encode(IK_R) || C_R || SHA-256(payload))[0..16]
//! ```

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::identity::IdentityKey;
use crate::labels::{SEALED_AUTH_INFO, SEALED_PAYLOAD_INFO, SEALED_WRAP_INFO};
use crate::primitives::aead::AeadKey;
use crate::primitives::kdf::{HmacSha256, hkdf_sha256};
use crate::primitives::x25519::{DhOutput, X25519PublicKey};

/// Length of a share's authentication tag.
pub(crate) const TAG_LEN: usize = 16;

const ZERO_SALT: [u8; 32] = [0; 32];

/// The key and nonce that encrypt the payload, from the envelope secret `M`.
pub(crate) fn payload_key(secret: &[u8; 32]) -> AeadKey {
    let okm = hkdf_sha256::<44>(&ZERO_SALT, &[secret], &[SEALED_PAYLOAD_INFO]);
    AeadKey::from_okm(&okm)
}

/// The key that wraps `M` for one recipient, from `DH(E, IK_R)`.
pub(crate) fn wrap_key(
    dh: &DhOutput,
    ephemeral: &X25519PublicKey,
    recipient: &IdentityKey,
) -> Zeroizing<[u8; 32]> {
    hkdf_sha256::<32>(
        &ZERO_SALT,
        &[dh.as_bytes()],
        &[SEALED_WRAP_INFO, &ephemeral.to_bytes(), &recipient.to_bytes()],
    )
}

/// The key that authenticates envelopes from `sender` to `recipient`, from
/// their static `DH(IK_S, IK_R)`. The same for every envelope between the
/// two, so a sender may cache it.
pub(crate) fn auth_key(
    dh: &DhOutput,
    sender: &IdentityKey,
    recipient: &IdentityKey,
) -> Zeroizing<[u8; 32]> {
    hkdf_sha256::<32>(
        &ZERO_SALT,
        &[dh.as_bytes()],
        &[SEALED_AUTH_INFO, &sender.to_bytes(), &recipient.to_bytes()],
    )
}

/// SHA-256 of the encrypted payload, which each share's tag covers.
pub(crate) fn payload_hash(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

/// A share's tag: binds the wrapped secret to the ephemeral key, the
/// recipient and the payload, under the sender-recipient key.
pub(crate) fn share_tag(
    auth_key: &[u8; 32],
    ephemeral: &X25519PublicKey,
    recipient: &IdentityKey,
    wrapped: &[u8; 32],
    payload_hash: &[u8; 32],
) -> [u8; TAG_LEN] {
    let mut input = [0u8; X25519PublicKey::ENCODED_LEN + IdentityKey::ENCODED_LEN + 32 + 32];
    let (e, rest) = input.split_at_mut(X25519PublicKey::ENCODED_LEN);
    let (r, rest) = rest.split_at_mut(IdentityKey::ENCODED_LEN);
    let (c, h) = rest.split_at_mut(32);
    e.copy_from_slice(&ephemeral.to_bytes());
    r.copy_from_slice(&recipient.to_bytes());
    c.copy_from_slice(wrapped);
    h.copy_from_slice(payload_hash);
    let mac = HmacSha256::new(auth_key).mac(&input);
    let mut tag = [0u8; TAG_LEN];
    if let Some(head) = mac.first_chunk::<TAG_LEN>() {
        tag = *head;
    }
    tag
}

/// `a XOR b`, for wrapping and unwrapping `M`.
pub(crate) fn xor(a: &[u8; 32], b: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}
