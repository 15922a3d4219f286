//! The SQLite store's cost (feature `sqlite`), in wall-clock time, since
//! the disk sync is the cost:
//!
//! - `sqlite/receive`: one message through `Device::receive` on a SQLite
//!   store (unseal, decrypt, and one transaction that writes the session
//!   and the kept message), beside its floor `sqlite/floor-receive`: the
//!   same on a memory store plus one SQLite transaction that writes one
//!   row of the session row's size, on a file with the same settings.
//!   `sqlite/commit-one-row` is that transaction alone.
//! - `sqlite-scale/receive-N`: the same receive with N sessions in the
//!   store (10 and 10,000; `SEALWIRE_SCALE_MAX=1000000` adds 100,000 and
//!   1,000,000, which take minutes and gigabytes to set up).
//!
//! The summary prints the ratio to the floor measured in interleaved
//! rounds, messages per second, and the database size at each scale.
//! docs/performance.md keeps a measured copy.
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

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rand_core::SeedableRng as _;
use sealwire::sqlite::{SqliteStore, StorageKey};
use sealwire::store::{Changes, Store};
use sealwire::*;
use support::{Devices, Run};

fn key() -> StorageKey {
    StorageKey::from_bytes([7; 32])
}

/// Recipient 0 on a SQLite store at `path` holding `sessions` sessions in
/// all (its own with the sender, and copies of a real record for other
/// addresses).
fn on_sqlite(path: &Path, sessions: usize) -> Devices<SqliteStore> {
    let mut filler = support::devices(1, |_| sealwire::MemoryStore::new());
    let record = filler.first_record().to_bytes();
    let mut store = SqliteStore::open(path, &key()).unwrap();
    let app = AppId::new("app-b").unwrap();
    let mut i = 0;
    while i + 1 < sessions {
        let mut changes = Changes::new();
        for _ in 0..10_000.min(sessions - 1 - i) {
            let user = UserId::new(format!("user-{i}").as_bytes()).unwrap();
            let address = Address::new(app.clone(), user, DeviceId(1));
            changes.put_session(address, SessionRecord::from_bytes(&record).unwrap());
            i += 1;
        }
        store.commit(changes).unwrap();
    }
    let mut store = Some(store);
    support::devices(1, move |_| store.take().unwrap())
}

/// Receiving through the device API, the message acknowledged untimed.
fn receive<S: Store + 'static>(devices: Devices<S>) -> Run {
    support::each::<Instant, _, _, _>(
        devices,
        Devices::next_envelope,
        |d, envelope| {
            let now = d.now;
            d.recipients[0].receive(&envelope, now).unwrap()
        },
        |d, received| d.recipients[0].acknowledge_received(received.id).unwrap(),
    )
}

/// A database file with one table, as the store opens its own.
fn one_row_db(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute("CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID", []).unwrap();
    conn
}

/// One immediate transaction writing one row of `len` random bytes.
fn write_row(conn: &mut rusqlite::Connection, rng: &mut impl rand_core::Rng, len: usize) {
    let mut value = vec![0u8; len];
    rng.fill_bytes(&mut value);
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    tx.execute("INSERT OR REPLACE INTO t (k, v) VALUES (?1, ?2)", (&[1u8; 32][..], value)).unwrap();
    tx.commit().unwrap();
}

/// The size of the largest sealed session row in the database at `path`.
fn session_row_len(path: &Path) -> usize {
    let conn = rusqlite::Connection::open(path).unwrap();
    let len: i64 =
        conn.query_row("SELECT max(length(record)) FROM sessions", [], |r| r.get(0)).unwrap();
    usize::try_from(len).unwrap()
}

/// The database's size once its log is checkpointed into it.
fn file_size(path: &Path) -> u64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(60)).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    std::fs::metadata(path).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
}

struct Bench {
    group: &'static str,
    name: String,
    run: Run,
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut benches = Vec::new();

    // The receive and its floor.
    let path = dir.path().join("receive.db");
    let sqlite = on_sqlite(&path, 1);
    let row_len = session_row_len(&path);
    benches.push(Bench { group: "sqlite", name: "receive".into(), run: receive(sqlite) });
    let mut memory = receive(support::devices(1, |_| sealwire::MemoryStore::new()));
    let mut floor_db = one_row_db(&dir.path().join("floor.db"));
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    benches.push(Bench {
        group: "sqlite",
        name: "floor-receive".into(),
        run: Box::new(move |n| {
            let mut total = Duration::ZERO;
            for _ in 0..n {
                total += memory(1);
                let start = Instant::now();
                write_row(&mut floor_db, &mut rng, row_len);
                total += start.elapsed();
            }
            total
        }),
    });
    let mut alone_db = one_row_db(&dir.path().join("alone.db"));
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
    benches.push(Bench {
        group: "sqlite",
        name: "commit-one-row".into(),
        run: support::each::<Instant, _, _, _>(
            (),
            |()| (),
            move |(), ()| write_row(&mut alone_db, &mut rng, row_len),
            |(), ()| (),
        ),
    });

    // The receive as the store grows.
    let max: usize = std::env::var("SEALWIRE_SCALE_MAX").map_or(10_000, |m| m.parse().unwrap());
    let mut sizes = BTreeMap::new();
    let mut scale = 10;
    while scale <= max {
        let path = dir.path().join(format!("scale-{scale}.db"));
        let started = Instant::now();
        let devices = on_sqlite(&path, scale);
        println!(
            "{scale} sessions: set up in {:.1} s, {:.1} MiB",
            started.elapsed().as_secs_f64(),
            file_size(&path) as f64 / (1 << 20) as f64
        );
        sizes.insert(scale, path);
        benches.push(Bench {
            group: "sqlite-scale",
            name: format!("receive-{scale}"),
            run: receive(devices),
        });
        scale = if scale < 10_000 { 10_000 } else { scale * 10 };
    }

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(30)
        .configure_from_args();
    // The mean step over every iteration criterion ran.
    let mut means = BTreeMap::new();
    for bench in &mut benches {
        let mut group = c.benchmark_group(bench.group);
        group.throughput(Throughput::Elements(1));
        let run = &mut bench.run;
        let mut total = (Duration::ZERO, 0u64);
        group.bench_function(&bench.name, |b| {
            b.iter_custom(|n| {
                let took = run(n);
                total.0 += took;
                total.1 += n;
                took
            });
        });
        group.finish();
        // Only what this run measured (a filter may leave some out).
        if total.1 > 0 {
            means.insert(bench.name.clone(), total.0.as_secs_f64() * 1e9 / total.1 as f64);
        }
    }
    c.final_summary();
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    summary(&mut benches, &means, &sizes, row_len);
}

/// Rounds of alternating batches of case and floor: the median ratio and
/// its quartiles.
fn interleaved(case: &mut Run, floor: &mut Run) -> (f64, f64, f64) {
    const ROUNDS: usize = 31;
    const STEPS: u64 = 8;
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            let (c, f) = if round % 2 == 0 {
                let c = case(STEPS);
                (c, floor(STEPS))
            } else {
                let f = floor(STEPS);
                (case(STEPS), f)
            };
            c.as_secs_f64() / f.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (ratios[ROUNDS / 2], ratios[ROUNDS / 4], ratios[3 * ROUNDS / 4])
}

fn time(ns: f64) -> String {
    if ns >= 1e6 { format!("{:.2} ms", ns / 1e6) } else { format!("{:.1} µs", ns / 1e3) }
}

fn summary(
    benches: &mut [Bench],
    means: &BTreeMap<String, f64>,
    sizes: &BTreeMap<usize, PathBuf>,
    row_len: usize,
) {
    println!("\n== sealwire: the SQLite store (wall-clock time, synchronous = FULL) ==\n");
    println!("session row: {row_len} bytes sealed");
    // The receive and its floor, when this run measured them (a filter
    // on the command line may have left them out).
    if let (Some(&receive), Some(&floor), Some(&alone)) =
        (means.get("receive"), means.get("floor-receive"), means.get("commit-one-row"))
    {
        let (i, rest) = benches.split_at_mut(1);
        let (ratio, q1, q3) = interleaved(&mut i[0].run, &mut rest[0].run);
        println!(
            "receive + commit: {} ({:.0} messages/s); floor (memory store + one {row_len}-byte \
             row committed): {}; one row committed alone: {}",
            time(receive),
            1e9 / receive,
            time(floor),
            time(alone),
        );
        println!(
            "ratio: criterion {:.3}; interleaved {ratio:.3} [{q1:.3}–{q3:.3}]; target 1.20 {}",
            receive / floor,
            if ratio <= 1.2 { "met" } else { "MISSED" }
        );
    }
    println!("\n{:>10} {:>12} {:>12}", "sessions", "receive", "file");
    for (n, path) in sizes {
        let t = means.get(&format!("receive-{n}")).copied().unwrap_or(f64::NAN);
        println!("{n:>10} {:>12} {:>9.1} MiB", time(t), file_size(path) as f64 / (1 << 20) as f64);
    }
}
