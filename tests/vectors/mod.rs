//! The test-vector generator, shared by `examples/gen-vectors.rs` (which
//! writes `test-vectors/*.json`) and `tests/test_vectors.rs` (which checks
//! that the files are exactly what this code produces).
//!
//! Every value is computed twice: by the independent implementation in
//! `reference.rs`, and by sealwire driven with a scripted RNG that hands
//! out the same secrets. The generator panics on any difference, so a
//! vector file is only ever written when both agree.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::indexing_slicing
)]

pub mod reference;

use std::collections::VecDeque;
use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use reference::{Bytes, Identity, Party, cat, encode_identity, encode_x25519, x25519_public};
use sealwire::*;
use serde_json::{Value, json};

/// A secret for the vectors: SHA-256 of a label, so anyone can derive it.
pub fn secret(label: &str) -> [u8; 32] {
    reference::sha256(format!("sealwire test vector: {label}").as_bytes())
}

pub fn h(bytes: impl AsRef<[u8]>) -> Value {
    Value::String(bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// An RNG that hands out a fixed list of 32-byte secrets, in order. Every
/// draw sealwire makes is exactly 32 bytes; the script must be used up.
pub struct ScriptedRng(VecDeque<[u8; 32]>);

impl ScriptedRng {
    pub fn new(secrets: &[[u8; 32]]) -> Self {
        Self(secrets.iter().copied().collect())
    }

    pub fn finished(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryRng for ScriptedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("sealwire only draws 32-byte secrets")
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("sealwire only draws 32-byte secrets")
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert_eq!(dst.len(), 32, "every draw is 32 bytes");
        dst.copy_from_slice(&self.0.pop_front().expect("the script ran out of secrets"));
        Ok(())
    }
}

impl TryCryptoRng for ScriptedRng {}

fn error(e: impl Into<Error>) -> Value {
    let e: Error = e.into();
    json!({ "code": e.code(), "name": format!("{e:?}") })
}

/// Negative vectors for one decoder: each input with the error it gets.
fn refused(
    decoder: &str,
    decode: impl Fn(&[u8]) -> Result<(), DecodeError>,
    cases: Vec<(&str, Vec<u8>)>,
) -> Vec<Value> {
    cases
        .into_iter()
        .map(|(description, input)| {
            let Err(err) = decode(&input) else { panic!("{description}: accepted") };
            json!({ "description": description, "decoder": decoder, "input": h(&input), "error": error(err) })
        })
        .collect()
}

fn identity(label: &str) -> (Identity, IdentityKeyPair) {
    let seed = secret(label);
    let ours = IdentityKeyPair::from_bytes(&cat(&[&[0x51], &seed])).unwrap();
    let theirs = Identity::from_seed(seed);
    assert_eq!(ours.public().to_bytes(), theirs.encoded());
    (theirs, ours)
}

/// The files, in order: (file name, contents).
pub fn all() -> Vec<(&'static str, Value)> {
    vec![
        ("identity.json", identity_family()),
        ("x3dh.json", x3dh_family()),
        ("ratchet.json", ratchet_family()),
        ("session-state.json", session_state_family()),
        ("sealed.json", sealed_family()),
        ("multi-recipient.json", multi_family()),
    ]
}

/// The serialised form written to disk.
pub fn render(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    text
}

// ---- identity and signatures -------------------------------------------------------

fn identity_family() -> Value {
    let mut vectors = Vec::new();
    for label in ["identity A", "identity B"] {
        let (id, ours) = identity(label);
        let peer = secret(&format!("{label} peer x25519"));
        let peer_public = x25519_public(&peer);
        let dh = reference::x25519(&id.x25519_scalar, &peer_public);
        assert_eq!(dh, reference::x25519(&peer, &id.x25519_public));

        let spk_secret = secret(&format!("{label} signed prekey"));
        let spk_public = x25519_public(&spk_secret);
        let spk_message = reference::signed_prekey_message(7, &spk_public);
        let spk_signature = id.sign(&spk_message);
        let mut rng = ScriptedRng::new(&[spk_secret]);
        let spk = SignedPreKeyPair::generate(&mut rng, &ours, PreKeyId(7));
        let record =
            cat(&[&[0x61], &7u32.to_be_bytes(), &encode_x25519(&spk_public), &spk_signature]);
        assert_eq!(spk.public().to_bytes(), record);
        let stored = cat(&[&[0x71], &7u32.to_be_bytes(), &spk_secret, &spk_signature]);
        assert_eq!(*spk.to_bytes(), stored);

        let opk_secret = secret(&format!("{label} one-time prekey"));
        let mut rng = ScriptedRng::new(&[opk_secret]);
        let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(100));
        let opk_record =
            cat(&[&[0x81], &100u32.to_be_bytes(), &encode_x25519(&x25519_public(&opk_secret))]);
        assert_eq!(opk.public().to_bytes(), opk_record);

        let certificate_key = CertificateKeyPair::from_bytes(&cat(&[&[0xf1], &id.seed])).unwrap();
        assert_eq!(
            certificate_key.public().to_bytes(),
            reference::encode_certificate_key(&id.ed25519)
        );

        vectors.push(json!({
            "name": label,
            "seed": h(id.seed),
            "ed25519_public": h(id.ed25519),
            "x25519_scalar": h(id.x25519_scalar),
            "x25519_public": h(id.x25519_public),
            "encoded_public": h(id.encoded()),
            "encoded_key_pair": h(ours.to_bytes().as_slice()),
            "dh_with_peer": { "peer_secret": h(peer), "peer_public": h(peer_public), "output": h(dh) },
            "signed_prekey": {
                "id": 7,
                "secret": h(spk_secret),
                "public": h(spk_public),
                "signed_message": h(&spk_message),
                "signature": h(spk_signature),
                "public_record": h(&record),
                "stored_pair": h(&stored),
            },
            "one_time_prekey": {
                "id": 100,
                "secret": h(opk_secret),
                "public_record": h(&opk_record),
                "stored_pair": h(opk.to_bytes().as_slice()),
            },
            "as_certificate_key": {
                "encoded_public": h(certificate_key.public().to_bytes()),
                "stored_pair": h(certificate_key.to_bytes().as_slice()),
            },
        }));
    }

    let (a, _) = identity("identity A");
    let mut bad_signature =
        cat(&[&[0x61], &7u32.to_be_bytes(), &encode_x25519(&x25519_public(&secret("x")))]);
    bad_signature.extend(a.sign(b"something else"));
    let record = SignedPreKey::from_bytes(&bad_signature).unwrap();
    let identity_key = IdentityKey::from_bytes(&a.encoded()).unwrap();
    let mut negative = vec![json!({
        "description": "a signed prekey whose signature is over another message",
        "operation": "verify signed prekey",
        "identity": h(a.encoded()),
        "input": h(&bad_signature),
        "error": error(record.verify(&identity_key).unwrap_err()),
    })];
    let mut p_minus = [0xffu8; 32];
    p_minus[31] = 0x7f;
    p_minus[0] = 0xed;
    let mut y_p_plus_1 = [0xffu8; 32];
    y_p_plus_1[0] = 0xee;
    y_p_plus_1[31] = 0x7f;
    let mut one = [0u8; 32];
    one[0] = 1;
    for (description, decoder, input) in [
        (
            "identity key of small order (the neutral point, y = 1)",
            "IdentityKey",
            encode_identity(&one).to_vec(),
        ),
        (
            "identity key with y = p + 1, a non-canonical encoding",
            "IdentityKey",
            encode_identity(&y_p_plus_1).to_vec(),
        ),
        ("identity key with the X25519 tag", "IdentityKey", cat(&[&[0x02], &a.ed25519])),
        ("identity key one byte short", "IdentityKey", a.encoded()[..32].to_vec()),
        (
            "X25519 key equal to p, non-canonical",
            "X25519PublicKey",
            encode_x25519(&p_minus).to_vec(),
        ),
        ("X25519 key with the identity tag", "X25519PublicKey", cat(&[&[0x01], &a.x25519_public])),
        (
            "identity key pair with a trailing byte",
            "IdentityKeyPair",
            cat(&[&[0x51], &a.seed, &[0]]),
        ),
        ("identity key pair with another version", "IdentityKeyPair", cat(&[&[0x52], &a.seed])),
    ] {
        let err: DecodeError = match decoder {
            "IdentityKey" => IdentityKey::from_bytes(&input).unwrap_err(),
            "X25519PublicKey" => X25519PublicKey::from_bytes(&input).unwrap_err(),
            "IdentityKeyPair" => IdentityKeyPair::from_bytes(&input).unwrap_err(),
            _ => unreachable!(),
        };
        negative.push(json!({ "description": description, "decoder": decoder, "input": h(&input), "error": error(err) }));
    }

    json!({
        "family": "identity",
        "version": 1,
        "description": "Identity keys (Ed25519 and their X25519 form), signed and one-time prekeys, certificate-signing keys. docs/protocol.md §2, §3, §4, §12.",
        "vectors": vectors,
        "negative": negative,
    })
}

// ---- X3DH -------------------------------------------------------------------------

/// Alice (initiator) and Bob (responder) with Bob's prekeys.
struct Agreement {
    alice: (Identity, IdentityKeyPair),
    bob: (Identity, IdentityKeyPair),
    spk_secret: [u8; 32],
    opk_secret: Option<[u8; 32]>,
    bob_store: MemoryPreKeyStore,
    bundle: PreKeyBundle,
}

fn agreement(tag: &str, with_opk: bool) -> Agreement {
    let alice = identity(&format!("{tag} alice"));
    let bob = identity(&format!("{tag} bob"));
    let spk_secret = secret(&format!("{tag} bob signed prekey"));
    let opk_secret = with_opk.then(|| secret(&format!("{tag} bob one-time prekey")));
    let mut rng = ScriptedRng::new(&[spk_secret]);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob.1, PreKeyId(1));
    let mut store = MemoryPreKeyStore::new();
    let opk = opk_secret.map(|s| {
        let pair = OneTimePreKeyPair::generate(&mut ScriptedRng::new(&[s]), PreKeyId(100));
        let public = pair.public();
        store.add_one_time_prekey(pair);
        public
    });
    let bundle = PreKeyBundle::new(*bob.1.public(), spk.public(), opk);
    store.add_signed_prekey(spk);
    Agreement { alice, bob, spk_secret, opk_secret, bob_store: store, bundle }
}

fn x3dh_family() -> Value {
    let mut vectors = Vec::new();
    for (name, with_opk) in [("with one-time prekey", true), ("without one-time prekey", false)] {
        let mut ag = agreement(name, with_opk);
        let ek = secret(&format!("{name} alice ephemeral"));
        let ratchet = secret(&format!("{name} alice first ratchet key"));
        let plaintext = format!("first message, {name}").into_bytes();
        let spk_public = x25519_public(&ag.spk_secret);
        let opk_public = ag.opk_secret.map(|s| x25519_public(&s));

        // Reference.
        let x = reference::x3dh(&ag.alice.0, &ek, &ag.bob.0, &spk_public, opk_public.as_ref());
        let (mut party, ratchet_dh) = Party::initiator(x.sk, x.ad.clone(), spk_public, ratchet);
        let sent = party.encrypt(&plaintext, [0; 32]);
        let initial = reference::initial_message(
            &ag.alice.0,
            &x25519_public(&ek),
            1,
            with_opk.then_some(100),
            &sent.ratchet_message,
        );

        // sealwire.
        let mut rng = ScriptedRng::new(&[ek, ratchet]);
        let mut session = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        let wire = session.encrypt(&mut rng, &plaintext).unwrap();
        assert!(rng.finished());
        assert_eq!(wire, initial, "x3dh {name}: initial message");
        let parsed = InitialMessage::parse(&wire).unwrap();
        let (_, text) = Session::accept(&ag.bob.1, &mut ag.bob_store, &parsed).unwrap();
        assert_eq!(text, plaintext);

        let dh: Vec<Value> = x.dh.iter().map(h).collect();
        vectors.push(json!({
            "name": name,
            "inputs": {
                "alice_identity_seed": h(ag.alice.0.seed),
                "bob_identity_seed": h(ag.bob.0.seed),
                "bob_signed_prekey": { "id": 1, "secret": h(ag.spk_secret) },
                "bob_one_time_prekey": ag.opk_secret.map(|s| json!({ "id": 100, "secret": h(s) })),
                "rng": [h(ek), h(ratchet)],
                "plaintext": h(&plaintext),
            },
            "bundle": h(ag.bundle.to_bytes()),
            "alice_ephemeral_public": h(x25519_public(&ek)),
            "dh": dh,
            "kdf_input": h(&x.kdf_ikm),
            "sk": h(x.sk),
            "ad": h(&x.ad),
            "alice_ratchet_public": h(x25519_public(&ratchet)),
            "ratchet_dh": h(ratchet_dh),
            "root_key": h(sent.root_key),
            "chain_key": h(sent.chain_key),
            "message_key": h(sent.message_key),
            "aead_key": h(&sent.aead_key),
            "nonce": h(&sent.nonce),
            "header": h(&sent.header),
            "aead_associated_data": h(cat(&[&x.ad, &sent.header])),
            "ratchet_message": h(&sent.ratchet_message),
            "initial_message": h(&initial),
        }));
    }

    // Negative vectors.
    let mut negative = Vec::new();
    let mut ag = agreement("negative", true);
    let mut rng = ScriptedRng::new(&[secret("negative ek"), secret("negative ratchet")]);
    let mut session = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
    let initial = session.encrypt(&mut rng, b"negative").unwrap();

    let mut forged = ag.bundle.to_bytes();
    forged[1..34].copy_from_slice(&identity("negative mallory").0.encoded());
    let forged_bundle = PreKeyBundle::from_bytes(&forged).unwrap();
    let err =
        Session::initiate(&mut ScriptedRng::new(&[]), &ag.alice.1, &forged_bundle).unwrap_err();
    negative.push(json!({
        "description": "a bundle whose identity key was replaced: the signed prekey signature does not verify",
        "operation": "initiate",
        "bundle": h(&forged),
        "error": error(err),
    }));

    let mut low_order = ag.bundle.to_bytes();
    let at = low_order.len() - 33;
    low_order[at..at + 32].copy_from_slice(&[0u8; 32]);
    let low_bundle = PreKeyBundle::from_bytes(&low_order).unwrap();
    let err = Session::initiate(&mut ScriptedRng::new(&[secret("x")]), &ag.alice.1, &low_bundle)
        .unwrap_err();
    negative.push(json!({
        "description": "a bundle whose one-time prekey is the zero point: DH4 is all zero",
        "operation": "initiate",
        "bundle": h(&low_order),
        "error": error(err),
    }));

    let mut tampered = initial.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let err =
        Session::accept(&ag.bob.1, &mut ag.bob_store, &InitialMessage::parse(&tampered).unwrap())
            .unwrap_err();
    negative.push(json!({
        "description": "the initial message's last byte (in the tag) flipped",
        "operation": "accept",
        "responder_identity_seed": h(ag.bob.0.seed),
        "responder_prekeys": { "signed": { "id": 1, "secret": h(ag.spk_secret) }, "one_time": { "id": 100, "secret": h(ag.opk_secret.unwrap()) } },
        "input": h(&tampered),
        "error": error(err),
    }));

    let mut unknown = initial.clone();
    unknown[67..71].copy_from_slice(&9u32.to_be_bytes());
    let err =
        Session::accept(&ag.bob.1, &mut ag.bob_store, &InitialMessage::parse(&unknown).unwrap())
            .unwrap_err();
    negative.push(json!({
        "description": "the initial message names signed prekey 9, which the responder does not hold",
        "operation": "accept",
        "input": h(&unknown),
        "error": error(err),
    }));

    Session::accept(&ag.bob.1, &mut ag.bob_store, &InitialMessage::parse(&initial).unwrap())
        .unwrap();
    let err =
        Session::accept(&ag.bob.1, &mut ag.bob_store, &InitialMessage::parse(&initial).unwrap())
            .unwrap_err();
    negative.push(json!({
        "description": "the same initial message accepted a second time: its one-time prekey is gone",
        "operation": "accept twice",
        "input": h(&initial),
        "error": error(err),
    }));

    let mut flag_two = initial.clone();
    flag_two[71] = 2;
    negative.extend(refused(
        "InitialMessage",
        |b| InitialMessage::parse(b).map(drop),
        vec![
            ("an initial message with a trailing byte", cat(&[&initial, &[0]])),
            ("an initial message whose one-time prekey flag is 2", flag_two),
            ("an initial message one byte short", initial[..initial.len() - 1].to_vec()),
        ],
    ));

    json!({
        "family": "x3dh",
        "version": 1,
        "description": "X3DH from a bundle to the first (initial) message, with and without a one-time prekey. docs/protocol.md §4, §5, §6.3, §7.",
        "vectors": vectors,
        "negative": negative,
    })
}

// ---- Double Ratchet ---------------------------------------------------------------------

/// A conversation between Alice (sealwire and reference) and Bob (both),
/// recording every value.
struct Conversation {
    name: &'static str,
    alice: Session,
    bob: Session,
    alice_ref: Party,
    bob_ref: Party,
    sent: Vec<Bytes>,
    events: Vec<Value>,
    draws: usize,
    alice_identity: Identity,
    /// Alice's X3DH ephemeral public key, which her initial messages carry.
    base_key: [u8; 32],
    /// Whether Alice has decrypted anything from Bob yet.
    alice_heard_back: bool,
    setup: Value,
}

impl Conversation {
    fn new(name: &'static str) -> Self {
        let mut ag = agreement(name, true);
        let ek = secret(&format!("{name} alice ephemeral"));
        let ratchet = secret(&format!("{name} alice ratchet 0"));
        let spk_public = x25519_public(&ag.spk_secret);
        let opk_public = x25519_public(&ag.opk_secret.unwrap());
        let x = reference::x3dh(&ag.alice.0, &ek, &ag.bob.0, &spk_public, Some(&opk_public));
        let (alice_ref, _) = Party::initiator(x.sk, x.ad.clone(), spk_public, ratchet);
        let mut bob_ref = Party::responder(x.sk, x.ad.clone(), ag.spk_secret);

        let mut rng = ScriptedRng::new(&[ek, ratchet]);
        let mut alice = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        // Bob's session exists once Alice's first message arrives; make it
        // from a throwaway first message that the reference mirrors.
        let mut alice_ref = alice_ref;
        let first = alice.encrypt(&mut rng, b"hello").unwrap();
        let first_ref = alice_ref.encrypt(b"hello", [0; 32]);
        let (bob, text) =
            Session::accept(&ag.bob.1, &mut ag.bob_store, &InitialMessage::parse(&first).unwrap())
                .unwrap();
        assert_eq!(text, b"hello");
        bob_ref.decrypt(&first_ref.ratchet_message);
        let setup = json!({
            "alice_identity_seed": h(ag.alice.0.seed),
            "bob_identity_seed": h(ag.bob.0.seed),
            "bob_signed_prekey": { "id": 1, "secret": h(ag.spk_secret) },
            "bob_one_time_prekey": { "id": 100, "secret": h(ag.opk_secret.unwrap()) },
            "alice_rng": [h(ek), h(ratchet)],
            "sk": h(x.sk),
            "ad": h(&x.ad),
            "first_message": { "plaintext": h(b"hello"), "wire": h(&first) },
        });
        Self {
            name,
            alice,
            bob,
            alice_ref,
            bob_ref,
            sent: Vec::new(),
            events: Vec::new(),
            draws: 0,
            alice_identity: ag.alice.0,
            base_key: x25519_public(&ek),
            alice_heard_back: false,
            setup,
        }
    }

    fn send(&mut self, from_alice: bool, text: &str) -> usize {
        self.draws += 1;
        let fresh = secret(&format!("{} ratchet draw {}", self.name, self.draws));
        let party = if from_alice { &mut self.alice_ref } else { &mut self.bob_ref };
        let sent = party.encrypt(text.as_bytes(), fresh);
        // Alice repeats the X3DH fields until Bob's first reply.
        let wire_ref = if from_alice && !self.alice_heard_back {
            reference::initial_message(
                &self.alice_identity,
                &self.base_key,
                1,
                Some(100),
                &sent.ratchet_message,
            )
        } else {
            sent.ratchet_message.clone()
        };
        let session = if from_alice { &mut self.alice } else { &mut self.bob };
        let script: Vec<[u8; 32]> = sent.new_ratchet_secret.into_iter().collect();
        let mut rng = ScriptedRng::new(&script);
        let wire = session.encrypt(&mut rng, text.as_bytes()).unwrap();
        assert!(rng.finished(), "{}: RNG draws", self.name);
        assert_eq!(wire, wire_ref, "{}: message {}", self.name, self.sent.len());
        let index = self.sent.len();
        self.sent.push(wire.clone());
        self.events.push(json!({
            "event": "send",
            "by": if from_alice { "alice" } else { "bob" },
            "index": index,
            "plaintext": h(text.as_bytes()),
            "rng": sent.new_ratchet_secret.map(|s| vec![h(s)]).unwrap_or_default(),
            "dh": sent.dh.map(h),
            "root_key": h(sent.root_key),
            "chain_key": h(sent.chain_key),
            "message_key": h(sent.message_key),
            "aead_key": h(&sent.aead_key),
            "nonce": h(&sent.nonce),
            "header": h(&sent.header),
            "ratchet_message": h(&sent.ratchet_message),
            "wire": h(&wire),
        }));
        index
    }

    fn receive(&mut self, by_alice: bool, index: usize) {
        let wire = self.sent[index].clone();
        let ratchet_message = match Message::parse(&wire).unwrap() {
            Message::Initial(m) => m.message().to_bytes(),
            Message::Ratchet(m) => m.to_bytes(),
        };
        if by_alice {
            self.alice_heard_back = true;
        }
        let (session, party) = if by_alice {
            (&mut self.alice, &mut self.alice_ref)
        } else {
            (&mut self.bob, &mut self.bob_ref)
        };
        let got = party.decrypt(&ratchet_message);
        let text = session.decrypt(&wire).unwrap();
        assert_eq!(text, got.plaintext, "{}: receive {index}", self.name);
        assert_eq!(session.skipped_key_count(), got.skipped_after);
        let state = session.to_bytes();
        assert_eq!(
            &state[state.len() - party.encode_ratchet().len()..],
            party.encode_ratchet().as_slice()
        );
        self.events.push(json!({
            "event": "receive",
            "by": if by_alice { "alice" } else { "bob" },
            "index": index,
            "plaintext": h(&text),
            "dh": got.dh.map(h),
            "root_key": h(got.root_key),
            "message_key": h(got.message_key),
            "skipped_keys_held": got.skipped_after,
        }));
    }
}

pub fn hex_decode(s: &str) -> Bytes {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// The scripted conversation of ratchet.json; returns it for reuse.
fn conversation() -> Conversation {
    let mut c = Conversation::new("ratchet");
    let a0 = c.send(true, "a0");
    let a1 = c.send(true, "a1 (arrives late)");
    let a2 = c.send(true, "a2");
    c.receive(false, a0);
    c.receive(false, a2);
    let b0 = c.send(false, "b0 (arrives second)");
    let b1 = c.send(false, "b1");
    c.receive(true, b1);
    c.receive(true, b0);
    let a3 = c.send(true, "a3 (arrives after a4)");
    let a4 = c.send(true, "a4");
    c.receive(false, a4);
    c.receive(false, a1);
    c.receive(false, a3);
    let b2 = c.send(false, "b2");
    c.receive(true, b2);
    let _a5 = c.send(true, "a5 (lost)");
    let a6 = c.send(true, "a6");
    c.receive(false, a6);
    let b3 = c.send(false, "b3");
    c.receive(true, b3);
    c
}

fn ratchet_family() -> Value {
    let c = conversation();
    json!({
        "family": "ratchet",
        "version": 1,
        "description": "A conversation: Alice sends initial messages until Bob replies, then six DH ratchet steps, a message skipped and delivered late across a chain, a reordered pair and a lost message. Events are in order; every send lists the ratchet secret it drew (if any), every receive the values the receiver derived. docs/protocol.md §6, §7, §8.",
        "setup": c.setup,
        "events": c.events,
        "negative": ratchet_negative(),
    })
}

fn ratchet_negative() -> Vec<Value> {
    let mut c = Conversation::new("ratchet negative");
    let r = c.send(false, "reply");
    c.receive(true, r);
    let m0 = c.send(true, "m0");
    let m1 = c.send(true, "m1");
    c.receive(false, m1);
    let bob_state = c.bob.to_bytes().to_vec();
    let wire = c.sent[m0].clone();
    let mut out = Vec::new();
    let mut tampered = wire.clone();
    tampered[50] ^= 1;
    let mut forged_n = wire.clone();
    forged_n[38..42].copy_from_slice(&(1 + 1000 + 2u32).to_be_bytes());
    let mut pn_max = wire.clone();
    pn_max[38..42].copy_from_slice(&u32::MAX.to_be_bytes());
    for (description, input) in [
        ("a byte of the ciphertext flipped", tampered),
        (
            "the message number raised so that 1002 messages would be skipped (MAX_SKIP is 1000)",
            forged_n,
        ),
        ("the message number 2^32 - 1, which no sender uses", pn_max),
        ("a message with a trailing byte", cat(&[&wire, &[0]])),
    ] {
        let mut session = Session::from_bytes(&bob_state).unwrap();
        let err = session.decrypt(&input).unwrap_err();
        assert_eq!(session.to_bytes().to_vec(), bob_state, "state unchanged");
        out.push(json!({
            "description": description,
            "operation": "decrypt",
            "session_state": h(&bob_state),
            "input": h(&input),
            "error": error(err),
        }));
    }
    let mut session = Session::from_bytes(&bob_state).unwrap();
    session.decrypt(&wire).unwrap();
    let after = session.to_bytes().to_vec();
    let err = session.decrypt(&wire).unwrap_err();
    out.push(json!({
        "description": "a message decrypted twice: its key is gone",
        "operation": "decrypt",
        "session_state": h(&after),
        "input": h(&wire),
        "error": error(err),
    }));
    out
}

// ---- session state ---------------------------------------------------------------------------

fn session_state_family() -> Value {
    let mut c = Conversation::new("state");
    let mut vectors = Vec::new();
    // Alice right after starting: awaiting a reply, no receiving chain.
    let alice_fresh = c.alice.to_bytes().to_vec();
    let a0 = c.send(true, "a0");
    let _a1 = c.send(true, "a1");
    let a2 = c.send(true, "a2");
    c.receive(false, a2);
    let bob_mid = c.bob.to_bytes().to_vec();
    let mut bob = Session::from_bytes(&bob_mid).unwrap();
    let text = bob.decrypt(&c.sent[a0]).unwrap();
    let bob_after = bob.to_bytes().to_vec();
    vectors.push(json!({
        "name": "responder with two skipped keys",
        "state": h(&bob_mid),
        "skipped_keys": 2,
        "next_message": h(&c.sent[a0]),
        "plaintext": h(&text),
        "state_after": h(&bob_after),
    }));
    vectors.push(json!({
        "name": "initiator awaiting its first reply, after sending the setup message",
        "state": h(&alice_fresh),
        "skipped_keys": 0,
        "note": "the receiving chain is absent and the awaiting-reply flag is set",
    }));
    let r = c.send(false, "reply");
    let alice_before = c.alice.to_bytes().to_vec();
    c.receive(true, r);
    vectors.push(json!({
        "name": "initiator receiving the first reply",
        "state": h(&alice_before),
        "skipped_keys": 0,
        "next_message": h(&c.sent[r]),
        "plaintext": h(b"reply"),
        "state_after": h(c.alice.to_bytes().as_slice()),
    }));

    let mut negative = Vec::new();
    let mut awaiting = bob_mid.clone();
    awaiting[176] = 1;
    let mut swapped = bob_mid.clone();
    let n = swapped.len();
    let (a, b) = (bob_mid[n - 72..n - 36].to_vec(), bob_mid[n - 36..].to_vec());
    swapped[n - 72..n - 36].copy_from_slice(&b);
    swapped[n - 36..].copy_from_slice(&a);
    let mut role = bob_mid.clone();
    role[1] = 3;
    negative.extend(refused(
        "Session",
        |b| Session::from_bytes(b).map(drop),
        vec![
            ("a responder state with the awaiting-reply flag set", awaiting),
            ("skipped keys out of order", swapped),
            ("role byte 3", role),
            ("a state one byte short", bob_mid[..n - 1].to_vec()),
            ("version tag 0x42", cat(&[&[0x42], &bob_mid[1..]])),
        ],
    ));

    json!({
        "family": "session-state",
        "version": 1,
        "description": "Stored session states: decode, decrypt the next message, and the state must encode to state_after. docs/protocol.md §8.2.",
        "vectors": vectors,
        "negative": negative,
    })
}

// ---- sealed envelopes and certificates ----------------------------------------------------

struct Authority {
    app: AppId,
    root: Identity,
    issuer: Identity,
    issuer_message: Bytes,
    issuer_certificate: Bytes,
}

fn authority(name: &str) -> Authority {
    let root = Identity::from_seed(secret(&format!("{name} trust root")));
    let issuer = Identity::from_seed(secret(&format!("{name} issuer")));
    let (issuer_message, issuer_certificate) = reference::issuer_certificate(
        &root,
        1,
        &issuer.ed25519,
        name.as_bytes(),
        1_700_000_000,
        1_900_000_000,
    );
    // sealwire issues the same bytes.
    let ours = IssuerCertificate::issue(
        &CertificateKeyPair::from_bytes(&cat(&[&[0xf1], &root.seed])).unwrap(),
        &AppId::new(name).unwrap(),
        1,
        &CertificateKey::from_bytes(&reference::encode_certificate_key(&issuer.ed25519)).unwrap(),
        Timestamp(1_700_000_000),
        Timestamp(1_900_000_000),
    )
    .unwrap();
    assert_eq!(ours.to_bytes(), issuer_certificate);
    Authority { app: AppId::new(name).unwrap(), root, issuer, issuer_message, issuer_certificate }
}

const NOW: u64 = 1_800_000_000;

fn trust(authorities: &[&Authority]) -> TrustStore {
    let mut store = TrustStore::new();
    for a in authorities {
        let key = CertificateKey::from_bytes(&reference::encode_certificate_key(&a.root.ed25519))
            .unwrap();
        store.add_root(&TrustRoot::new(a.app.clone(), key));
    }
    store
}

fn sender_certificate(
    a: &Authority,
    user: &str,
    device: u32,
    identity: &Identity,
    expires: u64,
) -> (Bytes, Bytes) {
    let (message, cert) = reference::sender_certificate(
        &a.issuer,
        &a.issuer_certificate,
        a.app.as_str().as_bytes(),
        user.as_bytes(),
        device,
        &identity.ed25519,
        expires,
    );
    let issuer = IssuerCertificate::from_bytes(&a.issuer_certificate).unwrap();
    let ours = SenderCertificate::issue(
        &CertificateKeyPair::from_bytes(&cat(&[&[0xf1], &a.issuer.seed])).unwrap(),
        &issuer,
        UserId::new(user.as_bytes()).unwrap(),
        DeviceId(device),
        &IdentityKey::from_bytes(&identity.encoded()).unwrap(),
        Timestamp(expires),
    )
    .unwrap();
    assert_eq!(ours.to_bytes(), cert);
    (message, cert)
}

fn sealed_json(s: &reference::Sealed, ephemeral: &[u8; 32], secret_m: &[u8; 32]) -> Value {
    let shares: Vec<Value> = s
        .shares
        .iter()
        .map(|share| {
            json!({
                "recipient": h(share.recipient),
                "ephemeral_dh": h(share.ephemeral_dh),
                "wrap_key": h(&share.wrap_key),
                "wrapped_secret": h(&share.wrapped),
                "static_dh": h(share.static_dh),
                "auth_key": h(&share.auth_key),
                "tag": h(&share.tag),
            })
        })
        .collect();
    json!({
        "rng": [h(ephemeral), h(secret_m)],
        "ephemeral_public": h(s.ephemeral_public),
        "content": h(&s.content),
        "padding_length": s.padding,
        "payload_key": h(&s.payload_key),
        "payload_nonce": h(&s.payload_nonce),
        "payload": h(&s.payload),
        "payload_hash": h(s.payload_hash),
        "shares": shares,
    })
}

fn sealed_family() -> Value {
    let app_a = authority("app-a");
    let app_b = authority("app-b");
    let (bob, bob_pair) = identity("sealed bob");
    // The inner message: the initial message of the x3dh vector with a
    // one-time prekey, as a fixed byte string. It names x3dh's Alice, so
    // she is the sender here.
    let x3dh = x3dh_family();
    let inner = hex_decode(x3dh["vectors"][0]["initial_message"].as_str().unwrap());
    let (x_alice, x_alice_pair) = identity("with one-time prekey alice");
    let (x_cert_message, x_cert) = sender_certificate(&app_a, "alice", 1, &x_alice, 1_850_000_000);

    let mut vectors = Vec::new();
    for (name, padded) in [("padded", true), ("unpadded", false)] {
        let ephemeral = secret(&format!("sealed {name} ephemeral"));
        let m = secret(&format!("sealed {name} envelope secret"));
        let s = reference::seal(&x_alice, &x_cert, &[(&bob, &inner)], &ephemeral, &m, padded);
        let envelope = s.envelope(0);
        let certificate = SenderCertificate::from_bytes(&x_cert).unwrap();
        let mut sealer = Sealer::new(certificate);
        let mut rng = ScriptedRng::new(&[ephemeral, m]);
        let padding = if padded { Padding::Buckets } else { Padding::None };
        let ours =
            sealer.seal(&mut rng, &x_alice_pair, bob_pair.public(), &inner, padding).unwrap();
        assert!(rng.finished());
        assert_eq!(ours, envelope, "sealed {name}");
        let opened =
            unseal(&bob_pair, &trust(&[&app_a, &app_b]), Timestamp(NOW), &envelope).unwrap();
        assert_eq!(opened.message_unchecked(), inner.as_slice());
        let mut v = sealed_json(&s, &ephemeral, &m);
        v["name"] = json!(name);
        v["sender_identity_seed"] = h(x_alice.seed);
        v["recipient_identity_seed"] = h(bob.seed);
        v["sender_certificate"] = h(&x_cert);
        v["inner_message"] = h(&inner);
        v["envelope"] = h(&envelope);
        v["unsealed"] = json!({
            "now": NOW,
            "app_id": "app-a",
            "user_id": h(b"alice"),
            "device_id": 1,
            "identity_key": h(x_alice.encoded()),
            "content_type": 1,
        });
        vectors.push(v);
    }

    let certificates = json!({
        "trust_roots": [
            { "app_id": "app-a", "root_seed": h(app_a.root.seed), "encoded": h(cat(&[&[0xe1], &reference::encode_certificate_key(&app_a.root.ed25519), &reference::with_len(b"app-a")])) },
            { "app_id": "app-b", "root_seed": h(app_b.root.seed), "encoded": h(cat(&[&[0xe1], &reference::encode_certificate_key(&app_b.root.ed25519), &reference::with_len(b"app-b")])) },
        ],
        "issuer": {
            "app_id": "app-a",
            "issuer_seed": h(app_a.issuer.seed),
            "key_id": 1,
            "not_before": 1_700_000_000u64,
            "not_after": 1_900_000_000u64,
            "signed_message": h(&app_a.issuer_message),
            "certificate": h(&app_a.issuer_certificate),
        },
        "sender": {
            "user_id": h(b"alice"),
            "device_id": 1,
            "identity_seed": h(x_alice.seed),
            "expires": 1_850_000_000u64,
            "signed_message": h(&x_cert_message),
            "certificate": h(&x_cert),
        },
    });
    for root in certificates["trust_roots"].as_array().unwrap() {
        let bytes = hex_decode(root["encoded"].as_str().unwrap());
        assert_eq!(TrustRoot::from_bytes(&bytes).unwrap().to_bytes(), bytes);
    }

    // Negative vectors: unsealing at Bob's, trusting apps A and B.
    let base = hex_decode(vectors[1]["envelope"].as_str().unwrap());
    let store = trust(&[&app_a, &app_b]);
    let (carol, _) = identity("sealed carol");
    let mut negative = Vec::new();
    let mut cases: Vec<(&str, Bytes, u64, TrustStore)> = Vec::new();
    let flip = |at: usize| {
        let mut e = base.clone();
        e[at] ^= 1;
        e
    };
    cases.push(("the wrapped secret altered", flip(80), NOW, store.clone()));
    cases.push(("the share tag altered", flip(100), NOW, store.clone()));
    cases.push(("the payload's AEAD tag altered", flip(base.len() - 1), NOW, store.clone()));
    let mut relabeled = base.clone();
    relabeled[1..34].copy_from_slice(&carol.encoded());
    cases.push((
        "addressed to another identity (the recipient field rewritten)",
        relabeled,
        NOW,
        store.clone(),
    ));
    cases.push((
        "one second after the sender certificate expires",
        base.clone(),
        1_850_000_001,
        store.clone(),
    ));
    cases.push((
        "after the issuer certificate's window",
        base.clone(),
        1_900_000_001,
        store.clone(),
    ));
    cases.push((
        "before the issuer certificate's window",
        base.clone(),
        1_699_999_999,
        store.clone(),
    ));
    cases.push(("the recipient trusts only app B", base.clone(), NOW, trust(&[&app_b])));
    let mut revoked = store.clone();
    revoked.revoke(&app_a.app, 1);
    cases.push(("issuer 1 of app A revoked", base.clone(), NOW, revoked));
    let mut wrong_root = TrustStore::new();
    wrong_root.add_root(&TrustRoot::new(
        app_a.app.clone(),
        CertificateKey::from_bytes(&reference::encode_certificate_key(&app_b.root.ed25519))
            .unwrap(),
    ));
    cases.push(("app A's root replaced by app B's key", base.clone(), NOW, wrong_root));
    cases.push(("truncated by one byte", base[..base.len() - 1].to_vec(), NOW, store.clone()));
    for (description, envelope, now, trust_store) in cases {
        let err = unseal(&bob_pair, &trust_store, Timestamp(now), &envelope).unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "unseal",
            "recipient_identity_seed": h(bob.seed),
            "trust": format!("{trust_store:?}"),
            "now": now,
            "input": h(&envelope),
            "error": error(err),
        }));
    }

    json!({
        "family": "sealed",
        "version": 1,
        "description": "Certificates, and sealed envelopes for one recipient. Unsealing is at the recipient with trust roots for app-a and app-b, at time `unsealed.now`. docs/protocol.md §9, §10.",
        "certificates": certificates,
        "vectors": vectors,
        "negative": negative,
    })
}

fn multi_family() -> Value {
    let app_a = authority("app-a");
    let (alice, alice_pair) = identity("multi alice");
    let (_, cert) = sender_certificate(&app_a, "alice", 2, &alice, 1_850_000_000);
    let recipients: Vec<(Identity, IdentityKeyPair)> =
        (1..=3).map(|i| identity(&format!("multi bob device {i}"))).collect();
    // Each recipient's entry: a ratchet message from the ratchet vector
    // (fixed bytes; unsealing does not decrypt them).
    let ratchet = ratchet_family();
    let messages: Vec<Bytes> = ratchet["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "send" && e["by"] == "bob")
        .take(3)
        .map(|e| hex_decode(e["wire"].as_str().unwrap()))
        .collect();
    let ephemeral = secret("multi ephemeral");
    let m = secret("multi envelope secret");
    let entries: Vec<(&Identity, &[u8])> =
        recipients.iter().zip(&messages).map(|((r, _), msg)| (r, msg.as_slice())).collect();
    let s = reference::seal(&alice, &cert, &entries, &ephemeral, &m, true);
    let multi = s.multi();
    let mut sealer = Sealer::new(SenderCertificate::from_bytes(&cert).unwrap());
    let mut rng = ScriptedRng::new(&[ephemeral, m]);
    let ours_entries: Vec<(IdentityKey, &[u8])> = recipients
        .iter()
        .zip(&messages)
        .map(|((_, pair), msg)| (*pair.public(), msg.as_slice()))
        .collect();
    let ours = sealer.seal_to_many(&mut rng, &alice_pair, &ours_entries, Padding::Buckets).unwrap();
    assert!(rng.finished());
    assert_eq!(ours, multi, "multi-recipient envelope");
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    let split: Vec<Value> = common_split(&parsed)
        .iter()
        .enumerate()
        .map(|(i, (_, envelope))| {
            assert_eq!(*envelope, s.envelope(i));
            let opened =
                unseal(&recipients[i].1, &trust(&[&app_a]), Timestamp(NOW), envelope).unwrap();
            assert_eq!(opened.message_unchecked(), messages[i].as_slice());
            h(envelope)
        })
        .collect();
    let mut v = sealed_json(&s, &ephemeral, &m);
    v["name"] = json!("three devices of one user");
    v["sender_identity_seed"] = h(alice.seed);
    v["sender_certificate"] = h(&cert);
    v["recipient_identity_seeds"] = recipients.iter().map(|(r, _)| h(r.seed)).collect();
    v["messages"] = messages.iter().map(h).collect();
    v["multi_recipient_envelope"] = h(&multi);
    v["split_envelopes"] = json!(split);

    let mut negative = Vec::new();
    let mut repeated = multi.clone();
    repeated.copy_within(38..38 + 81, 38 + 81);
    let mut zero = cat(&[&multi[..34], &0u32.to_be_bytes()]);
    zero.extend_from_slice(&multi[38 + 3 * 81..]);
    let mut over = multi.clone();
    over[34..38].copy_from_slice(&4u32.to_be_bytes());
    negative.extend(refused(
        "MultiRecipientEnvelope",
        |b| MultiRecipientEnvelope::parse(b).map(drop),
        vec![
            ("the second share repeats the first", repeated),
            ("no shares", zero),
            ("a count of four shares with three present", over),
        ],
    ));
    // Swapped share bodies between devices 1 and 2: device 1 cannot open.
    let mut swapped = multi.clone();
    let (s0, s1) = (38 + 33, 38 + 81 + 33);
    let (b0, b1) = (multi[s0..s0 + 48].to_vec(), multi[s1..s1 + 48].to_vec());
    swapped[s0..s0 + 48].copy_from_slice(&b1);
    swapped[s1..s1 + 48].copy_from_slice(&b0);
    let envelope = common_split(&MultiRecipientEnvelope::parse(&swapped).unwrap())[0].1.clone();
    let err = unseal(&recipients[0].1, &trust(&[&app_a]), Timestamp(NOW), &envelope).unwrap_err();
    negative.push(json!({
        "description": "the wrapped secrets and tags of devices 1 and 2 swapped; device 1's split envelope",
        "operation": "unseal",
        "recipient_identity_seed": h(recipients[0].0.seed),
        "now": NOW,
        "input": h(&envelope),
        "error": error(err),
    }));

    json!({
        "family": "multi-recipient",
        "version": 1,
        "description": "One envelope for three recipients, padded; its split into three sealed envelopes, each opened by its recipient (trusting app-a) at time 1800000000. docs/protocol.md §10, §11.",
        "vectors": [v],
        "negative": negative,
    })
}

/// Each recipient's sealed envelope, as a relay delivers them.
fn common_split(envelope: &MultiRecipientEnvelope<'_>) -> Vec<(IdentityKey, Vec<u8>)> {
    envelope
        .recipients()
        .map(|share| (IdentityKey::from_bytes(share.recipient()).unwrap(), share.to_envelope()))
        .collect()
}
