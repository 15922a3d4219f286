//! One envelope for many recipients: a user's several devices, split by the
//! relay; what each recipient can and cannot open; the relay tampering with
//! shares; the recipient limit at its edge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{App, Device, NOW, rng, trusting};
use rand_chacha::ChaCha20Rng;
use sealwire::limits::{MAX_CACHED_PEERS, MAX_ENVELOPE_LEN, MAX_PLAINTEXT_LEN, MAX_RECIPIENTS};
use sealwire::{
    DecodeError, IdentityKey, IdentityKeyPair, MultiRecipientEnvelope, Padding, SealError,
    SealedEnvelope, Sealer, Session, TrustStore, UnsealError, unseal,
};

/// Alice (app A) with a session to each of Bob's three devices (app B).
struct Fanout {
    rng: ChaCha20Rng,
    alice: IdentityKeyPair,
    sealer: Sealer,
    sessions: Vec<Session>,
    devices: Vec<Device>,
    trust: TrustStore,
}

impl Fanout {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let a = App::new(&mut rng, "app-a");
        let b = App::new(&mut rng, "app-b");
        let alice = IdentityKeyPair::generate(&mut rng);
        let sealer = Sealer::new(a.certify("alice", 1, alice.public()));
        let mut devices: Vec<Device> = (0..3).map(|_| Device::new(&mut rng, 1)).collect();
        let sessions = devices
            .iter_mut()
            .map(|d| Session::initiate(&mut rng, &alice, &d.bundle()).unwrap())
            .collect();
        Self { rng, alice, sealer, sessions, devices, trust: trusting(&[&a, &b]) }
    }

    /// One message for all of Bob's devices: a multi-recipient envelope.
    fn send_to_all(&mut self, text: &[u8]) -> Vec<u8> {
        let messages: Vec<(IdentityKey, Vec<u8>)> = self
            .sessions
            .iter_mut()
            .zip(&self.devices)
            .map(|(s, d)| (*d.identity.public(), s.encrypt(&mut self.rng, text).unwrap()))
            .collect();
        let refs: Vec<(IdentityKey, &[u8])> = messages.iter().map(|(k, m)| (*k, &m[..])).collect();
        self.sealer.seal_to_many(&mut self.rng, &self.alice, &refs, Padding::Buckets).unwrap()
    }
}

#[test]
fn every_recipient_opens_it() {
    let mut f = Fanout::new(1);
    let multi = f.send_to_all(b"to all my bobs");
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    assert_eq!(parsed.recipients().count(), 3);
    let split = common::split(&parsed);
    for ((recipient, envelope), device) in split.iter().zip(f.devices.iter_mut()) {
        assert_eq!(recipient, device.identity.public());
        let opened = unseal(&device.identity, &f.trust, NOW, envelope).unwrap();
        assert_eq!(opened.user_id().as_bytes(), b"alice");
        let (_, text) = device.store.accept_unsealed(&device.identity, &opened).unwrap();
        assert_eq!(text, b"to all my bobs");
    }
    // Every split envelope has the same size: the relay learns nothing
    // about which entry is whose.
    assert!(split.windows(2).all(|p| p[0].1.len() == p[1].1.len()));
}

#[test]
fn a_conversation_with_every_device() {
    let mut f = Fanout::new(2);
    let mut bob_sessions: Vec<Session> = Vec::new();
    let first = f.send_to_all(b"first");
    for (i, (_, envelope)) in
        common::split(&MultiRecipientEnvelope::parse(&first).unwrap()).iter().enumerate()
    {
        let device = &mut f.devices[i];
        let opened = unseal(&device.identity, &f.trust, NOW, envelope).unwrap();
        let (session, _) = device.store.accept_unsealed(&device.identity, &opened).unwrap();
        bob_sessions.push(session);
    }
    // Each device replies (directly, to keep the test short); Alice's next
    // fan-out is ratchet messages.
    for (i, session) in bob_sessions.iter_mut().enumerate() {
        let r = session.encrypt(&mut f.rng, b"ack").unwrap();
        f.sessions[i].decrypt(&r).unwrap();
    }
    let second = f.send_to_all(b"second");
    for (i, (_, envelope)) in
        common::split(&MultiRecipientEnvelope::parse(&second).unwrap()).iter().enumerate()
    {
        let opened = unseal(&f.devices[i].identity, &f.trust, NOW, envelope).unwrap();
        assert_eq!(opened.content_type(), sealwire::ContentType::Ratchet);
        assert_eq!(opened.decrypt(&mut bob_sessions[i]).unwrap(), b"second");
    }
}

#[test]
fn a_recipient_cannot_open_anothers_share() {
    let mut f = Fanout::new(3);
    let multi = f.send_to_all(b"private per device");
    let split = common::split(&MultiRecipientEnvelope::parse(&multi).unwrap());
    // Device 1 given device 0's envelope.
    let d1 = &f.devices[1];
    assert_eq!(
        unseal(&d1.identity, &f.trust, NOW, &split[0].1).unwrap_err(),
        UnsealError::NotForRecipient
    );
    // ...with the recipient field rewritten to its own key.
    let mut relabeled = split[0].1.clone();
    relabeled[1..34].copy_from_slice(&d1.identity.public().to_bytes());
    assert_eq!(unseal(&d1.identity, &f.trust, NOW, &relabeled).unwrap_err(), UnsealError::Failed);
    // An outsider, with the whole multi-recipient envelope, has no share.
    let outsider = IdentityKeyPair::generate(&mut f.rng);
    assert!(
        MultiRecipientEnvelope::parse(&multi).unwrap().envelope_for(outsider.public()).is_none()
    );
}

/// Offsets in a multi-recipient envelope: tag, Encode(E), the commitment
/// K_C, u32 n, then shares of 81 bytes (recipient 33, wrapped secret 32,
/// tag 16).
const COUNT_AT: usize = 1 + 33 + 32;
const SHARES_AT: usize = COUNT_AT + 4;
const SHARE_LEN: usize = 81;

#[test]
fn swapped_shares_are_detected() {
    let mut f = Fanout::new(4);
    let multi = f.send_to_all(b"x");
    // The relay swaps the wrapped secrets and tags of shares 0 and 1,
    // keeping the recipient fields.
    let mut swapped = multi.clone();
    let (s0, s1) = (SHARES_AT, SHARES_AT + SHARE_LEN);
    let body0 = multi[s0 + 33..s0 + SHARE_LEN].to_vec();
    let body1 = multi[s1 + 33..s1 + SHARE_LEN].to_vec();
    swapped[s0 + 33..s0 + SHARE_LEN].copy_from_slice(&body1);
    swapped[s1 + 33..s1 + SHARE_LEN].copy_from_slice(&body0);
    let split = common::split(&MultiRecipientEnvelope::parse(&swapped).unwrap());
    for (i, (_, envelope)) in split.iter().enumerate().take(2) {
        assert_eq!(
            unseal(&f.devices[i].identity, &f.trust, NOW, envelope).unwrap_err(),
            UnsealError::Failed
        );
    }
    // The untouched third share still opens.
    assert!(unseal(&f.devices[2].identity, &f.trust, NOW, &split[2].1).is_ok());

    // Moving whole shares around is only a reordering: each still opens.
    let mut reordered = multi.clone();
    let share0 = multi[s0..s0 + SHARE_LEN].to_vec();
    let share1 = multi[s1..s1 + SHARE_LEN].to_vec();
    reordered[s0..s0 + SHARE_LEN].copy_from_slice(&share1);
    reordered[s1..s1 + SHARE_LEN].copy_from_slice(&share0);
    let parsed = MultiRecipientEnvelope::parse(&reordered).unwrap();
    for device in &f.devices {
        let envelope = parsed.envelope_for(device.identity.public()).unwrap();
        assert!(unseal(&device.identity, &f.trust, NOW, &envelope).is_ok());
    }
}

#[test]
fn shares_moved_between_envelopes_are_detected() {
    let mut f = Fanout::new(5);
    let x = f.send_to_all(b"envelope x");
    let y = f.send_to_all(b"envelope y");
    // Envelope y with envelope x's share for device 0.
    let mut mixed = y.clone();
    mixed[SHARES_AT..SHARES_AT + SHARE_LEN].copy_from_slice(&x[SHARES_AT..SHARES_AT + SHARE_LEN]);
    let envelope = MultiRecipientEnvelope::parse(&mixed)
        .unwrap()
        .envelope_for(f.devices[0].identity.public())
        .unwrap();
    assert_eq!(
        unseal(&f.devices[0].identity, &f.trust, NOW, &envelope).unwrap_err(),
        UnsealError::Failed
    );
}

#[test]
fn removed_shares() {
    let mut f = Fanout::new(6);
    let multi = f.send_to_all(b"x");
    // The relay drops device 1's share and fixes up the count: the envelope
    // is still well formed, device 1 has nothing to receive (a relay can
    // always withhold), and the others are unaffected.
    let mut without = multi[..SHARES_AT].to_vec();
    without[COUNT_AT..SHARES_AT].copy_from_slice(&2u32.to_be_bytes());
    without.extend_from_slice(&multi[SHARES_AT..SHARES_AT + SHARE_LEN]);
    without.extend_from_slice(&multi[SHARES_AT + 2 * SHARE_LEN..]);
    let parsed = MultiRecipientEnvelope::parse(&without).unwrap();
    assert!(parsed.envelope_for(f.devices[1].identity.public()).is_none());
    for i in [0, 2] {
        let envelope = parsed.envelope_for(f.devices[i].identity.public()).unwrap();
        assert!(unseal(&f.devices[i].identity, &f.trust, NOW, &envelope).is_ok());
    }
    // Cutting a share out without fixing the count is malformed.
    let mut cut = multi[..SHARES_AT + SHARE_LEN].to_vec();
    cut.extend_from_slice(&multi[SHARES_AT + 2 * SHARE_LEN..]);
    assert!(MultiRecipientEnvelope::parse(&cut).is_err());
}

#[test]
fn a_repeated_share_is_refused_by_the_relay_parser() {
    let mut f = Fanout::new(7);
    let multi = f.send_to_all(b"x");
    let mut repeated = multi.clone();
    repeated.copy_within(SHARES_AT..SHARES_AT + SHARE_LEN, SHARES_AT + SHARE_LEN);
    assert_eq!(
        MultiRecipientEnvelope::parse(&repeated).unwrap_err(),
        DecodeError::InconsistentState
    );
    let mut none = multi[..SHARES_AT].to_vec();
    none[COUNT_AT..SHARES_AT].copy_from_slice(&0u32.to_be_bytes());
    none.extend_from_slice(&multi[SHARES_AT + 3 * SHARE_LEN..]);
    assert_eq!(MultiRecipientEnvelope::parse(&none).unwrap_err(), DecodeError::InvalidValue);
}

#[test]
fn each_recipient_costs_a_share_and_an_entry() {
    let mut rng = rng(8);
    let a = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(a.certify("alice", 1, alice.public()));
    let message = {
        let mut d = Device::new(&mut rng, 0);
        let mut s = Session::initiate(&mut rng, &alice, &d.bundle()).unwrap();
        s.encrypt(&mut rng, b"m").unwrap()
    };
    let recipients: Vec<IdentityKey> =
        (0..4).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    let mut sizes = Vec::new();
    for n in 1..=4 {
        let msgs: Vec<(IdentityKey, &[u8])> =
            recipients[..n].iter().map(|r| (*r, &message[..])).collect();
        sizes.push(sealer.seal_to_many(&mut rng, &alice, &msgs, Padding::None).unwrap().len());
    }
    // One more recipient: an 81-byte share and a 38-byte entry header with
    // its message.
    for pair in sizes.windows(2) {
        assert_eq!(pair[1] - pair[0], 81 + 38 + message.len());
    }
}

#[test]
fn the_recipient_limit_at_its_edge() {
    let mut rng = rng(9);
    let a = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(a.certify("alice", 1, alice.public()));
    let mut last = Device::new(&mut rng, 1);
    let mut session = Session::initiate(&mut rng, &alice, &last.bundle()).unwrap();
    let message = session.encrypt(&mut rng, b"to many").unwrap();

    let mut recipients: Vec<IdentityKey> =
        (0..MAX_RECIPIENTS - 1).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    recipients.push(*last.identity.public());
    let msgs: Vec<(IdentityKey, &[u8])> = recipients.iter().map(|r| (*r, &message[..])).collect();
    let multi = sealer.seal_to_many(&mut rng, &alice, &msgs, Padding::Buckets).unwrap();
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    assert_eq!(parsed.recipients().count(), MAX_RECIPIENTS);
    let envelope = parsed.envelope_for(last.identity.public()).unwrap();
    let opened = unseal(&last.identity, &trusting(&[&a]), NOW, &envelope).unwrap();
    let (_, text) = last.store.accept_unsealed(&last.identity, &opened).unwrap();
    assert_eq!(text, b"to many");
    // The sealer remembers the authentication keys of the most recent
    // MAX_CACHED_PEERS recipients only.
    let shown = format!("{sealer:?}");
    assert!(shown.ends_with(&format!("cached_peers: {MAX_CACHED_PEERS} }}")), "{shown}");

    let one_more = *IdentityKeyPair::generate(&mut rng).public();
    let mut msgs = msgs;
    msgs.push((one_more, &message[..]));
    assert_eq!(
        sealer.seal_to_many(&mut rng, &alice, &msgs, Padding::Buckets).unwrap_err(),
        SealError::TooManyRecipients
    );
}

#[test]
fn the_envelope_size_limit_at_its_edge() {
    let mut rng = rng(10);
    let a = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(a.certify("alice", 1, alice.public()));
    let mut device = Device::new(&mut rng, 0);
    let mut session = Session::initiate(&mut rng, &alice, &device.bundle()).unwrap();
    let recipients: Vec<IdentityKeyPair> =
        (0..4).map(|_| IdentityKeyPair::generate(&mut rng)).collect();

    // What one recipient's envelope costs beside its message, and what a
    // message costs beside its plaintext, measured.
    let probe = session.encrypt(&mut rng, b"").unwrap();
    let to = *recipients[0].public();
    let single = sealer.seal(&mut rng, &alice, &to, &probe, Padding::None).unwrap();
    let (fixed, per_message) = (single.len() - probe.len(), probe.len());

    // Four messages whose envelope is exactly MAX_ENVELOPE_LEN: each
    // recipient's envelope holds every message and a 38-byte entry header
    // for each.
    let room = MAX_ENVELOPE_LEN - fixed - 3 * 38 - 3 * (per_message + MAX_PLAINTEXT_LEN);
    let plaintexts = [MAX_PLAINTEXT_LEN, MAX_PLAINTEXT_LEN, MAX_PLAINTEXT_LEN, room - per_message];
    let seal = |sealer: &mut Sealer, session: &mut Session, rng: &mut ChaCha20Rng, last: usize| {
        let messages: Vec<Vec<u8>> = plaintexts[..3]
            .iter()
            .chain([&last])
            .map(|&len| session.encrypt(rng, &vec![7u8; len]).unwrap())
            .collect();
        let msgs: Vec<(IdentityKey, &[u8])> =
            recipients.iter().zip(&messages).map(|(r, m)| (*r.public(), &m[..])).collect();
        (sealer.seal_to_many(rng, &alice, &msgs, Padding::None), messages)
    };
    let (multi, messages) = seal(&mut sealer, &mut session, &mut rng, plaintexts[3]);
    let multi = multi.unwrap();
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    let envelope = parsed.envelope_for(recipients[3].public()).unwrap();
    assert_eq!(envelope.len(), MAX_ENVELOPE_LEN);
    let opened = unseal(&recipients[3], &trusting(&[&a]), NOW, &envelope).unwrap();
    assert_eq!(opened.message_unchecked(), &messages[3][..]);

    let (one_more, _) = seal(&mut sealer, &mut session, &mut rng, plaintexts[3] + 1);
    assert_eq!(one_more.unwrap_err(), SealError::TooLong);
}

#[test]
fn payload_lengths_at_their_edges() {
    // docs/protocol.md §10.4: 16 ≤ P ≤ MAX_ENVELOPE_LEN − 151, in both forms.
    let mut f = Fanout::new(11);
    let m = f.sessions[0].encrypt(&mut f.rng, b"edge").unwrap();
    let to = *f.devices[0].identity.public();
    let multi =
        f.sealer.seal_to_many(&mut f.rng, &f.alice, &[(to, &m[..])], Padding::None).unwrap();
    // Header: version, Encode(ephemeral), K_C, u32 count = 1, one 81-byte
    // share.
    let header = SHARES_AT + 81;
    let with_payload = |len: usize| {
        let mut bytes = multi[..header].to_vec();
        bytes.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        bytes.resize(bytes.len() + len, 0x5a);
        bytes
    };
    let largest = MAX_ENVELOPE_LEN - 151;
    for (len, ok) in [(15, false), (16, true), (largest, true), (largest + 1, false)] {
        let bytes = with_payload(len);
        let parsed = MultiRecipientEnvelope::parse(&bytes);
        assert_eq!(parsed.is_ok(), ok, "payload of {len} bytes: {parsed:?}");
        if let Ok(parsed) = parsed {
            // What the relay forwards parses as a sealed envelope, at most
            // MAX_ENVELOPE_LEN long.
            let envelope = parsed.envelope_for(&to).unwrap();
            assert_eq!(envelope.len(), len + 151);
            SealedEnvelope::parse(&envelope).unwrap();
        }
    }
    assert_eq!(
        MultiRecipientEnvelope::parse(&with_payload(15)).unwrap_err(),
        DecodeError::Truncated
    );
    assert_eq!(
        MultiRecipientEnvelope::parse(&with_payload(largest + 1)).unwrap_err(),
        DecodeError::TooLong
    );

    // The same edges for a sealed envelope: version, recipient, ephemeral
    // key, K_C, wrapped secret and tag, then the payload's length.
    let sealed = f.sealer.seal(&mut f.rng, &f.alice, &to, &m, Padding::None).unwrap();
    let with_payload = |len: usize| {
        let mut bytes = sealed[..147].to_vec();
        bytes.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        bytes.resize(bytes.len() + len, 0x5a);
        bytes
    };
    assert_eq!(SealedEnvelope::parse(&with_payload(15)).unwrap_err(), DecodeError::Truncated);
    assert!(SealedEnvelope::parse(&with_payload(16)).is_ok());
    assert!(SealedEnvelope::parse(&with_payload(largest)).is_ok());
    assert_eq!(
        SealedEnvelope::parse(&with_payload(largest + 1)).unwrap_err(),
        DecodeError::TooLong
    );
}

/// A malicious sender wraps a different envelope secret for each of two
/// recipients, and makes one payload that ChaCha20-Poly1305 accepts under
/// both derived keys (Poly1305 does not commit to its key: one solved
/// ciphertext block is enough). Without the commitment K_C the two would
/// read different contents from the same envelope. With it, the second
/// recipient refuses (docs/protocol.md §10.1, §10.5).
#[test]
fn a_sender_who_wraps_a_different_secret_for_each_recipient_is_caught() {
    use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    use chacha20poly1305::aead::AeadInOut;
    use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
    use common::forge;
    use common::poly1305::{blocks, chacha_poly_key, collide, tag};
    use rand_core::Rng;

    let mut f = Fanout::new(12);
    let (to0, to1) = (*f.devices[0].identity.public(), *f.devices[1].identity.public());
    let certificate = f.sealer.certificate().clone();
    // Entries carrying ratchet messages, whose bytes unsealing does not
    // read (the session does): room for the block the attack solves for.
    let junk = |seed: u8| [&[0x32u8][..], &[seed; 160]].concat();
    let (junk0, junk1) = (junk(1), junk(2));
    let content = forge::content(&certificate, &[(to0, &junk0), (to1, &junk1)], 0);
    // The first message: after the certificate, the layout byte, the count
    // and the first entry's recipient, content type and length.
    let message_at = 4 + certificate.to_bytes().len() + 1 + 4 + 33 + 1 + 4;
    let block = (message_at + 8).div_ceil(16);

    let mut e = [0u8; 32];
    f.rng.fill_bytes(&mut e);
    let encoded_e = forge::encoded_ephemeral(&e);
    let mut s1 = [0u8; 32];
    f.rng.fill_bytes(&mut s1);
    let (k1, n1, commitment) = forge::payload_keys(&s1);
    let keystream = |key: &[u8; 32], nonce: &[u8; 12], len: usize| {
        let mut out = vec![0u8; len];
        let mut cipher = chacha20::ChaCha20::new(key.into(), nonce.into());
        cipher.seek(64u32);
        cipher.apply_keystream(&mut out);
        out
    };
    let mut ciphertext: Vec<u8> =
        content.iter().zip(keystream(&k1, &n1, content.len())).map(|(p, k)| p ^ k).collect();
    // A second secret whose key admits a colliding block (a few tries).
    let (s2, k2, n2) = loop {
        let mut s2 = [0u8; 32];
        f.rng.fill_bytes(&mut s2);
        let (k2, n2, _) = forge::payload_keys(&s2);
        let (first, second) = (chacha_poly_key(&k1, &n1), chacha_poly_key(&k2, &n2));
        if let Some(x) =
            collide(&encoded_e, &ciphertext, block, (&first.0, &first.1), (&second.0, &second.1))
        {
            ciphertext[block * 16..block * 16 + 16].copy_from_slice(&x);
            break (s2, k2, n2);
        }
    };
    let (r1, t1) = chacha_poly_key(&k1, &n1);
    let mut payload = ciphertext.clone();
    payload.extend_from_slice(&tag(&r1, &t1, &blocks(&encoded_e, &ciphertext)));

    // Control: the payload opens under both keys, to two different
    // contents. Without the commitment, each recipient would read its own.
    let open = |key: &[u8; 32], nonce: &[u8; 12]| {
        let mut buf = ciphertext.clone();
        let t: [u8; 16] = payload[ciphertext.len()..].try_into().unwrap();
        ChaCha20Poly1305::new(&(*key).into())
            .decrypt_inout_detached(
                &Nonce::from(*nonce),
                &encoded_e,
                buf.as_mut_slice().into(),
                &t.into(),
            )
            .map(|()| buf)
    };
    let (read1, read2) = (open(&k1, &n1).unwrap(), open(&k2, &n2).unwrap());
    assert_ne!(read1, read2);

    // The envelope: one commitment (to s1), a share of s1 for device 0 and
    // of s2 for device 1, both tagged honestly by the sender's key.
    let shares = [
        forge::share(&e, &f.alice, f.alice.public(), &to0, &s1, &commitment, &payload),
        forge::share(&e, &f.alice, f.alice.public(), &to1, &s2, &commitment, &payload),
    ];
    let upload = forge::multi(&e, &commitment, &shares, &payload);
    let split = common::split(&MultiRecipientEnvelope::parse(&upload).unwrap());
    // Device 0 opens it: its entry, with the solved block in it.
    let opened = unseal(&f.devices[0].identity, &f.trust, NOW, &split[0].1).unwrap();
    assert_eq!(opened.message_unchecked(), &read1[message_at..message_at + junk0.len()]);
    // Device 1's secret does not match the commitment: refused before its
    // key is ever used on the payload.
    assert_eq!(
        unseal(&f.devices[1].identity, &f.trust, NOW, &split[1].1).unwrap_err(),
        UnsealError::Failed
    );
}

#[test]
fn the_fan_out_bound_at_its_edge_when_sealing() {
    use sealwire::limits::MAX_FANOUT_BYTES;
    // Recipients times envelope length may reach MAX_FANOUT_BYTES and not
    // pass it. Envelopes padded to the 4 MiB bucket: 1024 recipients are
    // exactly 4 GiB, 1025 one envelope more.
    let mut rng = rng(13);
    let a = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(a.certify("alice", 1, alice.public()));
    let mut device = Device::new(&mut rng, 1);
    let mut session = Session::initiate(&mut rng, &alice, &device.bundle()).unwrap();
    let first = session.encrypt(&mut rng, b"open").unwrap();
    let (mut theirs, _) = device.accept(&first).unwrap();
    session.decrypt(&theirs.encrypt(&mut rng, b"ok").unwrap()).unwrap();
    // A ratchet message (2,086 bytes with its entry) that takes 1025
    // entries past 2 MiB, into the 4 MiB bucket.
    let message = session.encrypt(&mut rng, &[7u8; 2000]).unwrap();
    let recipients: Vec<IdentityKey> =
        (0..1025).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    let msgs: Vec<(IdentityKey, &[u8])> = recipients.iter().map(|r| (*r, &message[..])).collect();
    let at_bound = sealer.seal_to_many(&mut rng, &alice, &msgs[..1024], Padding::Buckets).unwrap();
    let parsed = MultiRecipientEnvelope::parse(&at_bound).unwrap();
    assert_eq!(parsed.envelope_len(), MAX_ENVELOPE_LEN);
    assert_eq!((parsed.recipient_count() * parsed.envelope_len()) as u64, MAX_FANOUT_BYTES);
    assert_eq!(
        sealer.seal_to_many(&mut rng, &alice, &msgs, Padding::Buckets).unwrap_err(),
        SealError::TooLong
    );
    // Unpadded, the same 1025 entries stay under it.
    assert!(sealer.seal_to_many(&mut rng, &alice, &msgs, Padding::None).is_ok());
}
