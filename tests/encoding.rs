//! Every wire and stored format: round trips, and garbage into every
//! decoder. A decoder either refuses its input with an error or accepts it,
//! and then re-encoding gives back exactly the input (one value, one
//! encoding).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Device, pair, rng, state};
use rand_core::Rng;
use sealwire::limits::{MAX_CHAIN_HISTORY, MAX_RECEIVING_CHAINS};
use sealwire::{
    Account, Address, DecodeError, DeviceList, EncryptError, IdentityKey, IdentityKeyPair,
    InitialMessage, Message, OneTimePreKey, OneTimePreKeyPair, PreKeyBundle, PreKeyId,
    RatchetMessage, RemoteIdentity, SafetyNumber, Session, SessionRecord, SignedPreKey,
    SignedPreKeyPair, X25519PublicKey,
};
use sealwire::{
    CertificateKey, CertificateKeyPair, IssuerCertificate, MultiRecipientEnvelope, SealedEnvelope,
    SenderCertificate, TrustRoot,
};

/// A decoder under test: decodes and re-encodes, or reports the error.
type Decoder = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

fn decoders() -> Vec<(&'static str, Decoder)> {
    vec![
        ("IdentityKey", |b| IdentityKey::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("IdentityKeyPair", |b| IdentityKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("X25519PublicKey", |b| X25519PublicKey::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("SignedPreKey", |b| SignedPreKey::from_bytes(b).map(|k| k.to_bytes())),
        ("SignedPreKeyPair", |b| SignedPreKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("OneTimePreKey", |b| OneTimePreKey::from_bytes(b).map(|k| k.to_bytes())),
        ("OneTimePreKeyPair", |b| OneTimePreKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("PreKeyBundle", |b| PreKeyBundle::from_bytes(b).map(|k| k.to_bytes())),
        ("InitialMessage", |b| InitialMessage::parse(b).map(|m| m.to_bytes())),
        ("RatchetMessage", |b| RatchetMessage::parse(b).map(|m| m.to_bytes())),
        ("Message", |b| Message::parse(b).map(|m| m.to_bytes())),
        ("Session", |b| Session::from_bytes(b).map(|s| s.to_bytes().to_vec())),
        ("CertificateKey", |b| CertificateKey::from_bytes(b).map(|k| k.to_bytes().to_vec())),
        ("CertificateKeyPair", |b| {
            CertificateKeyPair::from_bytes(b).map(|k| k.to_bytes().to_vec())
        }),
        ("TrustRoot", |b| TrustRoot::from_bytes(b).map(|r| r.to_bytes())),
        ("IssuerCertificate", |b| IssuerCertificate::from_bytes(b).map(|c| c.to_bytes())),
        ("SenderCertificate", |b| SenderCertificate::from_bytes(b).map(|c| c.to_bytes())),
        ("SealedEnvelope", |b| SealedEnvelope::parse(b).map(|e| e.to_bytes())),
        ("MultiRecipientEnvelope", |b| MultiRecipientEnvelope::parse(b).map(|e| e.to_bytes())),
    ]
}

/// One valid encoding of each format, several for some.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = rng(70);
    let mut alice = Device::new(&mut rng, 2);
    let identity = IdentityKeyPair::generate(&mut rng);
    let spk = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(7));
    let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(8));
    let bob_identity = IdentityKeyPair::generate(&mut rng);

    let with_opk = alice.bundle();
    let mut bob = Session::initiate(&mut rng, &bob_identity, &with_opk).unwrap();
    let initial = bob.encrypt(&mut rng, b"initial").unwrap();
    let bob_awaiting = state(&bob);
    let (mut alice_session, _) = alice.accept(&initial).unwrap();
    let alice_fresh = state(&alice_session);
    let reply = alice_session.encrypt(&mut rng, b"reply").unwrap();
    bob.decrypt(&reply).unwrap();
    // Mid-conversation, with skipped keys in two chains.
    for _ in 0..2 {
        let _lost = bob.encrypt(&mut rng, b"lost").unwrap();
        let m = bob.encrypt(&mut rng, b"seen").unwrap();
        alice_session.decrypt(&m).unwrap();
        let r = alice_session.encrypt(&mut rng, b"r").unwrap();
        bob.decrypt(&r).unwrap();
    }
    let ratchet = bob.encrypt(&mut rng, b"ratchet").unwrap();
    let without_opk = PreKeyBundle::new(*with_opk.identity(), *with_opk.signed_prekey(), None);

    let app = common::App::new(&mut rng, "app-a");
    let cert = app.certify("alice", 1, bob_identity.public());
    let mut sealer = sealwire::Sealer::new(cert.clone());
    let recipient = *alice.identity.public();
    let sealed = sealer
        .seal(&mut rng, &bob_identity, &recipient, &ratchet, sealwire::Padding::None)
        .unwrap();
    let other = *IdentityKeyPair::generate(&mut rng).public();
    let multi = sealer
        .seal_to_many(
            &mut rng,
            &bob_identity,
            &[(recipient, &ratchet[..]), (other, &ratchet[..])],
            sealwire::Padding::None,
        )
        .unwrap();

    vec![
        ("IdentityKey", identity.public().to_bytes().to_vec()),
        ("IdentityKeyPair", identity.to_bytes().to_vec()),
        ("X25519PublicKey", spk.public().key().to_bytes().to_vec()),
        ("SignedPreKey", spk.public().to_bytes()),
        ("SignedPreKeyPair", spk.to_bytes().to_vec()),
        ("OneTimePreKey", opk.public().to_bytes()),
        ("OneTimePreKeyPair", opk.to_bytes().to_vec()),
        ("PreKeyBundle", with_opk.to_bytes()),
        ("PreKeyBundle", without_opk.to_bytes()),
        ("InitialMessage", initial.clone()),
        ("RatchetMessage", ratchet.clone()),
        ("Message", initial),
        ("Message", ratchet),
        ("Session", bob_awaiting),
        ("Session", alice_fresh),
        ("Session", state(&alice_session)),
        ("Session", state(&bob)),
        ("CertificateKey", app.root.public().to_bytes().to_vec()),
        ("CertificateKeyPair", app.root.to_bytes().to_vec()),
        ("TrustRoot", app.trust_root().to_bytes()),
        ("IssuerCertificate", app.issuer.to_bytes()),
        ("SenderCertificate", cert.to_bytes()),
        ("SealedEnvelope", sealed),
        ("MultiRecipientEnvelope", multi),
    ]
}

fn decoder(name: &str) -> Decoder {
    decoders().into_iter().find(|(n, _)| *n == name).unwrap().1
}

/// Accepts only canonical input: an accepted input re-encodes to itself.
fn check(name: &str, decode: Decoder, input: &[u8], what: &str) {
    if let Ok(again) = decode(input) {
        assert_eq!(again, input, "{name}: {what} decoded to a different encoding");
    }
}

#[test]
fn every_format_round_trips() {
    for (name, bytes) in samples() {
        assert_eq!(decoder(name)(&bytes).unwrap(), bytes, "{name}");
    }
}

#[test]
fn every_truncation_and_extension_is_refused() {
    for (name, bytes) in samples() {
        let decode = decoder(name);
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_err(), "{name}: prefix of {len} bytes accepted");
        }
        for extra in [0u8, 1, 0xff] {
            let mut longer = bytes.clone();
            longer.push(extra);
            assert!(decode(&longer).is_err(), "{name}: trailing byte {extra} accepted");
        }
    }
}

#[test]
fn every_byte_flip_is_refused_or_canonical() {
    for (name, bytes) in samples() {
        let decode = decoder(name);
        // The largest samples are long; flipping every byte of them is still
        // quick (the decoders do no cryptography but point decompression).
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut flipped = bytes.clone();
                flipped[i] ^= mask;
                check(name, decode, &flipped, &format!("byte {i} ^ {mask:#x}"));
            }
        }
    }
}

#[test]
fn version_and_key_tags_are_checked() {
    for (name, bytes) in samples() {
        let decode = decoder(name);
        for tag in 0..=255u8 {
            if tag == bytes[0] {
                continue;
            }
            let mut other = bytes.clone();
            other[0] = tag;
            assert!(decode(&other).is_err(), "{name}: first byte {tag:#04x} accepted");
        }
    }
}

#[test]
fn random_garbage_into_every_decoder() {
    let mut rng = rng(71);
    let samples = samples();
    for (name, decode) in decoders() {
        let typical = samples.iter().find(|(n, _)| *n == name).unwrap().1.len();
        for round in 0..3000 {
            let len = (rng.next_u32() as usize) % (2 * typical + 2);
            let mut input = vec![0u8; len];
            rng.fill_bytes(&mut input);
            // Half the time, start with the right version byte so that the
            // garbage reaches the deeper fields.
            if round % 2 == 0
                && let Some(first) = input.first_mut()
            {
                *first = samples.iter().find(|(n, _)| *n == name).unwrap().1[0];
            }
            check(name, decode, &input, "random input");
        }
    }
}

#[test]
fn oversized_inputs_are_refused_as_too_long() {
    let huge = vec![0u8; Session::MAX_ENCODED_LEN + 1];
    assert_eq!(Session::from_bytes(&huge).unwrap_err(), DecodeError::TooLong);
    let huge = vec![0x32u8; sealwire::limits::MAX_MESSAGE_LEN + 1];
    assert_eq!(Message::parse(&huge).unwrap_err(), DecodeError::TooLong);
    let long = vec![0x11u8; PreKeyBundle::MAX_ENCODED_LEN + 1];
    assert_eq!(PreKeyBundle::from_bytes(&long).unwrap_err(), DecodeError::TooLong);
}

#[test]
fn a_bundle_with_a_kem_prekey_flag_but_no_prekey_is_refused() {
    let mut rng = rng(72);
    let mut alice = Device::new(&mut rng, 0);
    let mut bytes = alice.bundle().to_bytes();
    // The KEM flag, before the certificate's.
    let kem = bytes.len() - 2;
    assert_eq!(bytes[kem], 0);
    bytes[kem] = 1;
    // With the `pq` feature the fields are missing; without it the KEM
    // prekey is unsupported.
    let expected =
        if cfg!(feature = "pq") { DecodeError::Truncated } else { DecodeError::Unsupported };
    assert_eq!(PreKeyBundle::from_bytes(&bytes).unwrap_err(), expected);
}

/// Offsets in a responder's stored session with a one-time prekey (see
/// docs/protocol.md §8.2).
const AWAITING_REPLY: usize = 1 + 1 + 8 + 66 + 66 + 33 + 4 + 1 + 4 + 1;
const RATCHET: usize = AWAITING_REPLY + 1;
const SENDING_FLAG: usize = RATCHET + 32 + 4 + 33;
const SENDING_COUNTER: usize = SENDING_FLAG + 1 + 32 + 33 + 32;

/// Bytes of a remembered chain besides its keys and ranges.
const CHAIN_FIXED: usize = 33 + 4 + 4 + 4 + 4;

#[test]
fn inconsistent_session_states_are_refused() {
    let mut rng = rng(73);
    let (mut bob, mut alice) = pair(&mut rng);

    // A responder that claims to await a reply.
    let mut awaiting = state(&alice);
    assert_eq!(awaiting[AWAITING_REPLY], 0);
    awaiting[AWAITING_REPLY] = 1;
    assert_eq!(Session::from_bytes(&awaiting).unwrap_err(), DecodeError::InconsistentState);

    // Alice skips two of Bob's messages in one chain. The remembered chains
    // end the encoding: u32 chain count; then per chain Encode(key), u32
    // end, u32 unknown_below, u32 key count, (u32 number, 32-byte key)
    // per key, u32 range count, ranges.
    let _a = bob.encrypt(&mut rng, b"a").unwrap();
    let _b = bob.encrypt(&mut rng, b"b").unwrap();
    let c = bob.encrypt(&mut rng, b"c").unwrap();
    alice.decrypt(&c).unwrap();
    let bytes = state(&alice);
    let n = bytes.len();
    let (first, second) = (n - 4 - 72, n - 4 - 36);
    let key_count = first - 4;
    assert_eq!(&bytes[key_count..key_count + 4], &2u32.to_be_bytes());
    // Before it, Bob's first chain, which Alice remembers with no keys.
    let chain_count = key_count - 4 - 4 - 33 - CHAIN_FIXED - 4;
    assert_eq!(&bytes[chain_count..chain_count + 4], &2u32.to_be_bytes());

    // Entries out of order.
    let mut swapped = bytes.clone();
    swapped[first..second].copy_from_slice(&bytes[second..n - 4]);
    swapped[second..n - 4].copy_from_slice(&bytes[first..second]);
    assert_eq!(Session::from_bytes(&swapped).unwrap_err(), DecodeError::InconsistentState);

    // A skipped key at or past the next expected number of its chain.
    let mut ahead = bytes.clone();
    ahead[second..second + 4].copy_from_slice(&3u32.to_be_bytes());
    assert_eq!(Session::from_bytes(&ahead).unwrap_err(), DecodeError::InconsistentState);

    // More chains than the history holds.
    let mut too_many = bytes.clone();
    too_many[chain_count..chain_count + 4]
        .copy_from_slice(&(MAX_CHAIN_HISTORY as u32 + 1).to_be_bytes());
    assert_eq!(Session::from_bytes(&too_many).unwrap_err(), DecodeError::TooLong);

    // No chain at all, though the state has a receiving chain.
    let mut none = bytes[..chain_count].to_vec();
    none.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(Session::from_bytes(&none).unwrap_err(), DecodeError::InconsistentState);

    // The untouched state decodes.
    assert_eq!(state(&Session::from_bytes(&bytes).unwrap()), bytes);
}

/// One remembered chain, for building stored states: its encoded ratchet
/// key, `end`, `unknown_below`, the numbers of its stored keys (all
/// 0x55: decoding does not look at them) and its dropped ranges.
#[derive(Clone)]
struct Chain {
    key: Vec<u8>,
    end: u32,
    unknown_below: u32,
    keys: Vec<u32>,
    dropped: Vec<(u32, u32)>,
}

fn chain(key: &[u8], end: u32, keys: &[u32]) -> Chain {
    Chain { key: key.to_vec(), end, unknown_below: 0, keys: keys.to_vec(), dropped: vec![] }
}

/// A session state whose remembered chains are replaced by `chains`.
fn with_chains(bytes: &[u8], store_at: usize, chains: &[Chain]) -> Vec<u8> {
    let mut out = bytes[..store_at].to_vec();
    out.extend_from_slice(&(chains.len() as u32).to_be_bytes());
    for c in chains {
        out.extend_from_slice(&c.key);
        out.extend_from_slice(&c.end.to_be_bytes());
        out.extend_from_slice(&c.unknown_below.to_be_bytes());
        out.extend_from_slice(&(c.keys.len() as u32).to_be_bytes());
        for n in &c.keys {
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(&[0x55; 32]);
        }
        out.extend_from_slice(&(c.dropped.len() as u32).to_be_bytes());
        for (start, end) in &c.dropped {
            out.extend_from_slice(&start.to_be_bytes());
            out.extend_from_slice(&end.to_be_bytes());
        }
    }
    out
}

#[test]
fn remembered_chains_are_checked_at_their_limits() {
    use sealwire::limits::{MAX_DROPPED_RANGES, MAX_SKIPPED_KEYS};
    let mut rng = rng(78);
    let mut alice = Device::new(&mut rng, 1);
    let bob_identity = IdentityKeyPair::generate(&mut rng);
    let mut bob = Session::initiate(&mut rng, &bob_identity, &alice.bundle()).unwrap();
    // Alice accepts from Bob's second message: she holds his first chain
    // (next number 2) with key 0 skipped, and no other.
    let _lost = bob.encrypt(&mut rng, b"lost").unwrap();
    let (alice, _) = alice.accept(&bob.encrypt(&mut rng, b"seen").unwrap()).unwrap();
    let bytes = state(&alice);
    let store_at = bytes.len() - 4 - CHAIN_FIXED - 36;
    assert_eq!(&bytes[store_at..store_at + 4], &1u32.to_be_bytes());
    let current_key = bytes[store_at + 4..store_at + 37].to_vec();
    let current = |keys: &[u32]| chain(&current_key, 2, keys);
    // Other (older) ratchet keys: any canonical u-coordinate decodes.
    let other = |n: u8| {
        let mut key = current_key.clone();
        key[1..].fill(0);
        key[1] = n;
        key[2] = 1;
        key
    };
    let decode = |chains: &[Chain]| {
        Session::from_bytes(&with_chains(&bytes, store_at, chains)).map(|s| state(&s))
    };
    let inconsistent = Err(DecodeError::InconsistentState);

    // The builder reproduces the real store, but for the message key.
    let rebuilt = with_chains(&bytes, store_at, &[current(&[0])]);
    assert_eq!(rebuilt.len(), bytes.len());
    assert_eq!(rebuilt[..bytes.len() - 36], bytes[..bytes.len() - 36]);
    assert_eq!(decode(&[current(&[0])]), Ok(rebuilt));

    // An earlier chain with no keys is remembered (for replays).
    assert!(decode(&[chain(&other(9), 5, &[]), current(&[0])]).is_ok());
    // One ratchet key, two chains.
    assert_eq!(
        decode(&[chain(&other(9), 5, &[0]), chain(&other(9), 5, &[1]), current(&[])]),
        inconsistent
    );
    // The current chain comes last, and is there.
    assert_eq!(decode(&[current(&[0]), chain(&other(9), 5, &[0])]), inconsistent);
    assert_eq!(decode(&[chain(&other(9), 5, &[0])]), inconsistent);
    assert!(decode(&[chain(&other(9), 5, &[0]), current(&[0])]).is_ok());

    // At most MAX_RECEIVING_CHAINS − 1 earlier chains hold keys, beside
    // the current one.
    let holding: Vec<_> =
        (1..=MAX_RECEIVING_CHAINS as u8).map(|n| chain(&other(n), 1, &[0])).collect();
    let last = MAX_RECEIVING_CHAINS - 1;
    assert!(decode(&[&holding[..last], &[current(&[])]].concat()).is_ok());
    assert_eq!(decode(&[&holding[..], &[current(&[])]].concat()), inconsistent);

    // MAX_CHAIN_HISTORY chains in all, the current one included.
    let history: Vec<_> = (1..MAX_CHAIN_HISTORY as u8).map(|n| chain(&other(n), 3, &[])).collect();
    assert!(decode(&[&history[..], &[current(&[0])]].concat()).is_ok());
    let one_more = [&history[..], &[chain(&other(200), 3, &[])], &[current(&[0])]].concat();
    assert_eq!(decode(&one_more), Err(DecodeError::TooLong));

    // MAX_SKIPPED_KEYS in all, however they are split across chains.
    let numbers = |n: usize| (0..n as u32).collect::<Vec<_>>();
    let half = MAX_SKIPPED_KEYS / 2;
    let full = [
        chain(&other(9), half as u32, &numbers(half)),
        chain(&other(10), half as u32, &numbers(half)),
        current(&[]),
    ];
    let decoded = decode(&full).unwrap();
    assert_eq!(decoded, with_chains(&bytes, store_at, &full));
    let over = [
        chain(&other(9), half as u32, &numbers(half)),
        chain(&other(10), half as u32 + 1, &numbers(half + 1)),
        current(&[]),
    ];
    assert_eq!(decode(&over), Err(DecodeError::TooLong));

    // Dropped ranges: MAX_DROPPED_RANGES in all; apart, ordered, below
    // every key and within the chain; above `unknown_below`.
    let ranges = |n: u32| (0..n).map(|i| (2 * i, 2 * i + 1)).collect::<Vec<_>>();
    let with_ranges = |dropped: Vec<(u32, u32)>, unknown_below: u32, keys: &[u32]| Chain {
        dropped,
        unknown_below,
        ..chain(&other(9), 1000, keys)
    };
    let max = MAX_DROPPED_RANGES as u32;
    assert!(decode(&[with_ranges(ranges(max), 0, &[]), current(&[])]).is_ok());
    assert_eq!(
        decode(&[with_ranges(ranges(max + 1), 0, &[]), current(&[])]),
        Err(DecodeError::TooLong)
    );
    assert!(decode(&[with_ranges(vec![(3, 5), (7, 9)], 2, &[9, 12]), current(&[])]).is_ok());
    for (dropped, unknown_below, keys) in [
        (vec![(3, 5), (5, 9)], 0, vec![]), // adjacent: one range
        (vec![(7, 9), (3, 5)], 0, vec![]), // out of order
        (vec![(3, 3)], 0, vec![]),         // empty
        (vec![(3, 5)], 0, vec![4]),        // a key inside a dropped range
        (vec![(3, 5)], 3, vec![]),         // starts at `unknown_below`
        (vec![(3, 5)], 4, vec![]),         // below `unknown_below`
        (vec![(998, 1001)], 0, vec![]),    // past the chain's end
        (vec![], 1001, vec![]),            // `unknown_below` past the end
        (vec![], 5, vec![4]),              // a key below `unknown_below`
    ] {
        assert_eq!(
            decode(&[with_ranges(dropped.clone(), unknown_below, &keys), current(&[])]),
            inconsistent,
            "{dropped:?} {unknown_below} {keys:?}"
        );
    }
}

#[test]
fn the_sending_counter_stops_one_short_of_u32_max() {
    let mut rng = rng(76);
    let (_bob, mut alice) = pair(&mut rng);
    // After `pair`, Alice has a sending chain (she replied once).
    let mut bytes = state(&alice);
    assert_eq!(bytes[SENDING_FLAG], 1);
    assert_eq!(&bytes[SENDING_COUNTER..SENDING_COUNTER + 4], &1u32.to_be_bytes());
    bytes[SENDING_COUNTER..SENDING_COUNTER + 4].copy_from_slice(&(u32::MAX - 1).to_be_bytes());
    alice = Session::from_bytes(&bytes).unwrap();

    let last = alice.encrypt(&mut rng, b"last").unwrap();
    let header = *RatchetMessage::parse(&last).unwrap().header();
    assert_eq!(header.counter, u32::MAX - 1);
    let before = state(&alice);
    assert_eq!(alice.encrypt(&mut rng, b"one more"), Err(EncryptError::ChainExhausted));
    assert_eq!(state(&alice), before);

    // A header with N = u32::MAX is never valid.
    let mut forged = last.clone();
    forged[38..42].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(RatchetMessage::parse(&forged).unwrap_err(), DecodeError::InvalidValue);
}

#[test]
fn a_stored_ratchet_public_key_is_trusted_and_a_wrong_one_only_breaks_sending() {
    // docs/protocol.md §8.2: the decoder does not recompute DHs's public key.
    let mut rng = rng(79);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut bytes = state(&alice);
    let public = SENDING_FLAG + 1 + 32;
    assert_eq!(bytes[public], 0x02, "Encode(DHs public key) follows the secret");
    // Alice's last message carried this key in its header.
    let sent = alice.encrypt(&mut rng, b"before").unwrap();
    assert_eq!(&bytes[public + 1..public + 33], &common::ratchet_key(&sent));
    bob.decrypt(&sent).unwrap();

    bytes[public + 1] ^= 1;
    let mut broken = Session::from_bytes(&bytes).unwrap();
    let m = broken.encrypt(&mut rng, b"after").unwrap();
    assert_ne!(common::ratchet_key(&m), common::ratchet_key(&sent));
    common::assert_refused(&mut bob, &m);
}

#[test]
fn sizes_match_the_specification() {
    // docs/protocol.md §4.3, §7.1, §8.2, §10, §11.
    // With a KEM prekey: id, kind, Encode(PQPK), signature.
    let kem = if cfg!(feature = "pq") { 4 + 1 + 1185 + 64 } else { 0 };
    assert_eq!(PreKeyBundle::MAX_ENCODED_LEN, 611 + kem);
    assert_eq!(Session::MAX_ENCODED_LEN, 74_473 + 1 + 4 + 32 + 1 + 1088);
    assert_eq!(sealwire::limits::MAX_MESSAGE_LEN, 1_050_624);
    assert_eq!(SignedPreKey::ENCODED_LEN, 102);
    assert_eq!(OneTimePreKey::ENCODED_LEN, 38);
    assert_eq!(SignedPreKeyPair::ENCODED_LEN, 101);
    assert_eq!(OneTimePreKeyPair::ENCODED_LEN, 37);
    assert_eq!(IdentityKeyPair::ENCODED_LEN, 33);
    assert_eq!(TrustRoot::MAX_ENCODED_LEN, 102);
    assert_eq!(IssuerCertificate::MAX_ENCODED_LEN, 186);
    assert_eq!(SenderCertificate::MAX_ENCODED_LEN, 436);
    // docs/sessions.md §3.
    assert_eq!(Address::MAX_ENCODED_LEN, 142);
    assert_eq!(RemoteIdentity::MAX_ENCODED_LEN, 374);
    assert_eq!(DeviceList::MAX_ENCODED_LEN, 131);
    assert_eq!(Account::MAX_ENCODED_LEN, 715);
    assert_eq!(SessionRecord::MAX_ENCODED_LEN, 680_590);
    assert_eq!(SafetyNumber::SCANNABLE_LEN, 66);
    assert_eq!(CertificateKeyPair::ENCODED_LEN, 33);
    assert_eq!(sealwire::limits::MAX_ENVELOPE_LEN, 4_194_304);
    assert_eq!(MultiRecipientEnvelope::MAX_ENCODED_LEN, 4_526_003);

    let mut rng = rng(77);
    let (mut bob, mut alice) = pair(&mut rng);
    for len in [0usize, 1, 100] {
        let m = bob.encrypt(&mut rng, &vec![7u8; len]).unwrap();
        assert_eq!(m.len(), len + 86, "a ratchet message is 86 bytes longer than its plaintext");
        alice.decrypt(&m).unwrap();
    }
}
