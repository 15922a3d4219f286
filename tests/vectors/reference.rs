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

    /// An identity key pair as §3 generates it from one 32-byte draw:
    /// the seed is rehashed while its public key has an odd x.
    pub fn generate(draw: [u8; 32]) -> Self {
        let mut seed = draw;
        loop {
            let id = Self::from_seed(seed);
            if id.ed25519[31] & 0x80 == 0 {
                return id;
            }
            seed = sha256(&cat(&[b"sealwire/identity-seed/v1", &seed]));
        }
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

/// PQXDH (§20.2): X3DH's KDF input with the KEM shared secret appended,
/// under the PQXDH info.
pub fn pqxdh(
    initiator: &Identity,
    ephemeral: &[u8; 32],
    responder: &Identity,
    signed_prekey: &[u8; 32],
    one_time: Option<&[u8; 32]>,
    kem_secret: &[u8; 32],
) -> X3dh {
    let mut x = x3dh(initiator, ephemeral, responder, signed_prekey, one_time);
    x.kdf_ikm.extend_from_slice(kem_secret);
    x.sk = hkdf(&[0u8; 32], &x.kdf_ikm, b"sealwire/pqxdh/v1/x25519-sha256-mlkem768", 32)
        .try_into()
        .unwrap();
    x
}

/// What the identity key signs for a KEM prekey (§20.1).
pub fn kem_prekey_message(id: u32, kind: u8, key: &[u8]) -> Bytes {
    cat(&[b"sealwire/kem-prekey/v1", &u32be(id), &[kind, 0x03], key])
}

pub fn signed_prekey_message(id: u32, public: &[u8; 32]) -> Bytes {
    cat(&[b"sealwire/signed-prekey/v1", &u32be(id), &encode_x25519(public)])
}

// ---- Double Ratchet (§6, §7) ---------------------------------------------------

pub const MAX_SKIP: u32 = 1000;
pub const MAX_SKIPPED_KEYS: usize = 2000;
pub const MAX_RECEIVING_CHAINS: usize = 5;
pub const MAX_CHAIN_HISTORY: usize = 32;
pub const MAX_DROPPED_RANGES: usize = 64;

pub fn kdf_rk(rk: &[u8; 32], dh: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let okm = hkdf(rk, dh, b"sealwire/ratchet/root/v1", 64);
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// (next chain key, message key)
pub fn kdf_ck(ck: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    (hmac(ck, &[0x02]), hmac(ck, &[0x01]))
}

/// HChaCha20 (draft-irtf-cfrg-xchacha §2.2): the subkey of XChaCha20.
pub fn hchacha20(key: &[u8; 32], nonce16: &[u8]) -> [u8; 32] {
    let input = <[u8; 16]>::try_from(nonce16).unwrap();
    chacha20::hchacha::<chacha20::R20>(&(*key).into(), &input.into()).into()
}

/// XChaCha20-Poly1305 as §1 defines it: the HChaCha20 subkey, then
/// ChaCha20-Poly1305 with the nonce 0x00000000 || nonce[16..24].
pub fn xaead_seal(key: &[u8; 32], nonce: &[u8; 24], ad: &[u8], plaintext: &[u8]) -> Bytes {
    let subkey = hchacha20(key, &nonce[..16]);
    aead_seal(&subkey, &cat(&[&[0; 4], &nonce[16..]]), ad, plaintext)
}

pub fn xaead_open(key: &[u8; 32], nonce: &[u8; 24], ad: &[u8], sealed: &[u8]) -> Option<Bytes> {
    let subkey = hchacha20(key, &nonce[..16]);
    aead_open(&subkey, &cat(&[&[0; 4], &nonce[16..]]), ad, sealed)
}

pub fn header(ratchet: &[u8; 32], pn: u32, n: u32, nonce: &[u8; 24]) -> Bytes {
    cat(&[&[0x32], &encode_x25519(ratchet), &u32be(pn), &u32be(n), nonce])
}

/// What one encryption computed.
pub struct Sent {
    pub new_ratchet_secret: Option<[u8; 32]>,
    pub dh: Option<[u8; 32]>,
    pub root_key: [u8; 32],
    pub chain_key: [u8; 32],
    pub message_key: [u8; 32],
    pub nonce: [u8; 24],
    pub subkey: [u8; 32],
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

/// What a session remembers of one of the peer's chains (§6.2).
#[derive(Clone, Debug)]
pub struct Chain {
    pub key: [u8; 32],
    pub end: u32,
    pub keys: Vec<(u32, [u8; 32])>,
    pub dropped: Vec<(u32, u32)>,
    pub unknown_below: u32,
}

impl Chain {
    fn drop_lowest(&mut self, n: usize) {
        for (k, _) in self.keys.drain(..n) {
            match self.dropped.last_mut() {
                Some(last) if last.1 == k => last.1 = k + 1,
                _ => self.dropped.push((k, k + 1)),
            }
        }
    }
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
    /// CKr; its chain is the last of `chains`, whose `end` is Nr.
    pub receiving: Option<[u8; 32]>,
    pub chains: Vec<Chain>,
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
            chains: Vec::new(),
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
            chains: Vec::new(),
        }
    }

    pub fn skipped(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// Encrypts; `fresh` is the next ratchet secret, used only if a DH
    /// ratchet step is due, and `nonce` the message's 24-byte draw.
    pub fn encrypt(&mut self, plaintext: &[u8], fresh: [u8; 32], nonce: [u8; 24]) -> Sent {
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
        let header = header(&public, self.pn, n, &nonce);
        let body = xaead_seal(&mk, &nonce, &cat(&[&self.ad, &header]), plaintext);
        let ratchet_message = cat(&[&header, &with_len(&body)]);
        Sent {
            new_ratchet_secret,
            dh,
            root_key: self.rk,
            chain_key: ck,
            message_key: mk,
            nonce,
            subkey: hchacha20(&mk, &nonce[..16]),
            header,
            ratchet_message,
        }
    }

    /// Decrypts a ratchet message (§6.4), or names the error.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Received, &'static str> {
        let header = &message[..66];
        let ratchet: [u8; 32] = header[2..34].try_into().unwrap();
        let pn = u32::from_be_bytes(header[34..38].try_into().unwrap());
        let n = u32::from_be_bytes(header[38..42].try_into().unwrap());
        let nonce: [u8; 24] = header[42..66].try_into().unwrap();
        let body = &message[70..];
        let ad = cat(&[&self.ad, header]);
        let gap = |from: u32, until: u32| until.saturating_sub(from) > MAX_SKIP;

        // Steps 1 and 2.
        let current = self.receiving.is_some() && ratchet == self.dhr;
        let nr = self.chains.last().map_or(0, |c| c.end);
        if !(current && n >= nr)
            && let Some(c) = self.chains.iter().position(|c| c.key == ratchet)
        {
            let chain = &self.chains[c];
            if let Some(i) = chain.keys.iter().position(|(k, _)| *k == n) {
                let mk = chain.keys[i].1;
                let plaintext = xaead_open(&mk, &nonce, &ad, body).ok_or("Failed")?;
                self.chains[c].keys.remove(i);
                let skipped_after = self.skipped();
                return Ok(Received {
                    plaintext,
                    dh: None,
                    root_key: self.rk,
                    message_key: mk,
                    skipped_after,
                });
            }
            return Err(if n >= chain.end {
                "Failed"
            } else if chain.dropped.iter().any(|(a, b)| *a <= n && n < *b) {
                "KeyDropped"
            } else if n < chain.unknown_below {
                "StaleMessage"
            } else {
                "Duplicate"
            });
        }
        if current {
            if gap(nr, n) {
                return Err("TooManySkipped");
            }
            let mut ck = self.receiving.unwrap();
            let mut kept = Vec::new();
            for m in nr..n {
                let (next, mk) = kdf_ck(&ck);
                kept.push((m, mk));
                ck = next;
            }
            let (next, mk) = kdf_ck(&ck);
            let plaintext = xaead_open(&mk, &nonce, &ad, body).ok_or("Failed")?;
            let last = self.chains.last_mut().unwrap();
            last.keys.extend(kept);
            last.end = n + 1;
            self.receiving = Some(next);
            self.enforce_limits();
            return Ok(Received {
                plaintext,
                dh: None,
                root_key: self.rk,
                message_key: mk,
                skipped_after: self.skipped(),
            });
        }
        // Step 3: a new ratchet key.
        let Some((secret, _, _, ns)) = self.sending else { return Err("Failed") };
        if self.receiving.is_some() && gap(nr, pn) {
            return Err("TooManySkipped");
        }
        if gap(0, n) {
            return Err("TooManySkipped");
        }
        let d = x25519(&secret, &ratchet);
        let (rk, mut ck) = kdf_rk(&self.rk, &d);
        let mut kept = Vec::new();
        for m in 0..n {
            let (next, mk) = kdf_ck(&ck);
            kept.push((m, mk));
            ck = next;
        }
        let (next, mk) = kdf_ck(&ck);
        let plaintext = xaead_open(&mk, &nonce, &ad, body).ok_or("Failed")?;
        // Commit: the rest of the old chain, then the new one.
        if let Some(mut old) = self.receiving {
            let last = self.chains.last_mut().unwrap();
            for m in last.end..pn {
                let (next, k) = kdf_ck(&old);
                last.keys.push((m, k));
                old = next;
            }
            last.end = last.end.max(pn);
        }
        self.rk = rk;
        self.pn = ns;
        self.sending = None;
        self.dhr = ratchet;
        self.receiving = Some(next);
        self.chains.push(Chain {
            key: ratchet,
            end: n + 1,
            keys: kept,
            dropped: Vec::new(),
            unknown_below: 0,
        });
        self.enforce_limits();
        Ok(Received {
            plaintext,
            dh: Some(d),
            root_key: self.rk,
            message_key: mk,
            skipped_after: self.skipped(),
        })
    }

    /// The four limits of §6.6, in order.
    fn enforce_limits(&mut self) {
        // The oldest earlier chain without keys goes first.
        while self.chains.len() > MAX_CHAIN_HISTORY {
            let last = self.chains.len() - 1;
            let i = self.chains[..last].iter().position(|c| c.keys.is_empty()).unwrap();
            self.chains.remove(i);
        }
        let earlier = self.chains.len() - 1;
        while self.chains[..earlier].iter().filter(|c| !c.keys.is_empty()).count()
            > MAX_RECEIVING_CHAINS - 1
        {
            let c = self.chains[..earlier].iter_mut().find(|c| !c.keys.is_empty()).unwrap();
            let n = c.keys.len();
            c.drop_lowest(n);
        }
        while self.skipped() > MAX_SKIPPED_KEYS {
            let excess = self.skipped() - MAX_SKIPPED_KEYS;
            let c = self.chains.iter_mut().find(|c| !c.keys.is_empty()).unwrap();
            let n = excess.min(c.keys.len());
            c.drop_lowest(n);
        }
        while self.chains.iter().map(|c| c.dropped.len()).sum::<usize>() > MAX_DROPPED_RANGES {
            let c = self.chains.iter_mut().find(|c| !c.dropped.is_empty()).unwrap();
            let (_, end) = c.dropped.remove(0);
            c.unknown_below = c.unknown_below.max(end);
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
            Some(ck) => out.extend(cat(&[&[1], &ck])),
            None => out.push(0),
        }
        out.extend(u32be(self.chains.len() as u32));
        for c in &self.chains {
            out.extend(encode_x25519(&c.key));
            out.extend(u32be(c.end));
            out.extend(u32be(c.unknown_below));
            out.extend(u32be(c.keys.len() as u32));
            for (n, mk) in &c.keys {
                out.extend(u32be(*n));
                out.extend(mk);
            }
            out.extend(u32be(c.dropped.len() as u32));
            for (start, end) in &c.dropped {
                out.extend(u32be(*start));
                out.extend(u32be(*end));
            }
        }
        out
    }
}

/// An initial message (§7.2) around a ratchet message, of the classic
/// agreement.
pub fn initial_message(
    initiator: &Identity,
    base_key: &[u8; 32],
    signed_prekey_id: u32,
    one_time_prekey_id: Option<u32>,
    ratchet_message: &[u8],
) -> Bytes {
    initial_message_with_kem(
        initiator,
        base_key,
        signed_prekey_id,
        one_time_prekey_id,
        None,
        ratchet_message,
    )
}

/// An initial message (§7.2), version 3: with the KEM prekey id and
/// ciphertext of the post-quantum agreement (§20) if `kem` is given.
pub fn initial_message_with_kem(
    initiator: &Identity,
    base_key: &[u8; 32],
    signed_prekey_id: u32,
    one_time_prekey_id: Option<u32>,
    kem: Option<(u32, &[u8])>,
    ratchet_message: &[u8],
) -> Bytes {
    let mut out =
        cat(&[&[0x23], &initiator.encoded(), &encode_x25519(base_key), &u32be(signed_prekey_id)]);
    match one_time_prekey_id {
        Some(id) => out.extend(cat(&[&[1], &u32be(id)])),
        None => out.push(0),
    }
    match kem {
        Some((id, ciphertext)) => {
            assert_eq!(ciphertext.len(), 1088);
            out.extend(cat(&[&[1], &u32be(id), ciphertext]));
        }
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
    (message, cat(&[&[0xa2], &signed, &signature]))
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
    (message, cat(&[&[0xb2], &signed, &signature]))
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
    pub commitment: Bytes,
    pub payload: Bytes,
    pub payload_hash: [u8; 32],
    pub shares: Vec<Share>,
}

/// The layout byte of a payload with one entry per recipient (§10.2).
pub const LAYOUT_ENTRIES: u8 = 0x01;
/// The layout byte of a payload with one group message for all (§10.2).
pub const LAYOUT_SHARED: u8 = 0x02;
/// The content type of a group message (§10.2).
pub const CONTENT_GROUP: u8 = 0x03;

/// An entry's content type: `0x01` for an initial message, `0x02` for a
/// ratchet message, with `0x10` added when its plaintext is a sender key
/// distribution message.
pub fn entry_type(message: &[u8], distribution: bool) -> u8 {
    let base = if message[0] == 0x23 { 0x01 } else { 0x02 };
    if distribution { base | 0x10 } else { base }
}

/// The content (§10.2) before padding, with one entry per recipient:
/// (`Encode(IK_R)`, content type, message).
pub fn entries_content(certificate: &[u8], entries: &[([u8; 33], u8, &[u8])]) -> Bytes {
    let mut content = with_len(certificate);
    content.push(LAYOUT_ENTRIES);
    content.extend(u32be(entries.len() as u32));
    for (recipient, content_type, message) in entries {
        content.extend(recipient);
        content.push(*content_type);
        content.extend(with_len(message));
    }
    content
}

/// The content (§10.2) before padding, with one group message shared by
/// every recipient.
pub fn shared_content(certificate: &[u8], group_message: &[u8]) -> Bytes {
    cat(&[&with_len(certificate), &[LAYOUT_SHARED, CONTENT_GROUP], &with_len(group_message)])
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
    let entries: Vec<([u8; 33], u8, &[u8])> =
        recipients.iter().map(|(r, m)| (r.encoded(), entry_type(m, false), *m)).collect();
    let content = entries_content(certificate, &entries);
    let identities: Vec<&Identity> = recipients.iter().map(|(r, _)| *r).collect();
    seal_content(sender, &content, &identities, ephemeral, secret, padded)
}

/// Seals `content` (§10.2, unpadded: whatever its layout) for
/// `recipients`; `padded` pads each split envelope to its bucket.
pub fn seal_content(
    sender: &Identity,
    content: &[u8],
    recipients: &[&Identity],
    ephemeral: &[u8; 32],
    secret: &[u8; 32],
    padded: bool,
) -> Sealed {
    let ephemeral_public = x25519_public(ephemeral);
    let encoded_e = encode_x25519(&ephemeral_public);
    let mut content = content.to_vec();
    // A split envelope is its 151-byte prefix plus the payload (content + 16).
    let unpadded = 151 + content.len() + 16;
    let padding = if padded { unpadded.max(512).next_power_of_two() - unpadded } else { 0 };
    content.extend(vec![0u8; padding]);
    let okm = hkdf(&[0u8; 32], secret, b"sealwire/sealed/payload/v2", 76);
    let (payload_key, payload_nonce, commitment) =
        (okm[..32].to_vec(), okm[32..44].to_vec(), okm[44..].to_vec());
    let payload = aead_seal(&payload_key, &payload_nonce, &encoded_e, &content);
    let payload_hash = sha256(&payload);
    let shares = recipients
        .iter()
        .map(|recipient| {
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
            let tag = hmac(
                &auth_key,
                &cat(&[&encoded_e, &encoded_r, &commitment, &wrapped, &payload_hash]),
            )[..16]
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
        commitment,
        payload,
        payload_hash,
        shares,
    }
}

impl Sealed {
    /// The prefix of share `i`'s sealed envelope (§10.4).
    pub fn prefix(&self, i: usize) -> Bytes {
        let share = &self.shares[i];
        cat(&[
            &[0xc3],
            &share.recipient,
            &encode_x25519(&self.ephemeral_public),
            &self.commitment,
            &share.wrapped,
            &share.tag,
            &u32be(self.payload.len() as u32),
        ])
    }

    /// The sealed envelope (§10.4) for share `i`.
    pub fn envelope(&self, i: usize) -> Bytes {
        cat(&[&self.prefix(i), &self.payload])
    }

    /// The multi-recipient envelope (§11).
    pub fn multi(&self) -> Bytes {
        let mut out = cat(&[
            &[0xd3],
            &encode_x25519(&self.ephemeral_public),
            &self.commitment,
            &u32be(self.shares.len() as u32),
        ]);
        for share in &self.shares {
            out.extend(cat(&[&share.recipient, &share.wrapped, &share.tag]));
        }
        out.extend(with_len(&self.payload));
        out
    }
}

// ---- the session layer (docs/sessions.md) ---------------------------------------------

/// A prekey bundle without a KEM prekey (docs/protocol.md §4.3).
pub fn bundle(
    identity: &[u8; 32],
    signed: (u32, &[u8; 32], &[u8; 64]),
    one_time: Option<(u32, &[u8; 32])>,
    certificate: Option<&[u8]>,
) -> Bytes {
    bundle_with_kem(identity, signed, one_time, None, certificate)
}

/// A KEM prekey's fields (§20.1): id, kind, `Encode(PQPK)`, signature.
pub fn kem_prekey_fields(id: u32, kind: u8, key: &[u8], signature: &[u8; 64]) -> Bytes {
    assert_eq!(key.len(), 1184);
    cat(&[&u32be(id), &[kind, 0x03], key, signature])
}

/// A prekey bundle, version 3 (docs/protocol.md §4.3), with a KEM prekey's
/// fields if given.
pub fn bundle_with_kem(
    identity: &[u8; 32],
    signed: (u32, &[u8; 32], &[u8; 64]),
    one_time: Option<(u32, &[u8; 32])>,
    kem_fields: Option<&[u8]>,
    certificate: Option<&[u8]>,
) -> Bytes {
    let mut out = cat(&[&[0x13], &encode_identity(identity)]);
    out.extend(cat(&[&u32be(signed.0), &encode_x25519(signed.1), signed.2]));
    match one_time {
        Some((id, key)) => out.extend(cat(&[&[1], &u32be(id), &encode_x25519(key)])),
        None => out.push(0),
    }
    match kem_fields {
        Some(fields) => out.extend(cat(&[&[1], fields])),
        None => out.push(0),
    }
    match certificate {
        Some(c) => out.extend(cat(&[&[1], c])),
        None => out.push(0),
    }
    out
}

/// An address (sessions.md §2).
pub fn address(app: &[u8], user: &[u8], device: u32) -> Bytes {
    cat(&[&[0xff, 0x11], &with_len(app), &with_len(user), &u32be(device)])
}

/// How an address is shown (sessions.md §2).
pub fn address_text(app: &str, user: &[u8], device: u32) -> String {
    let mut out = String::new();
    for &b in user {
        if (0x21..=0x7e).contains(&b) && !b"@#%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{out}@{app}#{device}")
}

/// One side of a safety number: its 30 digits and `H_5200` (sessions.md §8).
pub fn safety_side(identity: &[u8; 32], address: &[u8]) -> (String, [u8; 64]) {
    let key = encode_identity(identity);
    let mut hash: Bytes = cat(&[b"sealwire/safety-number/v1", &key, address]);
    for _ in 0..5200 {
        hash = Sha512::digest(cat(&[&hash, &key])).to_vec();
    }
    let mut digits = String::new();
    for chunk in hash[..30].chunks(5) {
        let value = chunk.iter().fold(0u64, |acc, &b| acc * 256 + u64::from(b));
        digits.push_str(&format!("{:05}", value % 100_000));
    }
    (digits, hash.try_into().unwrap())
}

/// The safety number's digits and scannable form (sessions.md §8).
pub fn safety_number(a: (&[u8; 32], &[u8]), b: (&[u8; 32], &[u8])) -> (String, Bytes) {
    let mut sides = [safety_side(a.0, a.1), safety_side(b.0, b.1)];
    sides.sort_by(|x, y| x.0.cmp(&y.0));
    let digits = format!("{}{}", sides[0].0, sides[1].0);
    let scannable = cat(&[&[0xff, 0x61], &sides[0].1[..32], &sides[1].1[..32]]);
    (digits, scannable)
}

/// A stored remote identity (sessions.md §3.2), with the keys it replaced
/// (each with the time it was replaced), newest first.
pub fn remote_identity(
    identity: &[u8; 32],
    verified: bool,
    since: u64,
    replaced: &[([u8; 32], u64)],
) -> Bytes {
    let stored = |k: &[u8; 32]| cat(&[&encode_identity(k), &encode_x25519(&montgomery(k))]);
    let mut out = cat(&[
        &[0xff, 0x31],
        &stored(identity),
        &[if verified { 2 } else { 1 }],
        &since.to_be_bytes(),
        &[replaced.len() as u8],
    ]);
    for (key, when) in replaced {
        out.extend(cat(&[&stored(key), &when.to_be_bytes()]));
    }
    out
}

/// A stored device list (sessions.md §3.4).
pub fn device_list(devices: &[u32]) -> Bytes {
    let mut sorted = devices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = vec![0xff, 0x51, sorted.len() as u8];
    for d in sorted {
        out.extend(u32be(d));
    }
    out
}

/// One entry of a session record: (superseded, created, epoch, session).
pub type RecordEntry<'a> = (bool, u64, u32, &'a [u8]);

/// A stored session record (sessions.md §3.1).
pub fn session_record(
    revision: u64,
    current: Option<RecordEntry<'_>>,
    archived: &[RecordEntry<'_>],
) -> Bytes {
    session_record_refusing(revision, current, archived, None)
}

/// A stored session record (sessions.md §3.1), with a refused base key.
pub fn session_record_refusing(
    revision: u64,
    current: Option<RecordEntry<'_>>,
    archived: &[RecordEntry<'_>],
    refused: Option<&[u8; 32]>,
) -> Bytes {
    let entry = |(superseded, created, epoch, session): &RecordEntry<'_>| {
        cat(&[&[u8::from(*superseded)], &created.to_be_bytes(), &u32be(*epoch), &with_len(session)])
    };
    let mut out = cat(&[&[0xff, 0x21], &revision.to_be_bytes()]);
    match &current {
        Some(e) => out.extend(cat(&[&[1], &entry(e)])),
        None => out.push(0),
    }
    out.push(archived.len() as u8);
    for e in archived {
        out.extend(entry(e));
    }
    match refused {
        Some(key) => out.extend(cat(&[&[1], &encode_x25519(key)])),
        None => out.push(0),
    }
    out
}

/// The fields of a stored account (sessions.md §3.3).
pub struct Account<'a> {
    pub revision: u64,
    pub address: &'a [u8],
    pub seed: &'a [u8; 32],
    pub certificate: Option<&'a [u8]>,
    pub signed: (u32, u64),
    pub retired: &'a [(u32, u64)],
    pub next_signed: u32,
    pub next_one_time: u32,
    pub unpublished_from: u32,
    pub epoch: u32,
    pub published_epoch: u32,
}

pub fn account(a: &Account<'_>) -> Bytes {
    let mut out = cat(&[&[0xff, 0x41], &a.revision.to_be_bytes(), a.address, &[0x52], a.seed]);
    match a.certificate {
        Some(c) => out.extend(cat(&[&[1], c])),
        None => out.push(0),
    }
    out.extend(cat(&[&u32be(a.signed.0), &a.signed.1.to_be_bytes(), &[a.retired.len() as u8]]));
    for (id, since) in a.retired {
        out.extend(cat(&[&u32be(*id), &since.to_be_bytes()]));
    }
    out.extend(cat(&[
        &u32be(a.next_signed),
        &u32be(a.next_one_time),
        &u32be(a.unpublished_from),
        &u32be(a.epoch),
        &u32be(a.published_epoch),
    ]));
    out
}

/// A message id (sessions.md §3.6).
pub fn message_id(envelope: &[u8]) -> [u8; 16] {
    sha256(&cat(&[b"sealwire/message-id/v1", envelope]))[..16].try_into().unwrap()
}

/// What a kept received message is (sessions.md §3.6): `0x00` a direct
/// message, `0x01` a group message of the group, `0x02` a sender key of
/// the group.
pub enum ReceivedKind<'a> {
    Message,
    GroupMessage(&'a [u8]),
    SenderKey(&'a [u8]),
}

/// A kept received message (sessions.md §3.6), version 2 (`0xFF 0x72`).
/// `event`: 0 none, 1 new, 2 changed from `previous`.
#[allow(clippy::too_many_arguments)]
pub fn received(
    id: &[u8; 16],
    from: &[u8],
    identity: &[u8; 32],
    event: (u8, Option<&[u8; 32]>),
    new_session: bool,
    listed: bool,
    kind: &ReceivedKind<'_>,
    plaintext: &[u8],
) -> Bytes {
    let mut out = received_fields(0x72, id, from, identity, event, new_session, listed);
    match kind {
        ReceivedKind::Message => out.push(0),
        ReceivedKind::GroupMessage(group) => out.extend(cat(&[&[1], &with_len(group)])),
        ReceivedKind::SenderKey(group) => out.extend(cat(&[&[2], &with_len(group)])),
    }
    out.extend(with_len(plaintext));
    out
}

/// A kept received message of version 1 (`0xFF 0x71`, before groups: no
/// kind, every message a direct one), which decoders still read.
pub fn received_v1(
    id: &[u8; 16],
    from: &[u8],
    identity: &[u8; 32],
    event: (u8, Option<&[u8; 32]>),
    new_session: bool,
    listed: bool,
    plaintext: &[u8],
) -> Bytes {
    let mut out = received_fields(0x71, id, from, identity, event, new_session, listed);
    out.extend(with_len(plaintext));
    out
}

fn received_fields(
    version: u8,
    id: &[u8; 16],
    from: &[u8],
    identity: &[u8; 32],
    event: (u8, Option<&[u8; 32]>),
    new_session: bool,
    listed: bool,
) -> Bytes {
    let mut out = cat(&[&[0xff, version], id, from, &encode_identity(identity), &[event.0]]);
    if let Some(previous) = event.1 {
        out.extend(encode_identity(previous));
    }
    out.push(u8::from(new_session) | (u8::from(listed) << 1));
    out
}

/// A kept sent message (sessions.md §3.6).
pub fn sent(
    id: &[u8; 16],
    envelope: &[u8],
    recipients: &[(&[u8], [u8; 32])],
    missing: &[&[u8]],
    denied: &[&[u8]],
) -> Bytes {
    let mut out = cat(&[&[0xff, 0x81], id, &with_len(envelope), &u32be(recipients.len() as u32)]);
    for (address, key) in recipients {
        out.extend(cat(&[address, &encode_identity(key)]));
    }
    for list in [missing, denied] {
        out.extend(u32be(list.len() as u32));
        for address in list {
            out.extend_from_slice(address);
        }
    }
    out
}

// ---- Groups: sender keys (docs/protocol.md §21) ----------------------------------------

pub const GROUP_MESSAGE_KEY_INFO: &[u8] = b"sealwire/group/message-key/v1";
pub const MAX_GROUP_ID_LEN: usize = 64;
pub const MAX_SENDER_KEY_SKIP: u32 = 1000;
pub const MAX_SENDER_KEY_SKIPPED_KEYS: usize = 2000;
pub const MAX_SENDER_KEY_CHAINS: usize = 5;
pub const MAX_SENDER_KEY_DROPPED_RANGES: usize = 64;
pub const MAX_SENDER_KEY_RETIRED_CHAINS: usize = 32;

pub fn ed25519_public(seed: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

pub fn ed25519_sign(seed: &[u8; 32], message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    ed25519_dalek::SigningKey::from_bytes(seed).sign(message).to_bytes()
}

/// Strict verification (RFC 8032 with ed25519-dalek's `verify_strict`).
pub fn ed25519_verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(public).is_ok_and(|key| {
        key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok()
    })
}

/// The AEAD key of a group message and the commitment to it, from its
/// seed: 64 bytes of HKDF, the key first.
pub fn group_message_key(seed: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let okm = hkdf(&[0u8; 32], seed, GROUP_MESSAGE_KEY_INFO, 64);
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// A group message's header, the AEAD's associated data: it ends with the
/// key commitment.
pub fn group_header(
    group: &[u8],
    chain_id: u32,
    iteration: u32,
    nonce: &[u8; 24],
    commitment: &[u8; 32],
) -> Bytes {
    cat(&[&[0xff, 0xc1], &with_len(group), &u32be(chain_id), &u32be(iteration), nonce, commitment])
}

/// A sender key distribution message.
pub fn distribution(
    group: &[u8],
    chain_id: u32,
    iteration: u32,
    chain_key: &[u8; 32],
    signing_key: &[u8; 32],
) -> Bytes {
    cat(&[
        &[0xff, 0xb1],
        &with_len(group),
        &u32be(chain_id),
        &u32be(iteration),
        chain_key,
        signing_key,
    ])
}

/// Everything one group message's encryption computes.
pub struct GroupStep {
    pub iteration: u32,
    pub chain_key: [u8; 32],
    pub message_key_seed: [u8; 32],
    pub next_chain_key: [u8; 32],
    pub aead_key: [u8; 32],
    pub commitment: [u8; 32],
    pub nonce: [u8; 24],
    pub subkey: [u8; 32],
    pub header: Bytes,
    pub ciphertext: Bytes,
    pub signed: Bytes,
    pub signature: [u8; 64],
    pub message: Bytes,
}

/// The sending side of a sender key.
#[derive(Clone)]
pub struct SendingKey {
    pub chain_id: u32,
    pub iteration: u32,
    pub chain_key: [u8; 32],
    pub seed: [u8; 32],
    pub public: [u8; 32],
}

impl SendingKey {
    /// From its three draws: the chain id (4 bytes, big-endian), the chain
    /// key, the Ed25519 seed.
    pub fn generate(chain_id: [u8; 4], chain_key: [u8; 32], seed: [u8; 32]) -> Self {
        Self {
            chain_id: u32::from_be_bytes(chain_id),
            iteration: 0,
            chain_key,
            seed,
            public: ed25519_public(&seed),
        }
    }

    pub fn encrypt(&mut self, group: &[u8], plaintext: &[u8], nonce: [u8; 24]) -> GroupStep {
        let (next_chain_key, message_key_seed) = kdf_ck(&self.chain_key);
        let (aead_key, commitment) = group_message_key(&message_key_seed);
        let header = group_header(group, self.chain_id, self.iteration, &nonce, &commitment);
        let ciphertext = xaead_seal(&aead_key, &nonce, &header, plaintext);
        let signed = cat(&[&header, &with_len(&ciphertext)]);
        let signature = ed25519_sign(&self.seed, &signed);
        let step = GroupStep {
            iteration: self.iteration,
            chain_key: self.chain_key,
            message_key_seed,
            next_chain_key,
            aead_key,
            commitment,
            nonce,
            subkey: hchacha20(&aead_key, &nonce[..16]),
            header,
            ciphertext,
            message: cat(&[&signed, &signature]),
            signed,
            signature,
        };
        self.chain_key = next_chain_key;
        self.iteration += 1;
        step
    }

    /// The distribution message of the key as it is now.
    pub fn distribution(&self, group: &[u8]) -> Bytes {
        distribution(group, self.chain_id, self.iteration, &self.chain_key, &self.public)
    }

    /// The stored form inside a group record: chain id, iteration, chain
    /// key, signing seed.
    pub fn stored(&self) -> Bytes {
        cat(&[&u32be(self.chain_id), &u32be(self.iteration), &self.chain_key, &self.seed])
    }
}

/// A group message's fields (the reference reads only well-formed ones).
pub struct GroupMessageFields {
    pub chain_id: u32,
    pub iteration: u32,
    pub nonce: [u8; 24],
    pub commitment: [u8; 32],
    pub header: Bytes,
    pub ciphertext: Bytes,
    pub signed: Bytes,
    pub signature: [u8; 64],
}

pub fn group_message_fields(message: &[u8]) -> GroupMessageFields {
    assert_eq!(message[..2], [0xff, 0xc1]);
    let group_len = u32::from_be_bytes(message[2..6].try_into().unwrap()) as usize;
    let at = 6 + group_len;
    let header_len = at + 4 + 4 + 24 + 32;
    let ct_len =
        u32::from_be_bytes(message[header_len..header_len + 4].try_into().unwrap()) as usize;
    let signed_len = header_len + 4 + ct_len;
    assert_eq!(message.len(), signed_len + 64);
    GroupMessageFields {
        chain_id: u32::from_be_bytes(message[at..at + 4].try_into().unwrap()),
        iteration: u32::from_be_bytes(message[at + 4..at + 8].try_into().unwrap()),
        nonce: message[at + 8..at + 32].try_into().unwrap(),
        commitment: message[at + 32..header_len].try_into().unwrap(),
        header: message[..header_len].to_vec(),
        ciphertext: message[header_len + 4..signed_len].to_vec(),
        signed: message[..signed_len].to_vec(),
        signature: message[signed_len..].try_into().unwrap(),
    }
}

/// One of a sender's chains as a member keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivingChain {
    pub chain_id: u32,
    pub signing_key: [u8; 32],
    pub start: u32,
    pub next: u32,
    pub chain_key: [u8; 32],
    pub unknown_below: u32,
    /// (iteration, message key seed), increasing.
    pub keys: Vec<(u32, [u8; 32])>,
    /// [start, end) ranges of iterations whose keys were dropped.
    pub dropped: Vec<(u32, u32)>,
}

/// What a member keeps of one sender device's sender keys in one group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SenderKeys {
    pub revision: u64,
    /// The sender's Ed25519 identity key.
    pub identity: Option<[u8; 32]>,
    pub chains: Vec<ReceivingChain>,
    /// Ids of the chains dropped past MAX_SENDER_KEY_CHAINS, oldest first,
    /// at most MAX_SENDER_KEY_RETIRED_CHAINS: not taken in again.
    pub retired: Vec<u32>,
}

impl SenderKeys {
    pub fn skipped(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// Takes in a distribution message from `sender`; whether the record
    /// changed.
    pub fn process(&mut self, sender: &[u8; 32], distribution: &[u8]) -> bool {
        assert_eq!(distribution[..2], [0xff, 0xb1]);
        let group_len = u32::from_be_bytes(distribution[2..6].try_into().unwrap()) as usize;
        let d = &distribution[6 + group_len..];
        assert_eq!(d.len(), 4 + 4 + 32 + 32);
        let chain_id = u32::from_be_bytes(d[..4].try_into().unwrap());
        let iteration = u32::from_be_bytes(d[4..8].try_into().unwrap());
        let chain_key: [u8; 32] = d[8..40].try_into().unwrap();
        let signing_key: [u8; 32] = d[40..72].try_into().unwrap();
        if self.identity != Some(*sender) {
            self.chains.clear();
            self.retired.clear();
            self.identity = Some(*sender);
        }
        if self.retired.contains(&chain_id) {
            return false;
        }
        if let Some(at) = self.chains.iter().position(|c| c.chain_id == chain_id) {
            if self.chains[at].signing_key == signing_key {
                return false;
            }
            self.chains.remove(at);
        }
        self.chains.push(ReceivingChain {
            chain_id,
            signing_key,
            start: iteration,
            next: iteration,
            chain_key,
            unknown_below: 0,
            keys: Vec::new(),
            dropped: Vec::new(),
        });
        if self.chains.len() > MAX_SENDER_KEY_CHAINS {
            let dropped = self.chains.remove(0);
            self.retired.push(dropped.chain_id);
            if self.retired.len() > MAX_SENDER_KEY_RETIRED_CHAINS {
                self.retired.remove(0);
            }
        }
        true
    }

    /// Decrypts a group message from `sender`; errors are named as
    /// sealwire's `Debug` prints them. Changes nothing on an error.
    pub fn decrypt(&mut self, sender: &[u8; 32], message: &[u8]) -> Result<Bytes, &'static str> {
        if self.identity != Some(*sender) {
            return Err("Group(NoSenderKey)");
        }
        let m = group_message_fields(message);
        let at = self
            .chains
            .iter()
            .position(|c| c.chain_id == m.chain_id)
            .ok_or("Group(NoSenderKey)")?;
        let chain = &self.chains[at];
        if !ed25519_verify(&chain.signing_key, &m.signed, &m.signature) {
            return Err("Group(InvalidSignature)");
        }
        let i = m.iteration;
        enum Plan {
            Skipped(usize),
            Forward(Vec<(u32, [u8; 32])>, [u8; 32]),
        }
        let (seed, plan) = if i >= chain.next {
            if i - chain.next > MAX_SENDER_KEY_SKIP || i == u32::MAX {
                return Err("Decrypt(TooManySkipped)");
            }
            let mut ck = chain.chain_key;
            let mut skipped = Vec::new();
            for n in chain.next..i {
                let (next, key) = kdf_ck(&ck);
                skipped.push((n, key));
                ck = next;
            }
            let (next, key) = kdf_ck(&ck);
            (key, Plan::Forward(skipped, next))
        } else if i < chain.start {
            return Err("Decrypt(StaleMessage)");
        } else if let Some(index) = chain.keys.iter().position(|(n, _)| *n == i) {
            (chain.keys[index].1, Plan::Skipped(index))
        } else if chain.dropped.iter().any(|(s, e)| (*s..*e).contains(&i)) {
            return Err("Decrypt(KeyDropped)");
        } else if i < chain.unknown_below {
            return Err("Decrypt(StaleMessage)");
        } else {
            return Err("Decrypt(Duplicate)");
        };
        let (key, commitment) = group_message_key(&seed);
        if commitment != m.commitment {
            return Err("Decrypt(Failed)");
        }
        let plaintext =
            xaead_open(&key, &m.nonce, &m.header, &m.ciphertext).ok_or("Decrypt(Failed)")?;
        let chain = &mut self.chains[at];
        match plan {
            Plan::Skipped(index) => {
                chain.keys.remove(index);
            }
            Plan::Forward(skipped, next) => {
                chain.chain_key = next;
                chain.next = i + 1;
                chain.keys.extend(skipped);
                self.enforce_limits();
            }
        }
        Ok(plaintext)
    }

    /// Past MAX_SENDER_KEY_SKIPPED_KEYS, drops the lowest keys of the
    /// oldest chains first, recording them as ranges (a key next to the
    /// last range extends it); past MAX_SENDER_KEY_DROPPED_RANGES, forgets
    /// the oldest ranges of the oldest chains first, raising
    /// `unknown_below` to their ends.
    fn enforce_limits(&mut self) {
        let mut excess = self.skipped().saturating_sub(MAX_SENDER_KEY_SKIPPED_KEYS);
        for chain in &mut self.chains {
            let n = excess.min(chain.keys.len());
            for (counter, _) in chain.keys.drain(..n) {
                match chain.dropped.last_mut() {
                    Some(last) if last.1 == counter => last.1 = counter + 1,
                    _ => chain.dropped.push((counter, counter + 1)),
                }
            }
            excess -= n;
        }
        let mut ranges: usize = self.chains.iter().map(|c| c.dropped.len()).sum();
        for chain in &mut self.chains {
            while ranges > MAX_SENDER_KEY_DROPPED_RANGES && !chain.dropped.is_empty() {
                let (_, end) = chain.dropped.remove(0);
                chain.unknown_below = chain.unknown_below.max(end);
                ranges -= 1;
            }
        }
    }

    /// The stored form.
    pub fn encode(&self) -> Bytes {
        let mut out = cat(&[&[0xff, 0xd1], &self.revision.to_be_bytes()]);
        match &self.identity {
            Some(key) => out.extend(cat(&[&[1], &encode_identity(key)])),
            None => out.push(0),
        }
        out.push(self.chains.len() as u8);
        for c in &self.chains {
            out.extend(cat(&[
                &u32be(c.chain_id),
                &c.signing_key,
                &u32be(c.start),
                &u32be(c.next),
                &c.chain_key,
                &u32be(c.unknown_below),
                &u32be(c.keys.len() as u32),
            ]));
            for (n, key) in &c.keys {
                out.extend(cat(&[&u32be(*n), key]));
            }
            out.extend(u32be(c.dropped.len() as u32));
            for (s, e) in &c.dropped {
                out.extend(cat(&[&u32be(*s), &u32be(*e)]));
            }
        }
        out.push(self.retired.len() as u8);
        for id in &self.retired {
            out.extend(u32be(*id));
        }
        out
    }
}

/// A stored group record's fields.
#[derive(Clone)]
pub struct GroupRecordFields<'a> {
    pub revision: u64,
    pub group_id: &'a [u8],
    /// (app id, user id), in the order stored.
    pub members: Vec<(&'a [u8], &'a [u8])>,
    /// The sending key's stored form (`SendingKey::stored`).
    pub sender_key: Option<Bytes>,
    /// The account epoch the sending key was made in (stored only with
    /// the key).
    pub key_epoch: u32,
    pub rotate: bool,
    /// (address, Ed25519 identity key).
    pub distributed: Vec<(Bytes, [u8; 32])>,
    /// Addresses.
    pub senders: Vec<Bytes>,
}

pub fn group_record(f: &GroupRecordFields<'_>) -> Bytes {
    let mut out = cat(&[
        &[0xff, 0xe1],
        &f.revision.to_be_bytes(),
        &with_len(f.group_id),
        &u32be(f.members.len() as u32),
    ]);
    for (app, user) in &f.members {
        out.extend(cat(&[&with_len(app), &with_len(user)]));
    }
    match &f.sender_key {
        Some(stored) => out.extend(cat(&[&[1], stored, &u32be(f.key_epoch)])),
        None => out.push(0),
    }
    out.push(u8::from(f.rotate));
    out.extend(u32be(f.distributed.len() as u32));
    for (address, key) in &f.distributed {
        out.extend(cat(&[address, &encode_identity(key)]));
    }
    out.extend(u32be(f.senders.len() as u32));
    for address in &f.senders {
        out.extend_from_slice(address);
    }
    out
}
