//! The kill test of the SQLite store (docs/store.md §6): a child process,
//! Alice's app on a database, runs a long conversation with Bob while the
//! parent (the relay, Bob and the judge) kills it with SIGKILL at random
//! moments of the send and receive paths and of its restart, and starts
//! it again.
//!
//! After every restart and at the end the parent checks that every
//! message was delivered exactly once: each envelope opened at most once
//! by the library, each of Bob's messages shown by Alice's app under one
//! id, each of Alice's read once by Bob, none lost, the conversation going
//! on, and no nonce or chain position used twice.
//!
//! Run by `cargo test --features sqlite` with 100 kills;
//! `SEALWIRE_KILL_POINTS=n` sets the number (`.ci/kill-test` runs 1000).
//! The child is this same program with `SEALWIRE_KILL_CHILD` set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::world::{Dev, World, split};
use rand_core::Rng;
use sealwire::sqlite::{SqliteStore, StorageKey};
use sealwire::store::AccountStore;
use sealwire::{
    AppId, Device, IdentityKey, Message, MessageId, Timestamp, UserAddress, UserId, unseal,
};

const CHILD: &str = "SEALWIRE_KILL_CHILD";
const POINTS: &str = "SEALWIRE_KILL_POINTS";
const SEED: u64 = 2026;

fn storage_key() -> StorageKey {
    StorageKey::from_bytes(*b"kill-test storage key, 32 bytes!")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

fn message_id(s: &str) -> MessageId {
    MessageId(unhex(s).try_into().unwrap())
}

fn bob_user() -> UserAddress {
    UserAddress::new(AppId::new("chat.b").unwrap(), UserId::new(b"bob").unwrap())
}

fn main() {
    if let Ok(dir) = std::env::var(CHILD) {
        child(Path::new(&dir));
        return;
    }
    let points = std::env::var(POINTS).map_or(100, |p| p.parse().unwrap());
    parent(points);
}

// The child: Alice's app, as simple as an app on the device API is.
//
// Lines it prints: `opened ID TEXT` (receive returned the message: the app
// shows it), `show ID TEXT` (kept from before a restart: the app shows
// it), `acked ID`, `out ID HEX` (an upload for the relay), `err CODE`,
// `ready`, `idle` (the restart's work done), `done` (a command's).
fn child(dir: &Path) {
    let w = World::new(SEED);
    let store = SqliteStore::open(dir.join("alice.db"), &storage_key()).unwrap();
    let mut alice = Device::open(store, w.trust.clone()).unwrap();
    let mut rng = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
    println!("ready");
    // What a restart owes: uploads the relay has not confirmed, messages
    // the app has not shown.
    for sent in alice.pending_sent().unwrap() {
        println!("out {} {}", hex(&sent.id.0), hex(&sent.envelope));
    }
    for received in alice.pending_received().unwrap() {
        let text = String::from_utf8(received.plaintext).unwrap();
        println!("show {} {text}", hex(&received.id.0));
        alice.acknowledge_received(received.id).unwrap();
        println!("acked {}", hex(&received.id.0));
    }
    println!("idle");
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["recv", now, envelope] => {
                let now = Timestamp(now.parse().unwrap());
                match alice.receive(&unhex(envelope), now) {
                    Ok(received) => {
                        let text = String::from_utf8(received.plaintext).unwrap();
                        println!("opened {} {text}", hex(&received.id.0));
                        alice.acknowledge_received(received.id).unwrap();
                        println!("acked {}", hex(&received.id.0));
                    }
                    Err(e) => println!("err {}", e.code()),
                }
            }
            ["send", now, k] => {
                let now = Timestamp(now.parse().unwrap());
                let text = format!("alice-{k}");
                let sent = alice.send(&mut rng, &bob_user(), text.as_bytes(), now).unwrap();
                println!("out {} {}", hex(&sent.id.0), hex(&sent.envelope));
            }
            ["taken", id] => alice.acknowledge_sent(message_id(id)).unwrap(),
            _ => panic!("unknown command {line}"),
        }
        println!("done");
    }
}

// The parent.

/// What a command was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Receive,
    Send,
    Taken,
    Restart,
}

/// Where a kill landed, as the output and the restart tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// Nothing of the operation was stored: the restart redid it.
    Before,
    /// The operation's commit was stored, its result not yet handed on
    /// (not shown, not uploaded): the restart handed it on.
    Committed,
    /// The result was handed on, the follow-up (acknowledging) not done.
    HandedOn,
    /// The operation had finished.
    After,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

struct Judge {
    w: World,
    bob: Dev,
    alice_identity: IdentityKey,
    dir: PathBuf,
    /// The relay's queue for Alice: removed when her app says `done`.
    queue: VecDeque<Vec<u8>>,
    /// Bob's messages written so far.
    bob_written: u32,
    /// Alice's messages asked for so far, and which of them Bob read.
    alice_asked: u32,
    alice_read_by_bob: BTreeSet<u32>,
    /// Envelopes the library opened (must be once each), and the app's
    /// log of what it showed, by message id.
    opened: BTreeSet<MessageId>,
    shown: BTreeMap<MessageId, String>,
    /// Every upload Alice made, by id.
    uploads: BTreeMap<MessageId, Vec<u8>>,
    /// Uploads the relay has taken, for Alice's app to acknowledge.
    taken: Vec<MessageId>,
    /// When the last `read` got its first line.
    first_line: Option<Instant>,
    kills: BTreeMap<(Op, Landed), u32>,
    restarts: u32,
}

impl Judge {
    fn spawn(&mut self) -> Running {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, &self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Running { child, stdin, stdout }
    }

    /// Reads the child's lines until `until` (or the end, after a kill),
    /// acting on each as the relay and the judge. Returns the lines.
    fn read(&mut self, running: &mut Running, until: &str) -> Vec<String> {
        let mut lines = Vec::new();
        self.first_line = None;
        loop {
            let mut line = String::new();
            let n = running.stdout.read_line(&mut line).unwrap();
            self.first_line.get_or_insert_with(Instant::now);
            // The end, or a line cut by the kill: never said.
            if n == 0 || !line.ends_with('\n') {
                return lines;
            }
            let line = line.trim_end().to_owned();
            self.act(&line);
            let end = line == until;
            lines.push(line);
            if end {
                return lines;
            }
        }
    }

    fn act(&mut self, line: &str) {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["opened", id, text] => {
                let id = message_id(id);
                assert!(self.opened.insert(id), "the library opened {text} twice");
                self.show(id, text);
            }
            ["show", id, text] => self.show(message_id(id), text),
            ["out", id, upload] => {
                let id = message_id(id);
                let upload = unhex(upload);
                if let Some(earlier) = self.uploads.insert(id, upload.clone()) {
                    assert_eq!(earlier, upload, "one id, two uploads");
                }
                self.bob_reads(&upload);
                self.taken.push(id);
            }
            ["err", code] => {
                // Only a redelivered envelope may fail, as a duplicate.
                assert_eq!(code, "306", "Alice's app got error {code}");
            }
            ["ready" | "idle" | "done"] | ["acked", _] => {}
            _ => panic!("the child said {line}"),
        }
    }

    fn show(&mut self, id: MessageId, text: &str) {
        if let Some(earlier) = self.shown.insert(id, text.to_owned()) {
            assert_eq!(earlier, text, "one id, two texts");
        }
        let others = self.shown.iter().filter(|(i, t)| **i != id && t.as_str() == text).count();
        assert_eq!(others, 0, "{text} shown under two ids");
    }

    fn bob_reads(&mut self, upload: &[u8]) {
        for part in split(upload) {
            assert_eq!(&part.to, self.bob.identity());
            match self.w.receive(&mut self.bob, &part) {
                Ok(r) => {
                    let text = String::from_utf8(r.plaintext).unwrap();
                    let k: u32 = text.strip_prefix("alice-").unwrap().parse().unwrap();
                    assert!(self.alice_read_by_bob.insert(k), "Bob read {text} twice");
                    self.bob.acknowledge_received(r.id).unwrap();
                }
                // An upload handed on again after a restart.
                Err(e) => assert_eq!(e.code(), 306, "Bob: {e:?}"),
            }
        }
    }

    /// Sends `line` and reads the child's answer up to `done`.
    fn command(&mut self, running: &mut Running, line: &str) -> Vec<String> {
        writeln!(running.stdin, "{line}").unwrap();
        running.stdin.flush().unwrap();
        self.read(running, "done")
    }

    fn recv_command(&self) -> Option<String> {
        self.queue.front().map(|e| format!("recv {} {}", self.w.now.0, hex(e)))
    }

    /// The lowest of Alice's messages Bob has not read.
    fn next_alice(&self) -> u32 {
        (0..self.alice_asked)
            .find(|k| !self.alice_read_by_bob.contains(k))
            .unwrap_or(self.alice_asked)
    }

    fn send_command(&mut self) -> String {
        let k = self.next_alice();
        self.alice_asked = self.alice_asked.max(k + 1);
        format!("send {} {k}", self.w.now.0)
    }

    fn bob_writes(&mut self) {
        let text = format!("bob-{}", self.bob_written);
        self.bob_written += 1;
        let alice = self.alice_user();
        let parts = self.w.send_only(&mut self.bob, &alice, &text);
        for part in parts {
            if part.to == self.alice_identity {
                self.queue.push_back(part.envelope);
            }
        }
    }

    fn alice_user(&self) -> UserAddress {
        UserAddress::new(AppId::new("chat.a").unwrap(), UserId::new(b"alice").unwrap())
    }

    /// After a command's `done` or a restart's `idle`: the relay confirms
    /// the uploads it took, and the relay forgets what Alice's app
    /// confirmed.
    fn confirm_taken(&mut self, running: &mut Running) {
        self.taken.sort();
        self.taken.dedup();
        while let Some(id) = self.taken.pop() {
            self.command(running, &format!("taken {}", hex(&id.0)));
        }
    }

    /// The checks that hold between any two commands.
    fn check(&self) {
        let mut texts: Vec<&String> = self.shown.values().collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), self.shown.len(), "a text shown under two ids");
    }
}

fn parent(points: u32) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut w = World::new(SEED);
    let path = dir.path().join("alice.db");
    let mut alice = w.device_on(SqliteStore::open(&path, &storage_key()).unwrap(), 0, "alice", 1);
    let mut bob = w.device(1, "bob", 1);
    let alice_user = alice.address().user().clone();
    // Bob opens the conversation; Alice knows his devices.
    let m = w.send(&mut bob, &alice_user, "hello");
    assert_eq!(w.read(&mut alice, &m), "hello");
    let first = alice.pending_received().unwrap();
    alice.acknowledge_received(first[0].id).unwrap();
    w.connect(&mut alice, &bob_user());
    let alice_identity = *alice.identity();
    drop(alice);

    let mut judge = Judge {
        w,
        bob,
        alice_identity,
        dir: dir.path().to_owned(),
        queue: VecDeque::new(),
        bob_written: 0,
        alice_asked: 0,
        alice_read_by_bob: BTreeSet::new(),
        opened: BTreeSet::new(),
        shown: BTreeMap::new(),
        uploads: BTreeMap::new(),
        taken: Vec::new(),
        first_line: None,
        kills: BTreeMap::new(),
        restarts: 0,
    };
    let mut rng = common::rng(SEED);
    let mut running = judge.spawn();
    judge.read(&mut running, "idle");

    // How long the child takes here for each operation (to its first
    // line: the message opened, the upload made), to aim the kills inside
    // the operations; the median of a few.
    let mut samples: BTreeMap<Op, Vec<Duration>> = BTreeMap::new();
    for _ in 0..5 {
        judge.bob_writes();
        let command = judge.recv_command().unwrap();
        let t = Instant::now();
        judge.command(&mut running, &command);
        samples.entry(Op::Receive).or_default().push(judge.first_line.unwrap() - t);
        judge.queue.pop_front();
        let command = judge.send_command();
        let t = Instant::now();
        judge.command(&mut running, &command);
        samples.entry(Op::Send).or_default().push(judge.first_line.unwrap() - t);
        let id = judge.taken.pop().unwrap();
        let t = Instant::now();
        judge.command(&mut running, &format!("taken {}", hex(&id.0)));
        samples.entry(Op::Taken).or_default().push(judge.first_line.unwrap() - t);
        drop(running.stdin);
        assert!(running.child.wait().unwrap().success());
        let t = Instant::now();
        running = judge.spawn();
        judge.read(&mut running, "idle");
        samples.entry(Op::Restart).or_default().push(t.elapsed());
    }
    let durations: BTreeMap<Op, Duration> = samples
        .into_iter()
        .map(|(op, mut d)| {
            d.sort();
            (op, d[d.len() / 2])
        })
        .collect();

    for kill in 0..points {
        // A few commands between kills, in an order the RNG picks.
        for _ in 0..rng.next_u32() % 3 {
            if rng.next_u32().is_multiple_of(2) {
                judge.bob_writes();
            }
            let command = match (rng.next_u32() % 2, judge.recv_command()) {
                (0, Some(c)) => c,
                _ => judge.send_command(),
            };
            let receive = command.starts_with("recv");
            let lines = judge.command(&mut running, &command);
            if receive && lines.last().is_some_and(|l| l == "done") {
                judge.queue.pop_front();
            }
            judge.confirm_taken(&mut running);
            judge.check();
        }
        // The operation to kill in, in turn: receive, send, restart, and
        // the acknowledgement of an upload the relay took.
        let op = [Op::Receive, Op::Send, Op::Receive, Op::Send, Op::Restart, Op::Taken]
            [kill as usize % 6];
        let aim = durations[&op].mul_f64(1.2);
        let delay = aim.mul_f64(f64::from(rng.next_u32() % 1000) / 1000.0);
        let mut lines = Vec::new();
        match op {
            Op::Receive => {
                judge.bob_writes();
                let command = judge.recv_command().unwrap();
                writeln!(running.stdin, "{command}").unwrap();
                running.stdin.flush().unwrap();
            }
            Op::Send => {
                let command = judge.send_command();
                writeln!(running.stdin, "{command}").unwrap();
                running.stdin.flush().unwrap();
            }
            Op::Taken => {
                judge.bob_writes();
                let command = judge.send_command();
                judge.command(&mut running, &command);
                let id = judge.taken.pop().unwrap();
                writeln!(running.stdin, "taken {}", hex(&id.0)).unwrap();
                running.stdin.flush().unwrap();
            }
            Op::Restart => {
                // An upload the relay has not confirmed, for the restart
                // to hand on; the app closes; the kill comes while it
                // opens again.
                let command = judge.send_command();
                judge.command(&mut running, &command);
                drop(running.stdin);
                assert!(running.child.wait().unwrap().success());
                running = judge.spawn();
            }
        }
        std::thread::sleep(delay);
        running.child.kill().unwrap();
        running.child.wait().unwrap();
        lines.extend(judge.read(&mut running, ""));
        let finished = lines.last().is_some_and(|l| l == "done" || l == "idle");
        if op == Op::Receive && finished {
            judge.queue.pop_front();
        }
        // Restart, and see what the killed operation left.
        running = judge.spawn();
        judge.restarts += 1;
        let restart = judge.read(&mut running, "idle");
        let landed = match op {
            Op::Receive => {
                let handed = lines.iter().any(|l| l.starts_with("opened"));
                let kept = restart.iter().any(|l| l.starts_with("show"));
                match (finished, handed, kept) {
                    (true, ..) => Landed::After,
                    (false, true, _) => Landed::HandedOn,
                    (false, false, true) => Landed::Committed,
                    _ => Landed::Before,
                }
            }
            Op::Taken => {
                // The acknowledgement committed, or the restart hands the
                // upload on again.
                let again = restart.iter().any(|l| l.starts_with("out"));
                match (finished, again) {
                    (true, _) => Landed::After,
                    (false, false) => Landed::Committed,
                    (false, true) => Landed::Before,
                }
            }
            Op::Send => {
                let handed = lines.iter().any(|l| l.starts_with("out"));
                let kept = restart.iter().any(|l| l.starts_with("out"));
                match (finished, handed, kept) {
                    (true, ..) => Landed::After,
                    (false, true, _) => Landed::HandedOn,
                    (false, false, true) => Landed::Committed,
                    _ => Landed::Before,
                }
            }
            Op::Restart => {
                if finished {
                    Landed::After
                } else if lines.iter().any(|l| l.starts_with("show") || l.starts_with("out")) {
                    Landed::HandedOn
                } else {
                    Landed::Before
                }
            }
        };
        *judge.kills.entry((op, landed)).or_default() += 1;
        judge.confirm_taken(&mut running);
        judge.check();
    }

    // The end: everything still queued is delivered, every message of
    // Alice's asked for is sent, and one more each way.
    judge.bob_writes();
    while let Some(command) = judge.recv_command() {
        judge.command(&mut running, &command);
        judge.queue.pop_front();
        judge.confirm_taken(&mut running);
    }
    while judge.next_alice() < judge.alice_asked {
        let command = judge.send_command();
        judge.command(&mut running, &command);
        judge.confirm_taken(&mut running);
    }
    let command = judge.send_command();
    judge.command(&mut running, &command);
    judge.confirm_taken(&mut running);
    drop(running.stdin);
    assert!(running.child.wait().unwrap().success());

    // Every one of Bob's messages shown once, under one id.
    let mut shown: Vec<&String> = judge.shown.values().collect();
    shown.sort();
    let mut written: Vec<String> = (0..judge.bob_written).map(|i| format!("bob-{i}")).collect();
    written.sort();
    assert_eq!(
        shown,
        written.iter().collect::<Vec<_>>(),
        "Bob's messages as Alice's app showed them"
    );
    // Every one of Alice's read once by Bob.
    assert_eq!(judge.alice_read_by_bob, (0..judge.alice_asked).collect::<BTreeSet<_>>());
    // No nonce and no chain position twice among Alice's uploads.
    let bob_account = judge.bob.store().load_account().unwrap().unwrap();
    let bob_identity = bob_account.identity();
    let mut nonces = BTreeSet::new();
    let mut positions = BTreeSet::new();
    for upload in judge.uploads.values() {
        for part in split(upload) {
            let unsealed =
                unseal(bob_identity, &judge.w.trust, judge.w.now, &part.envelope).unwrap();
            let header = match Message::parse(unsealed.message_unchecked()).unwrap() {
                Message::Ratchet(m) => *m.header(),
                Message::Initial(m) => *m.message().header(),
            };
            assert!(nonces.insert(header.nonce), "a nonce used twice");
            assert!(
                positions.insert((*header.ratchet_key.as_raw(), header.counter)),
                "a chain position used twice"
            );
        }
    }

    let kills: u32 = judge.kills.values().sum();
    println!(
        "kill test: {kills} kills, {} restarts; {} messages Bob→Alice, {} Alice→Bob, {} uploads, \
         {} nonces all distinct; {:.1} s",
        judge.restarts,
        judge.bob_written,
        judge.alice_asked,
        judge.uploads.len(),
        nonces.len(),
        started.elapsed().as_secs_f64()
    );
    println!("operation durations here (aim of the kills): {durations:?}");
    for ((op, landed), n) in &judge.kills {
        println!("  {op:?} killed {landed:?}: {n}");
    }
    assert_eq!(kills, points);
}
