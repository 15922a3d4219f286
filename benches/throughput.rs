//! Throughput of sealwire's operations beside their cost floor: the same
//! work done with the primitives alone, measured in the same run so the
//! ratio holds on a noisy machine. `cargo bench` prints the table at the
//! end; docs/performance.md keeps a measured copy.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark harness"
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit as _, Nonce};
use criterion::{BatchSize, Criterion, Throughput};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::*;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

const SIZES: [(usize, &str); 4] =
    [(64, "64B"), (1024, "1KiB"), (16 * 1024, "16KiB"), (1 << 20, "1MiB")];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

// ---- the primitives, for the floors ------------------------------------------------------

/// KDF_CK: two HMAC-SHA256 under the chain key.
fn chain_step(ck: &[u8; 32]) {
    let a = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([1]).finalize();
    let b = Hmac::<Sha256>::new_from_slice(ck).unwrap().chain_update([2]).finalize();
    black_box((a, b));
}

/// The message-key expansion: HKDF-SHA256 to 44 bytes.
fn expansion(mk: &[u8; 32]) {
    let mut okm = [0u8; 44];
    hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), mk)
        .expand(b"sealwire/ratchet/message/v1", &mut okm)
        .unwrap();
    black_box(okm);
}

struct Aead {
    cipher: ChaCha20Poly1305,
    nonce: Nonce,
}

impl Aead {
    fn new() -> Self {
        Self { cipher: ChaCha20Poly1305::new(&[7u8; 32].into()), nonce: Nonce::from([9u8; 12]) }
    }

    /// Copies the plaintext into the output buffer and seals it there, as
    /// any sender writing a fresh message must.
    fn seal(&self, plaintext: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(&self.nonce, &[0u8; 108], out.as_mut_slice().into())
            .unwrap();
        out.extend_from_slice(&tag);
    }

    /// Copies the ciphertext out of the message and opens it there.
    fn open(&self, sealed: &[u8], out: &mut Vec<u8>) {
        let (body, tag) = sealed.split_at(sealed.len() - 16);
        out.clear();
        out.extend_from_slice(body);
        let tag = chacha20poly1305::Tag::try_from(tag).unwrap();
        self.cipher
            .decrypt_inout_detached(&self.nonce, &[0u8; 108], out.as_mut_slice().into(), &tag)
            .unwrap();
    }
}

struct Curve {
    secret: StaticSecret,
    peer: PublicKey,
    verifying: VerifyingKey,
    signature: ed25519_dalek::Signature,
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
        Self { secret, peer, verifying, signature, rng }
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
}

// ---- the protocol's parties --------------------------------------------------------------

struct Pair {
    alice: Session,
    bob: Session,
    rng: ChaCha20Rng,
}

/// Alice started a session with Bob, and Bob has replied, so both are in
/// steady state.
fn pair() -> Pair {
    let mut rng = rng();
    let bob_id = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob_id, PreKeyId(1));
    let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let bundle = PreKeyBundle::new(*bob_id.public(), spk.public(), Some(opk.public()));
    let mut store = MemoryPreKeyStore::new();
    store.add_signed_prekey(spk);
    store.add_one_time_prekey(opk);
    let alice_id = IdentityKeyPair::generate(&mut rng);
    let mut alice = Session::initiate(&mut rng, &alice_id, &bundle).unwrap();
    let first = alice.encrypt(&mut rng, b"hi").unwrap();
    let (mut bob, _) =
        Session::accept(&bob_id, &mut store, &InitialMessage::parse(&first).unwrap()).unwrap();
    let reply = bob.encrypt(&mut rng, b"hello").unwrap();
    alice.decrypt(&reply).unwrap();
    let again = alice.encrypt(&mut rng, b"again").unwrap();
    bob.decrypt(&again).unwrap();
    Pair { alice, bob, rng }
}

// ---- benchmarks ------------------------------------------------------------------------

fn one_way(c: &mut Criterion) {
    for (size, name) in SIZES {
        let mut g = c.benchmark_group(format!("one-way-{name}"));
        g.throughput(Throughput::Elements(1));
        if size >= 1 << 20 {
            g.sample_size(20);
        }
        let plaintext = vec![0x5a; size];
        let mut out = Vec::with_capacity(size + 128);
        let mut plain = Vec::with_capacity(size + 128);

        let mut p = pair();
        g.bench_function("encrypt", |b| {
            b.iter(|| {
                out.clear();
                p.alice.encrypt_into(&mut p.rng, &plaintext, &mut out).unwrap();
            })
        });
        let mut p = pair();
        g.bench_function("decrypt", |b| {
            b.iter_batched(
                || p.alice.encrypt(&mut p.rng, &plaintext).unwrap(),
                |m| {
                    plain.clear();
                    p.bob.decrypt_into(&m, &mut plain).unwrap();
                },
                BatchSize::LargeInput,
            )
        });
        let mut p = pair();
        g.bench_function("both", |b| {
            b.iter(|| {
                out.clear();
                plain.clear();
                p.alice.encrypt_into(&mut p.rng, &plaintext, &mut out).unwrap();
                p.bob.decrypt_into(&out, &mut plain).unwrap();
            })
        });

        let aead = Aead::new();
        let mut sealed = Vec::new();
        aead.seal(&plaintext, &mut sealed);
        let key = [3u8; 32];
        g.bench_function("floor-encrypt", |b| {
            b.iter(|| {
                chain_step(&key);
                expansion(&key);
                aead.seal(&plaintext, &mut out);
            })
        });
        g.bench_function("floor-decrypt", |b| {
            b.iter(|| {
                chain_step(&key);
                expansion(&key);
                aead.open(&sealed, &mut plain);
            })
        });
        g.bench_function("floor-both", |b| {
            b.iter(|| {
                chain_step(&key);
                expansion(&key);
                aead.seal(&plaintext, &mut out);
                chain_step(&key);
                expansion(&key);
                aead.open(&sealed, &mut plain);
            })
        });
        // A stricter floor, as if only one side expanded its message key.
        g.bench_function("floor-both-one-expansion", |b| {
            b.iter(|| {
                chain_step(&key);
                expansion(&key);
                aead.seal(&plaintext, &mut out);
                chain_step(&key);
                aead.open(&sealed, &mut plain);
            })
        });
        g.finish();
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping-pong");
    g.throughput(Throughput::Elements(2));
    let mut p = pair();
    let (mut out, mut plain) = (Vec::with_capacity(256), Vec::with_capacity(256));
    // Every message answers the other side's last one, so each carries a
    // DH ratchet step.
    g.bench_function("two-messages", |b| {
        b.iter(|| {
            out.clear();
            plain.clear();
            p.alice.encrypt_into(&mut p.rng, &[1u8; 64], &mut out).unwrap();
            p.bob.decrypt_into(&out, &mut plain).unwrap();
            out.clear();
            plain.clear();
            p.bob.encrypt_into(&mut p.rng, &[2u8; 64], &mut out).unwrap();
            p.alice.decrypt_into(&out, &mut plain).unwrap();
        })
    });
    let aead = Aead::new();
    let mut sealed = Vec::new();
    aead.seal(&[1u8; 64], &mut sealed);
    let mut curve = Curve::new();
    let key = [3u8; 32];
    g.bench_function("floor-two-messages", |b| {
        b.iter(|| {
            for _ in 0..2 {
                curve.keygen();
                curve.dh();
                curve.dh();
                chain_step(&key);
                expansion(&key);
                aead.seal(&[1u8; 64], &mut out);
                chain_step(&key);
                expansion(&key);
                aead.open(&sealed, &mut plain);
            }
        })
    });
    g.finish();
}

fn setup(c: &mut Criterion) {
    let mut g = c.benchmark_group("setup");
    g.throughput(Throughput::Elements(1));
    let mut rng = rng();
    let bob = IdentityKeyPair::generate(&mut rng);
    let alice = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
    let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let (spk_stored, opk_stored) = (spk.to_bytes(), opk.to_bytes());
    for with_opk in [true, false] {
        let label = if with_opk { "-opk" } else { "" };
        let bundle = PreKeyBundle::new(*bob.public(), spk.public(), with_opk.then(|| opk.public()));
        g.bench_function(format!("initiator{label}"), |b| {
            b.iter(|| black_box(Session::initiate(&mut rng, &alice, &bundle).unwrap()))
        });
        let first = Session::initiate(&mut rng, &alice, &bundle)
            .unwrap()
            .encrypt(&mut rng, &[0u8; 64])
            .unwrap();
        g.bench_function(format!("responder{label}"), |b| {
            b.iter_batched(
                || {
                    let mut store = MemoryPreKeyStore::new();
                    store.add_signed_prekey(SignedPreKeyPair::from_bytes(&spk_stored).unwrap());
                    store.add_one_time_prekey(OneTimePreKeyPair::from_bytes(&opk_stored).unwrap());
                    store
                },
                |mut store| {
                    let initial = InitialMessage::parse(&first).unwrap();
                    black_box(Session::accept(&bob, &mut store, &initial).unwrap())
                },
                BatchSize::SmallInput,
            )
        });
        // Floors: the curve operations the agreement needs.
        let mut curve = Curve::new();
        let x3dh_dh = if with_opk { 4 } else { 3 };
        g.bench_function(format!("floor-initiator{label}"), |b| {
            b.iter(|| {
                curve.verify();
                curve.keygen(); // EK_A
                for _ in 0..x3dh_dh {
                    curve.dh();
                }
                curve.keygen(); // the first DHs
                curve.dh(); // DH(DHs, SPK_B)
            })
        });
        let aead = Aead::new();
        let mut sealed = Vec::new();
        aead.seal(&[0u8; 64], &mut sealed);
        let mut plain = Vec::with_capacity(128);
        g.bench_function(format!("floor-responder{label}"), |b| {
            b.iter(|| {
                for _ in 0..x3dh_dh {
                    curve.dh();
                }
                curve.dh(); // DH(SPK_B, DHs)
                chain_step(&[3u8; 32]);
                expansion(&[3u8; 32]);
                aead.open(&sealed, &mut plain);
            })
        });
    }
    g.finish();
}

struct Apps {
    sealer: Sealer,
    alice: IdentityKeyPair,
    bob: IdentityKeyPair,
    trust: TrustStore,
    message: Vec<u8>,
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
    Apps { sealer: Sealer::new(cert), alice, bob, trust, message }
}

fn sealed(c: &mut Criterion) {
    let mut g = c.benchmark_group("sealed");
    g.throughput(Throughput::Elements(1));
    let mut a = apps();
    let mut rng = rng();
    let bob = *a.bob.public();
    let cert = a.sealer.certificate().clone();
    g.bench_function("seal-cold", |b| {
        b.iter_batched(
            || Sealer::new(cert.clone()),
            |mut sealer| {
                black_box(sealer.seal(&mut rng, &a.alice, &bob, &a.message, Padding::None).unwrap())
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("seal-warm", |b| {
        b.iter(|| {
            black_box(a.sealer.seal(&mut rng, &a.alice, &bob, &a.message, Padding::None).unwrap())
        })
    });
    let envelope = a.sealer.seal(&mut rng, &a.alice, &bob, &a.message, Padding::None).unwrap();
    g.bench_function("unseal", |b| {
        b.iter(|| black_box(unseal(&a.bob, &a.trust, Timestamp(1), &envelope).unwrap()))
    });

    // Floors: the curve and signature operations, and the payload's AEAD.
    let mut curve = Curve::new();
    let aead = Aead::new();
    let payload_len = envelope.len() - 119 - 16;
    let payload = vec![0u8; payload_len];
    let mut sealed = Vec::new();
    aead.seal(&payload, &mut sealed);
    let mut out = Vec::with_capacity(payload_len + 64);
    g.bench_function("floor-seal-cold", |b| {
        b.iter(|| {
            curve.keygen();
            curve.dh();
            curve.dh();
            aead.seal(&payload, &mut out);
        })
    });
    g.bench_function("floor-seal-warm", |b| {
        b.iter(|| {
            curve.keygen();
            curve.dh();
            aead.seal(&payload, &mut out);
        })
    });
    g.bench_function("floor-unseal", |b| {
        b.iter(|| {
            curve.dh();
            curve.dh();
            curve.verify();
            curve.verify();
            aead.open(&sealed, &mut out);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("multi");
    g.sample_size(10);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let recipients: Vec<IdentityKey> =
        (0..1000).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    for n in [1usize, 10, 100, 1000] {
        g.throughput(Throughput::Elements(n as u64));
        let msgs: Vec<(IdentityKey, &[u8])> =
            recipients[..n].iter().map(|r| (*r, &a.message[..])).collect();
        // Warm the cache of authentication keys, as a sealer that has
        // written to these recipients before.
        a.sealer.seal_to_many(&mut rng, &a.alice, &msgs, Padding::None).unwrap();
        g.bench_function(format!("seal-{n}"), |b| {
            b.iter(|| {
                black_box(a.sealer.seal_to_many(&mut rng, &a.alice, &msgs, Padding::None).unwrap())
            })
        });
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("floor-dh", |b| b.iter(|| curve.dh()));
    g.finish();
}

fn skipped(c: &mut Criterion) {
    let mut g = c.benchmark_group("skipped");
    g.throughput(Throughput::Elements(1));
    for skip in [100usize, 1000] {
        let mut p = pair();
        let state = p.bob.to_bytes().to_vec();
        let mut last = Vec::new();
        for _ in 0..=skip {
            last = p.alice.encrypt(&mut p.rng, &[0u8; 64]).unwrap();
        }
        g.bench_function(format!("after-{skip}"), |b| {
            b.iter_batched(
                || Session::from_bytes(&state).unwrap(),
                |mut bob| black_box(bob.decrypt(&last).unwrap()),
                BatchSize::SmallInput,
            )
        });
        let key = [3u8; 32];
        let aead = Aead::new();
        let mut sealed = Vec::new();
        aead.seal(&[0u8; 64], &mut sealed);
        let mut plain = Vec::new();
        g.bench_function(format!("floor-after-{skip}"), |b| {
            b.iter(|| {
                for _ in 0..=skip {
                    chain_step(&key);
                }
                expansion(&key);
                aead.open(&sealed, &mut plain);
            })
        });
    }
    g.finish();
}

fn state(c: &mut Criterion) {
    let mut g = c.benchmark_group("state");
    g.throughput(Throughput::Elements(1));
    let p = pair();
    let fresh = p.bob.to_bytes().to_vec();
    let full = full_session().to_bytes().to_vec();
    g.bench_function("encode-fresh", |b| b.iter(|| black_box(p.bob.to_bytes())));
    g.bench_function("decode-fresh", |b| {
        b.iter(|| black_box(Session::from_bytes(&fresh).unwrap()))
    });
    let full_session = Session::from_bytes(&full).unwrap();
    g.bench_function("encode-full", |b| b.iter(|| black_box(full_session.to_bytes())));
    g.bench_function("decode-full", |b| b.iter(|| black_box(Session::from_bytes(&full).unwrap())));
    g.finish();
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

/// The median of a benchmark measured in this run, in nanoseconds.
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

fn summary(since: SystemTime) {
    println!("\n== sealwire: each case beside its floor (medians of this run) ==\n");
    println!("{:<40} {:>11} {:>11} {:>7} {:>7}", "case", "time", "floor", "ratio", "target");
    /// A case, the floor it is compared with, and its target ratio.
    struct Row {
        group: String,
        case: String,
        floor: String,
        label: String,
        target: Option<f64>,
    }
    let row = |group: &str, case: &str, floor: &str, target: Option<f64>| Row {
        group: group.into(),
        case: case.into(),
        floor: floor.into(),
        label: format!("{group} {case}"),
        target,
    };
    let mut rows = Vec::new();
    for (_, name) in SIZES {
        let group = format!("one-way-{name}");
        let target = match name {
            "64B" => Some(1.3),
            "16KiB" => Some(1.1),
            _ => None,
        };
        rows.push(row(&group, "encrypt", "floor-encrypt", None));
        rows.push(row(&group, "decrypt", "floor-decrypt", None));
        rows.push(row(&group, "both", "floor-both", target));
    }
    rows.push(Row {
        label: "one-way-64B both, one-expansion floor".into(),
        ..row("one-way-64B", "both", "floor-both-one-expansion", None)
    });
    rows.push(row("ping-pong", "two-messages", "floor-two-messages", Some(1.15)));
    for case in ["initiator-opk", "initiator", "responder-opk", "responder"] {
        rows.push(row("setup", case, &format!("floor-{case}"), Some(1.1)));
    }
    for case in ["seal-cold", "seal-warm", "unseal"] {
        rows.push(row("sealed", case, &format!("floor-{case}"), Some(1.1)));
    }
    rows.push(row("skipped", "after-100", "floor-after-100", None));
    rows.push(row("skipped", "after-1000", "floor-after-1000", None));
    for r in rows {
        let (Some(t), Some(f)) =
            (median(&r.group, &r.case, since), median(&r.group, &r.floor, since))
        else {
            continue;
        };
        let target = r.target.map_or(String::new(), |t| format!("≤ {t:.2}"));
        println!("{:<40} {:>11} {:>11} {:>7.3} {:>7}", r.label, time(t), time(f), t / f, target);
    }
    if let (Some(one), Some(dh)) =
        (median("multi", "seal-1", since), median("multi", "floor-dh", since))
    {
        for n in [10usize, 100, 1000] {
            if let Some(t) = median("multi", &format!("seal-{n}"), since) {
                let per = (t - one) / (n as f64 - 1.0);
                println!(
                    "{:<40} {:>11} {:>11} {:>7.3} {:>7}",
                    format!("multi seal-{n}, each extra recipient"),
                    time(per),
                    time(dh),
                    per / dh,
                    "≤ 1.10"
                );
            }
        }
    }
    for (name, session) in [("fresh", pair().bob), ("full", full_session())] {
        println!(
            "session state, {name}: {} bytes ({} skipped keys)",
            session.to_bytes().len(),
            session.skipped_key_count()
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
    one_way(&mut c);
    ping_pong(&mut c);
    setup(&mut c);
    sealed(&mut c);
    skipped(&mut c);
    state(&mut c);
    c.final_summary();
    summary(since);
}
