//! Helpers shared by the scenario tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod prekeys;

pub use prekeys::PreKeys;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::{
    IdentityKeyPair, InitialMessage, Message, OneTimePreKeyPair, PreKeyBundle, PreKeyId, Session,
    SignedPreKeyPair,
};

/// A deterministic RNG, so a failing test fails the same way every time.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A device with an identity and a prekey store holding one signed prekey
/// (id 1) and one-time prekeys 100, 101, ...
pub struct Device {
    pub identity: IdentityKeyPair,
    pub store: PreKeys,
    pub signed: PreKeyBundle,
    one_time: Vec<sealwire::OneTimePreKey>,
}

impl Device {
    pub fn new(rng: &mut ChaCha20Rng, one_time_prekeys: u32) -> Self {
        let identity = IdentityKeyPair::generate(rng);
        let mut store = PreKeys::new();
        let signed_pair = SignedPreKeyPair::generate(rng, &identity, PreKeyId(1));
        let signed = PreKeyBundle::new(*identity.public(), signed_pair.public(), None);
        store.add_signed_prekey(signed_pair);
        let mut one_time = Vec::new();
        for i in 0..one_time_prekeys {
            let pair = OneTimePreKeyPair::generate(rng, PreKeyId(100 + i));
            one_time.push(pair.public());
            store.add_one_time_prekey(pair);
        }
        one_time.reverse();
        Self { identity, store, signed, one_time }
    }

    /// Accepts a session from the bytes of an initial message.
    pub fn accept(&mut self, message: &[u8]) -> Result<(Session, Vec<u8>), sealwire::Error> {
        let initial = InitialMessage::parse(message)?;
        self.store.accept(&self.identity, &initial)
    }

    /// What the server hands out: the next one-time prekey while any are
    /// left, then the signed prekey alone.
    pub fn bundle(&mut self) -> PreKeyBundle {
        PreKeyBundle::new(
            *self.signed.identity(),
            *self.signed.signed_prekey(),
            self.one_time.pop(),
        )
    }
}

/// Bob (initiator) opens a session to Alice (responder) and Alice accepts
/// it from Bob's first message. Returns (bob, alice).
pub fn pair(rng: &mut ChaCha20Rng) -> (Session, Session) {
    let mut alice = Device::new(rng, 1);
    let bob = IdentityKeyPair::generate(rng);
    pair_with(rng, &bob, &mut alice)
}

pub fn pair_with(
    rng: &mut ChaCha20Rng,
    bob: &IdentityKeyPair,
    alice: &mut Device,
) -> (Session, Session) {
    let mut bob_session = Session::initiate(rng, bob, &alice.bundle()).unwrap();
    let first = bob_session.encrypt(rng, b"hello").unwrap();
    let (mut alice_session, text) = alice.accept(&first).unwrap();
    assert_eq!(text, b"hello");
    // One reply, so that Bob sends ratchet messages from now on.
    let reply = alice_session.encrypt(rng, b"ack").unwrap();
    assert_eq!(bob_session.decrypt(&reply).unwrap(), b"ack");
    (bob_session, alice_session)
}

/// The session's stored encoding, to compare states byte for byte.
pub fn state(session: &Session) -> Vec<u8> {
    session.to_bytes().to_vec()
}

/// A copy of a session, through its stored encoding.
pub fn copy(session: &Session) -> Session {
    Session::from_bytes(&session.to_bytes()).unwrap()
}

/// The sender's ratchet key in a message's header.
pub fn ratchet_key(message: &[u8]) -> [u8; 32] {
    match Message::parse(message).unwrap() {
        Message::Ratchet(m) => *m.header().ratchet_key.as_raw(),
        Message::Initial(m) => *m.message().header().ratchet_key.as_raw(),
    }
}

/// Asserts that decrypting `message` fails and leaves `session` unchanged.
pub fn assert_refused(session: &mut Session, message: &[u8]) -> sealwire::DecryptError {
    let before = state(session);
    let err = session.decrypt(message).expect_err("message must be refused");
    assert_eq!(state(session), before, "a refused message changed the session ({err:?})");
    err
}

/// An app: its trust root and one issuer (key id 1) valid from time 0 to
/// `ISSUER_UNTIL`.
pub struct App {
    pub id: sealwire::AppId,
    pub root: sealwire::CertificateKeyPair,
    pub issuer_key: sealwire::CertificateKeyPair,
    pub issuer: sealwire::IssuerCertificate,
}

/// The last second the test apps' issuers are valid.
pub const ISSUER_UNTIL: u64 = 1_000_000;

/// "Now" in the tests, when every certificate is valid.
pub const NOW: sealwire::Timestamp = sealwire::Timestamp(500_000);

impl App {
    pub fn new(rng: &mut ChaCha20Rng, name: &str) -> Self {
        Self::valid_until(rng, name, ISSUER_UNTIL)
    }

    /// An app whose issuer is valid from time 0 to `until`.
    pub fn valid_until(rng: &mut ChaCha20Rng, name: &str, until: u64) -> Self {
        use sealwire::{CertificateKeyPair, IssuerCertificate, Timestamp};
        let id = sealwire::AppId::new(name).unwrap();
        let root = CertificateKeyPair::generate(rng);
        let issuer_key = CertificateKeyPair::generate(rng);
        let issuer = IssuerCertificate::issue(
            &root,
            &id,
            1,
            &issuer_key.public(),
            Timestamp(0),
            Timestamp(until),
        )
        .unwrap();
        Self { id, root, issuer_key, issuer }
    }

    pub fn trust_root(&self) -> sealwire::TrustRoot {
        sealwire::TrustRoot::new(self.id.clone(), self.root.public())
    }

    /// A sender certificate for `user`'s device `device`, valid as long as
    /// the issuer.
    pub fn certify(
        &self,
        user: &str,
        device: u32,
        identity: &sealwire::IdentityKey,
    ) -> sealwire::SenderCertificate {
        self.certify_until(user, device, identity, self.issuer.not_after().0)
    }

    pub fn certify_until(
        &self,
        user: &str,
        device: u32,
        identity: &sealwire::IdentityKey,
        expires: u64,
    ) -> sealwire::SenderCertificate {
        sealwire::SenderCertificate::issue(
            &self.issuer_key,
            &self.issuer,
            sealwire::UserId::new(user.as_bytes()).unwrap(),
            sealwire::DeviceId(device),
            identity,
            sealwire::Timestamp(expires),
        )
        .unwrap()
    }
}

/// A trust store with the given apps' roots.
pub fn trusting(apps: &[&App]) -> sealwire::TrustStore {
    let mut store = sealwire::TrustStore::new();
    for app in apps {
        store.add_root(&app.trust_root());
    }
    store
}

/// What a relay delivers for a multi-recipient envelope: each recipient's
/// sealed envelope (its prefix, then the shared payload), copied out.
pub fn split(
    envelope: &sealwire::MultiRecipientEnvelope<'_>,
) -> Vec<(sealwire::IdentityKey, Vec<u8>)> {
    envelope
        .recipients()
        .map(|share| {
            (sealwire::IdentityKey::from_bytes(share.recipient()).unwrap(), share.to_envelope())
        })
        .collect()
}

pub mod forge;
pub mod poly1305;
pub mod world;
