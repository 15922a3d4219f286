//! What the benchmarks share: devices with sessions established.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    reason = "shared by the benchmarks, each uses part"
)]

use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::store::Store;
use sealwire::*;

/// A sender and `n` recipient devices of one user, with sessions
/// established both ways. The sender keeps a memory store; recipient `i`
/// keeps `store(i)`.
pub struct Devices<S: Store> {
    pub sender: Device<MemoryStore>,
    pub recipients: Vec<Device<S>>,
    pub user: UserAddress,
    pub rng: ChaCha20Rng,
    pub now: Timestamp,
    pub trust: TrustStore,
}

pub fn devices<S: Store>(n: usize, mut store: impl FnMut(usize) -> S) -> Devices<S> {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let app = AppId::new("app-a").unwrap();
    let root = CertificateKeyPair::generate(&mut rng);
    let issuer_key = CertificateKeyPair::generate(&mut rng);
    let forever = Timestamp(u64::MAX);
    let issuer =
        IssuerCertificate::issue(&root, &app, 1, &issuer_key.public(), Timestamp(0), forever)
            .unwrap();
    let mut trust = TrustStore::new();
    trust.add_root(&TrustRoot::new(app.clone(), root.public()));
    let now = Timestamp(1);
    let certificate = |address: &Address, identity: &IdentityKey| {
        SenderCertificate::issue(
            &issuer_key,
            &issuer,
            address.user_id().clone(),
            address.device(),
            identity,
            forever,
        )
        .unwrap()
    };
    let address = |user: &[u8], device: u32| {
        Address::new(app.clone(), UserId::new(user).unwrap(), DeviceId(device))
    };
    let mut sender =
        Device::create(&mut rng, MemoryStore::new(), address(b"alice", 1), trust.clone(), now)
            .unwrap();
    sender.set_certificate(certificate(sender.address(), sender.identity())).unwrap();
    let mut recipients: Vec<Device<S>> = (0..n)
        .map(|i| {
            let mut d = Device::create(
                &mut rng,
                store(i),
                address(b"bob", i as u32 + 1),
                trust.clone(),
                now,
            )
            .unwrap();
            d.set_certificate(certificate(d.address(), d.identity())).unwrap();
            d
        })
        .collect();
    let user = recipients[0].address().user().clone();
    let ids: Vec<DeviceId> = recipients.iter().map(|r| r.address().device()).collect();
    sender.set_devices(&user, &ids).unwrap();
    let sender_user = sender.address().user().clone();
    for r in &mut recipients {
        r.set_devices(&sender_user, &[DeviceId(1)]).unwrap();
        let publication = r.publication(&mut rng, now, None).unwrap();
        let bundle = publication.bundle(publication.one_time_prekeys().first().copied());
        sender.start_session(&mut rng, r.address(), &bundle, now).unwrap();
    }
    // One exchange each way, so both sides send ratchet messages.
    let sent = sender.send(&mut rng, &user, b"hello", now).unwrap();
    for part in MultiRecipientEnvelope::parse(&sent.envelope).unwrap().recipients() {
        let envelope = part.to_envelope();
        let r =
            recipients.iter_mut().find(|r| r.identity().to_bytes() == *part.recipient()).unwrap();
        let received = r.receive(&envelope, now).unwrap();
        r.acknowledge_received(received.id).unwrap();
        let reply = r.send(&mut rng, sender.address().user(), b"hi", now).unwrap();
        r.acknowledge_sent(reply.id).unwrap();
        for back in MultiRecipientEnvelope::parse(&reply.envelope).unwrap().recipients() {
            let received = sender.receive(&back.to_envelope(), now).unwrap();
            sender.acknowledge_received(received.id).unwrap();
        }
    }
    for sent in sender.pending_sent().unwrap() {
        sender.acknowledge_sent(sent.id).unwrap();
    }
    Devices { sender, recipients, user, rng, now, trust }
}

impl<S: Store> Devices<S> {
    /// A session record as a new device's first session with recipient
    /// 0 stores it (revision 1), to fill a store with.
    pub fn first_record(&mut self) -> SessionRecord {
        use sealwire::store::SessionStore;
        let address =
            Address::new(AppId::new("app-a").unwrap(), UserId::new(b"zed").unwrap(), DeviceId(1));
        let mut zed = Device::create(
            &mut self.rng,
            MemoryStore::new(),
            address,
            self.trust.clone(),
            self.now,
        )
        .unwrap();
        let to = self.recipients[0].address().clone();
        let publication = self.recipients[0].publication(&mut self.rng, self.now, None).unwrap();
        zed.start_session(&mut self.rng, &to, &publication.bundle(None), self.now).unwrap();
        let record = zed.store().load_session(&to).unwrap().unwrap();
        assert_eq!(record.revision(), 1);
        record
    }

    /// The sender's next 64-byte message, as recipient 0 receives it.
    pub fn next_envelope(&mut self) -> Vec<u8> {
        let sent = self.sender.send(&mut self.rng, &self.user, &[0u8; 64], self.now).unwrap();
        self.sender.acknowledge_sent(sent.id).unwrap();
        let upload = MultiRecipientEnvelope::parse(&sent.envelope).unwrap();
        upload.recipients().next().unwrap().to_envelope()
    }
}

/// Does the measured work `n` times and returns the time that took.
pub type Run = Box<dyn FnMut(u64) -> Duration>;

/// A clock a run measures with.
pub trait Clock {
    fn start() -> Self;
    fn elapsed(&self) -> Duration;
}

/// The CPU time of this thread: time the scheduler gives to other
/// processes on a busy machine is not counted.
impl Clock for cpu_time::ThreadTime {
    fn start() -> Self {
        Self::now()
    }
    fn elapsed(&self) -> Duration {
        cpu_time::ThreadTime::elapsed(self)
    }
}

/// Wall-clock time: what a caller waits, disk syncs included.
impl Clock for std::time::Instant {
    fn start() -> Self {
        Self::now()
    }
    fn elapsed(&self) -> Duration {
        std::time::Instant::elapsed(self)
    }
}

/// A run whose every step is timed alone: `setup` makes its input and
/// `after` takes its output (acknowledging a message, say), both untimed.
pub fn each<C: Clock, T: 'static, I, O>(
    mut state: T,
    mut setup: impl FnMut(&mut T) -> I + 'static,
    mut step: impl FnMut(&mut T, I) -> O + 'static,
    mut after: impl FnMut(&mut T, O) + 'static,
) -> Run {
    Box::new(move |n| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let input = setup(&mut state);
            let clock = C::start();
            let output = std::hint::black_box(step(&mut state, input));
            total += clock.elapsed();
            after(&mut state, output);
        }
        total
    })
}
