//! The per-message path allocates at most the output buffer, and nothing
//! at all when the caller provides one with room.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use allocation_counter::measure;
use common::{pair, rng};

#[test]
fn encrypt_allocates_only_its_output() {
    let mut rng = rng(1);
    let (mut bob, _alice) = pair(&mut rng);
    bob.encrypt(&mut rng, b"warm up").unwrap();
    for len in [0usize, 64, 1024, 16 * 1024] {
        let plaintext = vec![7u8; len];
        let info = measure(|| {
            let m = bob.encrypt(&mut rng, &plaintext).unwrap();
            assert_eq!(m.len(), len + 86);
            assert_eq!(m.capacity(), m.len(), "{len} bytes: reserved more than needed");
        });
        assert_eq!(info.count_total, 1, "{len} bytes: {info:?}");
        assert_eq!(info.bytes_total, len as u64 + 86, "{len} bytes: {info:?}");
    }
}

#[test]
fn encrypt_into_a_buffer_with_room_allocates_nothing() {
    let mut rng = rng(2);
    let (mut bob, _alice) = pair(&mut rng);
    bob.encrypt(&mut rng, b"warm up").unwrap();
    let mut out = Vec::with_capacity(2048);
    let info = measure(|| {
        for _ in 0..10 {
            out.clear();
            bob.encrypt_into(&mut rng, &[1u8; 1024], &mut out).unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn decrypt_allocates_only_its_output() {
    let mut rng = rng(3);
    let (mut bob, mut alice) = pair(&mut rng);
    for len in [0usize, 64, 1024, 16 * 1024] {
        let m = bob.encrypt(&mut rng, &vec![9u8; len]).unwrap();
        let info = measure(|| {
            assert_eq!(alice.decrypt(&m).unwrap().len(), len);
        });
        // An empty plaintext needs no buffer at all.
        assert_eq!(info.count_total, u64::from(len > 0), "{len} bytes: {info:?}");
    }
}

#[test]
fn decrypt_into_a_buffer_with_room_allocates_nothing() {
    let mut rng = rng(4);
    let (mut bob, mut alice) = pair(&mut rng);
    let messages: Vec<Vec<u8>> =
        (0..10).map(|_| bob.encrypt(&mut rng, &[5u8; 1024]).unwrap()).collect();
    let mut out = Vec::with_capacity(2048);
    let info = measure(|| {
        for m in &messages {
            out.clear();
            alice.decrypt_into(m, &mut out).unwrap();
            assert_eq!(out.len(), 1024);
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn a_dh_ratchet_step_allocates_nothing_more() {
    let mut rng = rng(5);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut buf = Vec::with_capacity(256);
    let mut plain = Vec::with_capacity(256);
    for _ in 0..4 {
        // Each turn starts a new chain on both sides.
        let info = measure(|| {
            buf.clear();
            plain.clear();
            bob.encrypt_into(&mut rng, b"turn", &mut buf).unwrap();
            alice.decrypt_into(&buf, &mut plain).unwrap();
        });
        assert_eq!(info.count_total, 0, "{info:?}");
        std::mem::swap(&mut bob, &mut alice);
    }
}

#[test]
fn a_refused_message_leaves_the_buffer_as_it_was() {
    let mut rng = rng(6);
    let (mut bob, mut alice) = pair(&mut rng);
    let mut m = bob.encrypt(&mut rng, b"x").unwrap();
    let last = m.len() - 1;
    m[last] ^= 1;
    let mut out = b"kept".to_vec();
    assert!(alice.decrypt_into(&m, &mut out).is_err());
    assert_eq!(out, b"kept");
}

/// Inputs that claim far more than they hold: every decoder must refuse
/// them before allocating anything sized by the claim.
#[test]
fn decoders_check_lengths_before_allocating() {
    use sealwire::{MultiRecipientEnvelope, RatchetMessage, SealedEnvelope, Session};
    let big = u32::MAX.to_be_bytes();

    // A ratchet message declaring a 4 GiB ciphertext.
    let mut ratchet = vec![0x31, 0x02];
    ratchet.extend_from_slice(&[9; 32]);
    ratchet.extend_from_slice(&[0; 8]);
    ratchet.extend_from_slice(&big);
    // A multi-recipient envelope declaring 2^32 - 1 shares.
    let mut multi = vec![0xd1, 0x02];
    multi.extend_from_slice(&[9; 32]);
    multi.extend_from_slice(&big);
    // A sealed envelope declaring a 4 GiB payload.
    let mut sealed = vec![0xc1];
    sealed.extend_from_slice(&[0; 33 + 33 + 32 + 16]);
    sealed[34] = 0x02;
    sealed.extend_from_slice(&big);

    let mut rng = rng(7);
    let (_, alice) = pair(&mut rng);
    // A session state declaring 2^32 - 1 skipped-key chains: replace the
    // chain count (the last four bytes of a state with none).
    let mut state = alice.to_bytes().to_vec();
    let n = state.len();
    state[n - 4..].copy_from_slice(&big);

    let info = measure(|| {
        assert!(RatchetMessage::parse(&ratchet).is_err());
        assert!(MultiRecipientEnvelope::parse(&multi).is_err());
        assert!(SealedEnvelope::parse(&sealed).is_err());
        assert!(Session::from_bytes(&state).is_err());
    });
    // Refusing a session state may allocate its fixed parts (its box and
    // key pair), never anything sized by the claimed count.
    assert!(info.bytes_max < 4096, "{info:?}");
    let info = measure(|| {
        assert!(RatchetMessage::parse(&ratchet).is_err());
        assert!(MultiRecipientEnvelope::parse(&multi).is_err());
        assert!(SealedEnvelope::parse(&sealed).is_err());
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn sealed_envelopes_are_written_into_one_exact_allocation() {
    use common::{App, Device};
    use sealwire::{IdentityKey, IdentityKeyPair, Padding, Sealer, Session};
    let mut rng = rng(7);
    let a = App::new(&mut rng, "app-a");
    let alice = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(a.certify("alice", 1, alice.public()));
    let mut device = Device::new(&mut rng, 0);
    let mut session = Session::initiate(&mut rng, &alice, &device.bundle()).unwrap();
    let recipients: Vec<IdentityKey> =
        (0..3).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    for len in [0usize, 100, 5000] {
        let m = session.encrypt(&mut rng, &vec![1u8; len]).unwrap();
        for padding in [Padding::None, Padding::Buckets] {
            let one = sealer.seal(&mut rng, &alice, &recipients[0], &m, padding).unwrap();
            assert_eq!(one.capacity(), one.len(), "{len} bytes, {padding:?}");
            let msgs: Vec<(IdentityKey, &[u8])> = recipients.iter().map(|r| (*r, &m[..])).collect();
            let many = sealer.seal_to_many(&mut rng, &alice, &msgs, padding).unwrap();
            assert_eq!(many.capacity(), many.len(), "{len} bytes, {padding:?}, three recipients");
        }
    }
}

/// A maximal upload as the relay receives it: `n` distinct recipient fields
/// (valid encodings; the relay does not decode points), and a payload of
/// `payload_len` bytes. Recipients times envelope length is exactly
/// MAX_FANOUT_BYTES.
fn maximal_upload(n: usize, payload_len: usize) -> Vec<u8> {
    let mut out = vec![0xd3, 0x02];
    out.extend_from_slice(&[9u8; 32]);
    out.extend_from_slice(&[0x33; 32]);
    out.extend_from_slice(&(n as u32).to_be_bytes());
    for i in 0..n {
        out.push(0x01);
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(&(i as u32 + 1).to_le_bytes());
        out.extend_from_slice(&key);
        out.extend_from_slice(&[0x44; 48]);
    }
    out.extend_from_slice(&(payload_len as u32).to_be_bytes());
    out.resize(out.len() + payload_len, 0x5a);
    out
}

#[test]
fn the_relay_splits_a_maximal_upload_in_about_its_own_size() {
    use sealwire::limits::{MAX_ENVELOPE_LEN, MAX_FANOUT_BYTES, MAX_RECIPIENTS};
    use sealwire::{MultiRecipientEnvelope, RecipientShare, SealedEnvelope};
    let prefix = SealedEnvelope::PREFIX_LEN;
    let fanout = MAX_FANOUT_BYTES as usize;
    // The most recipients, and the longest payload: both at the bound.
    for (n, payload_len) in [
        (MAX_RECIPIENTS, fanout / MAX_RECIPIENTS - prefix),
        (fanout / MAX_ENVELOPE_LEN, MAX_ENVELOPE_LEN - prefix),
    ] {
        let upload = maximal_upload(n, payload_len);
        assert_eq!((n * (prefix + payload_len)) as u64, MAX_FANOUT_BYTES);
        // What the relay keeps for one upload, besides the upload itself:
        // the parsed view and one share handle per recipient, from which it
        // writes each recipient's prefix and then the shared payload.
        let mut delivered = 0usize;
        let info = measure(|| {
            let parsed = MultiRecipientEnvelope::parse(&upload).unwrap();
            let queue: Vec<RecipientShare<'_>> = parsed.recipients().collect();
            assert_eq!(queue.len(), n);
            for share in &queue {
                delivered += share.envelope_prefix().len() + parsed.payload().len();
            }
        });
        assert_eq!(delivered as u64, MAX_FANOUT_BYTES, "what the relay streams out");
        assert!(
            info.bytes_max <= upload.len() as u64,
            "{n} recipients: the relay held {} bytes beside a {}-byte upload",
            info.bytes_max,
            upload.len()
        );
        // (Copying each envelope, as the earlier `split` did, would have
        // allocated MAX_FANOUT_BYTES: 4 GiB.)

        // One byte more of payload is past the bound.
        let over = maximal_upload(n, payload_len + 1);
        assert_eq!(
            MultiRecipientEnvelope::parse(&over).unwrap_err(),
            sealwire::DecodeError::TooLong
        );
    }
}

#[test]
fn a_delivered_envelope_is_the_prefix_and_the_shared_payload() {
    use sealwire::{MultiRecipientEnvelope, SealedEnvelope};
    // Three recipients with real identity keys, so that each delivered
    // envelope parses as a sealed envelope (which decodes the key).
    let mut rng = rng(9);
    let mut upload = maximal_upload(3, 1000);
    for i in 0..3 {
        let key = sealwire::IdentityKeyPair::generate(&mut rng).public().to_bytes();
        let at = 70 + i * 81;
        upload[at..at + 33].copy_from_slice(&key);
    }
    let parsed = MultiRecipientEnvelope::parse(&upload).unwrap();
    for share in parsed.recipients() {
        let mut envelope = share.envelope_prefix().to_vec();
        envelope.extend_from_slice(parsed.payload());
        let sealed = SealedEnvelope::parse(&envelope).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sealed.payload(), parsed.payload());
        assert_eq!(&envelope[1..34], share.recipient());
        assert_eq!(envelope, share.to_envelope());
    }
}

#[test]
fn a_group_upload_to_a_thousand_members_is_split_within_its_own_size() {
    use sealwire::{
        GroupId, IdentityKeyPair, MultiRecipientEnvelope, Padding, RecipientShare, Sealer,
        SenderKey,
    };
    let mut rng = rng(10);
    let app = common::App::new(&mut rng, "chat.a");
    let sender = IdentityKeyPair::generate(&mut rng);
    let mut sealer = Sealer::new(app.certify("alice", 1, sender.public()));
    let members: Vec<sealwire::IdentityKey> =
        (0..1000).map(|_| *IdentityKeyPair::generate(&mut rng).public()).collect();
    let group = GroupId::new(b"g").unwrap();
    let message = SenderKey::generate(&mut rng).encrypt(&mut rng, &group, &[7u8; 64]).unwrap();
    let upload =
        sealer.seal_group(&mut rng, &sender, &members, &message, Padding::Buckets).unwrap();
    let mut delivered = 0usize;
    let info = measure(|| {
        let parsed = MultiRecipientEnvelope::parse(&upload).unwrap();
        let queue: Vec<RecipientShare<'_>> = parsed.recipients().collect();
        for share in &queue {
            delivered += share.envelope_prefix().len() + parsed.payload().len();
        }
    });
    // Each member gets its prefix and the one payload; the relay holds
    // less than the upload's own size beside it.
    assert_eq!(
        delivered,
        1000 * (151 + MultiRecipientEnvelope::parse(&upload).unwrap().payload().len())
    );
    assert!(info.bytes_max <= upload.len() as u64, "{info:?} beside {}", upload.len());
}
