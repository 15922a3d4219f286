//! One message through the C ABI beside the same through the Rust API, in
//! the same run: a 64-byte message encrypted and decrypted on a pair of
//! sessions, and a 64-byte message sent by one device and received by
//! another. Both sides draw from the operating system's RNG. The summary
//! measures each pair again, interleaved (short alternating rounds, the
//! median of the ratios), so that load on the machine moves both alike.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::undocumented_unsafe_blocks,
    reason = "a benchmark harness"
)]

use std::hint::black_box;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use criterion::Criterion;
use sealwire::rand_core::UnwrapErr;
use sealwire::{
    IdentityKeyPair, OneTimePreKeyPair, PreKeyBundle, PreKeyId, Session, SignedPreKeyPair,
};
use sealwire_ffi::*;

type Rng = UnwrapErr<getrandom::SysRng>;

fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

/// Two sessions that have exchanged a message each way.
fn sessions() -> (Session, Session) {
    let mut rng = rng();
    let alice = IdentityKeyPair::generate(&mut rng);
    let bob = IdentityKeyPair::generate(&mut rng);
    let signed = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
    let one_time = OneTimePreKeyPair::generate(&mut rng, PreKeyId(2));
    let bundle = PreKeyBundle::new(*bob.public(), signed.public(), Some(one_time.public()));
    let mut a = Session::initiate(&mut rng, &alice, &bundle).unwrap();
    let first = a.encrypt(&mut rng, b"hello").unwrap();
    let initial = sealwire::InitialMessage::parse(&first).unwrap();
    let (mut b, _) = Session::accept(&bob, &signed, Some(&one_time), &initial).unwrap();
    let reply = b.encrypt(&mut rng, b"hi").unwrap();
    a.decrypt(&reply).unwrap();
    (a, b)
}

/// The same two sessions as handles.
fn handles(a: &Session, b: &Session) -> (*mut sealwire_session, *mut sealwire_session) {
    let (mut ha, mut hb) = (null_mut(), null_mut());
    for (s, h) in [(a, &mut ha), (b, &mut hb)] {
        let bytes = s.to_bytes();
        assert_eq!(
            unsafe { sealwire_session_from_bytes(bytes.as_ptr(), bytes.len(), h) },
            SEALWIRE_OK
        );
    }
    (ha, hb)
}

/// One 64-byte message, Rust API.
fn rust_message(rng: &mut Rng, a: &mut Session, b: &mut Session) {
    let m = a.encrypt(rng, &[7u8; 64]).unwrap();
    black_box(b.decrypt(&m).unwrap());
}

/// One 64-byte message, C ABI.
fn c_message(a: *mut sealwire_session, b: *mut sealwire_session) {
    unsafe {
        let mut m = sealwire_bytes { ptr: null_mut(), len: 0 };
        let mut p = sealwire_bytes { ptr: null_mut(), len: 0 };
        assert_eq!(sealwire_session_encrypt(a, [7u8; 64].as_ptr(), 64, &mut m), SEALWIRE_OK);
        assert_eq!(sealwire_session_decrypt(b, m.ptr, m.len, &mut p), SEALWIRE_OK);
        black_box(p.len);
        sealwire_bytes_free(&mut m);
        sealwire_bytes_free(&mut p);
    }
}

/// The median of `rounds` ratios of `x` over `y`, each round timing `n`
/// of each, in alternating order.
fn interleaved(rounds: usize, n: u32, mut x: impl FnMut(), mut y: impl FnMut()) -> (f64, f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        start.elapsed()
    };
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|i| {
            let (tx, ty): (Duration, Duration) = if i % 2 == 0 {
                let tx = time(&mut x);
                (tx, time(&mut y))
            } else {
                let ty = time(&mut y);
                (time(&mut x), ty)
            };
            tx.as_secs_f64() / ty.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let q = |p: f64| ratios[((ratios.len() - 1) as f64 * p).round() as usize];
    (q(0.5), q(0.25), q(0.75))
}

fn main() {
    let test_mode = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default().configure_from_args();
    let (mut a, mut b) = sessions();
    let (ha, hb) = handles(&a, &b);
    let mut r = rng();
    {
        let mut group = c.benchmark_group("message 64 B");
        group.bench_function("Rust API", |bench| {
            bench.iter(|| rust_message(&mut r, &mut a, &mut b))
        });
        group.bench_function("C ABI", |bench| bench.iter(|| c_message(ha, hb)));
        group.finish();
    }
    let (rounds, n) = if test_mode { (3, 10) } else { (41, 2000) };
    let (median, q1, q3) =
        interleaved(rounds, n, || c_message(ha, hb), || rust_message(&mut r, &mut a, &mut b));
    println!("\nC ABI over Rust API, one 64-byte message (encrypt + decrypt), interleaved:");
    println!("  median {median:.3} [{q1:.3}–{q3:.3}], target ≤ 1.05");
    unsafe {
        sealwire_session_free(ha);
        sealwire_session_free(hb);
    }
    c.final_summary();
}
