//! Sealed envelopes built by hand from docs/protocol.md §10–§11, with
//! none of `Sealer`'s checks: what a malicious sender can send. Every
//! value a sender chooses is an argument, so a test can choose it badly.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sealwire::{IdentityKey, IdentityKeyPair, SenderCertificate};
use sha2::{Digest, Sha256};

fn hkdf(ikm: &[u8], info: &[&[u8]], out: &mut [u8]) {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), ikm);
    hk.expand_multi_info(info, out).unwrap();
}

/// The X25519 form of an identity's public key.
pub fn montgomery(key: &IdentityKey) -> [u8; 32] {
    ed25519_dalek::VerifyingKey::from_bytes(key.ed25519_bytes()).unwrap().to_montgomery().to_bytes()
}

/// The X25519 scalar of an identity: SHA-512(seed)[0..32].
pub fn scalar(identity: &IdentityKeyPair) -> [u8; 32] {
    let seed: [u8; 32] = identity.to_bytes()[1..33].try_into().unwrap();
    ed25519_dalek::SigningKey::from_bytes(&seed).to_scalar_bytes()
}

/// The payload key, its nonce and the commitment K_C, from the envelope
/// secret M (§10.1).
pub fn payload_keys(secret: &[u8; 32]) -> ([u8; 32], [u8; 12], [u8; 32]) {
    let mut okm = [0u8; 76];
    hkdf(secret, &[b"sealwire/sealed/payload/v2"], &mut okm);
    (okm[..32].try_into().unwrap(), okm[32..44].try_into().unwrap(), okm[44..].try_into().unwrap())
}

/// The content (§10.2): the certificate, the layout byte of entries
/// (`0x01`), one entry per recipient, then `padding` zero bytes.
pub fn content(
    certificate: &SenderCertificate,
    entries: &[(IdentityKey, &[u8])],
    padding: usize,
) -> Vec<u8> {
    let cert = certificate.to_bytes();
    let mut content = Vec::new();
    content.extend_from_slice(&(cert.len() as u32).to_be_bytes());
    content.extend_from_slice(&cert);
    content.push(0x01);
    content.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    for (recipient, message) in entries {
        content.extend_from_slice(&recipient.to_bytes());
        content.push(if message[0] == 0x23 { 0x01 } else { 0x02 });
        content.extend_from_slice(&(message.len() as u32).to_be_bytes());
        content.extend_from_slice(message);
    }
    content.resize(content.len() + padding, 0);
    content
}

/// Encrypts `content` under the payload key of `secret`, with
/// `Encode(E)` as associated data.
pub fn payload(secret: &[u8; 32], encoded_e: &[u8], mut content: Vec<u8>) -> Vec<u8> {
    let (key, nonce, _) = payload_keys(secret);
    let cipher = ChaCha20Poly1305::new(&key.into());
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), encoded_e, content.as_mut_slice().into())
        .unwrap();
    content.extend_from_slice(&tag);
    content
}

/// One recipient's share: `secret` wrapped for `recipient` under the
/// ephemeral secret `e`, and the tag made with `signer`'s static key for
/// the identity `claimed` (the certificate's).
pub struct Share {
    pub recipient: IdentityKey,
    pub wrapped: [u8; 32],
    pub tag: [u8; 16],
}

#[allow(clippy::too_many_arguments)]
pub fn share(
    e: &[u8; 32],
    signer: &IdentityKeyPair,
    claimed: &IdentityKey,
    recipient: &IdentityKey,
    secret: &[u8; 32],
    commitment: &[u8; 32],
    payload: &[u8],
) -> Share {
    let encoded_e = encoded_ephemeral(e);
    let encoded_r = recipient.to_bytes();
    let dh = x25519_dalek::x25519(*e, montgomery(recipient));
    let mut wrap = [0u8; 32];
    hkdf(&dh, &[b"sealwire/sealed/wrap/v1", &encoded_e, &encoded_r], &mut wrap);
    let mut wrapped = [0u8; 32];
    for (w, (s, k)) in wrapped.iter_mut().zip(secret.iter().zip(wrap)) {
        *w = s ^ k;
    }
    let st = x25519_dalek::x25519(scalar(signer), montgomery(recipient));
    let mut auth = [0u8; 32];
    hkdf(&st, &[b"sealwire/sealed/auth/v1", &claimed.to_bytes(), &encoded_r], &mut auth);
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&auth).unwrap();
    mac.update(&encoded_e);
    mac.update(&encoded_r);
    mac.update(commitment);
    mac.update(&wrapped);
    mac.update(&Sha256::digest(payload));
    let tag = mac.finalize().into_bytes()[..16].try_into().unwrap();
    Share { recipient: *recipient, wrapped, tag }
}

/// `Encode(E)` for the ephemeral secret `e`.
pub fn encoded_ephemeral(e: &[u8; 32]) -> Vec<u8> {
    let mut encoded = vec![0x02];
    encoded.extend_from_slice(&x25519_dalek::x25519(*e, x25519_dalek::X25519_BASEPOINT_BYTES));
    encoded
}

/// A sealed envelope (§10.4).
pub fn envelope(e: &[u8; 32], commitment: &[u8; 32], share: &Share, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc3];
    out.extend_from_slice(&share.recipient.to_bytes());
    out.extend_from_slice(&encoded_ephemeral(e));
    out.extend_from_slice(commitment);
    out.extend_from_slice(&share.wrapped);
    out.extend_from_slice(&share.tag);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A multi-recipient envelope (§11).
pub fn multi(e: &[u8; 32], commitment: &[u8; 32], shares: &[Share], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xd3];
    out.extend_from_slice(&encoded_ephemeral(e));
    out.extend_from_slice(commitment);
    out.extend_from_slice(&(shares.len() as u32).to_be_bytes());
    for share in shares {
        out.extend_from_slice(&share.recipient.to_bytes());
        out.extend_from_slice(&share.wrapped);
        out.extend_from_slice(&share.tag);
    }
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Seals `message` to `recipient` with `cert` in the payload and
/// `signer`'s identity key in the static DH, no padding.
pub fn seal(
    rng: &mut impl rand_core::CryptoRng,
    cert: &SenderCertificate,
    signer: &IdentityKeyPair,
    recipient: &IdentityKey,
    message: &[u8],
) -> Vec<u8> {
    let mut e = [0u8; 32];
    rng.fill_bytes(&mut e);
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let (_, _, commitment) = payload_keys(&secret);
    let payload =
        payload(&secret, &encoded_ephemeral(&e), content(cert, &[(*recipient, message)], 0));
    let share = share(&e, signer, cert.identity_key(), recipient, &secret, &commitment, &payload);
    envelope(&e, &commitment, &share, &payload)
}
