//! A conversation across three apps through one shared relay, through the
//! device API.
//!
//! Each app (chat.alpha, chat.beta, chat.gamma) runs its own certificate
//! authority, and every device trusts all three roots. Devices publish
//! their prekeys and certificates to the relay and talk in sealed
//! envelopes: the relay sees whom each envelope is for, when, and a size
//! bucket, and nothing else.
//!
//! Bob (chat.alpha) writes to Alice (chat.beta), whose two devices both get
//! the message; Alice's phone answers, and her laptop gets a copy. The
//! network delays one message and loses another, the relay replays one and
//! hands out a substituted bundle, Carol (chat.gamma) is handed an envelope
//! for Alice, and Mallory forges a certificate: each is caught. Alice, Bob
//! and Carol start a group, whose messages travel as one copy for every
//! member; Carol leaves, and what Bob writes next is under a new key she
//! never gets.
//!
//! Run with `cargo run --example conversation`.
#![allow(clippy::print_stdout, reason = "an example prints what happens")]

use std::collections::{HashMap, VecDeque};
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};

use rand_core::UnwrapErr;
use sealwire::{
    Address, AppId, CertificateKeyPair, Device, DeviceId, GroupId, IdentityEvent, IdentityKey,
    IdentityKeyPair, IssuerCertificate, MemoryStore, MultiRecipientEnvelope, OneTimePreKey,
    PreKeyBundle, Publication, ReceivedKind, SealedEnvelope, SenderCertificate, SignedPreKeyPair,
    Timestamp, TrustRoot, TrustStore, UserAddress, UserId,
};

type Rng = UnwrapErr<getrandom::SysRng>;

/// The time the example starts: 2026-11-30 09:00:00 UTC.
const START: u64 = 1_796_029_200;

/// Seconds since `START`. Each device reads the time from its own clock
/// below; nobody hands the time to anybody else.
static ELAPSED: AtomicU64 = AtomicU64::new(0);

/// A device's own clock. Certificates are checked against it, never
/// against a time the relay reports.
fn clock() -> Timestamp {
    Timestamp(START + ELAPSED.load(Ordering::Relaxed))
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

    /// A sender certificate for one of the app's devices, valid for a day.
    fn certify(
        &self,
        user: &str,
        device: u32,
        key: &IdentityKey,
    ) -> Result<SenderCertificate, Box<dyn Error>> {
        let user = UserId::new(user.as_bytes())?;
        let expires = Timestamp(START + 24 * 3600);
        Ok(SenderCertificate::issue(
            &self.issuer_key,
            &self.issuer,
            user,
            DeviceId(device),
            key,
            expires,
        )?)
    }
}

/// The shared relay: what devices published, device lists, mailboxes, and
/// a log of everything it learns from an envelope (when, for whom, how
/// large).
#[derive(Default)]
struct Relay {
    published: HashMap<Address, (Publication, VecDeque<OneTimePreKey>)>,
    names: HashMap<IdentityKey, Address>,
    devices: HashMap<UserAddress, Vec<DeviceId>>,
    mailboxes: HashMap<IdentityKey, VecDeque<Vec<u8>>>,
    log: Vec<String>,
}

impl Relay {
    fn tick(&self, seconds: u64) {
        ELAPSED.fetch_add(seconds, Ordering::Relaxed);
    }

    fn publish(&mut self, address: &Address, publication: Publication) {
        self.names.insert(*publication.identity(), address.clone());
        self.devices.entry(address.user().clone()).or_default().push(address.device());
        let one_time = publication.one_time_prekeys().iter().copied().collect();
        self.published.insert(address.clone(), (publication, one_time));
    }

    /// A bundle for `address`, with a one-time prekey while any are left.
    fn bundle(&mut self, address: &Address) -> Result<PreKeyBundle, Box<dyn Error>> {
        let (publication, one_time) = self.published.get_mut(address).ok_or("unknown device")?;
        Ok(publication.bundle(one_time.pop_front()))
    }

    /// Takes an upload, splits it per recipient, and files each part. A
    /// relay for large fan-out keeps the payload once and writes each
    /// recipient's prefix in front of it; this one copies.
    fn upload(&mut self, envelope: &[u8]) -> Result<Vec<Vec<u8>>, Box<dyn Error>> {
        let upload = MultiRecipientEnvelope::parse(envelope)?;
        Ok(upload.recipients().map(|share| share.to_envelope()).collect())
    }

    fn deliver(&mut self, envelope: Vec<u8>) -> Result<(), Box<dyn Error>> {
        let recipient = *SealedEnvelope::parse(&envelope)?.recipient();
        let name = self.names.get(&recipient).ok_or("unknown recipient")?;
        let t = ELAPSED.load(Ordering::Relaxed);
        self.log.push(format!(
            "09:{:02}:{:02}  to {:<22} {:>5} bytes",
            t / 60,
            t % 60,
            name.to_string(),
            envelope.len()
        ));
        self.mailboxes.entry(recipient).or_default().push_back(envelope);
        Ok(())
    }
}

/// One device of one user, with what it sent (for the leak check).
struct Client {
    device: Device<MemoryStore>,
    sent: Vec<(String, Vec<u8>)>,
}

impl Client {
    /// Creates a device, has its app certify it, and publishes its prekeys.
    fn register(
        rng: &mut Rng,
        relay: &mut Relay,
        app: &App,
        user: &str,
        device: u32,
        trust: &TrustStore,
    ) -> Result<Self, Box<dyn Error>> {
        let address = Address::new(app.id.clone(), UserId::new(user.as_bytes())?, DeviceId(device));
        let mut device =
            Device::create(rng, MemoryStore::new(), address.clone(), trust.clone(), clock())?;
        device.set_certificate(app.certify(user, address.device().0, device.identity())?)?;
        let publication = device.publication(rng, clock(), None)?;
        relay.publish(&address, publication.clone());
        device.mark_published(&publication)?;
        Ok(Self { device, sent: Vec::new() })
    }

    fn name(&self) -> String {
        self.device.address().to_string()
    }

    /// Writes `text` to every device of `to` (and this user's other
    /// devices), starting sessions from fresh bundles where needed.
    /// Returns the parts the relay delivers.
    fn write(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        to: &UserAddress,
        text: &str,
    ) -> Result<Vec<Vec<u8>>, Box<dyn Error>> {
        self.connect(rng, relay, to)?;
        let sent = self.device.send(rng, to, text.as_bytes(), clock())?;
        let names: Vec<String> = sent.recipients.iter().map(|(a, _)| a.to_string()).collect();
        println!("  {} -> {}: {text:?}", self.name(), names.join(", "));
        self.sent.push((text.to_string(), sent.envelope.clone()));
        let parts = relay.upload(&sent.envelope)?;
        // The relay took it: the device stops keeping it for a re-upload.
        self.device.acknowledge_sent(sent.id)?;
        Ok(parts)
    }

    /// Writes `text` to a group: this device's sender key goes to the
    /// members' devices that lack it, over their sessions, then one group
    /// message for all of them. Delivers every part.
    fn write_group(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        group: &GroupId,
        text: &str,
    ) -> Result<(), Box<dyn Error>> {
        let members = self.device.group(group)?.ok_or("no such group")?.members().to_vec();
        for member in &members {
            self.connect(rng, relay, member)?;
        }
        let sent = self.device.send_to_group(rng, group, text.as_bytes(), clock())?;
        let keys: usize = sent.distributions.iter().map(|d| d.recipients.len()).sum();
        let parts = relay.upload(&sent.message.envelope)?;
        println!(
            "  {} -> {group} ({} devices{}): {text:?}, {} bytes for each",
            self.name(),
            parts.len(),
            if sent.rotated { format!(", a new sender key for {keys}") } else { String::new() },
            parts.first().map_or(0, Vec::len),
        );
        self.sent.push((text.to_string(), sent.message.envelope.clone()));
        for upload in sent.distributions.iter().chain([&sent.message]) {
            for part in relay.upload(&upload.envelope)? {
                relay.deliver(part)?;
            }
            self.device.acknowledge_sent(upload.id)?;
        }
        Ok(())
    }

    /// Brings the device lists of `to` and of this user up to date and
    /// starts sessions from fresh bundles where needed.
    fn connect(
        &mut self,
        rng: &mut Rng,
        relay: &mut Relay,
        to: &UserAddress,
    ) -> Result<(), Box<dyn Error>> {
        let own = self.device.address().user().clone();
        for user in [to, &own] {
            self.device
                .set_devices(user, relay.devices.get(user).map_or(&[][..], Vec::as_slice))?;
        }
        for missing in self.device.missing_sessions(to, clock())? {
            let bundle = relay.bundle(&missing)?;
            // A new contact's key, vouched for by its own app, or a changed
            // key: the user is told either way.
            match self.device.start_session(rng, &missing, &bundle, clock())? {
                Some(IdentityEvent::New) => {
                    println!("  {} meets {missing} (its app vouches for its key)", self.name())
                }
                Some(IdentityEvent::Changed { .. }) => {
                    println!("  {}: {missing}'s safety number changed", self.name())
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Receives everything the relay holds for this device.
    fn receive(&mut self, relay: &mut Relay) {
        let mailbox = relay.mailboxes.remove(self.device.identity()).unwrap_or_default();
        for envelope in mailbox {
            self.open(&envelope);
        }
    }

    fn open(&mut self, envelope: &[u8]) {
        match self.device.receive(envelope, clock()) {
            Ok(received) if received.kind != ReceivedKind::Message => {
                match &received.kind {
                    ReceivedKind::GroupMessage(group) => println!(
                        "  {} reads in {group} from {}: {:?}",
                        self.name(),
                        received.from,
                        String::from_utf8_lossy(&received.plaintext)
                    ),
                    _ => println!("  {} takes {}'s sender key", self.name(), received.from),
                }
                if let Err(e) = self.device.acknowledge_received(received.id) {
                    println!("  {} could not acknowledge: {e}", self.name());
                }
            }
            Ok(received) => {
                let note = match received.identity_event {
                    Some(IdentityEvent::New) => " (new contact, trusted on first use)",
                    Some(IdentityEvent::Changed { .. }) => " (their safety number changed)",
                    _ => "",
                };
                let text = String::from_utf8_lossy(&received.plaintext);
                println!("  {} reads from {}{note}: {text:?}", self.name(), received.from);
                // Shown (a real app: kept in its own storage), so the
                // device stops keeping it.
                if let Err(e) = self.device.acknowledge_received(received.id) {
                    println!("  {} could not acknowledge: {e}", self.name());
                }
            }
            Err(e) => println!("  {} refuses an envelope: {e} [{:?}]", self.name(), e.action()),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = UnwrapErr(getrandom::SysRng);
    let mut relay = Relay::default();

    println!("== Three apps, three certificate authorities, one relay ==");
    let apps = [
        App::new(&mut rng, "chat.alpha")?,
        App::new(&mut rng, "chat.beta")?,
        App::new(&mut rng, "chat.gamma")?,
    ];
    let mut trust = TrustStore::new();
    for app in &apps {
        trust.add_root(&TrustRoot::new(app.id.clone(), app.root.public()));
    }
    let [alpha, beta, gamma] = &apps;
    let mut bob = Client::register(&mut rng, &mut relay, alpha, "bob", 1, &trust)?;
    let mut phone = Client::register(&mut rng, &mut relay, beta, "alice", 1, &trust)?;
    let mut laptop = Client::register(&mut rng, &mut relay, beta, "alice", 2, &trust)?;
    let mut carol = Client::register(&mut rng, &mut relay, gamma, "carol", 1, &trust)?;
    println!("  registered {}, {}, {}, {}", bob.name(), phone.name(), laptop.name(), carol.name());
    let alice = phone.device.address().user().clone();
    let bob_user = bob.device.address().user().clone();

    println!("\n== Bob writes to Alice: both of her devices get it ==");
    relay.tick(5);
    for part in bob.write(&mut rng, &mut relay, &alice, "Hi Alice! Bob from chat.alpha here.")? {
        relay.deliver(part)?;
    }
    relay.tick(2);
    phone.receive(&mut relay);
    laptop.receive(&mut relay);

    println!("\n== Alice answers from her phone; her laptop gets a copy ==");
    relay.tick(30);
    for part in phone.write(&mut rng, &mut relay, &bob_user, "Hi Bob! Writing from my phone.")? {
        relay.deliver(part)?;
    }
    relay.tick(3);
    bob.receive(&mut relay);
    laptop.receive(&mut relay);

    println!("\n== The network delays one message and loses another; the relay replays one ==");
    relay.tick(20);
    let mut held = Vec::new();
    let mut replayed = None;
    for text in [
        "(one) three things:",
        "(two) this one is delayed",
        "(three) this one is on time",
        "(four) this one is lost",
    ] {
        for part in bob.write(&mut rng, &mut relay, &alice, text)? {
            let to_phone = SealedEnvelope::parse(&part)?.recipient() == phone.device.identity();
            match text {
                t if t.starts_with("(two)") && to_phone => held.push(part),
                t if t.starts_with("(four)") && to_phone => {}
                t if t.starts_with("(one)") && to_phone => {
                    replayed = Some(part.clone());
                    relay.deliver(part)?;
                }
                _ => relay.deliver(part)?,
            }
        }
    }
    println!("  [the network holds (two) back on its way to Alice's phone, and loses (four)]");
    relay.tick(4);
    phone.receive(&mut relay);
    laptop.receive(&mut relay);
    relay.tick(60);
    println!("  [the delayed message arrives; the relay delivers (one) again]");
    for part in held.into_iter().chain(replayed) {
        relay.deliver(part)?;
    }
    phone.receive(&mut relay);

    println!(
        "\n== Carol (chat.gamma) writes to Alice; the relay first hands her a substituted bundle =="
    );
    relay.tick(30);
    let phone_address = phone.device.address().clone();
    let mallory = IdentityKeyPair::generate(&mut rng);
    let real = relay.bundle(&phone_address)?;
    let signed = SignedPreKeyPair::generate(&mut rng, &mallory, sealwire::PreKeyId(1));
    let substituted = PreKeyBundle::new(*mallory.public(), signed.public(), None);
    // The relay's bundle is post-quantum too: its own KEM prekey.
    #[cfg(feature = "pq")]
    let substituted = substituted.with_kem_prekey(
        sealwire::KemPreKeyPair::generate(
            &mut rng,
            &mallory,
            sealwire::PreKeyId(1),
            sealwire::KemPreKeyKind::LastResort,
        )
        .public(),
    );
    let substituted =
        substituted.with_certificate(real.certificate().ok_or("no certificate")?.clone());
    match carol.device.start_session(&mut rng, &phone_address, &substituted, clock()) {
        Ok(_) => return Err("a substituted bundle was accepted".into()),
        Err(e) => println!("  {} refuses the relay's bundle: {e} [{:?}]", carol.name(), e.action()),
    }
    let parts = carol.write(&mut rng, &mut relay, &alice, "Hello Alice, Carol from chat.gamma.")?;
    println!("  [the relay hands Carol's envelope for Alice's phone to Carol herself]");
    for part in parts {
        if SealedEnvelope::parse(&part)?.recipient() == phone.device.identity() {
            carol.open(&part);
        }
        relay.deliver(part)?;
    }
    phone.receive(&mut relay);
    laptop.receive(&mut relay);

    println!("\n== Alice, Bob and Carol start a group: one copy for every member ==");
    relay.tick(30);
    let trio = GroupId::new(b"trio")?;
    let carol_user = carol.device.address().user().clone();
    let members = [alice.clone(), bob_user.clone(), carol_user.clone()];
    for client in [&mut bob, &mut phone, &mut laptop, &mut carol] {
        client.device.create_group(&trio, &members)?;
    }
    bob.write_group(&mut rng, &mut relay, &trio, "Dinner on Friday?")?;
    carol.write_group(&mut rng, &mut relay, &trio, "Yes! I'll bring dessert.")?;
    for client in [&mut bob, &mut phone, &mut laptop, &mut carol] {
        client.receive(&mut relay);
    }
    println!("  [Carol leaves the group; every remaining device applies it]");
    for client in [&mut bob, &mut phone, &mut laptop] {
        client.device.remove_group_members(&trio, std::slice::from_ref(&carol_user))?;
    }
    bob.write_group(&mut rng, &mut relay, &trio, "Just us two then.")?;
    for client in [&mut phone, &mut laptop, &mut carol] {
        client.receive(&mut relay);
    }

    println!("\n== Mallory forges a chat.beta certificate claiming to be alice ==");
    let fake_beta = App::new(&mut rng, "chat.beta")?;
    let mut mallory =
        Client::register(&mut rng, &mut Relay::default(), &fake_beta, "alice", 9, &trust)?;
    mallory.device.set_devices(&bob_user, &[DeviceId(1)])?;
    let bob_bundle = relay.bundle(bob.device.address())?;
    mallory.device.start_session(&mut rng, bob.device.address(), &bob_bundle, clock())?;
    let forged =
        mallory.device.send(&mut rng, &bob_user, b"It's Alice, from a new device!", clock())?;
    for part in relay.upload(&forged.envelope)? {
        relay.deliver(part)?;
    }
    bob.receive(&mut relay);

    println!("\n== Bob and Alice compare safety numbers ==");
    let on_bob = bob.device.safety_number(phone.device.address())?;
    let on_phone = phone.device.safety_number(bob.device.address())?;
    println!("  on Bob's screen:   {on_bob}");
    println!("  on Alice's screen: {on_phone}");
    println!("  scanned and matched: {}", on_phone.matches_scanned(on_bob.scannable())?);
    // Both mark the other verified: a change of a verified key waits for
    // the user, whatever the policy.
    phone.device.mark_verified(bob.device.address(), &on_phone, clock())?;
    bob.device.mark_verified(phone.device.address(), &on_bob, clock())?;
    println!("  each marks the other's key verified");

    println!("\n== What the relay saw ==");
    for line in &relay.log {
        println!("  {line}");
    }
    // No envelope shows its sender's identity key, user id, app id or text.
    let mut checked = 0;
    let mut found = 0;
    for client in [&bob, &phone, &laptop, &carol] {
        let address = client.device.address();
        for (text, envelope) in &client.sent {
            let telltales: [&[u8]; 4] = [
                client.device.identity().ed25519_bytes(),
                address.user_id().as_bytes(),
                address.app().as_str().as_bytes(),
                text.as_bytes(),
            ];
            checked += 1;
            found +=
                usize::from(telltales.iter().any(|t| envelope.windows(t.len()).any(|w| w == *t)));
        }
    }
    println!(
        "  envelopes showing their sender's key, user id, app id or text: {found} of {checked}"
    );
    if found != 0 {
        return Err("the relay saw what it must not".into());
    }
    Ok(())
}
