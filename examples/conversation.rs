//! A conversation through an in-memory server.
//!
//! Alice publishes a prekey bundle; Bob fetches it and writes first; they
//! talk in both directions across several DH ratchet steps. The network
//! delays one message and loses another. At the end the example prints
//! everything the server saw.
//!
//! Run with `cargo run --example conversation`.
#![allow(clippy::print_stdout, reason = "an example prints what happens")]

use std::collections::{HashMap, HashSet, VecDeque};
use std::error::Error;

use rand_core::UnwrapErr;
use sealwire::{
    IdentityKeyPair, InitialMessage, MemoryPreKeyStore, Message, OneTimePreKey, OneTimePreKeyPair,
    PreKeyBundle, PreKeyId, Session, SignedPreKey, SignedPreKeyPair,
};

/// What a device published: encoded identity key, signed prekey and the
/// one-time prekeys not yet handed out.
struct Published {
    identity: Vec<u8>,
    signed: Vec<u8>,
    one_time: VecDeque<Vec<u8>>,
}

/// The server: stores what devices publish and relays opaque messages. It
/// logs everything it sees.
#[derive(Default)]
struct Server {
    published: HashMap<&'static str, Published>,
    mailboxes: HashMap<&'static str, VecDeque<Vec<u8>>>,
    relayed: Vec<Vec<u8>>,
    log: Vec<String>,
}

impl Server {
    fn publish(&mut self, user: &'static str, published: Published) {
        self.log.push(format!(
            "publish   {user}: identity key, signed prekey, {} one-time prekeys",
            published.one_time.len()
        ));
        self.published.insert(user, published);
    }

    /// Hands out a bundle, with one one-time prekey while any are left.
    fn fetch_bundle(&mut self, user: &'static str) -> Result<Vec<u8>, Box<dyn Error>> {
        let published = self.published.get_mut(user).ok_or("no such user")?;
        let identity = sealwire::IdentityKey::from_bytes(&published.identity)?;
        let signed = SignedPreKey::from_bytes(&published.signed)?;
        let one_time = published
            .one_time
            .pop_front()
            .map(|b| OneTimePreKey::from_bytes(&b))
            .transpose()?;
        self.log.push(format!(
            "bundle    {user}: handed out, one-time prekey {}",
            one_time.map_or("none left".to_string(), |k| k.id().0.to_string())
        ));
        Ok(PreKeyBundle::new(identity, signed, one_time).to_bytes())
    }

    fn send(&mut self, from: &str, to: &'static str, message: Vec<u8>) {
        self.log
            .push(format!("relay     {from} -> {to}: {}", describe(&message)));
        self.relayed.push(message.clone());
        self.mailboxes.entry(to).or_default().push_back(message);
    }

    fn receive(&mut self, user: &'static str) -> Vec<Vec<u8>> {
        self.mailboxes
            .get_mut(user)
            .map(|m| m.drain(..).collect())
            .unwrap_or_default()
    }
}

/// What the server can read of a message: its kind, size and header.
fn describe(message: &[u8]) -> String {
    match Message::parse(message) {
        Ok(Message::Initial(m)) => format!(
            "{} bytes, initial message (signed prekey {}, one-time prekey {:?}, ratchet key {}.., n={})",
            message.len(),
            m.signed_prekey_id().0,
            m.one_time_prekey_id().map(|id| id.0),
            short(m.message().header().ratchet_key.as_raw()),
            m.message().header().counter
        ),
        Ok(Message::Ratchet(m)) => format!(
            "{} bytes, ratchet message (ratchet key {}.., pn={}, n={})",
            message.len(),
            short(m.header().ratchet_key.as_raw()),
            m.header().previous_counter,
            m.header().counter
        ),
        Err(e) => format!("{} bytes, unreadable ({e})", message.len()),
    }
}

/// The first four bytes of a key in hex, enough to tell keys apart.
fn short(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Everything the example moves around: the server, the RNG the devices
/// share here (each device would have its own), and a record of what was
/// said and which ratchet keys were seen, to check the server's view.
struct World {
    server: Server,
    rng: UnwrapErr<getrandom::SysRng>,
    said: Vec<String>,
    ratchet_keys: HashSet<[u8; 32]>,
}

impl World {
    /// Encrypts `text` on `session` and hands it to the server.
    fn send(
        &mut self,
        session: &mut Session,
        from: &str,
        to: &'static str,
        text: &str,
    ) -> Result<Vec<u8>, Box<dyn Error>> {
        let message = session.encrypt(&mut self.rng, text.as_bytes())?;
        self.said.push(text.to_string());
        let key = match Message::parse(&message)? {
            Message::Initial(m) => *m.message().header().ratchet_key.as_raw(),
            Message::Ratchet(m) => *m.header().ratchet_key.as_raw(),
        };
        self.ratchet_keys.insert(key);
        println!("  {from} -> {to}: {text:?}");
        self.server.send(from, to, message.clone());
        Ok(message)
    }

    /// Decrypts everything in `user`'s mailbox, except the messages the
    /// network `withholds` (delays or loses), and prints what was read.
    fn deliver(
        &mut self,
        session: &mut Session,
        user: &'static str,
        withhold: &[(&[u8], &str)],
    ) -> Result<(), Box<dyn Error>> {
        for m in self.server.receive(user) {
            if let Some((_, what)) = withhold.iter().find(|(w, _)| *w == m.as_slice()) {
                println!("  [network {what} one message]");
                continue;
            }
            let text = session.decrypt(&m)?;
            println!("{user} read: {:?}", String::from_utf8_lossy(&text));
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut world = World {
        server: Server::default(),
        rng: UnwrapErr(getrandom::SysRng),
        said: Vec::new(),
        ratchet_keys: HashSet::new(),
    };
    let rng = &mut world.rng;

    // Alice's device: an identity, a signed prekey and three one-time prekeys.
    let alice = IdentityKeyPair::generate(rng);
    let mut alice_prekeys = MemoryPreKeyStore::new();
    let signed = SignedPreKeyPair::generate(rng, &alice, PreKeyId(1));
    let signed_public = signed.public().to_bytes();
    alice_prekeys.add_signed_prekey(signed);
    let mut one_time = VecDeque::new();
    for id in 100..103 {
        let pair = OneTimePreKeyPair::generate(rng, PreKeyId(id));
        one_time.push_back(pair.public().to_bytes());
        alice_prekeys.add_one_time_prekey(pair);
    }
    let identity = alice.public().to_bytes().to_vec();
    world.server.publish(
        "alice",
        Published {
            identity,
            signed: signed_public,
            one_time,
        },
    );

    // Bob fetches Alice's bundle and writes first.
    let bob = IdentityKeyPair::generate(&mut world.rng);
    let bundle = PreKeyBundle::from_bytes(&world.server.fetch_bundle("alice")?)?;
    let mut bob_session = Session::initiate(&mut world.rng, &bob, &bundle)?;
    println!(
        "bob opened a session to alice (identity {}..)",
        short(bundle.identity().ed25519_bytes())
    );
    world.send(&mut bob_session, "bob", "alice", "Hi Alice, it's Bob.")?;

    // Alice accepts the session from Bob's first message.
    let first = world.server.receive("alice").remove(0);
    let (mut alice_session, text) =
        Session::accept(&alice, &mut alice_prekeys, &InitialMessage::parse(&first)?)?;
    println!(
        "alice accepted bob's session: {:?}",
        String::from_utf8_lossy(&text)
    );
    println!(
        "  bob's identity as alice sees it: {}..",
        short(alice_session.remote_identity().ed25519_bytes())
    );
    println!(
        "  one-time prekeys alice has left: {}",
        alice_prekeys.one_time_prekey_count()
    );

    // Turns in both directions: every change of turn is a DH ratchet step.
    world.send(
        &mut alice_session,
        "alice",
        "bob",
        "Hi Bob! Good to hear from you.",
    )?;
    world.send(
        &mut alice_session,
        "alice",
        "bob",
        "This is end-to-end encrypted.",
    )?;
    world.deliver(&mut bob_session, "bob", &[])?;

    // Bob sends three; the network holds the second back.
    world.send(&mut bob_session, "bob", "alice", "Three things:")?;
    let delayed = world.send(
        &mut bob_session,
        "bob",
        "alice",
        "(two) this one is delayed",
    )?;
    world.send(
        &mut bob_session,
        "bob",
        "alice",
        "(three) and this one arrives",
    )?;
    world.deliver(&mut alice_session, "alice", &[(&delayed, "delays")])?;

    world.send(
        &mut alice_session,
        "alice",
        "bob",
        "Got the first and third.",
    )?;
    world.deliver(&mut bob_session, "bob", &[])?;

    // One message is lost for good.
    let lost = world.send(&mut bob_session, "bob", "alice", "This one will be lost.")?;
    world.send(&mut bob_session, "bob", "alice", "Did you get my last two?")?;
    world.deliver(&mut alice_session, "alice", &[(&lost, "loses")])?;

    // Both apps store their sessions and restore them later.
    let alice_stored = alice_session.to_bytes();
    let bob_stored = bob_session.to_bytes();
    println!(
        "sessions stored: alice {} bytes ({} skipped keys), bob {} bytes",
        alice_stored.len(),
        alice_session.skipped_key_count(),
        bob_stored.len()
    );
    let mut alice_session = Session::from_bytes(&alice_stored)?;
    let mut bob_session = Session::from_bytes(&bob_stored)?;

    // The delayed message turns up, from a chain Alice has moved past. The
    // server relayed it long ago; the network held it.
    println!("  [network delivers the delayed message]");
    let late = alice_session.decrypt(&delayed)?;
    println!("alice read (late): {:?}", String::from_utf8_lossy(&late));

    world.send(
        &mut alice_session,
        "alice",
        "bob",
        "Got the late one. One is missing.",
    )?;
    world.send(
        &mut bob_session,
        "bob",
        "alice",
        "Never mind it. Talk soon!",
    )?;
    world.send(&mut alice_session, "alice", "bob", "Bye!")?;
    world.deliver(&mut bob_session, "bob", &[])?;
    world.deliver(&mut alice_session, "alice", &[])?;
    println!(
        "ratchet keys used: {} (a new one at every change of turn)",
        world.ratchet_keys.len()
    );
    println!(
        "skipped keys alice still holds: {} (the lost message's)",
        alice_session.skipped_key_count()
    );

    println!();
    println!("What the server saw:");
    for line in &world.server.log {
        println!("  {line}");
    }
    let leaked = world
        .said
        .iter()
        .filter(|text| {
            let text = text.as_bytes();
            world
                .server
                .relayed
                .iter()
                .any(|m| m.windows(text.len()).any(|w| w == text))
        })
        .count();
    println!(
        "Plaintexts found in the {} relayed messages: {leaked}",
        world.server.relayed.len()
    );
    if leaked != 0 {
        return Err("a plaintext reached the server".into());
    }
    Ok(())
}
