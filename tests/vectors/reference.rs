//! A second implementation of sealwire's constructions, written from
//! `docs/protocol.md` with the primitive crates called directly. It shares
//! no code with `src/`; the vector generator checks that both agree on
//! every byte.

#![allow(clippy::type_complexity, reason = "kept as plain as the specification states it")]

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

pub type Bytes = Vec<u8>;

pub fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Bytes {
    let mut out = vec![0u8; len];
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, &mut out).unwrap();
    out
}

pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn x25519(scalar: &[u8; 32], u: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(*scalar, *u)
}

pub fn x25519_public(scalar: &[u8; 32]) -> [u8; 32] {
    x25519(scalar, &x25519_dalek::X25519_BASEPOINT_BYTES)
}

/// An Ed25519 identity from its seed (§3).
pub struct Identity {
    pub seed: [u8; 32],
    pub ed25519: [u8; 32],
    /// SHA-512(seed)[0..32], clamped by X25519 when used.
    pub x25519_scalar: [u8; 32],
    /// u = (1 + y) / (1 − y) of the Ed25519 point.
    pub x25519_public: [u8; 32],
}

impl Identity {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let ed25519 = signing.verifying_key().to_bytes();
        let hash = Sha512::digest(seed);
        let x25519_scalar: [u8; 32] = hash[..32].try_into().unwrap();
        Self { seed, ed25519, x25519_scalar, x25519_public: montgomery(&ed25519) }
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        ed25519_dalek::SigningKey::from_bytes(&self.seed).sign(message).to_bytes()
    }

    pub fn encoded(&self) -> [u8; 33] {
        encode_identity(&self.ed25519)
    }
}

/// The Montgomery u-coordinate of an Ed25519 public key.
pub fn montgomery(ed25519: &[u8; 32]) -> [u8; 32] {
    curve25519_dalek::edwards::CompressedEdwardsY(*ed25519)
        .decompress()
        .unwrap()
        .to_montgomery()
        .to_bytes()
}

/// `Encode(IK)`.
pub fn encode_identity(ed25519: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = 0x01;
    out[1..].copy_from_slice(ed25519);
    out
}

/// `Encode(PK)`.
pub fn encode_x25519(public: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = 0x02;
    out[1..].copy_from_slice(public);
    out
}

/// `Encode(CK)`.
pub fn encode_certificate_key(ed25519: &[u8; 32]) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = 0x04;
    out[1..].copy_from_slice(ed25519);
    out
}

pub fn u32be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A `u32` length followed by the bytes.
pub fn with_len(bytes: &[u8]) -> Bytes {
    let mut out = u32be(bytes.len() as u32).to_vec();
    out.extend_from_slice(bytes);
    out
}

pub fn cat(parts: &[&[u8]]) -> Bytes {
    parts.concat()
}

/// ChaCha20-Poly1305: ciphertext followed by the tag.
pub fn aead_seal(key: &[u8], nonce: &[u8], ad: &[u8], plaintext: &[u8]) -> Bytes {
    let cipher = ChaCha20Poly1305::new(&<[u8; 32]>::try_from(key).unwrap().into());
    let nonce = Nonce::from(<[u8; 12]>::try_from(nonce).unwrap());
    let mut buf = plaintext.to_vec();
    let tag = cipher.encrypt_inout_detached(&nonce, ad, buf.as_mut_slice().into()).unwrap();
    buf.extend_from_slice(&tag);
    buf
}

pub fn aead_open(key: &[u8], nonce: &[u8], ad: &[u8], sealed: &[u8]) -> Option<Bytes> {
    let cipher = ChaCha20Poly1305::new(&<[u8; 32]>::try_from(key).unwrap().into());
    let nonce = Nonce::from(<[u8; 12]>::try_from(nonce).unwrap());
    let (body, tag) = sealed.split_at(sealed.len() - 16);
    let mut buf = body.to_vec();
    let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
    cipher.decrypt_inout_detached(&nonce, ad, buf.as_mut_slice().into(), &tag).ok()?;
    Some(buf)
}

// ---- X3DH (§5) -------------------------------------------------------------

pub struct X3dh {
    pub dh: Vec<[u8; 32]>,
    pub kdf_ikm: Bytes,
    pub sk: [u8; 32],
    pub ad: Bytes,
}

/// The initiator's computation; `one_time` is the one-time prekey's public
/// key if the bundle had one.
pub fn x3dh(
    initiator: &Identity,
    ephemeral: &[u8; 32],
    responder: &Identity,
    signed_prekey: &[u8; 32],
    one_time: Option<&[u8; 32]>,
) -> X3dh {
    let mut dh = vec![
        x25519(&initiator.x25519_scalar, signed_prekey),
        x25519(ephemeral, &responder.x25519_public),
        x25519(ephemeral, signed_prekey),
    ];
    if let Some(opk) = one_time {
        dh.push(x25519(ephemeral, opk));
    }
    let mut kdf_ikm = vec![0xffu8; 32];
    for d in &dh {
        kdf_ikm.extend_from_slice(d);
    }
    let sk = hkdf(&[0u8; 32], &kdf_ikm, b"sealwire/x3dh/v1", 32).try_into().unwrap();
    let ad = cat(&[&initiator.encoded(), &responder.encoded()]);
    X3dh { dh, kdf_ikm, sk, ad }
}

pub fn signed_prekey_message(id: u32, public: &[u8; 32]) -> Bytes {
    cat(&[b"sealwire/signed-prekey/v1", &u32be(id), &encode_x25519(public)])
}

// ---- Double Ratchet (§6, §7) ---------------------------------------------------

pub fn kdf_rk(rk: &[u8; 32], dh: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let okm = hkdf(rk, dh, b"sealwire/ratchet/root/v1", 64);
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// (next chain key, message key)
pub fn kdf_ck(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    (hmac(ck, &[0x02]), hmac(ck, &[0x01]))
}

/// (AEAD key, nonce)
pub fn message_keys(mk: &[u8; 32]) -> (Bytes, Bytes) {
    let okm = hkdf(&[0u8; 32], mk, b"sealwire/ratchet/message/v1", 44);
    (okm[..32].to_vec(), okm[32..].to_vec())
}

pub fn header(ratchet: &[u8; 32], pn: u32, n: u32) -> Bytes {
    cat(&[&[0x31], &encode_x25519(ratchet), &u32be(pn), &u32be(n)])
}

/// What one encryption computed.
pub struct Sent {
    pub new_ratchet_secret: Option<[u8; 32]>,
    pub dh: Option<[u8; 32]>,
    pub root_key: [u8; 32],
    pub chain_key: [u8; 32],
    pub message_key: [u8; 32],
    pub aead_key: Bytes,
    pub nonce: Bytes,
    pub header: Bytes,
    pub ratchet_message: Bytes,
}

/// What one decryption computed.
pub struct Received {
    pub plaintext: Bytes,
    pub dh: Option<[u8; 32]>,
    pub root_key: [u8; 32],
    pub message_key: [u8; 32],
    pub skipped_after: usize,
}

/// One side of a ratchet, kept as plainly as the specification states it.
#[derive(Clone)]
pub struct Party {
    pub ad: Bytes,
    pub rk: [u8; 32],
    /// (DHs secret, DHs public, CKs, Ns); `None` after a receive until the
    /// next send.
    pub sending: Option<([u8; 32], [u8; 32], [u8; 32], u32)>,
    pub pn: u32,
    pub dhr: [u8; 32],
    /// (CKr, Nr)
    pub receiving: Option<([u8; 32], u32)>,
    /// (ratchet key, n, message key), oldest chain first, increasing n.
    pub skipped: Vec<([u8; 32], u32, [u8; 32])>,
}

impl Party {
    /// `RatchetInitAlice`, with the first ratchet secret given.
    pub fn initiator(
        sk: [u8; 32],
        ad: Bytes,
        their_spk: [u8; 32],
        ratchet: [u8; 32],
    ) -> (Self, [u8; 32]) {
        let dh = x25519(&ratchet, &their_spk);
        let (rk, ck) = kdf_rk(&sk, &dh);
        let party = Self {
            ad,
            rk,
            sending: Some((ratchet, x25519_public(&ratchet), ck, 0)),
            pn: 0,
            dhr: their_spk,
            receiving: None,
            skipped: Vec::new(),
        };
        (party, dh)
    }

    /// `RatchetInitBob`: the state before the first message arrives.
    pub fn responder(sk: [u8; 32], ad: Bytes, spk_secret: [u8; 32]) -> Self {
        Self {
            ad,
            rk: sk,
            sending: Some((spk_secret, x25519_public(&spk_secret), [0; 32], 0)),
            pn: 0,
            dhr: [0; 32],
            receiving: None,
            skipped: Vec::new(),
        }
    }

    /// Encrypts; `fresh` is the next ratchet secret, used only if a DH
    /// ratchet step is due.
    pub fn encrypt(&mut self, plaintext: &[u8], fresh: [u8; 32]) -> Sent {
        let mut new_ratchet_secret = None;
        let mut dh = None;
        if self.sending.is_none() {
            let d = x25519(&fresh, &self.dhr);
            let (rk, ck) = kdf_rk(&self.rk, &d);
            self.rk = rk;
            self.sending = Some((fresh, x25519_public(&fresh), ck, 0));
            new_ratchet_secret = Some(fresh);
            dh = Some(d);
        }
        let (secret, public, ck, n) = self.sending.unwrap();
        let (next, mk) = kdf_ck(&ck);
        self.sending = Some((secret, public, next, n + 1));
        let (key, nonce) = message_keys(&mk);
        let header = header(&public, self.pn, n);
        let body = aead_seal(&key, &nonce, &cat(&[&self.ad, &header]), plaintext);
        let ratchet_message = cat(&[&header, &with_len(&body)]);
        Sent {
            new_ratchet_secret,
            dh,
            root_key: self.rk,
            chain_key: ck,
            message_key: mk,
            aead_key: key,
            nonce,
            header,
            ratchet_message,
        }
    }

    /// Decrypts a ratchet message (no checks beyond what the vectors need:
    /// these inputs are honest).
    pub fn decrypt(&mut self, message: &[u8]) -> Received {
        let header = &message[..42];
        let ratchet: [u8; 32] = header[2..34].try_into().unwrap();
        let pn = u32::from_be_bytes(header[34..38].try_into().unwrap());
        let n = u32::from_be_bytes(header[38..42].try_into().unwrap());
        let body = &message[46..];
        let ad = cat(&[&self.ad, header]);

        if let Some(i) = self.skipped.iter().position(|(k, m, _)| *k == ratchet && *m == n) {
            let (_, _, mk) = self.skipped.remove(i);
            let (key, nonce) = message_keys(&mk);
            let plaintext = aead_open(&key, &nonce, &ad, body).unwrap();
            return Received {
                plaintext,
                dh: None,
                root_key: self.rk,
                message_key: mk,
                skipped_after: self.skipped.len(),
            };
        }
        let mut dh = None;
        if self.receiving.is_none() || ratchet != self.dhr {
            // The rest of the old chain, then the receiving half of a DH step.
            if let Some((ck, nr)) = self.receiving {
                let mut ck = ck;
                for m in nr..pn {
                    let (next, mk) = kdf_ck(&ck);
                    self.skipped.push((self.dhr, m, mk));
                    ck = next;
                }
            }
            // PN = Ns (zero for a responder's first message).
            let (secret, _, _, ns) = self.sending.take().unwrap();
            self.pn = ns;
            let d = x25519(&secret, &ratchet);
            let (rk, ck) = kdf_rk(&self.rk, &d);
            self.rk = rk;
            self.dhr = ratchet;
            self.receiving = Some((ck, 0));
            dh = Some(d);
        }
        let (mut ck, nr) = self.receiving.unwrap();
        for m in nr..n {
            let (next, mk) = kdf_ck(&ck);
            self.skipped.push((ratchet, m, mk));
            ck = next;
        }
        let (next, mk) = kdf_ck(&ck);
        self.receiving = Some((next, n + 1));
        let (key, nonce) = message_keys(&mk);
        let plaintext = aead_open(&key, &nonce, &ad, body).unwrap();
        Received {
            plaintext,
            dh,
            root_key: self.rk,
            message_key: mk,
            skipped_after: self.skipped.len(),
        }
    }

    /// The ratchet part of the stored session state (§8.2).
    pub fn encode_ratchet(&self) -> Bytes {
        let mut out = cat(&[&self.rk, &u32be(self.pn), &encode_x25519(&self.dhr)]);
        match self.sending {
            Some((secret, public, ck, n)) => {
                out.extend(cat(&[&[1], &secret, &encode_x25519(&public), &ck, &u32be(n)]));
            }
            None => out.push(0),
        }
        match self.receiving {
            Some((ck, n)) => out.extend(cat(&[&[1], &ck, &u32be(n)])),
            None => out.push(0),
        }
        let mut chains: Vec<([u8; 32], Vec<(u32, [u8; 32])>)> = Vec::new();
        for (key, n, mk) in &self.skipped {
            match chains.iter_mut().find(|(k, _)| k == key) {
                Some((_, keys)) => keys.push((*n, *mk)),
                None => chains.push((*key, vec![(*n, *mk)])),
            }
        }
        out.extend(u32be(chains.len() as u32));
        for (key, keys) in chains {
            out.extend(encode_x25519(&key));
            out.extend(u32be(keys.len() as u32));
            for (n, mk) in keys {
                out.extend(u32be(n));
                out.extend(mk);
            }
        }
        out
    }
}

/// An initial message (§7.2) around a ratchet message.
pub fn initial_message(
    initiator: &Identity,
    base_key: &[u8; 32],
    signed_prekey_id: u32,
    one_time_prekey_id: Option<u32>,
    ratchet_message: &[u8],
) -> Bytes {
    let mut out =
        cat(&[&[0x21], &initiator.encoded(), &encode_x25519(base_key), &u32be(signed_prekey_id)]);
    match one_time_prekey_id {
        Some(id) => out.extend(cat(&[&[1], &u32be(id)])),
        None => out.push(0),
    }
    out.extend(with_len(ratchet_message));
    out
}

// ---- Certificates (§9) ----------------------------------------------------------

pub fn issuer_certificate(
    root: &Identity,
    key_id: u32,
    issuer_key: &[u8; 32],
    app_id: &[u8],
    not_before: u64,
    not_after: u64,
) -> (Bytes, Bytes) {
    let signed = cat(&[
        &u32be(key_id),
        &encode_certificate_key(issuer_key),
        &with_len(app_id),
        &not_before.to_be_bytes(),
        &not_after.to_be_bytes(),
    ]);
    let message = cat(&[b"sealwire/issuer-certificate/v1", &signed]);
    let signature = root.sign(&message);
    (message, cat(&[&[0xa1], &signed, &signature]))
}

#[allow(clippy::too_many_arguments)]
pub fn sender_certificate(
    issuer: &Identity,
    issuer_certificate: &[u8],
    app_id: &[u8],
    user_id: &[u8],
    device_id: u32,
    identity: &[u8; 32],
    expires: u64,
) -> (Bytes, Bytes) {
    let signed = cat(&[
        &with_len(app_id),
        &with_len(user_id),
        &u32be(device_id),
        &encode_identity(identity),
        &expires.to_be_bytes(),
        &with_len(issuer_certificate),
    ]);
    let message = cat(&[b"sealwire/sender-certificate/v1", &signed]);
    let signature = issuer.sign(&message);
    (message, cat(&[&[0xb1], &signed, &signature]))
}

// ---- Sealed envelopes (§10, §11) ---------------------------------------------------

pub struct Share {
    pub recipient: [u8; 33],
    pub ephemeral_dh: [u8; 32],
    pub wrap_key: Bytes,
    pub wrapped: Bytes,
    pub static_dh: [u8; 32],
    pub auth_key: Bytes,
    pub tag: Bytes,
}

pub struct Sealed {
    pub ephemeral_public: [u8; 32],
    pub content: Bytes,
    pub padding: usize,
    pub payload_key: Bytes,
    pub payload_nonce: Bytes,
    pub payload: Bytes,
    pub payload_hash: [u8; 32],
    pub shares: Vec<Share>,
}

/// Seals for `recipients`, each with its message; `padded` pads each
/// split envelope to its bucket.
pub fn seal(
    sender: &Identity,
    certificate: &[u8],
    recipients: &[(&Identity, &[u8])],
    ephemeral: &[u8; 32],
    secret: &[u8; 32],
    padded: bool,
) -> Sealed {
    let ephemeral_public = x25519_public(ephemeral);
    let encoded_e = encode_x25519(&ephemeral_public);
    let mut content = with_len(certificate);
    content.extend(u32be(recipients.len() as u32));
    for (recipient, message) in recipients {
        content.extend(recipient.encoded());
        content.push(if message[0] == 0x21 { 0x01 } else { 0x02 });
        content.extend(with_len(message));
    }
    // A split envelope is 119 bytes plus the payload (content + 16).
    let unpadded = 119 + content.len() + 16;
    let padding = if padded { unpadded.max(512).next_power_of_two() - unpadded } else { 0 };
    content.extend(vec![0u8; padding]);
    let okm = hkdf(&[0u8; 32], secret, b"sealwire/sealed/payload/v1", 44);
    let (payload_key, payload_nonce) = (okm[..32].to_vec(), okm[32..].to_vec());
    let payload = aead_seal(&payload_key, &payload_nonce, &encoded_e, &content);
    let payload_hash = sha256(&payload);
    let shares = recipients
        .iter()
        .map(|(recipient, _)| {
            let encoded_r = recipient.encoded();
            let ephemeral_dh = x25519(ephemeral, &recipient.x25519_public);
            let wrap_key = hkdf(
                &[0u8; 32],
                &ephemeral_dh,
                &cat(&[b"sealwire/sealed/wrap/v1", &encoded_e, &encoded_r]),
                32,
            );
            let wrapped: Bytes = secret.iter().zip(&wrap_key).map(|(a, b)| a ^ b).collect();
            let static_dh = x25519(&sender.x25519_scalar, &recipient.x25519_public);
            let auth_key = hkdf(
                &[0u8; 32],
                &static_dh,
                &cat(&[b"sealwire/sealed/auth/v1", &sender.encoded(), &encoded_r]),
                32,
            );
            let tag = hmac(&auth_key, &cat(&[&encoded_e, &encoded_r, &wrapped, &payload_hash]))
                [..16]
                .to_vec();
            Share {
                recipient: encoded_r,
                ephemeral_dh,
                wrap_key,
                wrapped,
                static_dh,
                auth_key,
                tag,
            }
        })
        .collect();
    Sealed {
        ephemeral_public,
        content,
        padding,
        payload_key,
        payload_nonce,
        payload,
        payload_hash,
        shares,
    }
}

impl Sealed {
    /// The sealed envelope (§10.4) for share `i`.
    pub fn envelope(&self, i: usize) -> Bytes {
        let share = &self.shares[i];
        cat(&[
            &[0xc1],
            &share.recipient,
            &encode_x25519(&self.ephemeral_public),
            &share.wrapped,
            &share.tag,
            &with_len(&self.payload),
        ])
    }

    /// The multi-recipient envelope (§11).
    pub fn multi(&self) -> Bytes {
        let mut out = cat(&[
            &[0xd1],
            &encode_x25519(&self.ephemeral_public),
            &u32be(self.shares.len() as u32),
        ]);
        for share in &self.shares {
            out.extend(cat(&[&share.recipient, &share.wrapped, &share.tag]));
        }
        out.extend(with_len(&self.payload));
        out
    }
}
