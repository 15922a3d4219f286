//! A conversation across three apps through one shared relay.
//!
//! Each app (chat.alpha, chat.beta, chat.gamma) runs its own certificate
//! authority. Every device trusts all three roots, so a user of one app can
//! write to a user of another. Devices publish prekey bundles to the relay
//! and talk in sealed envelopes: the relay sees whom each envelope is for,
//! when, and a size bucket, and nothing else.
//!
//! Bob (chat.alpha) writes to both of Alice's devices (chat.beta) with one
//! envelope, then talks with Alice's phone over several DH ratchet steps
//! while the network delays one message and loses another. Carol
//! (chat.gamma) is handed an envelope addressed to Alice, and Mallory forges
//! a chat.beta certificate; both are refused.
//!
//! Run with `cargo run --example conversation`.
#![allow(clippy::print_stdout, reason = "an example prints what happens")]

use std::collections::{HashMap, VecDeque};
use std::error::Error;

use rand_core::UnwrapErr;
use sealwire::{
    AppId, CertificateKeyPair, ContentType, DeviceId, IdentityKey, IdentityKeyPair,
    IssuerCertificate, MemoryPreKeyStore, MultiRecipientEnvelope, OneTimePreKeyPair, Padding,
    PreKeyBundle, PreKeyId, SealedEnvelope, Sealer, SenderCertificate, Session, SignedPreKeyPair,
    Timestamp, TrustRoot, TrustStore, UserId, unseal,
};

type Rng = UnwrapErr<getrandom::SysRng>;

/// The time the example starts: 2026-11-21 09:00:00 UTC.
const START: u64 = 1_795_165_200;

/// Simulated time passing, in seconds since `START`. Every party reads it
/// through its own clock below; nobody passes the time to anybody else.
static ELAPSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A device's own clock. Certificates are checked against it, never
/// against a time the relay reports: a relay that chose the time could
/// make an expired certificate pass.
fn device_clock() -> Timestamp {
    Timestamp(START + ELAPSED.load(std::sync::atomic::Ordering::Relaxed))
}

/// An app: its trust root and one issuer (its server's signing key).
struct App {
    id: AppId,
    root: CertificateKeyPair,
    issuer_key: CertificateKeyPair,
    issuer: IssuerCertificate,
}

impl App {
    fn new(rng: &mut Rng, name: &str) -> Result<Self, Box<dyn Error>> {
        let id = AppId::new(name)?;
        let root = CertificateKeyPair::generate(rng);
        let issuer_key = CertificateKeyPair::generate(rng);
        let year = 365 * 24 * 3600;
        let issuer = IssuerCertificate::issue(
            &root,
            &id,
            1,
            &issuer_key.public(),
            Timestamp(START - year),
            Timestamp(START + year),
        )?;
        Ok(Self { id, root, issuer_key, issuer })
    }

    fn trust_root(&self) -> TrustRoot {
        TrustRoot::new(self.id.clone(), self.root.public())
    }

    /// A sender certificate for one of the app's devices, valid for a day.
    fn certify(
        &self,
        user: &str,
        device: u32,
        identity: &IdentityKey,
    ) -> Result<SenderCertificate, Box<dyn Error>> {
        let day = Timestamp(START + 24 * 3600);
        Ok(SenderCertificate::issue(
            &self.issuer_key,
            &self.issuer,
            UserId::new(user.as_bytes())?,
            DeviceId(device),
            identity,
            day,
        )?)
    }
}

/// What a device published: its signed prekey and the one-time prekeys
/// not yet handed out.
struct Published {
    signed: Vec<u8>,
    one_time: VecDeque<Vec<u8>>,
}

/// The shared relay: a directory of devices, their bundles, and mailboxes.
/// Its log is everything it learns from an envelope: when, for whom, and
/// how large.
#[derive(Default)]
struct Relay {
    addresses: HashMap<[u8; 32], String>,
    bundles: HashMap<[u8; 32], Published>,
    mailboxes: HashMap<[u8; 32], VecDeque<Vec<u8>>>,
    held: Vec<Vec<u8>>,
    log: Vec<String>,
}

impl Relay {
    /// Lets time pass (for everyone: the relay's log and the devices'
    /// clocks).
    fn tick(&mut self, seconds: u64) {
        ELAPSED.fetch_add(seconds, std::sync::atomic::Ordering::Relaxed);
    }

    /// A bundle for `device`, with one of its one-time prekeys while any
    /// are left.
    fn bundle(&mut self, device: &IdentityKey) -> Result<PreKeyBundle, Box<dyn Error>> {
        let published = self.bundles.get_mut(device.ed25519_bytes()).ok_or("unknown device")?;
        let signed = sealwire::SignedPreKey::from_bytes(&published.signed)?;
        let one_time = published
            .one_time
            .pop_front()
            .map(|b| sealwire::OneTimePreKey::from_bytes(&b))
            .transpose()?;
        Ok(PreKeyBundle::new(*device, signed, one_time))
    }

    /// Accepts a sealed envelope and files it for its recipient.
    fn deliver(&mut self, envelope: Vec<u8>) -> Result<(), Box<dyn Error>> {
        let recipient = *SealedEnvelope::parse(&envelope)?.recipient().ed25519_bytes();
        let address = self.addresses.get(&recipient).ok_or("unknown recipient")?;
        let elapsed = ELAPSED.load(std::sync::atomic::Ordering::Relaxed);
        let (minutes, seconds) = (elapsed / 60, elapsed % 60);
        self.log.push(format!(
            "09:{minutes:02}:{seconds:02}  to {address:<18} {:>6} bytes",
            envelope.len()
        ));
        self.mailboxes.entry(recipient).or_default().push_back(envelope);
        Ok(())
    }

    /// Accepts a multi-recipient envelope: splits it and files each part
    /// (here as a copy; a relay with many recipients keeps the payload
    /// once and writes each recipient's prefix in front of it).
    fn deliver_to_many(&mut self, envelope: &[u8]) -> Result<(), Box<dyn Error>> {
        let upload = MultiRecipientEnvelope::parse(envelope)?;
        for share in upload.recipients() {
            self.deliver(share.to_envelope())?;
        }
        Ok(())
    }

    fn collect(&mut self, device: &IdentityKey) -> Vec<Vec<u8>> {
        self.mailboxes
            .get_mut(device.ed25519_bytes())
            .map(|m| m.drain(..).collect())
            .unwrap_or_default()
    }
}

/// A device: identity, prekeys, sender certificate, trust store, and one
/// session per peer device.
struct Device {
    name: String,
    /// The device's user id and app id: what its envelopes must not show.
    user: String,
    app: String,
    /// Every envelope this device sealed, with its text.
    sent: Vec<(String, Vec<u8>)>,
    identity: IdentityKeyPair,
    prekeys: MemoryPreKeyStore,
    sealer: Sealer,
    trust: TrustStore,
    sessions: HashMap<[u8; 32], Session>,
}

impl Device {
    /// A new device of `user` on `app`, registered with the relay.
    fn register(
        rng: &mut Rng,
        relay: &mut Relay,
        app: &App,
        user: &str,
        device: u32,
        trust: &TrustStore,
    ) -> Result<Self, Box<dyn Error>> {
        let identity = IdentityKeyPair::generate(rng);
        let mut prekeys = MemoryPreKeyStore::new();
        let signed = SignedPreKeyPair::generate(rng, &identity, PreKeyId(1));
        let signed_public = signed.public().to_bytes();
        prekeys.add_signed_prekey(signed);
        let mut one_time = VecDeque::new();
        for id in 1..=5 {
            let pair = OneTimePreKeyPair::generate(rng, PreKeyId(id));
            one_time.push_back(pair.public().to_bytes());
            prekeys.add_one_time_prekey(pair);
        }
        let key = *identity.public().ed25519_bytes();
        let name = format!("{}/{user}/{device}", app.id);
        relay.addresses.insert(key, name.clone());
        relay.bundles.insert(key, Published { signed: signed_public, one_time });
        let sealer = Sealer::new(app.certify(user, device, identity.public())?);
        Ok(Self {
            name,
            user: user.to_string(),
            app: app.id.to_string(),
            sent: Vec::new(),
            identity,
            prekeys,
            sealer,
            trust: trust.clone(),
            sessions: HashMap::new(),
        })
    }

    /// The message for `peer` from this device's session with it, starting
    /// the session from the peer's bundle if there is none.
    fn encrypt_for(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        peer: &IdentityKey,
        text: &str,
    ) -> Result<Vec<u8>, Box<dyn Error>> {
        let key = *peer.ed25519_bytes();
        if !self.sessions.contains_key(&key) {
            let bundle = relay.bundle(peer)?;
            self.sessions.insert(key, Session::initiate(rng, &self.identity, &bundle)?);
        }
        let session = self.sessions.get_mut(&key).ok_or("no session")?;
        Ok(session.encrypt(rng, text.as_bytes())?)
    }

    /// Seals `text` for one peer device.
    fn send(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        to: &Device,
        text: &str,
    ) -> Result<Vec<u8>, Box<dyn Error>> {
        let message = self.encrypt_for(rng, relay, to.identity.public(), text)?;
        println!("  {} -> {}: {text:?}", self.name, to.name);
        let envelope = self.sealer.seal(
            rng,
            &self.identity,
            to.identity.public(),
            &message,
            Padding::Buckets,
        )?;
        self.sent.push((text.to_string(), envelope.clone()));
        Ok(envelope)
    }

    /// Seals `text` for several peer devices in one envelope.
    fn send_to_all(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        to: &[&Device],
        text: &str,
    ) -> Result<Vec<u8>, Box<dyn Error>> {
        let mut messages = Vec::new();
        for device in to {
            let message = self.encrypt_for(rng, relay, device.identity.public(), text)?;
            messages.push((*device.identity.public(), message));
        }
        let refs: Vec<(IdentityKey, &[u8])> = messages.iter().map(|(k, m)| (*k, &m[..])).collect();
        let names: Vec<&str> = to.iter().map(|d| d.name.as_str()).collect();
        println!("  {} -> {} (one envelope): {text:?}", self.name, names.join(" and "));
        let envelope = self.sealer.seal_to_many(rng, &self.identity, &refs, Padding::Buckets)?;
        self.sent.push((text.to_string(), envelope.clone()));
        Ok(envelope)
    }

    /// Unseals, checks and decrypts one envelope, and prints who wrote.
    fn open(&mut self, envelope: &[u8], now: Timestamp) -> Result<(), Box<dyn Error>> {
        let opened = match unseal(&self.identity, &self.trust, now, envelope) {
            Ok(opened) => opened,
            Err(e) => {
                println!("  {} refuses an envelope: {e}", self.name);
                return Ok(());
            }
        };
        let from = format!(
            "{}@{} device {}",
            String::from_utf8_lossy(opened.user_id().as_bytes()),
            opened.app_id(),
            opened.device_id().0
        );
        let key = *opened.identity_key().ed25519_bytes();
        let text = match (self.sessions.get_mut(&key), opened.content_type()) {
            (Some(session), _) => opened.decrypt(session)?,
            (None, ContentType::Initial) => {
                let (session, text) = opened.accept(&self.identity, &mut self.prekeys)?;
                self.sessions.insert(key, session);
                println!("  {} accepts a new session from {from}", self.name);
                text
            }
            (None, ContentType::Ratchet) => return Err("ratchet message without a session".into()),
        };
        println!("  {} reads from {from}: {:?}", self.name, String::from_utf8_lossy(&text));
        Ok(())
    }

    /// Opens everything the relay holds for this device, checking
    /// certificates against this device's own clock.
    fn receive(&mut self, relay: &mut Relay) -> Result<(), Box<dyn Error>> {
        for envelope in relay.collect(self.identity.public()) {
            self.open(&envelope, device_clock())?;
        }
        Ok(())
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = UnwrapErr(getrandom::SysRng);
    let mut relay = Relay::default();

    println!("== Three apps, three certificate authorities, one relay ==");
    let alpha = App::new(&mut rng, "chat.alpha")?;
    let beta = App::new(&mut rng, "chat.beta")?;
    let gamma = App::new(&mut rng, "chat.gamma")?;
    let mut trust = TrustStore::new();
    for app in [&alpha, &beta, &gamma] {
        trust.add_root(&app.trust_root());
    }
    println!("  every device trusts the roots of {}, {} and {}", alpha.id, beta.id, gamma.id);

    let mut bob = Device::register(&mut rng, &mut relay, &alpha, "bob", 1, &trust)?;
    let mut alice_phone = Device::register(&mut rng, &mut relay, &beta, "alice", 1, &trust)?;
    let mut alice_laptop = Device::register(&mut rng, &mut relay, &beta, "alice", 2, &trust)?;
    let mut carol = Device::register(&mut rng, &mut relay, &gamma, "carol", 1, &trust)?;
    println!(
        "  registered {}, {}, {}, {}",
        bob.name, alice_phone.name, alice_laptop.name, carol.name
    );

    println!();
    println!("== Bob writes to both of Alice's devices with one envelope ==");
    relay.tick(5);
    let envelope = bob.send_to_all(
        &mut rng,
        &mut relay,
        &[&alice_phone, &alice_laptop],
        "Hi Alice! Bob from chat.alpha here.",
    )?;
    relay.deliver_to_many(&envelope)?;
    relay.tick(2);
    alice_phone.receive(&mut relay)?;
    alice_laptop.receive(&mut relay)?;

    println!();
    println!("== Bob and Alice's phone talk; the network delays one message and loses one ==");
    relay.tick(30);
    let reply = alice_phone.send(&mut rng, &mut relay, &bob, "Hi Bob! Writing from my phone.")?;
    relay.deliver(reply)?;
    relay.tick(3);
    bob.receive(&mut relay)?;

    relay.tick(20);
    for text in ["Three things:", "(two) this one is delayed", "(three) and this one is on time"] {
        let envelope = bob.send(&mut rng, &mut relay, &alice_phone, text)?;
        if text.starts_with("(two)") {
            println!("  [the network holds this one back]");
            relay.held.push(envelope);
        } else {
            relay.deliver(envelope)?;
        }
    }
    relay.tick(4);
    alice_phone.receive(&mut relay)?;

    relay.tick(15);
    let envelope = alice_phone.send(&mut rng, &mut relay, &bob, "Got one and three.")?;
    relay.deliver(envelope)?;
    relay.tick(2);
    bob.receive(&mut relay)?;

    relay.tick(40);
    let _lost = bob.send(&mut rng, &mut relay, &alice_phone, "This one will be lost.")?;
    println!("  [the network loses this one before it reaches the relay]");
    let envelope = bob.send(&mut rng, &mut relay, &alice_phone, "Did you get my last two?")?;
    relay.deliver(envelope)?;
    relay.tick(60);
    for envelope in std::mem::take(&mut relay.held) {
        println!("  [the held message arrives at last, from a chain Alice has moved past]");
        relay.deliver(envelope)?;
    }
    alice_phone.receive(&mut relay)?;

    relay.tick(10);
    let envelope =
        alice_phone.send(&mut rng, &mut relay, &bob, "Got the late one; one is missing.")?;
    relay.deliver(envelope)?;
    relay.tick(2);
    bob.receive(&mut relay)?;

    println!();
    println!("== Carol (chat.gamma) is handed an envelope addressed to Alice ==");
    relay.tick(30);
    let for_alice = bob.send(&mut rng, &mut relay, &alice_phone, "For Alice's eyes only.")?;
    carol.open(&for_alice, device_clock())?;
    relay.deliver(for_alice)?;
    alice_phone.receive(&mut relay)?;

    println!();
    println!("== Mallory forges a chat.beta certificate claiming to be alice ==");
    let fake_beta = App::new(&mut rng, "chat.beta")?;
    let mut mallory = Device::register(&mut rng, &mut relay, &fake_beta, "alice", 9, &trust)?;
    mallory.name = "mallory".to_string();
    let forged = mallory.send(&mut rng, &mut relay, &bob, "It's Alice, from a new device!")?;
    relay.tick(5);
    relay.deliver(forged)?;
    bob.receive(&mut relay)?;

    println!();
    println!("== What the relay saw ==");
    for line in &relay.log {
        println!("  {line}");
    }

    // No envelope shows anything of its sender or its text: not the
    // sender's identity key, user id or app id, nor any of the words.
    let mut checked = 0;
    let mut found = 0;
    for device in [&bob, &alice_phone, &alice_laptop, &carol, &mallory] {
        for (text, envelope) in &device.sent {
            let telltales: [&[u8]; 4] = [
                device.identity.public().ed25519_bytes(),
                device.user.as_bytes(),
                device.app.as_bytes(),
                text.as_bytes(),
            ];
            checked += 1;
            if telltales.iter().any(|t| contains(envelope, t)) {
                found += 1;
            }
        }
    }
    // Control: the check does find these in a sender certificate.
    let certificate = bob.sealer.certificate().to_bytes();
    let key = bob.identity.public().ed25519_bytes();
    if !contains(&certificate, key) || !contains(&certificate, b"bob") {
        return Err("the check above would miss a leak".into());
    }
    println!(
        "  envelopes showing their sender's key, user id, app id or text: {found} of {checked}"
    );
    if found != 0 {
        return Err("the relay saw what it must not".into());
    }
    Ok(())
}
