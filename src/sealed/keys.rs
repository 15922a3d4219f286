//! The keys of a sealed envelope.
//!
//! ```text
//! K, N, K_C = HKDF(salt = 32 zero bytes, ikm = M,
//!                  info = "sealwire/sealed/payload/v2", 76 bytes)
//!             (payload key, its nonce, the payload commitment)
//! W_R       = HKDF(salt = 32 zero bytes, ikm = DH(E, IK_R),
//!                  info = "sealwire/sealed/wrap/v1" || Encode(E) || Encode(IK_R), 32)
//! A_SR      = HKDF(salt = 32 zero bytes, ikm = DH(IK_S, IK_R),
//!                  info = "sealwire/sealed/auth/v1" || Encode(IK_S) || Encode(IK_R), 32)
//! T_R       = HMAC(A_SR, Encode(E) || Encode(IK_R) || K_C || C_R || SHA-256(payload))[0..16]
//! ```
//!
//! `K_C` travels in the envelope, once for all recipients. A recipient
//! checks that the secret it unwraps gives that `K_C` before it opens the
//! payload, so every recipient of one envelope opens the payload with the
//! same key and reads the same content, even if the sender wrapped a
//! different secret for each (ChaCha20-Poly1305 alone does not commit to
//! its key).
//!
//! Every key is written into a buffer the caller holds and wipes.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::identity::IdentityKey;
use crate::labels::{SEALED_AUTH_INFO, SEALED_PAYLOAD_INFO, SEALED_WRAP_INFO};
use crate::primitives::aead::AeadKey;
use crate::primitives::kdf::{HmacSha256, hkdf_sha256};
use crate::primitives::x25519::{DhOutput, X25519PublicKey};

/// Length of a share's authentication tag.
pub(crate) const TAG_LEN: usize = 16;

/// Length of the payload commitment `K_C`.
pub(crate) const COMMITMENT_LEN: usize = 32;

const ZERO_SALT: [u8; 32] = [0; 32];

/// From the envelope secret `M`: the key and nonce that encrypt the
/// payload (into `key`), and the commitment to them (returned; it is
/// public).
pub(crate) fn payload_keys(secret: &[u8; 32], key: &mut AeadKey) -> [u8; COMMITMENT_LEN] {
    let mut okm = Zeroizing::new([0u8; 76]);
    hkdf_sha256(&ZERO_SALT, &[secret], &[SEALED_PAYLOAD_INFO], &mut okm);
    let (key_and_nonce, commitment) = okm.split_at(44);
    let mut material = Zeroizing::new([0u8; 44]);
    material.copy_from_slice(key_and_nonce);
    key.fill_from_okm(&material);
    let mut out = [0u8; COMMITMENT_LEN];
    out.copy_from_slice(commitment);
    out
}

/// The key that wraps `M` for one recipient, from `DH(E, IK_R)`, written
/// into `out`.
pub(crate) fn wrap_key(
    dh: &DhOutput,
    ephemeral: &X25519PublicKey,
    recipient: &[u8; IdentityKey::ENCODED_LEN],
    out: &mut [u8; 32],
) {
    hkdf_sha256(
        &ZERO_SALT,
        &[dh.as_bytes()],
        &[SEALED_WRAP_INFO, &ephemeral.to_bytes(), recipient],
        out,
    );
}

/// The key that authenticates envelopes from `sender` to `recipient`, from
/// their static `DH(IK_S, IK_R)`, written into `out`. The same for every
/// envelope between the two, so a sender may cache it.
pub(crate) fn auth_key(
    dh: &DhOutput,
    sender: &IdentityKey,
    recipient: &IdentityKey,
    out: &mut [u8; 32],
) {
    hkdf_sha256(
        &ZERO_SALT,
        &[dh.as_bytes()],
        &[SEALED_AUTH_INFO, &sender.to_bytes(), &recipient.to_bytes()],
        out,
    );
}

/// SHA-256 of the encrypted payload, which each share's tag covers.
pub(crate) fn payload_hash(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

/// A share's tag: binds the wrapped secret to the ephemeral key, the
/// recipient, the commitment and the payload, under the sender-recipient
/// key.
pub(crate) fn share_tag(
    auth_key: &[u8; 32],
    ephemeral: &X25519PublicKey,
    recipient: &[u8; IdentityKey::ENCODED_LEN],
    commitment: &[u8; COMMITMENT_LEN],
    wrapped: &[u8; 32],
    payload_hash: &[u8; 32],
) -> [u8; TAG_LEN] {
    let mut input =
        [0u8; X25519PublicKey::ENCODED_LEN + IdentityKey::ENCODED_LEN + COMMITMENT_LEN + 32 + 32];
    let (e, rest) = input.split_at_mut(X25519PublicKey::ENCODED_LEN);
    let (r, rest) = rest.split_at_mut(IdentityKey::ENCODED_LEN);
    let (k, rest) = rest.split_at_mut(COMMITMENT_LEN);
    let (c, h) = rest.split_at_mut(32);
    e.copy_from_slice(&ephemeral.to_bytes());
    r.copy_from_slice(recipient);
    k.copy_from_slice(commitment);
    c.copy_from_slice(wrapped);
    h.copy_from_slice(payload_hash);
    let mac = HmacSha256::new(auth_key).tag(&input);
    let mut tag = [0u8; TAG_LEN];
    if let Some(head) = mac.first_chunk::<TAG_LEN>() {
        tag = *head;
    }
    tag
}

/// Writes `a XOR b` into `out`, for wrapping and unwrapping `M`.
pub(crate) fn xor_into(a: &[u8; 32], b: &[u8; 32], out: &mut [u8; 32]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
}
