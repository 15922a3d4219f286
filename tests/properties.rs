//! Property tests: delivery orders and losses, and round trips of every
//! encoding, over generated inputs. Failing cases are kept in
//! `tests/properties.proptest-regressions`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, Device, NOW, pair_with, rng, trusting};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::*;

/// One turn: how many messages its sender sends, and which of the
/// messages it has received the next sender reads before replying (as a
/// bit mask; at least one, or there would be no DH step).
#[derive(Debug, Clone)]
struct Turn {
    count: usize,
    read_before_reply: u64,
}

fn turns() -> impl Strategy<Value = Vec<Turn>> {
    // At most 8 turns: 4 ratchet keys per side, below MAX_RECEIVING_CHAINS,
    // and at most 48 messages, far below MAX_SKIP: no limit can be reached,
    // so every message that is not lost must decrypt.
    prop::collection::vec((1usize..=6, any::<u64>()), 1..=8).prop_map(|v| {
        v.into_iter().map(|(count, read_before_reply)| Turn { count, read_before_reply }).collect()
    })
}

struct Sent {
    to_alice: bool,
    bytes: Vec<u8>,
    plaintext: Vec<u8>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_order_with_losses(
        turns in turns(),
        lost in any::<u64>(),
        order_seed in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let mut rng = rng(seed);
        let mut alice_device = Device::new(&mut rng, 1);
        let bob_identity = IdentityKeyPair::generate(&mut rng);
        // Bob starts the session; the first turn is his.
        let (mut bob, mut alice) = pair_with(&mut rng, &bob_identity, &mut alice_device);
        let mut sent: Vec<Sent> = Vec::new();
        let mut delivered = vec![false; 0];

        for (t, turn) in turns.iter().enumerate() {
            let bob_sends = t % 2 == 0;
            // Before replying, the sender reads some of what it received.
            let waiting: Vec<usize> = (0..sent.len())
                .filter(|&i| !delivered[i] && sent[i].to_alice != bob_sends)
                .collect();
            let mut read = 0;
            for (k, &i) in waiting.iter().enumerate() {
                if turn.read_before_reply >> (k % 64) & 1 == 1 || (read == 0 && k + 1 == waiting.len()) {
                    let receiver = if bob_sends { &mut bob } else { &mut alice };
                    prop_assert_eq!(receiver.decrypt(&sent[i].bytes).unwrap(), sent[i].plaintext.clone());
                    delivered[i] = true;
                    read += 1;
                }
            }
            for m in 0..turn.count {
                let plaintext = format!("turn {t} message {m}").into_bytes();
                let sender = if bob_sends { &mut bob } else { &mut alice };
                let bytes = sender.encrypt(&mut rng, &plaintext).unwrap();
                sent.push(Sent { to_alice: bob_sends, bytes, plaintext });
                delivered.push(false);
            }
        }

        // Everything not yet read and not lost arrives, in a random order.
        let mut rest: Vec<usize> = (0..sent.len()).filter(|&i| !delivered[i] && lost >> (i % 64) & 1 == 0).collect();
        let mut order = ChaCha20Rng::seed_from_u64(order_seed);
        for i in (1..rest.len()).rev() {
            let j = (rand_core::Rng::next_u64(&mut order) % (i as u64 + 1)) as usize;
            rest.swap(i, j);
        }
        for i in rest {
            let receiver = if sent[i].to_alice { &mut alice } else { &mut bob };
            prop_assert_eq!(receiver.decrypt(&sent[i].bytes).unwrap(), sent[i].plaintext.clone());
            delivered[i] = true;
        }
        // Every delivered message is refused a second time, and the refusal
        // changes nothing.
        for (i, m) in sent.iter().enumerate().filter(|(i, _)| delivered[*i]) {
            let receiver = if m.to_alice { &mut alice } else { &mut bob };
            let before = receiver.to_bytes().to_vec();
            prop_assert!(receiver.decrypt(&m.bytes).is_err(), "message {} decrypted twice", i);
            prop_assert_eq!(receiver.to_bytes().to_vec(), before);
        }
    }
}

fn app_id() -> impl Strategy<Value = AppId> {
    "[a-z0-9._-]{1,64}".prop_map(|s| AppId::new(&s).unwrap())
}

fn user_id() -> impl Strategy<Value = UserId> {
    prop::collection::vec(any::<u8>(), 1..=64).prop_map(|b| UserId::new(&b).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn keys_and_prekeys_round_trip(seed in any::<u64>(), id in any::<u32>(), with_opk in any::<bool>()) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let identity = IdentityKeyPair::generate(&mut rng);
        let again = IdentityKeyPair::from_bytes(&identity.to_bytes()).unwrap();
        prop_assert_eq!(again.public(), identity.public());
        prop_assert_eq!(IdentityKey::from_bytes(&identity.public().to_bytes()).unwrap(), *identity.public());

        let spk = SignedPreKeyPair::generate(&mut rng, &identity, PreKeyId(id));
        prop_assert_eq!(SignedPreKeyPair::from_bytes(&spk.to_bytes()).unwrap().public(), spk.public());
        prop_assert_eq!(SignedPreKey::from_bytes(&spk.public().to_bytes()).unwrap(), spk.public());
        prop_assert!(spk.public().verify(identity.public()).is_ok());
        let key = *spk.public().key();
        prop_assert_eq!(X25519PublicKey::from_bytes(&key.to_bytes()).unwrap(), key);

        let opk = OneTimePreKeyPair::generate(&mut rng, PreKeyId(id.wrapping_add(1)));
        prop_assert_eq!(OneTimePreKeyPair::from_bytes(&opk.to_bytes()).unwrap().public(), opk.public());
        prop_assert_eq!(OneTimePreKey::from_bytes(&opk.public().to_bytes()).unwrap(), opk.public());

        let bundle = PreKeyBundle::new(*identity.public(), spk.public(), with_opk.then(|| opk.public()));
        prop_assert_eq!(PreKeyBundle::from_bytes(&bundle.to_bytes()).unwrap(), bundle);

        let ck = CertificateKeyPair::generate(&mut rng);
        prop_assert_eq!(CertificateKeyPair::from_bytes(&ck.to_bytes()).unwrap().public(), ck.public());
        prop_assert_eq!(CertificateKey::from_bytes(&ck.public().to_bytes()).unwrap(), ck.public());
    }

    #[test]
    fn certificates_round_trip(
        seed in any::<u64>(),
        app in app_id(),
        user in user_id(),
        key_id in any::<u32>(),
        device in any::<u32>(),
        window in (any::<u64>(), any::<u64>()),
        expires in any::<u64>(),
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let root = CertificateKeyPair::generate(&mut rng);
        let issuer_key = CertificateKeyPair::generate(&mut rng);
        let (from, to) = (window.0.min(window.1), window.0.max(window.1));
        let issuer = IssuerCertificate::issue(&root, &app, key_id, &issuer_key.public(), Timestamp(from), Timestamp(to)).unwrap();
        prop_assert_eq!(&IssuerCertificate::from_bytes(&issuer.to_bytes()).unwrap(), &issuer);
        let identity = IdentityKeyPair::generate(&mut rng);
        let cert = SenderCertificate::issue(&issuer_key, &issuer, user, DeviceId(device), identity.public(), Timestamp(expires)).unwrap();
        prop_assert_eq!(&SenderCertificate::from_bytes(&cert.to_bytes()).unwrap(), &cert);
        let trust_root = TrustRoot::new(app, root.public());
        prop_assert_eq!(&TrustRoot::from_bytes(&trust_root.to_bytes()).unwrap(), &trust_root);
        // At the start of the issuer's window it validates exactly when the
        // sender certificate has not expired.
        let mut store = TrustStore::new();
        store.add_root(&trust_root);
        let expected = if from <= expires { Ok(()) } else { Err(CertificateError::Expired) };
        prop_assert_eq!(store.validate(&cert, Timestamp(from)), expected);
    }

    #[test]
    fn messages_sessions_and_envelopes_round_trip(
        seed in any::<u64>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..300),
        skips in 0usize..6,
        recipients in 1usize..5,
        padded in any::<bool>(),
    ) {
        let mut rng = rng(seed);
        let mut alice_device = Device::new(&mut rng, 1);
        let bob_identity = IdentityKeyPair::generate(&mut rng);
        let (mut bob, mut alice) = pair_with(&mut rng, &bob_identity, &mut alice_device);
        for _ in 0..skips {
            bob.encrypt(&mut rng, b"lost").unwrap();
        }
        let m = bob.encrypt(&mut rng, &plaintext).unwrap();
        prop_assert_eq!(Message::parse(&m).unwrap().to_bytes(), m.clone());
        prop_assert_eq!(RatchetMessage::parse(&m).unwrap().to_bytes(), m.clone());
        alice.decrypt(&m).unwrap();
        for session in [&alice, &bob] {
            let stored = session.to_bytes().to_vec();
            let again = Session::from_bytes(&stored).unwrap().to_bytes().to_vec();
            prop_assert_eq!(again, stored);
        }
        prop_assert_eq!(alice.skipped_key_count(), skips);

        let app = App::new(&mut rng, "app-a");
        let mut sealer = Sealer::new(app.certify("bob", 1, bob_identity.public()));
        let padding = if padded { Padding::Buckets } else { Padding::None };
        let keys: Vec<IdentityKeyPair> = (0..recipients).map(|_| IdentityKeyPair::generate(&mut rng)).collect();
        let entries: Vec<(IdentityKey, &[u8])> = keys.iter().map(|k| (*k.public(), &m[..])).collect();
        let multi = sealer.seal_to_many(&mut rng, &bob_identity, &entries, padding).unwrap();
        let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
        prop_assert_eq!(parsed.to_bytes(), multi.clone());
        let trust = trusting(&[&app]);
        for (k, (recipient, envelope)) in keys.iter().zip(common::split(&parsed)) {
            prop_assert_eq!(&recipient, k.public());
            prop_assert_eq!(SealedEnvelope::parse(&envelope).unwrap().to_bytes(), envelope.clone());
            let opened = unseal(k, &trust, NOW, &envelope).unwrap();
            prop_assert_eq!(opened.message_unchecked(), &m[..]);
        }
    }
}
