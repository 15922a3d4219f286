//! Throughput of sealwire's operations beside their cost floor: the same
//! work done with the primitives alone, measured in the same run so the
//! ratio holds on a noisy machine.
//!
//! Every case and every floor is one [`Run`]: a closure that does the work
//! `n` times and returns the time it took. Criterion measures each run on
//! its own. The summary then measures each case against its floor once
//! more, interleaved: short alternating rounds of case and floor, a ratio
//! per round, and the median of those ratios. Load that comes and goes
//! during a run moves both sides of a round alike. `cargo bench` prints
//! both ratios at the end; docs/performance.md keeps a measured copy.
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
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

mod support;

const SIZES: [(usize, &str); 4] =
    [(64, "64B"), (1024, "1KiB"), (16 * 1024, "16KiB"), (1 << 20, "1MiB")];

/// Recipient counts of the multi-recipient cases.
const FAN_OUT: [usize; 4] = [1, 10, 100, 1000];

/// Device counts of the device layer's fan-out cases.
const DEVICE_FAN_OUT: [usize; 3] = [1, 4, 16];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

// ---- runs -------------------------------------------------------------------------------

/// Does the measured work `n` times and returns the time that took; here
/// always the CPU time of this thread ([`support::Clock`]).
use support::Run;

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
/// Inputs are made `chunk` at a time, so large ones need not all be held.
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
    /// Elements (messages, sessions, recipients) one step handles.
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

/// KDF_CK: two HMAC-SHA256 under the chain key.
fn chain_step(ck: &[u8; 32]) {
    let a = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([1]).finalize();
    let b = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([2]).finalize();
    black_box((a, b));
}

/// The message-key expansion of version 1 (HKDF-SHA256 to 44 bytes), for
/// the floor of the earlier construction only: version 2 uses the message
/// key as it is.
fn expansion(mk: &[u8; 32]) {
    let mut okm = [0u8; 44];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), mk)
        .expand(b"sealwire/ratchet/message/v1", &mut okm)
        .unwrap();
    black_box(okm);
}

/// The AEAD alone, with output buffers of its own.
struct Aead {
    cipher: ChaCha20Poly1305,
    nonce: Nonce,
    out: Vec<u8>,
    plain: Vec<u8>,
}

impl Aead {
    fn new() -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(&[7u8; 32].into()),
            nonce: Nonce::from([9u8; 12]),
            out: Vec::new(),
            plain: Vec::new(),
        }
    }

    /// Copies the plaintext into the output buffer and seals it there, as
    /// any sender writing a fresh message must.
    fn seal(&mut self, plaintext: &[u8]) {
        self.out.clear();
        self.out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(&self.nonce, &[0u8; 108], self.out.as_mut_slice().into())
            .unwrap();
        self.out.extend_from_slice(&tag);
    }

    /// Copies the ciphertext out of the message and opens it there.
    fn open(&mut self, sealed: &[u8]) {
        let (body, tag) = sealed.split_at(sealed.len() - 16);
        self.plain.clear();
        self.plain.extend_from_slice(body);
        let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
        self.cipher
            .decrypt_inout_detached(
                &self.nonce,
                &[0u8; 108],
                self.plain.as_mut_slice().into(),
                &tag,
            )
            .unwrap();
    }

    /// A sealed message of `len` plaintext bytes, for [`Aead::open`].
    fn sealed(len: usize) -> Vec<u8> {
        let mut aead = Self::new();
        aead.seal(&vec![0u8; len]);
        aead.out
    }
}

/// XChaCha20-Poly1305 under a fresh key per message, with a random nonce
/// drawn from the same RNG sealwire draws from: the message encryption of
/// version 2 (docs/protocol.md §6.1), with output buffers of its own.
struct XAead {
    key: [u8; 32],
    nonce: [u8; 24],
    rng: ChaCha20Rng,
    out: Vec<u8>,
    plain: Vec<u8>,
}

impl XAead {
    fn new() -> Self {
        Self { key: [7u8; 32], nonce: [9u8; 24], rng: rng(), out: Vec::new(), plain: Vec::new() }
    }

    /// Draws a nonce, copies the plaintext into the output buffer and
    /// seals it there.
    fn seal(&mut self, plaintext: &[u8]) {
        self.rng.fill_bytes(&mut self.nonce);
        self.out.clear();
        self.out.extend_from_slice(plaintext);
        let cipher = XChaCha20Poly1305::new(&self.key.into());
        let tag = cipher
            .encrypt_inout_detached(
                &XNonce::from(self.nonce),
                &[0u8; 132],
                self.out.as_mut_slice().into(),
            )
            .unwrap();
        self.out.extend_from_slice(&tag);
    }

    /// Copies the ciphertext out of the message and opens it there.
    fn open(&mut self, sealed: &(Vec<u8>, [u8; 24])) {
        let (body, tag) = sealed.0.split_at(sealed.0.len() - 16);
        self.plain.clear();
        self.plain.extend_from_slice(body);
        let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
        let cipher = XChaCha20Poly1305::new(&self.key.into());
        cipher
            .decrypt_inout_detached(
                &XNonce::from(sealed.1),
                &[0u8; 132],
                self.plain.as_mut_slice().into(),
                &tag,
            )
            .unwrap();
    }

    /// A sealed message of `len` plaintext bytes and its nonce, for
    /// [`XAead::open`].
    fn sealed(len: usize) -> (Vec<u8>, [u8; 24]) {
        let mut aead = Self::new();
        aead.seal(&vec![0u8; len]);
        (aead.out, aead.nonce)
    }
}

struct Curve {
    secret: StaticSecret,
    peer: PublicKey,
    verifying: VerifyingKey,
    signature: ed25519_dalek::Signature,
    inverse_of_eight: Scalar,
    rng: ChaCha20Rng,
}

impl Curve {
    fn new() -> Self {
        let mut rng = rng();
        let secret = StaticSecret::random_from_rng(&mut rng);
        let peer = PublicKey::from(&StaticSecret::random_from_rng(&mut rng));
        let signing = SigningKey::from_bytes(&[5u8; 32]);
        let signature = signing.sign(&[0u8; 62]);
        let verifying = signing.verifying_key();
        let inverse_of_eight = Scalar::from(8u8).invert();
        Self { secret, peer, verifying, signature, inverse_of_eight, rng }
    }

    fn keygen(&mut self) {
        black_box(PublicKey::from(&StaticSecret::random_from_rng(&mut self.rng)));
    }

    fn dh(&self) {
        black_box(self.secret.diffie_hellman(&self.peer));
    }

    fn verify(&self) {
        self.verifying.verify_strict(&[0u8; 62], &self.signature).unwrap();
    }

    /// Decodes an Ed25519 identity key and checks it has no torsion
    /// component, as every identity key read from the network is checked:
    /// a decompression and one variable-time scalar multiplication
    /// (docs/protocol.md §2.2).
    fn subgroup_check(&self) {
        let point = CompressedEdwardsY(self.verifying.to_bytes()).decompress().unwrap();
        let back = EdwardsPoint::vartime_double_scalar_mul_basepoint(
            &self.inverse_of_eight,
            &point.mul_by_cofactor(),
            &Scalar::ZERO,
        );
        assert!(back == point);
    }
}

// ---- the protocol's parties --------------------------------------------------------------

struct Pair {
    alice: Session,
    bob: Session,
    rng: ChaCha20Rng,
}

/// Alice started a session with Bob, and Bob has replied, so both are in
/// steady state. The same pair every time.
fn pair() -> Pair {
    let mut rng = rng();
    let bob_id = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob_id, PreKeyId(1));
    let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let bundle = PreKeyBundle::new(*bob_id.public(), spk.public(), Some(opk.public()));
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let mut alice = Session::initiate(&mut rng, &alice_id, &bundle).unwrap();
    let first = alice.encrypt(&mut rng, b"hi").unwrap();
    let (mut bob, _) =
        Session::accept(&bob_id, &spk, Some(&opk), &InitialMessage::parse(&first).unwrap())
            .unwrap();
    let reply = bob.encrypt(&mut rng, b"hello").unwrap();
    alice.decrypt(&reply).unwrap();
    let again = alice.encrypt(&mut rng, b"again").unwrap();
    bob.decrypt(&again).unwrap();
    Pair { alice, bob, rng }
}

// ---- benchmarks ------------------------------------------------------------------------

fn one_way(b: &mut Benches) {
    for (size, name) in SIZES {
        let group = format!("one-way-{name}");
        let plaintext = vec![0x5a; size];
        let chunk = if size >= 1 << 20 { 1 } else { 64 };

        let mut p = pair();
        let (pt, mut out) = (plaintext.clone(), Vec::with_capacity(size + 128));
        b.add(
            &group,
            "encrypt",
            1,
            repeat(move || {
                out.clear();
                p.alice.encrypt_into(&mut p.rng, &pt, &mut out).unwrap();
            }),
        );

        let Pair { mut alice, mut bob, mut rng } = pair();
        let (pt, mut plain) = (plaintext.clone(), Vec::with_capacity(size + 128));
        b.add(
            &group,
            "decrypt",
            1,
            batched(
                chunk,
                move || alice.encrypt(&mut rng, &pt).unwrap(),
                move |m| {
                    plain.clear();
                    bob.decrypt_into(&m, &mut plain).unwrap();
                },
            ),
        );

        let mut p = pair();
        let pt = plaintext.clone();
        let (mut out, mut plain) = (Vec::with_capacity(size + 128), Vec::with_capacity(size + 128));
        b.add(
            &group,
            "both",
            1,
            repeat(move || {
                out.clear();
                plain.clear();
                p.alice.encrypt_into(&mut p.rng, &pt, &mut out).unwrap();
                p.bob.decrypt_into(&out, &mut plain).unwrap();
            }),
        );

        // Floors: per side one chain step (two HMAC-SHA256) and the AEAD
        // (XChaCha20-Poly1305 under the message key), the sender drawing
        // its 24-byte nonce. The key's value does not change the cost.
        let key = [3u8; 32];
        let sealed = XAead::sealed(size);
        let (pt, mut aead) = (plaintext.clone(), XAead::new());
        b.add(
            &group,
            "floor-encrypt",
            1,
            repeat(move || {
                chain_step(&key);
                aead.seal(&pt);
            }),
        );
        let (m, mut aead) = (sealed.clone(), XAead::new());
        b.add(
            &group,
            "floor-decrypt",
            1,
            repeat(move || {
                chain_step(&key);
                aead.open(&m);
            }),
        );
        let (pt, m, mut aead) = (plaintext.clone(), sealed.clone(), XAead::new());
        b.add(
            &group,
            "floor-both",
            1,
            repeat(move || {
                chain_step(&key);
                aead.seal(&pt);
                chain_step(&key);
                aead.open(&m);
            }),
        );
        // The floor of version 1's construction, for comparison: two
        // message-key expansions (HKDF) and ChaCha20-Poly1305 under the
        // derived key and nonce.
        let (pt, m, mut aead) = (plaintext, Aead::sealed(size), Aead::new());
        b.add(
            &group,
            "floor-both-v1",
            1,
            repeat(move || {
                chain_step(&key);
                expansion(&key);
                aead.seal(&pt);
                chain_step(&key);
                expansion(&key);
                aead.open(&m);
            }),
        );
    }
}

fn ping_pong(b: &mut Benches) {
    let mut p = pair();
    let (mut out, mut plain) = (Vec::with_capacity(256), Vec::with_capacity(256));
    // Every message answers the other side's last one, so each carries a
    // DH ratchet step.
    b.add(
        "ping-pong",
        "two-messages",
        2,
        repeat(move || {
            out.clear();
            plain.clear();
            p.alice.encrypt_into(&mut p.rng, &[1u8; 64], &mut out).unwrap();
            p.bob.decrypt_into(&out, &mut plain).unwrap();
            out.clear();
            plain.clear();
            p.bob.encrypt_into(&mut p.rng, &[2u8; 64], &mut out).unwrap();
            p.alice.decrypt_into(&out, &mut plain).unwrap();
        }),
    );
    let (sealed, mut aead, mut curve) = (XAead::sealed(64), XAead::new(), Curve::new());
    let key = [3u8; 32];
    b.add(
        "ping-pong",
        "floor-two-messages",
        2,
        repeat(move || {
            for _ in 0..2 {
                curve.keygen();
                curve.dh();
                curve.dh();
                chain_step(&key);
                aead.seal(&[1u8; 64]);
                chain_step(&key);
                aead.open(&sealed);
            }
        }),
    );
}

/// Bob's keys and Alice's identity, the same every time.
struct Keys {
    bob: IdentityKeyPair,
    alice: IdentityKeyPair,
    spk: SignedPreKeyPair,
    opk: OneTimePreKeyPair,
    kem: KemPreKeyPair,
    rng: ChaCha20Rng,
}

fn keys() -> Keys {
    let mut rng = rng();
    let bob = IdentityKeyPair::generate(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
    let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let kem = KemPreKeyPair::generate(&mut rng, &bob, PreKeyId(3), KemPreKeyKind::OneTime);
    Keys { bob, alice, spk, opk, kem, rng }
}

impl Keys {
    fn bundle(&self, with_opk: bool) -> PreKeyBundle {
        PreKeyBundle::new(
            *self.bob.public(),
            self.spk.public(),
            with_opk.then(|| self.opk.public()),
        )
    }

    /// The bundle with the one-time prekey and the KEM prekey.
    fn bundle_pq(&self) -> PreKeyBundle {
        self.bundle(true).with_kem_prekey(self.kem.public())
    }
}

fn setup(b: &mut Benches) {
    for with_opk in [true, false] {
        let label = if with_opk { "-opk" } else { "" };

        let mut k = keys();
        let bundle = k.bundle(with_opk);
        b.add(
            "setup",
            &format!("initiator{label}"),
            1,
            repeat(move || {
                black_box(Session::initiate(&mut k.rng, &k.alice, &bundle).unwrap());
            }),
        );

        let mut k = keys();
        let bundle = k.bundle(with_opk);
        let first = Session::initiate(&mut k.rng, &k.alice, &bundle)
            .unwrap()
            .encrypt(&mut k.rng, &[0u8; 64])
            .unwrap();
        let (spk, opk) = (k.spk.to_bytes(), k.opk.to_bytes());
        b.add(
            "setup",
            &format!("responder{label}"),
            1,
            batched(
                64,
                move || {
                    (
                        SignedPreKeyPair::from_bytes(&spk).unwrap(),
                        OneTimePreKeyPair::from_bytes(&opk).unwrap(),
                    )
                },
                move |(spk, opk)| {
                    let initial = InitialMessage::parse(&first).unwrap();
                    let opk = initial.one_time_prekey_id().map(|_| &opk);
                    black_box(Session::accept(&k.bob, &spk, opk, &initial).unwrap());
                },
            ),
        );

        // Floors: the curve operations the agreement needs.
        let x3dh_dh = if with_opk { 4 } else { 3 };
        let mut curve = Curve::new();
        b.add(
            "setup",
            &format!("floor-initiator{label}"),
            1,
            repeat(move || {
                curve.verify();
                curve.keygen(); // EK_A
                for _ in 0..x3dh_dh {
                    curve.dh();
                }
                curve.keygen(); // the first DHs
                curve.dh(); // DH(DHs, SPK_B)
            }),
        );
        let (curve, sealed, mut aead) = (Curve::new(), XAead::sealed(64), XAead::new());
        b.add(
            "setup",
            &format!("floor-responder{label}"),
            1,
            repeat(move || {
                curve.subgroup_check(); // IK_A, read from the message
                for _ in 0..x3dh_dh {
                    curve.dh();
                }
                curve.dh(); // DH(SPK_B, DHs)
                chain_step(&[3u8; 32]);
                aead.open(&sealed);
            }),
        );
    }
}

/// The post-quantum agreement (PQXDH) with a one-time prekey and a KEM
/// prekey, beside the classic floor plus what PQXDH adds: one ML-KEM-768
/// encapsulation (decapsulation for the responder) and, for the initiator,
/// the KEM prekey's signature verification (over its 1212-byte message).
fn setup_pq(b: &mut Benches) {
    use ml_kem::kem::Decapsulate;
    let mut k = keys();
    let bundle = k.bundle_pq();
    b.add(
        "setup",
        "initiator-pq",
        1,
        repeat(move || {
            black_box(Session::initiate(&mut k.rng, &k.alice, &bundle).unwrap());
        }),
    );
    let mut k = keys();
    let bundle = k.bundle_pq();
    let first = Session::initiate(&mut k.rng, &k.alice, &bundle)
        .unwrap()
        .encrypt(&mut k.rng, &[0u8; 64])
        .unwrap();
    let (spk, opk, kem) = (k.spk.to_bytes(), k.opk.to_bytes(), k.kem.to_bytes());
    b.add(
        "setup",
        "responder-pq",
        1,
        batched(
            64,
            move || {
                (
                    SignedPreKeyPair::from_bytes(&spk).unwrap(),
                    OneTimePreKeyPair::from_bytes(&opk).unwrap(),
                    KemPreKeyPair::from_bytes(&kem).unwrap(),
                )
            },
            move |(spk, opk, kem)| {
                let initial = InitialMessage::parse(&first).unwrap();
                black_box(
                    Session::accept_hybrid(&k.bob, &spk, Some(&opk), Some(&kem), &initial).unwrap(),
                );
            },
        ),
    );

    // Floors: the classic floors plus ML-KEM-768 and one more verification.
    let dk = ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed([7u8; 64].into());
    let ek = dk.encapsulation_key().clone();
    let (ct, _) = ek.encapsulate_deterministic(&[9u8; 32].into());
    let signing = SigningKey::from_bytes(&[6u8; 32]);
    let long_message = [0u8; 1212];
    let long_signature = signing.sign(&long_message);
    let long_key = signing.verifying_key();
    let mut curve = Curve::new();
    let mut m = [0u8; 32];
    b.add(
        "setup",
        "floor-initiator-pq",
        1,
        repeat(move || {
            curve.verify();
            long_key.verify_strict(&long_message, &long_signature).unwrap();
            curve.keygen(); // EK_A
            m[0] = m[0].wrapping_add(1);
            black_box(ek.encapsulate_deterministic(&m.into()));
            for _ in 0..4 {
                curve.dh();
            }
            curve.keygen(); // the first DHs
            curve.dh(); // DH(DHs, SPK_B)
        }),
    );
    let (curve, sealed, mut aead) = (Curve::new(), XAead::sealed(64), XAead::new());
    b.add(
        "setup",
        "floor-responder-pq",
        1,
        repeat(move || {
            curve.subgroup_check(); // IK_A, read from the message
            black_box(dk.decapsulate(&ct));
            for _ in 0..4 {
                curve.dh();
            }
            curve.dh(); // DH(SPK_B, DHs)
            chain_step(&[3u8; 32]);
            aead.open(&sealed);
        }),
    );
}

/// One app's sender Alice, and Bob who trusts that app.
struct Apps {
    sealer: Sealer,
    alice: IdentityKeyPair,
    bob: IdentityKeyPair,
    trust: TrustStore,
    /// A 64-byte ratchet message to seal.
    message: Vec<u8>,
    rng: ChaCha20Rng,
}

fn apps() -> Apps {
    let mut rng = rng();
    let app = AppId::new("app-a").unwrap();
    let root = CertificateKeyPair::generate(&mut rng);
    let issuer_key = CertificateKeyPair::generate(&mut rng);
    let issuer = IssuerCertificate::issue(
        &root,
        &app,
        1,
        &issuer_key.public(),
        Timestamp(0),
        Timestamp(u64::MAX),
    )
    .unwrap();
    let alice = IdentityKeyPair::generate(&mut rng);
    let cert = SenderCertificate::issue(
        &issuer_key,
        &issuer,
        UserId::new(b"alice").unwrap(),
        DeviceId(1),
        alice.public(),
        Timestamp(u64::MAX),
    )
    .unwrap();
    let bob = IdentityKeyPair::generate(&mut rng);
    let mut trust = TrustStore::new();
    trust.add_root(&TrustRoot::new(app, root.public()));
    let mut p = pair();
    let message = p.alice.encrypt(&mut p.rng, &[0u8; 64]).unwrap();
    Apps { sealer: Sealer::new(cert), alice, bob, trust, message, rng }
}

/// The bytes of the payload an envelope's AEAD seals: everything after the
/// fixed fields, less the tag (docs/protocol.md §12).
fn payload_len() -> usize {
    let mut a = apps();
    let bob = *a.bob.public();
    let envelope = a.sealer.seal(&mut a.rng, &a.alice, &bob, &a.message, Padding::None).unwrap();
    envelope.len() - SealedEnvelope::PREFIX_LEN - 16
}

fn sealed(b: &mut Benches) {
    let a = apps();
    let (bob, cert) = (*a.bob.public(), a.sealer.certificate().clone());
    let mut rng = rng();
    b.add(
        "sealed",
        "seal-cold",
        1,
        batched(
            64,
            move || Sealer::new(cert.clone()),
            move |mut sealer| {
                let envelope = sealer.seal(&mut rng, &a.alice, &bob, &a.message, Padding::None);
                black_box(envelope.unwrap());
            },
        ),
    );
    let mut a = apps();
    b.add(
        "sealed",
        "seal-warm",
        1,
        repeat(move || {
            let envelope = a.sealer.seal(&mut a.rng, &a.alice, &bob, &a.message, Padding::None);
            black_box(envelope.unwrap());
        }),
    );
    let mut a = apps();
    let envelope = a.sealer.seal(&mut a.rng, &a.alice, &bob, &a.message, Padding::None).unwrap();
    b.add(
        "sealed",
        "unseal",
        1,
        repeat(move || {
            black_box(unseal(&a.bob, &a.trust, Timestamp(1), &envelope).unwrap());
        }),
    );

    // Floors: the curve and signature operations, and the payload's AEAD.
    let len = payload_len();
    let payload = vec![0u8; len];
    let (mut curve, mut aead, pt) = (Curve::new(), Aead::new(), payload.clone());
    b.add(
        "sealed",
        "floor-seal-cold",
        1,
        repeat(move || {
            curve.keygen();
            curve.dh();
            curve.dh();
            aead.seal(&pt);
        }),
    );
    let (mut curve, mut aead) = (Curve::new(), Aead::new());
    b.add(
        "sealed",
        "floor-seal-warm",
        1,
        repeat(move || {
            curve.keygen();
            curve.dh();
            aead.seal(&payload);
        }),
    );
    let (curve, sealed, mut aead) = (Curve::new(), Aead::sealed(len), Aead::new());
    b.add(
        "sealed",
        "floor-unseal",
        1,
        repeat(move || {
            curve.subgroup_check(); // the sender's identity key, in its certificate
            curve.dh();
            curve.dh();
            curve.verify();
            curve.verify();
            aead.open(&sealed);
        }),
    );
}

/// The device layer: receiving a message through `Device::receive`
/// (unseal, certificate, trust, session record, commit to a memory store)
/// beside unsealing and decrypting alone; sending to N devices through
/// `Device::send` beside N encryptions and one multi-recipient seal.
fn device(b: &mut Benches) {
    let now = Timestamp(1);
    // Receive: Alice's device sends, Bob's receives, one message a step.
    // The app acknowledges each message, untimed, so the kept messages
    // stay under their limit.
    b.add(
        "device",
        "receive",
        1,
        support::each::<ThreadTime, _, _, _>(
            support::devices(1, |_| MemoryStore::new()),
            support::Devices::next_envelope,
            move |d, envelope| d.recipients[0].receive(&envelope, now).unwrap(),
            |d, received| d.recipients[0].acknowledge_received(received.id).unwrap(),
        ),
    );
    // Its floor: the same message, sealed, unsealed and decrypted without
    // the layer.
    let a = apps();
    let p = pair();
    let bob_key = *a.bob.public();
    let mut bob_session = Some(p.bob);
    let (mut alice_session, mut rng) = (p.alice, p.rng);
    let mut a_sealer = a.sealer;
    let (alice, bob_identity, trust) = (a.alice, a.bob, a.trust);
    b.add(
        "device",
        "floor-receive",
        1,
        batched(
            64,
            move || {
                let m = alice_session.encrypt(&mut rng, &[0u8; 64]).unwrap();
                a_sealer.seal(&mut rng, &alice, &bob_key, &m, Padding::Buckets).unwrap()
            },
            move |envelope| {
                let opened = unseal(&bob_identity, &trust, now, &envelope).unwrap();
                let session = bob_session.as_mut().unwrap();
                black_box(session.decrypt(opened.message_unchecked()).unwrap());
            },
        ),
    );

    // Send to N devices of one user.
    for n in DEVICE_FAN_OUT {
        b.add(
            "device",
            &format!("send-{n}"),
            n as u64,
            support::each::<ThreadTime, _, _, _>(
                support::devices(n, |_| MemoryStore::new()),
                |_| (),
                move |d, ()| d.sender.send(&mut d.rng, &d.user, &[0u8; 64], now).unwrap(),
                |d, sent| d.sender.acknowledge_sent(sent.id).unwrap(),
            ),
        );
        // Floor: N sessions' encryptions and one multi-recipient seal to
        // the same recipients, without the layer.
        let mut a = apps();
        let mut rng = ChaCha20Rng::seed_from_u64(n as u64);
        let mut sessions: Vec<(IdentityKey, Session)> =
            (0..n).map(|_| (*IdentityKeyPair::generate(&mut rng).public(), pair().alice)).collect();
        b.add(
            "device",
            &format!("floor-send-{n}"),
            n as u64,
            repeat(move || {
                let messages: Vec<(IdentityKey, Vec<u8>)> = sessions
                    .iter_mut()
                    .map(|(k, s)| (*k, s.encrypt(&mut a.rng, &[0u8; 64]).unwrap()))
                    .collect();
                let refs: Vec<(IdentityKey, &[u8])> =
                    messages.iter().map(|(k, m)| (*k, m.as_slice())).collect();
                let sealed = a.sealer.seal_to_many(&mut a.rng, &a.alice, &refs, Padding::Buckets);
                black_box(sealed.unwrap());
            }),
        );
    }
}

fn multi(b: &mut Benches) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let recipients: Vec<IdentityKey> =
        (0..1000).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    for n in FAN_OUT {
        let mut a = apps();
        let message = a.message.clone();
        let to: Vec<(IdentityKey, Vec<u8>)> =
            recipients[..n].iter().map(|r| (*r, message.clone())).collect();
        // Warm the cache of authentication keys, as a sealer that has
        // written to these recipients before.
        let msgs: Vec<(IdentityKey, &[u8])> = to.iter().map(|(r, m)| (*r, &m[..])).collect();
        a.sealer.seal_to_many(&mut a.rng, &a.alice, &msgs, Padding::None).unwrap();
        b.add(
            "multi",
            &format!("seal-{n}"),
            n as u64,
            repeat(move || {
                let msgs: Vec<(IdentityKey, &[u8])> =
                    to.iter().map(|(r, m)| (*r, &m[..])).collect();
                black_box(
                    a.sealer.seal_to_many(&mut a.rng, &a.alice, &msgs, Padding::None).unwrap(),
                );
            }),
        );
    }
    let curve = Curve::new();
    b.add("multi", "floor-dh", 1, repeat(move || curve.dh()));
}

fn skipped(b: &mut Benches) {
    for skip in [100usize, 1000] {
        let mut p = pair();
        let state = p.bob.to_bytes().to_vec();
        let mut last = Vec::new();
        for _ in 0..=skip {
            last = p.alice.encrypt(&mut p.rng, &[0u8; 64]).unwrap();
        }
        b.add(
            "skipped",
            &format!("after-{skip}"),
            1,
            batched(
                16,
                move || Session::from_bytes(&state).unwrap(),
                move |mut bob| {
                    black_box(bob.decrypt(&last).unwrap());
                },
            ),
        );
        let (key, sealed, mut aead) = ([3u8; 32], XAead::sealed(64), XAead::new());
        b.add(
            "skipped",
            &format!("floor-after-{skip}"),
            1,
            repeat(move || {
                for _ in 0..=skip {
                    chain_step(&key);
                }
                aead.open(&sealed);
            }),
        );
    }
}

/// What reading an identity key from the network costs: decompression,
/// the even-x and subgroup checks and the X25519 form, beside a plain
/// decompression.
fn identity_keys(b: &mut Benches) {
    let mut rng = rng();
    let encoded = IdentityKeyPair::generate(&mut rng).public().to_bytes();
    b.add(
        "keys",
        "identity-decode",
        1,
        repeat(move || {
            black_box(IdentityKey::from_bytes(&encoded).unwrap());
        }),
    );
    let mut compressed = [0u8; 32];
    compressed.copy_from_slice(&encoded[1..]);
    b.add(
        "keys",
        "floor-decompress",
        1,
        repeat(move || {
            black_box(CompressedEdwardsY(compressed).decompress().unwrap());
        }),
    );
}

fn state(b: &mut Benches) {
    for (name, session) in stored_sessions() {
        let bytes = session.to_bytes().to_vec();
        b.add(
            "state",
            &format!("encode-{name}"),
            1,
            repeat(move || {
                black_box(session.to_bytes());
            }),
        );
        b.add(
            "state",
            &format!("decode-{name}"),
            1,
            repeat(move || {
                black_box(Session::from_bytes(&bytes).unwrap());
            }),
        );
    }
}

/// The sessions whose stored state is measured: "steady", with a sending
/// and a receiving chain and no skipped keys (Bob after answering Alice's
/// last message), and "full".
fn stored_sessions() -> [(&'static str, Session); 2] {
    let mut p = pair();
    p.bob.encrypt(&mut p.rng, b"answer").unwrap();
    [("steady", p.bob), ("full", full_session())]
}

/// A session holding the most skipped keys it may: 1000 in each of two chains.
fn full_session() -> Session {
    let mut p = pair();
    for _ in 0..2 {
        let mut last = Vec::new();
        for _ in 0..=limits::MAX_SKIP {
            last = p.alice.encrypt(&mut p.rng, b"x").unwrap();
        }
        p.bob.decrypt(&last).unwrap();
        let r = p.bob.encrypt(&mut p.rng, b"r").unwrap();
        p.alice.decrypt(&r).unwrap();
    }
    assert_eq!(p.bob.skipped_key_count(), limits::MAX_SKIPPED_KEYS);
    p.bob
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
/// from the step times of some benchmarks (in the order of `runs`).
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

    /// One more recipient of a multi-recipient envelope, against one DH.
    fn fan_out(n: usize) -> Self {
        let run = |name: &str| ("multi".to_string(), name.to_string());
        Self {
            label: format!("multi seal-{n}, each extra recipient"),
            runs: vec![run(&format!("seal-{n}")), run("seal-1"), run("floor-dh")],
            case: Box::new(move |t| (t[0] - t[1]) / (n as f64 - 1.0)),
            floor: Box::new(|t| t[2]),
            target: Some(1.1),
        }
    }
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (_, name) in SIZES {
        let group = format!("one-way-{name}");
        let target = match name {
            "64B" => Some(1.3),
            "16KiB" => Some(1.1),
            _ => None,
        };
        rows.push(Row::plain(&group, "encrypt", "floor-encrypt", None));
        rows.push(Row::plain(&group, "decrypt", "floor-decrypt", None));
        rows.push(Row::plain(&group, "both", "floor-both", target));
        // What version 2's construction costs beside version 1's floor.
        rows.push(Row {
            label: format!("{group} both, against version 1's floor"),
            ..Row::plain(&group, "both", "floor-both-v1", None)
        });
    }
    rows.push(Row::plain("ping-pong", "two-messages", "floor-two-messages", Some(1.15)));
    for case in
        ["initiator-opk", "initiator", "responder-opk", "responder", "initiator-pq", "responder-pq"]
    {
        rows.push(Row::plain("setup", case, &format!("floor-{case}"), Some(1.1)));
    }
    // What the post-quantum agreement adds to the classic one (with a
    // one-time prekey), against one ML-KEM-768 operation's worth of floor.
    for side in ["initiator", "responder"] {
        let run = |name: String| ("setup".to_string(), name);
        rows.push(Row {
            label: format!("setup {side}: PQXDH minus X3DH"),
            runs: vec![
                run(format!("{side}-pq")),
                run(format!("{side}-opk")),
                run(format!("floor-{side}-pq")),
                run(format!("floor-{side}-opk")),
            ],
            case: Box::new(|t| t[0] - t[1]),
            floor: Box::new(|t| t[2] - t[3]),
            target: None,
        });
    }
    for case in ["seal-cold", "seal-warm", "unseal"] {
        rows.push(Row::plain("sealed", case, &format!("floor-{case}"), Some(1.1)));
    }
    rows.extend(FAN_OUT[1..].iter().map(|&n| Row::fan_out(n)));
    rows.push(Row::plain("device", "receive", "floor-receive", Some(1.1)));
    for n in DEVICE_FAN_OUT {
        rows.push(Row::plain(
            "device",
            &format!("send-{n}"),
            &format!("floor-send-{n}"),
            Some(1.1),
        ));
    }
    rows.push(Row::plain("keys", "identity-decode", "floor-decompress", None));
    rows.push(Row::plain("skipped", "after-100", "floor-after-100", None));
    rows.push(Row::plain("skipped", "after-1000", "floor-after-1000", None));
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
    println!("\n== sealwire: each case beside its floor ==\n");
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
    println!();
    let mut rng = rng();
    let mut k = keys();
    let mut first = Session::initiate(&mut rng, &k.alice, &k.bundle(true)).unwrap();
    first.encrypt(&mut k.rng, b"hi").unwrap();
    println!("session state, initiator after its first message: {} bytes", first.to_bytes().len());
    let classic_message = first.encrypt(&mut k.rng, b"").unwrap().len();
    let mut hybrid = Session::initiate(&mut rng, &k.alice, &k.bundle_pq()).unwrap();
    let hybrid_message = hybrid.encrypt(&mut k.rng, b"").unwrap().len();
    println!(
        "bytes, classic vs post-quantum: bundle {} vs {} (+{}), initial message (empty plaintext) {} vs {} (+{}), initiator state awaiting its reply {} vs {} (+{})",
        k.bundle(true).to_bytes().len(),
        k.bundle_pq().to_bytes().len(),
        k.bundle_pq().to_bytes().len() - k.bundle(true).to_bytes().len(),
        classic_message,
        hybrid_message,
        hybrid_message - classic_message,
        first.to_bytes().len(),
        hybrid.to_bytes().len(),
        hybrid.to_bytes().len() - first.to_bytes().len(),
    );
    for (name, session) in stored_sessions() {
        let timing = |op: &str| median("state", &format!("{op}-{name}"), since).map(time);
        // Times only for what criterion measured in this run.
        let times = match (timing("encode"), timing("decode")) {
            (Some(encode), Some(decode)) => format!("; encode {encode}, decode {decode}"),
            _ => String::new(),
        };
        println!(
            "session state, {name}: {} bytes ({} skipped keys){times}",
            session.to_bytes().len(),
            session.skipped_key_count(),
        );
    }
}

fn main() {
    let since = SystemTime::now() - Duration::from_secs(1);
    let mut c = Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut benches = Benches::default();
    one_way(&mut benches);
    ping_pong(&mut benches);
    setup(&mut benches);
    setup_pq(&mut benches);
    sealed(&mut benches);
    multi(&mut benches);
    device(&mut benches);
    skipped(&mut benches);
    identity_keys(&mut benches);
    state(&mut benches);

    let mut start = 0;
    while start < benches.0.len() {
        let group_name = benches.0[start].group.clone();
        let end = benches.0[start..]
            .iter()
            .position(|b| b.group != group_name)
            .map_or(benches.0.len(), |p| start + p);
        let mut group = c.benchmark_group(&group_name);
        if group_name == "one-way-1MiB" {
            group.sample_size(20);
        }
        if group_name == "multi" {
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
