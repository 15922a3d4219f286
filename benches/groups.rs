//! Groups beside their cost floor: a group message sent and received, a
//! sealed group send to 10, 100 and 1000 members, and a member's receive
//! (unseal and decrypt). Each floor is the same work done with the
//! primitive crates alone (hmac, hkdf, chacha20poly1305, sha2,
//! x25519-dalek, ed25519-dalek), measured in the same run.
//!
//! As in benches/throughput.rs, every case and every floor is one
//! [`Run`], measured by criterion on its own; the summary then measures
//! each case against its floor once more in interleaved rounds and
//! reports the median ratio, to which the targets apply. It ends with the
//! bytes each member downloads and the sender uploads. `cargo bench
//! --bench groups` prints it; docs/performance.md keeps a measured copy.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a benchmark harness"
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit as _, Nonce, XChaCha20Poly1305, XNonce};
use cpu_time::ThreadTime;
use criterion::{Criterion, Throughput};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};
use sealwire::*;
use sha2::{Digest, Sha256};
use x25519_dalek::{PublicKey, StaticSecret};

mod support;

use support::Run;

/// The group message's plaintext length.
const MESSAGE_LEN: usize = 64;

/// Member counts of the sealed group sends.
const MEMBERS: [usize; 3] = [10, 100, 1000];

/// Member counts of the download sizes.
const SIZE_MEMBERS: [usize; 2] = [10, 1000];

/// The group's id: 16 bytes, as an application's server might choose.
const GROUP_ID: &[u8; 16] = b"group-0123456789";

/// The padding of the timed sends and receives: the default.
const PADDING: Padding = Padding::Buckets;

/// Bytes of a group message's header besides the group id: the tag, the
/// id's length, chain id, iteration, nonce, key commitment
/// (`docs/protocol.md` §21.3).
const GROUP_HEADER_FIXED: usize = 2 + 4 + 4 + 4 + 24 + 32;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

fn group() -> GroupId {
    GroupId::new(GROUP_ID).unwrap()
}

// ---- runs -------------------------------------------------------------------------------

/// A run that repeats `body`.
fn repeat(mut body: impl FnMut() + 'static) -> Run {
    Box::new(move |n| {
        let start = ThreadTime::now();
        for _ in 0..n {
            body();
        }
        start.elapsed()
    })
}

/// A run whose every step consumes an input made by `setup`, untimed.
/// Inputs are made `chunk` at a time, and consumed in the order made.
fn batched<I: 'static>(
    chunk: u64,
    mut setup: impl FnMut() -> I + 'static,
    mut step: impl FnMut(I) + 'static,
) -> Run {
    let mut inputs = Vec::new();
    Box::new(move |n| {
        let mut total = Duration::ZERO;
        let mut left = n;
        while left > 0 {
            let k = left.min(chunk);
            inputs.extend((0..k).map(|_| setup()));
            let start = ThreadTime::now();
            for input in inputs.drain(..) {
                step(input);
            }
            total += start.elapsed();
            left -= k;
        }
        total
    })
}

/// One benchmark: its place in criterion's report and its run.
struct Bench {
    group: String,
    name: String,
    /// Elements (messages, members) one step handles.
    elements: u64,
    run: Run,
}

/// The benchmarks, in the order criterion runs them.
#[derive(Default)]
struct Benches(Vec<Bench>);

impl Benches {
    fn add(&mut self, group: &str, name: &str, elements: u64, run: Run) {
        self.0.push(Bench { group: group.into(), name: name.into(), elements, run });
    }
}

// ---- the primitives, for the floors ------------------------------------------------------

/// One chain step: two HMAC-SHA256 under the chain key. Returns the seed;
/// the next chain key is computed and dropped (the floor's chain stays
/// where it is, so its messages always open).
fn chain_step(ck: &[u8; 32]) -> [u8; 32] {
    let seed = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([1]).finalize();
    let next = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([2]).finalize();
    black_box(next);
    let mut out = [0u8; 32];
    out.copy_from_slice(&seed.into_bytes());
    out
}

/// The group message key and its commitment: HKDF-SHA256, salt 32 zero
/// bytes, 64 bytes.
fn message_key(seed: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let mut okm = [0u8; 64];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), seed)
        .expand(b"sealwire/group/message-key/v1", &mut okm)
        .unwrap();
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// A group message with the primitives alone: the same layout and
/// lengths, one chain step, the key's expansion, XChaCha20-Poly1305 under
/// a random nonce with the header as associated data, and an Ed25519
/// signature over everything before it. Output buffers of its own.
struct GroupFloor {
    chain_key: [u8; 32],
    signing: SigningKey,
    verifying: VerifyingKey,
    rng: ChaCha20Rng,
    header: Vec<u8>,
    out: Vec<u8>,
    plain: Vec<u8>,
}

impl GroupFloor {
    fn new() -> Self {
        let signing = SigningKey::from_bytes(&[5u8; 32]);
        let verifying = signing.verifying_key();
        let header = vec![0u8; GROUP_HEADER_FIXED + GROUP_ID.len()];
        Self {
            chain_key: [3u8; 32],
            signing,
            verifying,
            rng: rng(),
            header,
            out: Vec::new(),
            plain: Vec::new(),
        }
    }

    /// Draws a nonce into the header, writes header, length and plaintext
    /// to the output, seals the plaintext there and signs.
    fn send(&mut self, plaintext: &[u8]) {
        let nonce_at = self.header.len() - 56;
        self.rng.fill_bytes(&mut self.header[nonce_at..nonce_at + 24]);
        let (key, commitment) = message_key(&chain_step(&self.chain_key));
        self.header[nonce_at + 24..].copy_from_slice(&commitment);
        self.out.clear();
        self.out.extend_from_slice(&self.header);
        self.out.extend_from_slice(&((plaintext.len() + 16) as u32).to_be_bytes());
        self.out.extend_from_slice(plaintext);
        let (header, body) = self.out.split_at_mut(self.header.len());
        let nonce = XNonce::from(<[u8; 24]>::try_from(&header[nonce_at..nonce_at + 24]).unwrap());
        let tag = XChaCha20Poly1305::new(&key.into())
            .encrypt_inout_detached(&nonce, header, (&mut body[4..]).into())
            .unwrap();
        self.out.extend_from_slice(&tag);
        let signature = self.signing.sign(&self.out);
        self.out.extend_from_slice(&signature.to_bytes());
    }

    /// Verifies the signature (strictly), then one chain step, the key's
    /// expansion, and the ciphertext copied out and opened.
    fn receive(&mut self, message: &[u8]) {
        let (signed, signature) = message.split_at(message.len() - 64);
        let signature = ed25519_dalek::Signature::from_slice(signature).unwrap();
        self.verifying.verify_strict(signed, &signature).unwrap();
        let (key, commitment) = message_key(&chain_step(&self.chain_key));
        let header_len = self.header.len();
        let (header, rest) = signed.split_at(header_len);
        assert!(header[header_len - 32..] == commitment);
        let (body, tag) = rest[4..].split_at(rest.len() - 4 - 16);
        self.plain.clear();
        self.plain.extend_from_slice(body);
        let nonce =
            XNonce::from(<[u8; 24]>::try_from(&header[header_len - 56..header_len - 32]).unwrap());
        let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
        XChaCha20Poly1305::new(&key.into())
            .decrypt_inout_detached(&nonce, header, self.plain.as_mut_slice().into(), &tag)
            .unwrap();
    }

    /// A message of `len` plaintext bytes that [`GroupFloor::receive`] opens.
    fn message(len: usize) -> Vec<u8> {
        let mut floor = Self::new();
        floor.send(&vec![0u8; len]);
        floor.out
    }
}

/// `Encode(IK)` or `Encode(E)` as the wrap key's info and the share's tag
/// cover them: a tag byte and 32 bytes.
fn encoded(key: &[u8; 32]) -> [u8; 33] {
    let mut out = [2u8; 33];
    out[1..].copy_from_slice(key);
    out
}

/// One recipient's share with the primitives alone: the wrap key (HKDF
/// over the DH, its info naming the ephemeral and the recipient), the
/// wrapped secret, and the tag (HMAC-SHA256 over ephemeral, recipient,
/// commitment, wrapped secret and the payload's hash).
fn share(
    dh: &[u8; 32],
    ephemeral: &[u8; 33],
    recipient: &[u8; 33],
    auth: &[u8; 32],
    secret: &[u8; 32],
    hash: &[u8; 32],
) -> [u8; 16] {
    let mut wrap = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), dh)
        .expand_multi_info(
            &[b"sealwire/sealed/wrap/v1".as_slice(), ephemeral, recipient],
            &mut wrap,
        )
        .unwrap();
    for (w, s) in wrap.iter_mut().zip(secret) {
        *w ^= s;
    }
    let tag = Hmac::<Sha256>::new_from_slice(auth)
        .unwrap()
        .chain_update(ephemeral)
        .chain_update(recipient)
        .chain_update([7u8; 32]) // the commitment
        .chain_update(wrap)
        .chain_update(hash)
        .finalize()
        .into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag[..16]);
    out
}

/// The authentication key of a sender and a recipient, from their static
/// DH: HKDF-SHA256 with both identity keys in its info.
fn auth_key(dh: &[u8; 32], sender: &[u8; 33], recipient: &[u8; 33]) -> [u8; 32] {
    let mut key = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), dh)
        .expand_multi_info(&[b"sealwire/sealed/auth/v1".as_slice(), sender, recipient], &mut key)
        .unwrap();
    key
}

/// The sealed part of a group send with the primitives alone: one X25519
/// key generation, the payload (as long as sealwire's) encrypted once
/// with ChaCha20-Poly1305 and hashed once with SHA-256, and per member one
/// X25519 and one share ([`share`]).
struct SealFloor {
    rng: ChaCha20Rng,
    members: usize,
    peer: PublicKey,
    cipher: ChaCha20Poly1305,
    plaintext: Vec<u8>,
    out: Vec<u8>,
}

impl SealFloor {
    fn new(members: usize, payload_len: usize) -> Self {
        let mut rng = rng();
        let peer = PublicKey::from(&StaticSecret::random_from_rng(&mut rng));
        Self {
            rng,
            members,
            peer,
            cipher: ChaCha20Poly1305::new(&[7u8; 32].into()),
            plaintext: vec![0u8; payload_len - 16],
            out: Vec::new(),
        }
    }

    fn seal(&mut self) {
        let ephemeral = StaticSecret::random_from_rng(&mut self.rng);
        let e = encoded(PublicKey::from(&ephemeral).as_bytes());
        let mut secret = [0u8; 32];
        self.rng.fill_bytes(&mut secret);
        self.out.clear();
        self.out.extend_from_slice(&self.plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(&Nonce::from([9u8; 12]), &e, self.out.as_mut_slice().into())
            .unwrap();
        self.out.extend_from_slice(&tag);
        let hash: [u8; 32] = Sha256::digest(&self.out).into();
        let (auth, recipient) = ([4u8; 32], encoded(self.peer.as_bytes()));
        for _ in 0..self.members {
            let dh = ephemeral.diffie_hellman(&self.peer);
            black_box(share(dh.as_bytes(), &e, &recipient, &auth, &secret, &hash));
        }
    }
}

/// A member's unseal with the primitives alone: the subgroup check of the
/// sender's identity key (read from its certificate), two X25519 (the
/// ephemeral one and the static one), the wrap key and the authentication
/// key, the payload opened and hashed, the share's tag, and two strict
/// Ed25519 verifications (the issuer's and the sender's certificates).
struct UnsealFloor {
    secret: StaticSecret,
    peer: PublicKey,
    verifying: VerifyingKey,
    signature: ed25519_dalek::Signature,
    inverse_of_eight: Scalar,
    cipher: ChaCha20Poly1305,
    sealed: Vec<u8>,
    plain: Vec<u8>,
}

impl UnsealFloor {
    fn new(payload_len: usize) -> Self {
        let mut rng = rng();
        let secret = StaticSecret::random_from_rng(&mut rng);
        let peer = PublicKey::from(&StaticSecret::random_from_rng(&mut rng));
        let signing = SigningKey::from_bytes(&[5u8; 32]);
        let signature = signing.sign(&[0u8; 62]);
        let cipher = ChaCha20Poly1305::new(&[7u8; 32].into());
        let mut sealed = vec![0u8; payload_len - 16];
        let e = encoded(peer.as_bytes());
        let tag = cipher
            .encrypt_inout_detached(&Nonce::from([9u8; 12]), &e, sealed.as_mut_slice().into())
            .unwrap();
        sealed.extend_from_slice(&tag);
        Self {
            secret,
            peer,
            verifying: signing.verifying_key(),
            signature,
            inverse_of_eight: Scalar::from(8u8).invert(),
            cipher,
            sealed,
            plain: Vec::new(),
        }
    }

    fn unseal(&mut self) {
        let point = CompressedEdwardsY(self.verifying.to_bytes()).decompress().unwrap();
        let back = EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &self.inverse_of_eight,
            &point.mul_by_cofactor(),
            &Scalar::ZERO,
        );
        assert!(back == point);
        let (e, me) = (encoded(self.peer.as_bytes()), encoded(&[1u8; 32]));
        let dh = self.secret.diffie_hellman(&self.peer);
        let mut wrap = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), dh.as_bytes())
            .expand_multi_info(&[b"sealwire/sealed/wrap/v1".as_slice(), &e, &me], &mut wrap)
            .unwrap();
        let (body, tag) = self.sealed.split_at(self.sealed.len() - 16);
        self.plain.clear();
        self.plain.extend_from_slice(body);
        let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
        self.cipher
            .decrypt_inout_detached(
                &Nonce::from([9u8; 12]),
                &e,
                self.plain.as_mut_slice().into(),
                &tag,
            )
            .unwrap();
        let hash: [u8; 32] = Sha256::digest(&self.sealed).into();
        let static_dh = self.secret.diffie_hellman(&self.peer);
        let auth = auth_key(static_dh.as_bytes(), &encoded(&[3u8; 32]), &me);
        black_box(share(dh.as_bytes(), &e, &me, &auth, &wrap, &hash));
        self.verifying.verify_strict(&[0u8; 62], &self.signature).unwrap();
        self.verifying.verify_strict(&[0u8; 62], &self.signature).unwrap();
    }
}

// ---- the parties ------------------------------------------------------------------------

/// Alice, a sender with a certificate of app A; Bob, a member who trusts
/// app A's root; and other members' identity keys.
struct Parties {
    sealer: Sealer,
    alice: IdentityKeyPair,
    bob: IdentityKeyPair,
    trust: TrustStore,
    rng: ChaCha20Rng,
}

fn parties() -> Parties {
    let mut rng = rng();
    let app = AppId::new("app-a").unwrap();
    let root = CertificateKeyPair::generate(&mut rng);
    let issuer_key = CertificateKeyPair::generate(&mut rng);
    let forever = Timestamp(u64::MAX);
    let issuer =
        IssuerCertificate::issue(&root, &app, 1, &issuer_key.public(), Timestamp(0), forever)
            .unwrap();
    let alice = IdentityKeyPair::generate(&mut rng);
    let certificate = SenderCertificate::issue(
        &issuer_key,
        &issuer,
        UserId::new(b"alice").unwrap(),
        DeviceId(1),
        alice.public(),
        forever,
    )
    .unwrap();
    let bob = IdentityKeyPair::generate(&mut rng);
    let mut trust = TrustStore::new();
    trust.add_root(&TrustRoot::new(app, root.public()));
    Parties { sealer: Sealer::new(certificate), alice, bob, trust, rng }
}

/// `n` members' identity keys, the same every time.
fn members(n: usize) -> Vec<IdentityKey> {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    (0..n).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect()
}

/// A sender key and a member's record of it.
fn sender_key(rng: &mut ChaCha20Rng, sender: &IdentityKey) -> (SenderKey, SenderKeyRecord) {
    let key = SenderKey::generate(rng);
    let mut record = SenderKeyRecord::new();
    assert!(record.process(sender, &key.distribution(&group())));
    (key, record)
}

/// The upload of a group send of a 64-byte message to `members`.
fn group_upload(members: &[IdentityKey], padding: Padding) -> Vec<u8> {
    let mut p = parties();
    let (mut key, _) = sender_key(&mut p.rng, p.alice.public());
    let message = key.encrypt(&mut p.rng, &group(), &[0u8; MESSAGE_LEN]).unwrap();
    p.sealer.seal_group(&mut p.rng, &p.alice, members, &message, padding).unwrap()
}

/// The length of the payload field (AEAD tag included) of a group send of
/// a 64-byte message, which does not depend on the number of members.
fn payload_len() -> usize {
    let upload = group_upload(&members(1), PADDING);
    MultiRecipientEnvelope::parse(&upload).unwrap().payload().len()
}

/// A 64-byte ratchet message of a session in steady state, for the
/// comparison with one entry per member.
fn ratchet_message() -> Vec<u8> {
    let mut rng = rng();
    let bob = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
    let bundle = PreKeyBundle::new(*bob.public(), spk.public(), None);
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut alice_session = Session::initiate(&mut rng, &alice, &bundle).unwrap();
    let first = alice_session.encrypt(&mut rng, b"hi").unwrap();
    let (mut bob_session, _) =
        Session::accept(&bob, &spk, None, &InitialMessage::parse(&first).unwrap()).unwrap();
    let reply = bob_session.encrypt(&mut rng, b"hello").unwrap();
    alice_session.decrypt(&reply).unwrap();
    alice_session.encrypt(&mut rng, &[0u8; MESSAGE_LEN]).unwrap()
}

// ---- benchmarks ------------------------------------------------------------------------

/// A 64-byte group message: sent (`SenderKey::encrypt`), received
/// (`GroupMessage::parse` and `SenderKeyRecord::decrypt`), and both.
fn message(b: &mut Benches) {
    let g = "group-64B";
    let plaintext = [0x5au8; MESSAGE_LEN];

    // The sender's identity (the record's) and a fresh sender key and
    // record for each case, the same every time.
    let sender = *IdentityKeyPair::generate(&mut rng()).public();
    let start = || {
        let mut r = rng();
        let (key, record) = sender_key(&mut r, &sender);
        (key, record, r, group())
    };

    let (mut key, _, mut r, group) = start();
    b.add(
        g,
        "send",
        1,
        repeat(move || {
            black_box(key.encrypt(&mut r, &group, &plaintext).unwrap());
        }),
    );

    let (mut key, mut record, mut r, group) = start();
    b.add(
        g,
        "receive",
        1,
        batched(
            64,
            move || key.encrypt(&mut r, &group, &plaintext).unwrap(),
            move |m| {
                let message = GroupMessage::parse(&m).unwrap();
                black_box(record.decrypt(&sender, &message).unwrap());
            },
        ),
    );

    let (mut key, mut record, mut r, group) = start();
    b.add(
        g,
        "both",
        1,
        repeat(move || {
            let m = key.encrypt(&mut r, &group, &plaintext).unwrap();
            let message = GroupMessage::parse(&m).unwrap();
            black_box(record.decrypt(&sender, &message).unwrap());
        }),
    );

    // Floors. The floor's message has the length of sealwire's.
    let sealed = GroupFloor::message(MESSAGE_LEN);
    let (mut key, _, mut r, group) = start();
    assert_eq!(sealed.len(), key.encrypt(&mut r, &group, &plaintext).unwrap().len());
    let mut floor = GroupFloor::new();
    b.add(g, "floor-send", 1, repeat(move || floor.send(&plaintext)));
    let (mut floor, m) = (GroupFloor::new(), sealed.clone());
    b.add(g, "floor-receive", 1, repeat(move || floor.receive(&m)));
    let (mut floor, mut other) = (GroupFloor::new(), GroupFloor::new());
    b.add(
        g,
        "floor-both",
        1,
        repeat(move || {
            floor.send(&plaintext);
            other.receive(&floor.out);
        }),
    );
}

/// A group send to N members: `SenderKey::encrypt` and `Sealer::seal_group`
/// with a warm sealer (it has written to these members before, so their
/// static keys are cached).
fn send(b: &mut Benches) {
    let all = members(*MEMBERS.iter().max().unwrap());
    let payload = payload_len();
    for n in MEMBERS {
        let mut p = parties();
        let (mut key, _) = sender_key(&mut p.rng, p.alice.public());
        let (group, to) = (group(), all[..n].to_vec());
        let warm = key.encrypt(&mut p.rng, &group, &[0u8; MESSAGE_LEN]).unwrap();
        p.sealer.seal_group(&mut p.rng, &p.alice, &to, &warm, PADDING).unwrap();
        b.add(
            "group-send",
            &format!("send-{n}"),
            n as u64,
            repeat(move || {
                let m = key.encrypt(&mut p.rng, &group, &[0u8; MESSAGE_LEN]).unwrap();
                black_box(p.sealer.seal_group(&mut p.rng, &p.alice, &to, &m, PADDING).unwrap());
            }),
        );
        let (mut message, mut seal) = (GroupFloor::new(), SealFloor::new(n, payload));
        b.add(
            "group-send",
            &format!("floor-send-{n}"),
            n as u64,
            repeat(move || {
                message.send(&[0u8; MESSAGE_LEN]);
                seal.seal();
            }),
        );
    }
}

/// A member's receive: `unseal` of its envelope (prefix and payload, as
/// the relay delivers it) and `Unsealed::decrypt_group`.
fn receive(b: &mut Benches) {
    let mut p = parties();
    let (mut key, mut record) = sender_key(&mut p.rng, p.alice.public());
    let (group, bob) = (group(), *p.bob.public());
    let (me, trust) = (p.bob, p.trust);
    let (mut sealer, alice, mut rng) = (p.sealer, p.alice, p.rng);
    b.add(
        "group-receive",
        "unseal-decrypt",
        1,
        batched(
            64,
            move || {
                let m = key.encrypt(&mut rng, &group, &[0u8; MESSAGE_LEN]).unwrap();
                let upload = sealer.seal_group(&mut rng, &alice, &[bob], &m, PADDING).unwrap();
                let upload = MultiRecipientEnvelope::parse(&upload).unwrap();
                let share = upload.recipients().next().unwrap();
                let mut envelope = share.envelope_prefix().to_vec();
                envelope.extend_from_slice(upload.payload());
                envelope
            },
            move |envelope| {
                let opened = unseal(&me, &trust, Timestamp(1), &envelope).unwrap();
                black_box(opened.decrypt_group(&mut record).unwrap());
            },
        ),
    );
    let (mut unseal_floor, mut group_floor) = (UnsealFloor::new(payload_len()), GroupFloor::new());
    let m = GroupFloor::message(MESSAGE_LEN);
    b.add(
        "group-receive",
        "floor-unseal-decrypt",
        1,
        repeat(move || {
            unseal_floor.unseal();
            group_floor.receive(&m);
        }),
    );
}

// ---- the summary ----------------------------------------------------------------------

fn output_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("criterion")
}

/// The median time of one step of a benchmark criterion measured in this
/// run, in nanoseconds.
fn median(group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = output_dir().join(group).join(function).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn time(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        ns => format!("{ns:.0} ns"),
    }
}

/// A cost computed from the step times of a row's runs, in nanoseconds.
type Cost = Box<dyn Fn(&[f64]) -> f64>;

/// A line of the table: the cost of a case and of its floor, each computed
/// from the step times of its two benchmarks (case, then floor).
struct Row {
    label: String,
    runs: Vec<(String, String)>,
    case: Cost,
    floor: Cost,
    target: Option<f64>,
}

impl Row {
    /// A case against its floor, both in `group`.
    fn plain(group: &str, case: &str, floor: &str, target: Option<f64>) -> Self {
        Self {
            label: format!("{group} {case}"),
            runs: vec![(group.into(), case.into()), (group.into(), floor.into())],
            case: Box::new(|t| t[0]),
            floor: Box::new(|t| t[1]),
            target,
        }
    }

    /// A group send to `n` members, per member: both times divided by `n`.
    fn per_member(n: usize) -> Self {
        let n_f = n as f64;
        Self {
            label: format!("group-send send-{n}, per member"),
            case: Box::new(move |t| t[0] / n_f),
            floor: Box::new(move |t| t[1] / n_f),
            ..Self::plain("group-send", &format!("send-{n}"), &format!("floor-send-{n}"), Some(1.1))
        }
    }
}

fn rows() -> Vec<Row> {
    let mut rows = vec![
        Row::plain("group-64B", "send", "floor-send", None),
        Row::plain("group-64B", "receive", "floor-receive", None),
        Row::plain("group-64B", "both", "floor-both", Some(1.1)),
    ];
    rows.extend(MEMBERS.iter().map(|&n| Row::per_member(n)));
    rows.push(Row::plain("group-receive", "unseal-decrypt", "floor-unseal-decrypt", None));
    rows
}

/// Interleaved rounds of the runs, and a batch size for each.
const ROUNDS: usize = 31;
/// How long one batch of one run lasts, about.
const BATCH: Duration = Duration::from_millis(10);

/// The number of steps of `run` that take about [`BATCH`].
fn batch_size(run: &mut Run) -> u64 {
    let mut n = 1;
    loop {
        let took = run(n);
        if took >= BATCH / 4 || n >= 1 << 30 {
            let per_step = took.as_secs_f64() / n as f64;
            return ((BATCH.as_secs_f64() / per_step) as u64).max(1);
        }
        n *= 2;
    }
}

/// The ratio of `row` measured in interleaved rounds: in each round every
/// run does one batch (in an order that turns by one each round) and gives
/// a ratio. Returns the median ratio and the quartiles.
fn interleaved(row: &Row, runs: &mut [Run]) -> (f64, f64, f64) {
    let sizes: Vec<u64> = runs.iter_mut().map(batch_size).collect();
    let mut ratios = Vec::with_capacity(ROUNDS);
    let mut step_ns = vec![0.0; runs.len()];
    for round in 0..ROUNDS {
        for k in 0..runs.len() {
            let i = (round + k) % runs.len();
            let took = runs[i](sizes[i]);
            step_ns[i] = took.as_secs_f64() * 1e9 / sizes[i] as f64;
        }
        ratios.push((row.case)(&step_ns) / (row.floor)(&step_ns));
    }
    ratios.sort_by(f64::total_cmp);
    (ratios[ROUNDS / 2], ratios[ROUNDS / 4], ratios[3 * ROUNDS / 4])
}

fn summary(benches: &mut Benches, since: SystemTime) {
    println!("\n== sealwire groups: each case beside its floor ==\n");
    println!(
        "criterion: medians of the separate runs above. interleaved: median and quartiles of \
         {ROUNDS} ratios,\neach from one round of alternating ~{} ms batches of case and floor. \
         The target applies to it.\n",
        BATCH.as_millis()
    );
    println!(
        "{:<42} {:>10} {:>10} {:>9} {:>20} {:>7}",
        "case", "time", "floor", "criterion", "interleaved", "target"
    );
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, b) in benches.0.iter().enumerate() {
        index.insert((b.group.clone(), b.name.clone()), i);
    }
    for row in rows() {
        // A row is shown when criterion measured all its runs in this run,
        // so a filter on the command line filters the summary too.
        let Some(medians) =
            row.runs.iter().map(|(g, n)| median(g, n, since)).collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let (case, floor) = ((row.case)(&medians), (row.floor)(&medians));
        // Borrow the row's runs from their benchmarks, and give them back.
        let slots: Vec<usize> = row.runs.iter().map(|r| index[r]).collect();
        let mut runs: Vec<Run> = slots
            .iter()
            .map(|&i| std::mem::replace(&mut benches.0[i].run, Box::new(|_| Duration::ZERO)))
            .collect();
        let (ratio, q1, q3) = interleaved(&row, &mut runs);
        for (i, run) in slots.into_iter().zip(runs) {
            benches.0[i].run = run;
        }
        let target = row.target.map_or(String::new(), |t| {
            format!("{} {t:.2}", if ratio <= t { "≤" } else { "MISSED" })
        });
        println!(
            "{:<42} {:>10} {:>10} {:>9.3} {:>20} {:>7}",
            row.label,
            time(case),
            time(floor),
            case / floor,
            format!("{ratio:.3} [{q1:.3}–{q3:.3}]"),
            target
        );
    }
    sizes();
}

/// The bytes of a group send of a 64-byte message: what each member
/// downloads (its sealed envelope, prefix and payload, made from the
/// upload as a relay makes it) and what the sender uploads, at 10 and 1000
/// members; beside them, the same message sent with one entry per member
/// in a multi-recipient envelope (`Sealer::seal_to_many`), whose payload
/// every member downloads whole.
fn sizes() {
    let all = members(*SIZE_MEMBERS.iter().max().unwrap());
    let message = ratchet_message();
    println!("\nbytes of a group send of a {MESSAGE_LEN}-byte message:\n");
    println!(
        "{:<10} {:>8} {:>18} {:>10} {:>28}",
        "padding", "members", "each downloads", "upload", "one entry per member: each"
    );
    for (padding, name) in [(Padding::Buckets, "Buckets"), (Padding::None, "None")] {
        for n in SIZE_MEMBERS {
            let upload = group_upload(&all[..n], padding);
            let parsed = MultiRecipientEnvelope::parse(&upload).unwrap();
            let downloads: Vec<usize> = parsed
                .recipients()
                .map(|share| share.envelope_prefix().len() + parsed.payload().len())
                .collect();
            assert_eq!(downloads.len(), n);
            assert!(downloads.iter().all(|&d| d == downloads[0]));
            assert_eq!(downloads[0], parsed.envelope_len());
            // The same message in a payload of entries, one per member.
            let mut p = parties();
            let entries: Vec<(IdentityKey, &[u8])> =
                all[..n].iter().map(|k| (*k, message.as_slice())).collect();
            let pairwise = p.sealer.seal_to_many(&mut p.rng, &p.alice, &entries, padding).unwrap();
            let pairwise = MultiRecipientEnvelope::parse(&pairwise).unwrap().envelope_len();
            println!(
                "{name:<10} {n:>8} {:>18} {:>10} {:>28}",
                downloads[0],
                upload.len(),
                pairwise
            );
        }
    }
    println!(
        "\n(each member's download is the {}-byte prefix and the shared payload; the upload \
         grows by 81 bytes a member)",
        SealedEnvelope::PREFIX_LEN
    );
}

fn main() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let mut c = Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut benches = Benches::default();
    message(&mut benches);
    send(&mut benches);
    receive(&mut benches);

    let mut start = 0;
    while start < benches.0.len() {
        let group_name = benches.0[start].group.clone();
        let end = benches.0[start..]
            .iter()
            .position(|b| b.group != group_name)
            .map_or(benches.0.len(), |p| start + p);
        let mut group = c.benchmark_group(&group_name);
        if group_name == "group-send" {
            group.sample_size(10);
        }
        for bench in &mut benches.0[start..end] {
            group.throughput(Throughput::Elements(bench.elements));
            let run = &mut bench.run;
            group.bench_function(&bench.name, |b| b.iter_custom(&mut *run));
        }
        group.finish();
        start = end;
    }
    c.final_summary();
    summary(&mut benches, since);
}
