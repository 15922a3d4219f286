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

#[path = "../common/poly1305.rs"]
pub mod poly1305;
#[path = "../common/prekeys.rs"]
mod prekeys;
pub mod reference;

use std::collections::VecDeque;
use std::convert::Infallible;

use prekeys::PreKeys;
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

/// The 24-byte nonce draw for a label: the first 24 bytes of its secret.
pub fn nonce(label: &str) -> [u8; 24] {
    secret(label)[..24].try_into().unwrap()
}

/// An RNG that hands out a fixed list of draws, in order. Every draw
/// sealwire makes is 32 bytes, or 24 for a message nonce; each must be
/// asked for with exactly its length, and the script must be used up.
pub struct ScriptedRng(VecDeque<Vec<u8>>);

impl ScriptedRng {
    pub fn new(secrets: &[[u8; 32]]) -> Self {
        Self(secrets.iter().map(|s| s.to_vec()).collect())
    }

    pub fn draws(draws: Vec<Vec<u8>>) -> Self {
        Self(draws.into())
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
        let next = self.0.pop_front().expect("the script ran out of draws");
        assert_eq!(dst.len(), next.len(), "a draw of another length than scripted");
        dst.copy_from_slice(&next);
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

/// An identity generated from the draw `secret(label)` (§3), by both.
fn identity(label: &str) -> (Identity, IdentityKeyPair) {
    let draw = secret(label);
    let ours = IdentityKeyPair::generate(&mut ScriptedRng::new(&[draw]));
    let theirs = Identity::generate(draw);
    assert_eq!(ours.public().to_bytes(), theirs.encoded());
    assert_eq!(*ours.to_bytes(), cat(&[&[0x52], &theirs.seed]));
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
        ("sessions.json", sessions_family()),
        ("group.json", group_family()),
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
    // The first label whose draw gives an odd key, so that one vector shows
    // the seed rehashed (§3).
    let odd = (0..)
        .map(|i| format!("identity rehashed {i}"))
        .find(|l| Identity::from_seed(secret(l)).ed25519[31] & 0x80 != 0)
        .unwrap();
    for label in ["identity A", "identity B", odd.as_str()] {
        let (id, ours) = identity(label);
        let draw = secret(label);
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
            "rng": [h(draw)],
            "draw_public_is_odd": draw != id.seed,
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
    let identity_key = IdentityKey::from_bytes(&a.encoded()).unwrap();
    let spk_public = x25519_public(&secret("x"));
    let spk_message = reference::signed_prekey_message(7, &spk_public);
    let record_with = |signature: &[u8]| {
        cat(&[&[0x61], &7u32.to_be_bytes(), &encode_x25519(&spk_public), signature])
    };
    let mut negative = Vec::new();
    // Signatures strict verification refuses (§3).
    let strict = strict_rejections(&a, &spk_message);
    for (description, signature) in [
        (
            "a signed prekey whose signature is over another message",
            a.sign(b"something else").to_vec(),
        ),
        (
            "a signature whose R is the neutral point and S = k·a: valid under the cofactorless equation, refused by strict verification (R of small order)",
            strict.small_order_r,
        ),
        ("a valid signature with ℓ added to S (S not below ℓ)", strict.s_plus_l),
    ] {
        let input = record_with(&signature);
        let record = SignedPreKey::from_bytes(&input).unwrap();
        negative.push(json!({
            "description": description,
            "operation": "verify signed prekey",
            "identity": h(a.encoded()),
            "input": h(&input),
            "error": error(record.verify(&identity_key).unwrap_err()),
        }));
    }
    let mut p_minus = [0xffu8; 32];
    p_minus[31] = 0x7f;
    p_minus[0] = 0xed;
    let mut y_p_plus_1 = [0xffu8; 32];
    y_p_plus_1[0] = 0xee;
    y_p_plus_1[31] = 0x7f;
    let mut one = [0u8; 32];
    one[0] = 1;
    let point = curve25519_dalek::edwards::CompressedEdwardsY(a.ed25519).decompress().unwrap();
    let negated = (-point).compress().to_bytes();
    let with_torsion =
        (point + curve25519_dalek::constants::EIGHT_TORSION[1]).compress().to_bytes();
    let with_torsion = if with_torsion[31] & 0x80 != 0 {
        (-(point + curve25519_dalek::constants::EIGHT_TORSION[1])).compress().to_bytes()
    } else {
        with_torsion
    };
    let odd_seed = secret(&odd);
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
        (
            "identity key A negated: the same X25519 key, an odd x",
            "IdentityKey",
            encode_identity(&negated).to_vec(),
        ),
        (
            "identity key A plus a point of order 8 (sign bit clear): a torsion component",
            "IdentityKey",
            encode_identity(&with_torsion).to_vec(),
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
            cat(&[&[0x52], &a.seed, &[0]]),
        ),
        ("identity key pair of version 1", "IdentityKeyPair", cat(&[&[0x51], &a.seed])),
        (
            "identity key pair whose seed gives an odd key",
            "IdentityKeyPair",
            cat(&[&[0x52], &odd_seed]),
        ),
        (
            "identity key whose y (below p) is on no point of the curve",
            "IdentityKey",
            encode_identity(&off_curve()).to_vec(),
        ),
        (
            "certificate key of small order (the neutral point)",
            "CertificateKey",
            reference::encode_certificate_key(&one).to_vec(),
        ),
        (
            "certificate key with y = p + 1",
            "CertificateKey",
            reference::encode_certificate_key(&y_p_plus_1).to_vec(),
        ),
        ("certificate key with the identity tag", "CertificateKey", a.encoded().to_vec()),
    ] {
        let err: DecodeError = match decoder {
            "IdentityKey" => IdentityKey::from_bytes(&input).unwrap_err(),
            "X25519PublicKey" => X25519PublicKey::from_bytes(&input).unwrap_err(),
            "IdentityKeyPair" => IdentityKeyPair::from_bytes(&input).unwrap_err(),
            "CertificateKey" => CertificateKey::from_bytes(&input).unwrap_err(),
            _ => unreachable!(),
        };
        negative.push(json!({ "description": description, "decoder": decoder, "input": h(&input), "error": error(err) }));
    }

    json!({
        "family": "identity",
        "version": 3,
        "description": "Identity keys (Ed25519 with an even x, and their X25519 form) generated from one draw, one of them rehashed; signed and one-time prekeys; certificate-signing keys. docs/protocol.md §2, §3, §4, §12.",
        "vectors": vectors,
        "negative": negative,
    })
}

/// The first y (from 2 up, below p) that is the y of no curve point.
fn off_curve() -> [u8; 32] {
    (2u8..)
        .map(|y| {
            let mut bytes = [0u8; 32];
            bytes[0] = y;
            bytes
        })
        .find(|b| curve25519_dalek::edwards::CompressedEdwardsY(*b).decompress().is_none())
        .unwrap()
}

/// Signatures of `message` by `id` that strict verification refuses.
struct Strict {
    small_order_r: Bytes,
    s_plus_l: Bytes,
}

fn strict_rejections(id: &Identity, message: &[u8]) -> Strict {
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    // R = the neutral point, S = k·a: [S]B − [k]A = O = R, so the
    // cofactorless equation holds, but R has small order.
    let mut r = [0u8; 32];
    r[0] = 1;
    let k = Scalar::from_bytes_mod_order_wide(
        &Sha512::new()
            .chain_update(r)
            .chain_update(id.ed25519)
            .chain_update(message)
            .finalize()
            .into(),
    );
    let mut clamped = id.x25519_scalar;
    clamped[0] &= 248;
    clamped[31] &= 127;
    clamped[31] |= 64;
    let s = k * Scalar::from_bytes_mod_order(clamped);
    let small_order_r = cat(&[&r, s.as_bytes()]);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&id.ed25519).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&small_order_r).unwrap();
    assert!(key.verify_strict(message, &signature).is_err());
    assert!(
        ed25519_dalek::Verifier::verify(&key, message, &signature).is_ok(),
        "valid under the cofactorless equation"
    );
    // A valid signature with ℓ added to S.
    let good = id.sign(message);
    let mut s_wide = [0u8; 33];
    s_wide[..32].copy_from_slice(&good[32..]);
    // ℓ, little-endian.
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s_wide[i]) + u16::from(l[i]) + carry;
        s_wide[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + ℓ fits 32 bytes");
    let s_plus_l = cat(&[&good[..32], &s_wide[..32]]);
    Strict { small_order_r, s_plus_l }
}

// ---- X3DH -------------------------------------------------------------------------

/// Alice (initiator) and Bob (responder) with Bob's prekeys.
struct Agreement {
    alice: (Identity, IdentityKeyPair),
    bob: (Identity, IdentityKeyPair),
    spk_secret: [u8; 32],
    opk_secret: Option<[u8; 32]>,
    bob_store: PreKeys,
    bundle: PreKeyBundle,
}

fn agreement(tag: &str, with_opk: bool) -> Agreement {
    let alice = identity(&format!("{tag} alice"));
    let bob = identity(&format!("{tag} bob"));
    let spk_secret = secret(&format!("{tag} bob signed prekey"));
    let opk_secret = with_opk.then(|| secret(&format!("{tag} bob one-time prekey")));
    let mut rng = ScriptedRng::new(&[spk_secret]);
    let spk = SignedPreKeyPair::generate(&mut rng, &bob.1, PreKeyId(1));
    let mut store = PreKeys::new();
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

/// Bob's prekeys of `ag` as they were before any message: the signed
/// prekey, the one-time prekey if any, and the KEM prekey of `kem_seed`.
fn fresh_store(ag: &Agreement, kem_seed: &[u8; 64], kind: KemPreKeyKind) -> PreKeys {
    let mut store = PreKeys::new();
    let spk =
        SignedPreKeyPair::generate(&mut ScriptedRng::new(&[ag.spk_secret]), &ag.bob.1, PreKeyId(1));
    store.add_signed_prekey(spk);
    if let Some(s) = ag.opk_secret {
        store.add_one_time_prekey(OneTimePreKeyPair::generate(
            &mut ScriptedRng::new(&[s]),
            PreKeyId(100),
        ));
    }
    store.add_kem_prekey(KemPreKeyPair::from_seed(&ag.bob.1, PreKeyId(200), kind, kem_seed));
    store
}

/// Negative vectors of the post-quantum agreement (§20), from the one-time
/// KEM prekey case: its initial message `wire`.
fn pq_negatives(negative: &mut Vec<Value>, ag: &Agreement, wire: &[u8], kem_seed: &[u8; 64]) {
    let responder = json!({
        "responder_identity_seed": h(ag.bob.0.seed),
        "responder_prekeys": {
            "signed": [{ "id": 1, "secret": h(ag.spk_secret) }],
            "one_time": [{ "id": 100, "secret": h(ag.opk_secret.unwrap()) }],
            "kem": [{ "id": 200, "kind": 0, "seed": h(kem_seed) }],
        },
    });
    let accept = |input: &[u8], description: &str| -> Value {
        let mut store = fresh_store(ag, kem_seed, KemPreKeyKind::OneTime);
        let err = match InitialMessage::parse(input) {
            Ok(m) => store.accept(&ag.bob.1, &m).unwrap_err(),
            Err(e) => e.into(),
        };
        let mut v = json!({
            "description": description,
            "operation": "accept",
            "input": h(input),
            "error": error(err),
        });
        for (k, val) in responder.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    // The KEM ciphertext starts after the type, IK_A, EK_A, the signed
    // prekey id, the one-time flag and id, the KEM flag and id.
    let ct_at = 1 + 33 + 33 + 4 + 1 + 4 + 1 + 4;
    let mut flipped = wire.to_vec();
    flipped[ct_at + 500] ^= 0x01;
    negative.push(accept(
        &flipped,
        "a KEM ciphertext with one bit flipped: ML-KEM rejects implicitly, the secret differs and the message does not decrypt",
    ));
    let mut unknown = wire.to_vec();
    unknown[ct_at - 4..ct_at].copy_from_slice(&201u32.to_be_bytes());
    negative.push(accept(
        &unknown,
        "the initial message names KEM prekey 201, which the responder does not hold",
    ));
    // Truncated and extended ciphertexts: the framing no longer holds.
    let truncated = cat(&[&wire[..ct_at + 1087], &wire[ct_at + 1088..]]);
    negative.push(accept(&truncated, "a KEM ciphertext one byte short (1087 bytes)"));
    let extended = cat(&[&wire[..ct_at + 1088], &[0], &wire[ct_at + 1088..]]);
    negative.push(accept(&extended, "a KEM ciphertext one byte long (1089 bytes)"));
    let classic_flag = cat(&[&wire[..ct_at - 5], &[0], &wire[ct_at + 1088..]]);
    let classic = InitialMessage::parse(&classic_flag).unwrap();
    assert!(!classic.is_post_quantum());
    negative.push(accept(
        &classic_flag,
        "the KEM fields stripped from a post-quantum initial message: the classic secret differs and the message does not decrypt",
    ));

    // Bundles.
    let initiator = h(ag.alice.0.seed);
    let bundle = ag.bundle.to_bytes();
    let kem_at = bundle.len() - 1 - 64 - 1185 - 1 - 4;
    let mut bad_signature = bundle.clone();
    let last_sig = bundle.len() - 2;
    bad_signature[last_sig] ^= 0x01;
    let mut swapped = bundle.clone();
    let carol = identity("pqxdh carol");
    let carol_kem =
        KemPreKeyPair::from_seed(&carol.1, PreKeyId(200), KemPreKeyKind::OneTime, kem_seed);
    let carol_fields = carol_kem.public().to_bytes();
    swapped[kem_at..kem_at + KemPreKey::ENCODED_LEN - 2].copy_from_slice(&carol_fields[2..]);
    for (description, input) in [
        ("a bundle whose KEM prekey signature has a flipped bit", bad_signature),
        (
            "a bundle carrying another identity's KEM prekey (same id and seed, signed by that identity)",
            swapped,
        ),
    ] {
        let parsed = PreKeyBundle::from_bytes(&input).unwrap();
        let err = Session::initiate(&mut ScriptedRng::new(&[]), &ag.alice.1, &parsed).unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "initiate",
            "initiator_identity_seed": initiator,
            "rng": [],
            "bundle": h(&input),
            "error": error(err),
        }));
    }
    let mut out_of_range = bundle.clone();
    // The encapsulation key's first coefficient: 12 bits, all set (4095 ≥ q).
    out_of_range[kem_at + 6] = 0xff;
    out_of_range[kem_at + 7] |= 0x0f;
    let kind_two = {
        let mut b = bundle.clone();
        b[kem_at + 4] = 2;
        b
    };
    let wrong_key_type = {
        let mut b = bundle.clone();
        b[kem_at + 5] = 0x02;
        b
    };
    negative.extend(refused(
        "PreKeyBundle",
        |b| PreKeyBundle::from_bytes(b).map(drop),
        vec![
            ("a KEM prekey whose encapsulation key has a coefficient of 4095 (not below q = 3329)", out_of_range),
            ("a KEM prekey of kind 2", kind_two),
            ("a KEM prekey whose key type is 0x02 (X25519), not 0x03", wrong_key_type),
        ],
    ));
}

fn x3dh_family() -> Value {
    let mut vectors = Vec::new();
    let mut pq_negative = Vec::new();
    for (name, with_opk) in [("with one-time prekey", true), ("without one-time prekey", false)] {
        let mut ag = agreement(name, with_opk);
        let ek = secret(&format!("{name} alice ephemeral"));
        let ratchet = secret(&format!("{name} alice first ratchet key"));
        let first_nonce = nonce(&format!("{name} alice first nonce"));
        let plaintext = format!("first message, {name}").into_bytes();
        let spk_public = x25519_public(&ag.spk_secret);
        let opk_public = ag.opk_secret.map(|s| x25519_public(&s));

        // Reference.
        let x = reference::x3dh(&ag.alice.0, &ek, &ag.bob.0, &spk_public, opk_public.as_ref());
        let (mut party, ratchet_dh) = Party::initiator(x.sk, x.ad.clone(), spk_public, ratchet);
        let sent = party.encrypt(&plaintext, [0; 32], first_nonce);
        let initial = reference::initial_message(
            &ag.alice.0,
            &x25519_public(&ek),
            1,
            with_opk.then_some(100),
            &sent.ratchet_message,
        );

        let spk = ag.bundle.signed_prekey();
        let reference_bundle = reference::bundle(
            &ag.bob.0.ed25519,
            (1, &spk_public, spk.signature()),
            opk_public.as_ref().map(|k| (100, k)),
            None,
        );
        assert_eq!(ag.bundle.to_bytes(), reference_bundle, "x3dh {name}: bundle");

        // sealwire.
        let mut rng = ScriptedRng::draws(vec![ek.to_vec(), ratchet.to_vec(), first_nonce.to_vec()]);
        let mut session = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        let wire = session.encrypt(&mut rng, &plaintext).unwrap();
        assert!(rng.finished());
        assert_eq!(wire, initial, "x3dh {name}: initial message");
        let parsed = InitialMessage::parse(&wire).unwrap();
        let (_, text) = ag.bob_store.accept(&ag.bob.1, &parsed).unwrap();
        assert_eq!(text, plaintext);

        let dh: Vec<Value> = x.dh.iter().map(h).collect();
        vectors.push(json!({
            "name": name,
            "inputs": {
                "alice_identity_seed": h(ag.alice.0.seed),
                "bob_identity_seed": h(ag.bob.0.seed),
                "bob_signed_prekey": { "id": 1, "secret": h(ag.spk_secret) },
                "bob_one_time_prekey": ag.opk_secret.map(|s| json!({ "id": 100, "secret": h(s) })),
                "rng": [h(ek), h(ratchet), h(first_nonce)],
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
            "nonce": h(sent.nonce),
            "xchacha_subkey": h(sent.subkey),
            "header": h(&sent.header),
            "aead_associated_data": h(cat(&[&x.ad, &sent.header])),
            "ratchet_message": h(&sent.ratchet_message),
            "initial_message": h(&initial),
        }));
    }

    // PQXDH (§20): the same agreement with a KEM prekey in the bundle.
    for (name, with_opk, kind) in [
        ("pqxdh with one-time prekeys", true, KemPreKeyKind::OneTime),
        (
            "pqxdh with the last-resort KEM prekey and no one-time prekey",
            false,
            KemPreKeyKind::LastResort,
        ),
    ] {
        let mut ag = agreement(name, with_opk);
        let kem_seed: [u8; 64] = cat(&[
            &secret(&format!("{name} bob kem prekey d")),
            &secret(&format!("{name} bob kem prekey z")),
        ])
        .try_into()
        .unwrap();
        let kind_byte = u8::from(kind == KemPreKeyKind::LastResort);
        let kem = KemPreKeyPair::from_seed(&ag.bob.1, PreKeyId(200), kind, &kem_seed);
        let kem_public = kem.public();
        ag.bundle = ag.bundle.clone().with_kem_prekey(kem_public.clone());
        ag.bob_store.add_kem_prekey(kem);
        let ek = secret(&format!("{name} alice ephemeral"));
        let m = secret(&format!("{name} alice kem m"));
        let ratchet = secret(&format!("{name} alice first ratchet key"));
        let first_nonce = nonce(&format!("{name} alice first nonce"));
        let plaintext = format!("first message, {name}").into_bytes();
        let spk_public = x25519_public(&ag.spk_secret);
        let opk_public = ag.opk_secret.map(|s| x25519_public(&s));

        // Reference, with the KEM's ciphertext and secret from ML-KEM.
        let (ciphertext, kem_secret) = kem_public.encapsulate_for_vectors(&m);
        let x = reference::pqxdh(
            &ag.alice.0,
            &ek,
            &ag.bob.0,
            &spk_public,
            opk_public.as_ref(),
            &kem_secret,
        );
        let (mut party, ratchet_dh) = Party::initiator(x.sk, x.ad.clone(), spk_public, ratchet);
        let sent = party.encrypt(&plaintext, [0; 32], first_nonce);
        let initial = reference::initial_message_with_kem(
            &ag.alice.0,
            &x25519_public(&ek),
            1,
            with_opk.then_some(100),
            Some((200, &ciphertext)),
            &sent.ratchet_message,
        );
        let kem_fields = reference::kem_prekey_fields(
            200,
            kind_byte,
            kem_public.key_bytes(),
            kem_public.signature(),
        );
        let spk = ag.bundle.signed_prekey();
        let reference_bundle = reference::bundle_with_kem(
            &ag.bob.0.ed25519,
            (1, &spk_public, spk.signature()),
            opk_public.as_ref().map(|k| (100, k)),
            Some(&kem_fields),
            None,
        );
        assert_eq!(ag.bundle.to_bytes(), reference_bundle, "{name}: bundle");

        // sealwire.
        let mut rng = ScriptedRng::draws(vec![
            ek.to_vec(),
            m.to_vec(),
            ratchet.to_vec(),
            first_nonce.to_vec(),
        ]);
        let mut session = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        assert!(session.is_post_quantum());
        let wire = session.encrypt(&mut rng, &plaintext).unwrap();
        assert!(rng.finished());
        assert_eq!(wire, initial, "{name}: initial message");
        let parsed = InitialMessage::parse(&wire).unwrap();
        let (accepted, text) = ag.bob_store.accept(&ag.bob.1, &parsed).unwrap();
        assert_eq!(text, plaintext);
        assert!(accepted.is_post_quantum());

        let dh: Vec<Value> = x.dh.iter().map(h).collect();
        vectors.push(json!({
            "name": name,
            "inputs": {
                "alice_identity_seed": h(ag.alice.0.seed),
                "bob_identity_seed": h(ag.bob.0.seed),
                "bob_signed_prekey": { "id": 1, "secret": h(ag.spk_secret) },
                "bob_one_time_prekey": ag.opk_secret.map(|s| json!({ "id": 100, "secret": h(s) })),
                "bob_kem_prekey": {
                    "id": 200,
                    "kind": kind_byte,
                    "seed": h(kem_seed),
                },
                "rng": [h(ek), h(m), h(ratchet), h(first_nonce)],
                "plaintext": h(&plaintext),
            },
            "kem_public_key": h(kem_public.key_bytes()),
            "kem_prekey_signature": h(kem_public.signature()),
            "bundle": h(ag.bundle.to_bytes()),
            "alice_ephemeral_public": h(x25519_public(&ek)),
            "dh": dh,
            "kem_ciphertext": h(&ciphertext),
            "kem_shared_secret": h(kem_secret),
            "kdf_input": h(&x.kdf_ikm),
            "sk": h(x.sk),
            "ad": h(&x.ad),
            "alice_ratchet_public": h(x25519_public(&ratchet)),
            "ratchet_dh": h(ratchet_dh),
            "root_key": h(sent.root_key),
            "chain_key": h(sent.chain_key),
            "message_key": h(sent.message_key),
            "nonce": h(sent.nonce),
            "xchacha_subkey": h(sent.subkey),
            "header": h(&sent.header),
            "aead_associated_data": h(cat(&[&x.ad, &sent.header])),
            "ratchet_message": h(&sent.ratchet_message),
            "initial_message": h(&initial),
        }));
        if kind == KemPreKeyKind::OneTime {
            pq_negatives(&mut pq_negative, &ag, &wire, &kem_seed);
        }
    }

    // Negative vectors, each with every input it needs.
    let mut negative = Vec::new();
    let mut ag = agreement("negative", true);
    let draws = [secret("negative ek"), secret("negative ratchet")];
    let mut rng = ScriptedRng::draws(vec![
        draws[0].to_vec(),
        draws[1].to_vec(),
        nonce("negative nonce").to_vec(),
    ]);
    let mut session = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
    let initial = session.encrypt(&mut rng, b"negative").unwrap();
    let initiator = h(ag.alice.0.seed);
    let responder = json!({
        "responder_identity_seed": h(ag.bob.0.seed),
        "responder_prekeys": {
            "signed": [{ "id": 1, "secret": h(ag.spk_secret) }],
            "one_time": [{ "id": 100, "secret": h(ag.opk_secret.unwrap()) }],
        },
    });
    let with_responder = |mut v: Value| {
        for (k, val) in responder.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };

    let mut forged = ag.bundle.to_bytes();
    forged[1..34].copy_from_slice(&identity("negative mallory").0.encoded());
    let forged_bundle = PreKeyBundle::from_bytes(&forged).unwrap();
    let err =
        Session::initiate(&mut ScriptedRng::new(&[]), &ag.alice.1, &forged_bundle).unwrap_err();
    negative.push(json!({
        "description": "a bundle whose identity key was replaced: the signed prekey signature does not verify",
        "operation": "initiate",
        "initiator_identity_seed": initiator,
        "rng": [],
        "bundle": h(&forged),
        "error": error(err),
    }));

    let mut low_order = ag.bundle.to_bytes();
    // The one-time prekey's key, before the KEM and certificate flags.
    let at = low_order.len() - 34;
    low_order[at..at + 32].copy_from_slice(&[0u8; 32]);
    let low_bundle = PreKeyBundle::from_bytes(&low_order).unwrap();
    let err = Session::initiate(&mut ScriptedRng::new(&[secret("x")]), &ag.alice.1, &low_bundle)
        .unwrap_err();
    negative.push(json!({
        "description": "a bundle whose one-time prekey is the zero point: DH4 is all zero",
        "operation": "initiate",
        "initiator_identity_seed": initiator,
        "rng": [h(secret("x"))],
        "bundle": h(&low_order),
        "error": error(err),
    }));

    let mut tampered = initial.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let err =
        ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&tampered).unwrap()).unwrap_err();
    negative.push(with_responder(json!({
        "description": "the initial message's last byte (in the tag) flipped",
        "operation": "accept",
        "input": h(&tampered),
        "error": error(err),
    })));

    let mut unknown = initial.clone();
    unknown[67..71].copy_from_slice(&9u32.to_be_bytes());
    let err =
        ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&unknown).unwrap()).unwrap_err();
    negative.push(with_responder(json!({
        "description": "the initial message names signed prekey 9, which the responder does not hold",
        "operation": "accept",
        "input": h(&unknown),
        "error": error(err),
    })));

    ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&initial).unwrap()).unwrap();
    let err =
        ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&initial).unwrap()).unwrap_err();
    negative.push(with_responder(json!({
        "description": "the same initial message accepted a second time: the first accept used its one-time prekey",
        "operation": "accept twice",
        "input": h(&initial),
        "error": error(err),
    })));

    let mut flag_two = initial.clone();
    flag_two[71] = 2;
    negative.extend(refused(
        "InitialMessage",
        |b| InitialMessage::parse(b).map(drop),
        vec![
            ("an initial message with a trailing byte", cat(&[&initial, &[0]])),
            ("an initial message whose one-time prekey flag is 2", flag_two),
            ("an initial message one byte short", initial[..initial.len() - 1].to_vec()),
            ("an initial message of version 1 (0x21)", cat(&[&[0x21], &initial[1..]])),
            ("an initial message of version 2 (0x22)", cat(&[&[0x22], &initial[1..]])),
        ],
    ));
    let bundle = ag.bundle.to_bytes();
    let mut kem = bundle.clone();
    let kem_flag = kem.len() - 2;
    kem[kem_flag] = 1;
    let mut no_certificate = bundle.clone();
    *no_certificate.last_mut().unwrap() = 1;
    negative.extend(refused(
        "PreKeyBundle",
        |b| PreKeyBundle::from_bytes(b).map(drop),
        vec![
            ("a bundle whose KEM prekey flag is set, with no KEM prekey", kem),
            ("a bundle whose certificate flag is set, with no certificate", no_certificate),
            ("a bundle with a trailing byte", cat(&[&bundle, &[0]])),
            ("a bundle of version 1 (0x11)", cat(&[&[0x11], &bundle[1..]])),
            ("a bundle of version 2 (0x12)", cat(&[&[0x12], &bundle[1..]])),
        ],
    ));
    negative.extend(pq_negative);

    json!({
        "family": "x3dh",
        "version": 3,
        "description": "X3DH and PQXDH from a bundle to the first (initial) message, with and without one-time prekeys. docs/protocol.md §4, §5, §6.3, §7, §20.",
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
    /// Alice's first (initial) message, which Bob accepted the session from.
    initial: Bytes,
    setup: Value,
}

impl Conversation {
    fn new(name: &'static str) -> Self {
        let mut ag = agreement(name, true);
        let ek = secret(&format!("{name} alice ephemeral"));
        let ratchet = secret(&format!("{name} alice ratchet 0"));
        let first_nonce = nonce(&format!("{name} alice nonce 0"));
        let spk_public = x25519_public(&ag.spk_secret);
        let opk_public = x25519_public(&ag.opk_secret.unwrap());
        let x = reference::x3dh(&ag.alice.0, &ek, &ag.bob.0, &spk_public, Some(&opk_public));
        let (alice_ref, _) = Party::initiator(x.sk, x.ad.clone(), spk_public, ratchet);
        let mut bob_ref = Party::responder(x.sk, x.ad.clone(), ag.spk_secret);

        let mut rng = ScriptedRng::draws(vec![ek.to_vec(), ratchet.to_vec(), first_nonce.to_vec()]);
        let mut alice = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        // Bob's session exists once Alice's first message arrives; make it
        // from a first message that the reference mirrors.
        let mut alice_ref = alice_ref;
        let first = alice.encrypt(&mut rng, b"hello").unwrap();
        assert!(rng.finished());
        let first_ref = alice_ref.encrypt(b"hello", [0; 32], first_nonce);
        let (bob, text) =
            ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&first).unwrap()).unwrap();
        assert_eq!(text, b"hello");
        bob_ref.decrypt(&first_ref.ratchet_message).unwrap();
        let setup = json!({
            "alice_identity_seed": h(ag.alice.0.seed),
            "bob_identity_seed": h(ag.bob.0.seed),
            "bob_signed_prekey": { "id": 1, "secret": h(ag.spk_secret) },
            "bob_one_time_prekey": { "id": 100, "secret": h(ag.opk_secret.unwrap()) },
            "alice_rng": [h(ek), h(ratchet), h(first_nonce)],
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
            sent: vec![first.clone()],
            events: Vec::new(),
            draws: 0,
            alice_identity: ag.alice.0,
            base_key: x25519_public(&ek),
            initial: first.clone(),
            alice_heard_back: false,
            setup,
        }
    }

    /// Sends `text`; returns the message's index in `sent` (the first
    /// message of the setup is index 0).
    fn send(&mut self, from_alice: bool, text: &str) -> usize {
        self.send_bytes(from_alice, text.as_bytes())
    }

    /// [`Conversation::send`] of any bytes.
    fn send_bytes(&mut self, from_alice: bool, text: &[u8]) -> usize {
        self.draws += 1;
        let fresh = secret(&format!("{} ratchet draw {}", self.name, self.draws));
        let nonce = nonce(&format!("{} nonce draw {}", self.name, self.draws));
        let party = if from_alice { &mut self.alice_ref } else { &mut self.bob_ref };
        let sent = party.encrypt(text, fresh, nonce);
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
        let mut script: Vec<Vec<u8>> =
            sent.new_ratchet_secret.into_iter().map(|s| s.to_vec()).collect();
        script.push(nonce.to_vec());
        let rng_json: Vec<Value> = script.iter().map(h).collect();
        let mut rng = ScriptedRng::draws(script);
        let wire = session.encrypt(&mut rng, text).unwrap();
        assert!(rng.finished(), "{}: RNG draws", self.name);
        assert_eq!(wire, wire_ref, "{}: message {}", self.name, self.sent.len());
        let index = self.sent.len();
        self.sent.push(wire.clone());
        self.events.push(json!({
            "event": "send",
            "by": if from_alice { "alice" } else { "bob" },
            "index": index,
            "plaintext": h(text),
            "rng": rng_json,
            "dh": sent.dh.map(h),
            "root_key": h(sent.root_key),
            "chain_key": h(sent.chain_key),
            "message_key": h(sent.message_key),
            "nonce": h(sent.nonce),
            "xchacha_subkey": h(sent.subkey),
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
        let got = party.decrypt(&ratchet_message).unwrap();
        let text = session.decrypt(&wire).unwrap();
        assert_eq!(text, got.plaintext, "{}: receive {index}", self.name);
        assert_eq!(session.skipped_key_count(), got.skipped_after);
        let state = session.to_bytes();
        let ratchet_state = party.encode_ratchet();
        assert_eq!(&state[state.len() - ratchet_state.len()..], ratchet_state.as_slice());
        self.events.push(json!({
            "event": "receive",
            "by": if by_alice { "alice" } else { "bob" },
            "index": index,
            "plaintext": h(&text),
            "dh": got.dh.map(h),
            "root_key": h(got.root_key),
            "message_key": h(got.message_key),
            "skipped_keys_held": got.skipped_after,
            "ratchet_state": h(&ratchet_state),
        }));
    }

    /// What the receiver (`by_alice` or Bob) answers to message `index`
    /// now, with its state unchanged; the reference must agree.
    fn refused(&mut self, by_alice: bool, index: usize) -> (Bytes, Bytes, DecryptError) {
        let wire = self.sent[index].clone();
        let (session, party) = if by_alice {
            (&mut self.alice, &mut self.alice_ref)
        } else {
            (&mut self.bob, &mut self.bob_ref)
        };
        let before = session.to_bytes().to_vec();
        let err = session.decrypt(&wire).unwrap_err();
        assert_eq!(session.to_bytes().to_vec(), before);
        let inner = match Message::parse(&wire).unwrap() {
            Message::Initial(m) => m.message().to_bytes(),
            Message::Ratchet(m) => m.to_bytes(),
        };
        let named = party.clone().decrypt(&inner).err().unwrap();
        assert_eq!(format!("{err:?}"), named, "{}: the reference refuses alike", self.name);
        (before, wire, err)
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
    let _a5 = c.send(true, "a5 (lost until its key is dropped)");
    let a6 = c.send(true, "a6");
    c.receive(false, a6);
    let b3 = c.send(false, "b3");
    c.receive(true, b3);
    // Five more turns in which Bob misses Alice's first message each time:
    // the sixth chain holding a skipped key makes Bob drop the oldest's
    // (a5's) keys, and record them (docs/protocol.md §6.6 rule 2).
    for turn in 0..5 {
        let _missed = c.send(true, &format!("turn {turn}: missed"));
        let seen = c.send(true, &format!("turn {turn}: seen"));
        c.receive(false, seen);
        let reply = c.send(false, &format!("turn {turn}: reply"));
        c.receive(true, reply);
    }
    c
}

fn ratchet_family() -> Value {
    let c = conversation();
    json!({
        "family": "ratchet",
        "version": 3,
        "description": "A conversation: Alice sends initial messages until Bob replies, then DH ratchet steps with messages skipped, delivered late across a chain, reordered and lost; at the end Bob holds skipped keys in six chains and drops the oldest chain's. Index 0 is the setup's first message. Events are in order; every send lists its RNG draws (a ratchet secret when a DH step is due, then the 24-byte nonce), every receive the values the receiver derived and the ratchet part of its stored state (docs/protocol.md §8.2, from RK on). docs/protocol.md §6, §7, §8.",
        "setup": c.setup,
        "events": c.events,
        "negative": ratchet_negative(),
    })
}

fn ratchet_negative() -> Vec<Value> {
    let mut out = Vec::new();
    // What the conversation's receivers answer at its end.
    let mut c = conversation();
    let a5 = c
        .events
        .iter()
        .find(|e| e["plaintext"] == h(b"a5 (lost until its key is dropped)"))
        .and_then(|e| e["index"].as_u64())
        .unwrap() as usize;
    let a1 = 2;
    for (description, by_alice, index) in [
        ("a message whose key Bob dropped under MAX_RECEIVING_CHAINS before it arrived", false, a5),
        ("a message Bob read three chains ago, replayed", false, a1),
        ("the initial message that started the session, replayed to Bob", false, 0),
        ("a message of Bob's that Alice read, replayed", true, 4),
    ] {
        let (state, input, err) = c.refused(by_alice, index);
        out.push(json!({
            "description": description,
            "operation": "decrypt",
            "session_state": h(&state),
            "input": h(&input),
            "error": error(err),
        }));
    }

    let mut c = Conversation::new("ratchet negative");
    let r = c.send(false, "reply");
    c.receive(true, r);
    let m0 = c.send(true, "m0");
    let m1 = c.send(true, "m1");
    c.receive(false, m1);
    let bob_state = c.bob.to_bytes().to_vec();
    let wire = c.sent[m0].clone();
    let mut tampered = wire.clone();
    tampered[80] ^= 1;
    let mut nonce_changed = wire.clone();
    nonce_changed[50] ^= 1;
    let mut forged_n = wire.clone();
    forged_n[38..42].copy_from_slice(&(2 + 1000 + 2u32).to_be_bytes());
    let mut pn_max = wire.clone();
    pn_max[38..42].copy_from_slice(&u32::MAX.to_be_bytes());
    for (description, input) in [
        ("a byte of the ciphertext flipped", tampered),
        ("a byte of the nonce flipped", nonce_changed),
        (
            "the message number raised so that 1002 messages would be skipped (MAX_SKIP is 1000)",
            forged_n,
        ),
        ("the message number 2^32 - 1, which no sender uses", pn_max),
        ("a message with a trailing byte", cat(&[&wire, &[0]])),
        ("a ratchet message of version 1 (0x31)", cat(&[&[0x31], &wire[1..]])),
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
        "description": "a message decrypted twice",
        "operation": "decrypt",
        "session_state": h(&after),
        "input": h(&wire),
        "error": error(err),
    }));

    // An initial message of another session (another base key) to Bob.
    let other = Conversation::new("another session");
    let err = Session::from_bytes(&bob_state).unwrap().decrypt(&other.sent[0]).unwrap_err();
    out.push(json!({
        "description": "an initial message of another session (another sender and base key)",
        "operation": "decrypt",
        "session_state": h(&bob_state),
        "input": h(&other.sent[0]),
        "error": error(err),
    }));

    // Bob with a sending chain receives a new chain whose ratchet key is
    // the zero point: the DH of §6.4 step 3 is all zero.
    let b = c.send(false, "b");
    c.receive(true, b);
    let with_sending = c.bob.to_bytes().to_vec();
    let mut zero_key = c.sent[m1].clone();
    zero_key[2..34].fill(0);
    let mut session = Session::from_bytes(&with_sending).unwrap();
    let err = session.decrypt(&zero_key).unwrap_err();
    assert_eq!(session.to_bytes().to_vec(), with_sending);
    out.push(json!({
        "description": "a message under a new ratchet key that is the zero point: its DH is all zero",
        "operation": "decrypt",
        "session_state": h(&with_sending),
        "input": h(&zero_key),
        "error": error(err),
    }));

    // Encryption errors: a sending chain at its last number, a plaintext
    // one byte over the limit (given by its length: that many zero bytes).
    let mut party = c.bob_ref.clone();
    if let Some(sending) = party.sending.as_mut() {
        sending.3 = u32::MAX;
    }
    let ratchet_len = c.bob_ref.encode_ratchet().len();
    let exhausted =
        cat(&[&with_sending[..with_sending.len() - ratchet_len], &party.encode_ratchet()]);
    let mut session = Session::from_bytes(&exhausted).unwrap();
    let err = session.encrypt(&mut ScriptedRng::new(&[]), b"one too many").unwrap_err();
    out.push(json!({
        "description": "a sending chain whose next number would be 2^32 - 1",
        "operation": "encrypt",
        "session_state": h(&exhausted),
        "plaintext": h(b"one too many"),
        "rng": [],
        "error": error(err),
    }));
    let too_long = vec![0u8; sealwire::limits::MAX_PLAINTEXT_LEN + 1];
    let err = Session::from_bytes(&with_sending)
        .unwrap()
        .encrypt(&mut ScriptedRng::new(&[]), &too_long)
        .unwrap_err();
    out.push(json!({
        "description": "a plaintext one byte longer than MAX_PLAINTEXT_LEN (given as plaintext_length zero bytes)",
        "operation": "encrypt",
        "session_state": h(&with_sending),
        "plaintext_length": too_long.len(),
        "rng": [],
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

    // Bob at the end of the ratchet conversation: six received chains, the
    // oldest with its keys dropped and recorded as a range.
    let end = conversation();
    let bob_end = end.bob.to_bytes().to_vec();
    vectors.push(json!({
        "name": "responder holding a dropped range and earlier chains without keys",
        "state": h(&bob_end),
        "skipped_keys": end.bob.skipped_key_count(),
        "note": "decode and re-encode; the ratchet conversation's last receive by Bob leaves this state",
    }));

    // The same responder as stored by version 2 (0x42): no KEM section. It
    // is read, and written again as version 3.
    let kem_flag = 1 + 1 + 8 + 66 + 66 + 33 + 4 + 1 + 4;
    assert_eq!(bob_mid[kem_flag], 0);
    let v2 = cat(&[&[0x42], &bob_mid[1..kem_flag], &bob_mid[kem_flag + 1..]]);
    assert_eq!(Session::from_bytes(&v2).unwrap().to_bytes().to_vec(), bob_mid);
    vectors.push(json!({
        "name": "a responder state of version 2 (0x42), read and written again as version 3",
        "state": h(&v2),
        "encodes_as": h(&bob_mid),
        "skipped_keys": 2,
        "note": "version 2 had no KEM section; its sessions are classic",
    }));

    let (limits, limit_negatives) = limit_vectors();
    vectors.extend(limits);

    let mut negative = limit_negatives;
    // Bob after a2: one received chain with keys 1 and 2, then no ranges.
    let mut awaiting = bob_mid.clone();
    awaiting[1 + 1 + 8 + 66 + 66 + 33 + 4 + 1 + 4 + 1] = 1;
    let mut swapped = bob_mid.clone();
    let n = swapped.len();
    let (first, second) = (n - 4 - 72, n - 4 - 36);
    let (a, b) = (bob_mid[first..second].to_vec(), bob_mid[second..n - 4].to_vec());
    swapped[first..second].copy_from_slice(&b);
    swapped[second..n - 4].copy_from_slice(&a);
    let mut role = bob_mid.clone();
    role[1] = 3;
    let mut beyond_end = bob_mid.clone();
    beyond_end[second..second + 4].copy_from_slice(&9u32.to_be_bytes());
    negative.extend(refused(
        "Session",
        |b| Session::from_bytes(b).map(drop),
        vec![
            ("a responder state with the awaiting-reply flag set", awaiting),
            ("skipped keys out of order", swapped),
            ("a skipped key numbered at or past its chain's end", beyond_end),
            ("role byte 3", role),
            ("a state one byte short", bob_mid[..n - 1].to_vec()),
            ("a state of version 1 (0x41)", cat(&[&[0x41], &bob_mid[1..]])),
        ],
    ));

    json!({
        "family": "session-state",
        "version": 3,
        "description": "Stored session states: decode, decrypt the next message, and the state must encode to state_after. docs/protocol.md §8.2.",
        "vectors": vectors,
        "negative": negative,
    })
}

/// States at the limits of §6.6 that the ratchet conversation does not
/// reach: the history (rule 1), the total of keys (rule 3), and the record
/// of dropped ranges (rule 4) with `unknown_below`.
fn limit_vectors() -> (Vec<Value>, Vec<Value>) {
    let mut out = Vec::new();
    let mut negative = Vec::new();

    // Rule 1: Bob remembers MAX_CHAIN_HISTORY of Alice's chains; the next
    // one makes him forget the oldest.
    let mut c = Conversation::new("history");
    let r = c.send(false, "r");
    c.receive(true, r);
    while c.bob_ref.chains.len() < reference::MAX_CHAIN_HISTORY {
        let a = c.send(true, "a");
        c.receive(false, a);
        let b = c.send(false, "b");
        c.receive(true, b);
    }
    let before = c.bob.to_bytes().to_vec();
    let next = c.send(true, "one chain too many");
    c.receive(false, next);
    assert_eq!(c.bob_ref.chains.len(), reference::MAX_CHAIN_HISTORY);
    // Alice's first chain, which her initial message was sent from, is
    // gone: the initial message is stale, not a forgery (§8.1).
    let after_history = c.bob.to_bytes().to_vec();
    let err = Session::from_bytes(&after_history).unwrap().decrypt(&c.initial).unwrap_err();
    assert_eq!(err, DecryptError::StaleMessage);
    negative.push(json!({
        "description": "the initial message the session was accepted from, after the history forgot its chain: stale (§8.1)",
        "operation": "decrypt",
        "session_state": h(&after_history),
        "input": h(&c.initial),
        "error": error(err),
    }));
    out.push(json!({
        "name": "responder at MAX_CHAIN_HISTORY receiving a new chain: the oldest is forgotten (§6.6 rule 1)",
        "state": h(&before),
        "skipped_keys": 0,
        "next_message": h(&c.sent[next]),
        "plaintext": h(b"one chain too many"),
        "state_after": h(c.bob.to_bytes().as_slice()),
    }));

    // Rule 1 with a chain that holds a key: Bob skipped one message of
    // Alice's first chain; many chains later, the history forgets the
    // oldest chain without keys instead, and the held message still opens.
    let mut c = Conversation::new("history keyed");
    let held = c.send(true, "held back");
    let after_held = c.send(true, "after the held one");
    c.receive(false, after_held);
    let r = c.send(false, "r");
    c.receive(true, r);
    while c.bob_ref.chains.len() < reference::MAX_CHAIN_HISTORY {
        let a = c.send(true, "a");
        c.receive(false, a);
        let b = c.send(false, "b");
        c.receive(true, b);
    }
    assert_eq!(c.bob.skipped_key_count(), 1);
    let before = c.bob.to_bytes().to_vec();
    let next = c.send(true, "one chain too many");
    c.receive(false, next);
    assert_eq!(c.bob_ref.chains.len(), reference::MAX_CHAIN_HISTORY);
    let after = c.bob.to_bytes().to_vec();
    c.receive(false, held);
    out.push(json!({
        "name": "responder at MAX_CHAIN_HISTORY whose oldest chain holds a key, receiving a new chain: the oldest chain without keys is forgotten (§6.6 rule 1); then the held message still opens",
        "state": h(&before),
        "skipped_keys": 1,
        "next_message": h(&c.sent[next]),
        "plaintext": h(b"one chain too many"),
        "state_after": h(&after),
        "then": { "message": h(&c.sent[held]), "plaintext": h(b"held back"), "state_after": h(c.bob.to_bytes().as_slice()) },
    }));

    // Rule 3: Bob holds MAX_SKIPPED_KEYS keys in two chains; the next
    // message skips one more, and the lowest of the oldest chain goes.
    let mut c = Conversation::new("total");
    let r = c.send(false, "r");
    c.receive(true, r);
    for round in 0..2 {
        let mut last = 0;
        for i in 0..=reference::MAX_SKIP {
            last = c.send(true, &format!("{round}/{i}"));
        }
        c.receive(false, last);
        let b = c.send(false, "b");
        c.receive(true, b);
    }
    let full = c.bob.to_bytes().to_vec();
    assert_eq!(c.bob.skipped_key_count(), reference::MAX_SKIPPED_KEYS);
    let _skipped = c.send(true, "skipped");
    let next = c.send(true, "one key too many");
    c.receive(false, next);
    let after = c.bob.to_bytes().to_vec();
    out.push(json!({
        "name": "responder holding MAX_SKIPPED_KEYS keys; the next message skips one more, and the oldest chain's lowest key is dropped (§6.6 rule 3). The state after is given by its SHA-256.",
        "state": h(&full),
        "skipped_keys": reference::MAX_SKIPPED_KEYS,
        "next_message": h(&c.sent[next]),
        "plaintext": h(b"one key too many"),
        "state_after_sha256": h(reference::sha256(&after)),
    }));

    // Rule 4: Bob drops MAX_DROPPED_RANGES + 1 scattered keys of one chain
    // (he read every other message) when five later chains hold keys; the
    // oldest range is forgotten and unknown_below set.
    let mut c = Conversation::new("ranges");
    let r = c.send(false, "r");
    c.receive(true, r);
    let n = reference::MAX_DROPPED_RANGES as u32 + 1;
    let chain: Vec<usize> = (0..=2 * n).map(|i| c.send(true, &format!("m{i}"))).collect();
    c.receive(false, chain[2 * n as usize]);
    for k in (1..2 * n).step_by(2) {
        c.receive(false, chain[k as usize]);
    }
    for turn in 0..reference::MAX_RECEIVING_CHAINS {
        let b = c.send(false, "b");
        c.receive(true, b);
        let _missed = c.send(true, &format!("turn {turn} missed"));
        let seen = c.send(true, &format!("turn {turn} seen"));
        c.receive(false, seen);
    }
    let first = &c.bob_ref.chains[1];
    assert_eq!(first.dropped.len(), reference::MAX_DROPPED_RANGES);
    assert_eq!(first.unknown_below, 1);
    out.push(json!({
        "name": "responder that dropped 65 scattered keys of one chain: MAX_DROPPED_RANGES ranges are kept, the oldest forgotten below unknown_below (§6.6 rule 4)",
        "state": h(c.bob.to_bytes().as_slice()),
        "skipped_keys": c.bob.skipped_key_count(),
        "note": "decode and re-encode; the negative vectors decrypt messages 0 to 3 of that chain with this state",
    }));
    for (i, answer) in ["StaleMessage", "Duplicate", "KeyDropped", "Duplicate"].iter().enumerate() {
        let (state, input, err) = c.refused(false, chain[i]);
        assert_eq!(format!("{err:?}"), *answer);
        negative.push(json!({
            "description": format!("message {i} of the chain whose dropped ranges overflowed: {answer}"),
            "operation": "decrypt",
            "session_state": h(&state),
            "input": h(&input),
            "error": error(err),
        }));
    }
    (out, negative)
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
    TrustSpec::roots(authorities).store()
}

/// A trust store as the vectors write it (test-vectors/README.md): the
/// roots, the revocations and the denials.
#[derive(Clone, Default)]
struct TrustSpec {
    roots: Vec<(String, [u8; 32])>,
    revoked_key_ids: Vec<(String, u32)>,
    revoked_keys: Vec<[u8; 32]>,
    denied_identities: Vec<[u8; 33]>,
    denied_certificates: Vec<[u8; 32]>,
}

impl TrustSpec {
    fn roots(authorities: &[&Authority]) -> Self {
        Self {
            roots: authorities
                .iter()
                .map(|a| (a.app.as_str().to_string(), a.root.ed25519))
                .collect(),
            ..Self::default()
        }
    }

    fn store(&self) -> TrustStore {
        let mut store = TrustStore::new();
        for (app, key) in &self.roots {
            let key = CertificateKey::from_bytes(&reference::encode_certificate_key(key)).unwrap();
            store.add_root(&TrustRoot::new(AppId::new(app).unwrap(), key));
        }
        for (app, id) in &self.revoked_key_ids {
            store.revoke(&AppId::new(app).unwrap(), *id);
        }
        for key in &self.revoked_keys {
            let key = CertificateKey::from_bytes(&reference::encode_certificate_key(key)).unwrap();
            store.revoke_issuer_key(&key);
        }
        for identity in &self.denied_identities {
            store.deny_identity(&IdentityKey::from_bytes(identity).unwrap());
        }
        store
    }

    fn json(&self) -> Value {
        json!({
            "roots": self.roots.iter().map(|(app, key)| json!({ "app_id": app, "key": h(key) })).collect::<Vec<_>>(),
            "revoked_key_ids": self.revoked_key_ids.iter().map(|(app, id)| json!({ "app_id": app, "key_id": id })).collect::<Vec<_>>(),
            "revoked_keys": self.revoked_keys.iter().map(h).collect::<Vec<_>>(),
            "denied_identities": self.denied_identities.iter().map(h).collect::<Vec<_>>(),
            "denied_certificates": self.denied_certificates.iter().map(h).collect::<Vec<_>>(),
        })
    }
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
        .enumerate()
        .map(|(i, share)| {
            json!({
                "recipient": h(share.recipient),
                "ephemeral_dh": h(share.ephemeral_dh),
                "wrap_key": h(&share.wrap_key),
                "wrapped_secret": h(&share.wrapped),
                "static_dh": h(share.static_dh),
                "auth_key": h(&share.auth_key),
                "tag": h(&share.tag),
                "envelope_prefix": h(s.prefix(i)),
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
        "commitment": h(&s.commitment),
        "payload": h(&s.payload),
        "payload_hash": h(s.payload_hash),
        "shares": shares,
    })
}

/// Seals `inner` from x3dh's Alice to `bob` with sealwire and the
/// reference, checks they agree and that Bob opens it; returns the vector.
#[allow(clippy::too_many_arguments)]
fn sealed_vector(
    name: &str,
    padded: bool,
    sender: &(Identity, IdentityKeyPair),
    cert: &[u8],
    recipient: &(Identity, IdentityKeyPair),
    inner: &[u8],
    trust_spec: &TrustSpec,
) -> Value {
    let ephemeral = secret(&format!("sealed {name} ephemeral"));
    let m = secret(&format!("sealed {name} envelope secret"));
    let s = reference::seal(&sender.0, cert, &[(&recipient.0, inner)], &ephemeral, &m, padded);
    let envelope = s.envelope(0);
    let mut sealer = Sealer::new(SenderCertificate::from_bytes(cert).unwrap());
    let mut rng = ScriptedRng::new(&[ephemeral, m]);
    let padding = if padded { Padding::Buckets } else { Padding::None };
    let ours = sealer.seal(&mut rng, &sender.1, recipient.1.public(), inner, padding).unwrap();
    assert!(rng.finished());
    assert_eq!(ours, envelope, "sealed {name}");
    let opened = unseal(&recipient.1, &trust_spec.store(), Timestamp(NOW), &envelope).unwrap();
    assert_eq!(opened.message_unchecked(), inner);
    let mut v = sealed_json(&s, &ephemeral, &m);
    v["name"] = json!(name);
    v["padded"] = json!(padded);
    v["sender_identity_seed"] = h(sender.0.seed);
    v["recipient_identity_seed"] = h(recipient.0.seed);
    v["sender_certificate"] = h(cert);
    v["inner_message"] = h(inner);
    v["envelope"] = h(&envelope);
    v["unsealed"] = json!({
        "now": NOW,
        "trust": trust_spec.json(),
        "app_id": opened.app_id().as_str(),
        "user_id": h(opened.user_id().as_bytes()),
        "device_id": opened.device_id().0,
        "identity_key": h(opened.identity_key().to_bytes()),
        "content_type": if inner[0] == 0x23 { 1 } else { 2 },
    });
    v
}

fn sealed_family() -> Value {
    let app_a = authority("app-a");
    let app_b = authority("app-b");
    let bob = identity("sealed bob");
    // The inner message: the initial message of the x3dh vector with a
    // one-time prekey, as a fixed byte string. It names x3dh's Alice, so
    // she is the sender here.
    let x3dh = x3dh_family();
    let inner = hex_decode(x3dh["vectors"][0]["initial_message"].as_str().unwrap());
    let x_alice = identity("with one-time prekey alice");
    let (x_cert_message, x_cert) =
        sender_certificate(&app_a, "alice", 1, &x_alice.0, 1_850_000_000);
    let both = TrustSpec::roots(&[&app_a, &app_b]);

    let mut vectors = Vec::new();
    for (name, padded) in [("padded", true), ("unpadded", false)] {
        vectors.push(sealed_vector(name, padded, &x_alice, &x_cert, &bob, &inner, &both));
    }
    // Padding at a bucket's edge: a ratchet message whose envelope is 1024
    // bytes unpadded gets no padding; one byte longer, 1023 bytes of it.
    let fixed = 151 + 16 + 4 + x_cert.len() + 1 + 4 + 38 + 86;
    for (name, plaintext_len) in
        [("exactly 1024 bytes unpadded", 1024 - fixed), ("1025 bytes unpadded", 1025 - fixed)]
    {
        let mut c = Conversation::new("sealed edge");
        let index = c.send(false, &"x".repeat(plaintext_len));
        let message = c.sent[index].clone();
        let v = sealed_vector(name, true, &x_alice, &x_cert, &bob, &message, &both);
        let envelope_len = v["envelope"].as_str().unwrap().len() / 2;
        assert_eq!(envelope_len, if plaintext_len + fixed == 1024 { 1024 } else { 2048 });
        vectors.push(v);
    }

    let certificates = json!({
        "trust_roots": [
            { "app_id": "app-a", "root_seed": h(app_a.root.seed), "encoded": h(cat(&[&[0xe2], &reference::encode_certificate_key(&app_a.root.ed25519), &reference::with_len(b"app-a")])) },
            { "app_id": "app-b", "root_seed": h(app_b.root.seed), "encoded": h(cat(&[&[0xe2], &reference::encode_certificate_key(&app_b.root.ed25519), &reference::with_len(b"app-b")])) },
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
            "identity_seed": h(x_alice.0.seed),
            "expires": 1_850_000_000u64,
            "signed_message": h(&x_cert_message),
            "certificate": h(&x_cert),
            "fingerprint": h(reference::sha256(&x_cert)),
        },
    });
    for root in certificates["trust_roots"].as_array().unwrap() {
        let bytes = hex_decode(root["encoded"].as_str().unwrap());
        assert_eq!(TrustRoot::from_bytes(&bytes).unwrap().to_bytes(), bytes);
    }

    // Negative vectors: unsealing at Bob's.
    let base = hex_decode(vectors[1]["envelope"].as_str().unwrap());
    let (carol, _) = identity("sealed carol");
    let mut negative = Vec::new();
    let mut cases: Vec<(&str, Bytes, u64, TrustSpec)> = Vec::new();
    let flip = |at: usize| {
        let mut e = base.clone();
        e[at] ^= 1;
        e
    };
    cases.push(("the commitment altered", flip(80), NOW, both.clone()));
    cases.push(("the wrapped secret altered", flip(110), NOW, both.clone()));
    cases.push(("the share tag altered", flip(135), NOW, both.clone()));
    cases.push(("the payload's AEAD tag altered", flip(base.len() - 1), NOW, both.clone()));
    let mut relabeled = base.clone();
    relabeled[1..34].copy_from_slice(&carol.encoded());
    cases.push((
        "addressed to another identity (the recipient field rewritten)",
        relabeled,
        NOW,
        both.clone(),
    ));
    cases.push((
        "one second after the sender certificate expires",
        base.clone(),
        1_850_000_001,
        both.clone(),
    ));
    cases.push((
        "after the issuer certificate's window",
        base.clone(),
        1_900_000_001,
        both.clone(),
    ));
    cases.push((
        "before the issuer certificate's window",
        base.clone(),
        1_699_999_999,
        both.clone(),
    ));
    cases.push(("the recipient trusts only app-b", base.clone(), NOW, TrustSpec::roots(&[&app_b])));
    let mut revoked = both.clone();
    revoked.revoked_key_ids.push(("app-a".to_string(), 1));
    cases.push(("issuer key id 1 of app-a revoked", base.clone(), NOW, revoked));
    let mut revoked_key = both.clone();
    revoked_key.revoked_keys.push(app_a.issuer.ed25519);
    cases.push(("app-a's issuer key revoked by key", base.clone(), NOW, revoked_key));
    // Revoked by another encoding of the same key: -A (the sign bit of the
    // encoding flipped), which the same secret signs for (§9.5 rule 3).
    let mut negated = app_a.issuer.ed25519;
    negated[31] ^= 0x80;
    let mut revoked_negated = both.clone();
    revoked_negated.revoked_keys.push(negated);
    cases.push((
        "app-a's issuer key revoked as -A, its negation",
        base.clone(),
        NOW,
        revoked_negated,
    ));
    let mut denied = both.clone();
    denied.denied_identities.push(x_alice.0.encoded());
    cases.push(("the sender's identity key denied", base.clone(), NOW, denied));
    let wrong_root = TrustSpec {
        roots: vec![("app-a".to_string(), app_b.root.ed25519)],
        ..TrustSpec::default()
    };
    cases.push(("app-a's root replaced by app-b's key", base.clone(), NOW, wrong_root));
    cases.push(("truncated by one byte", base[..base.len() - 1].to_vec(), NOW, both.clone()));
    cases.push((
        "a sealed envelope of version 1 (0xc1)",
        cat(&[&[0xc1], &base[1..]]),
        NOW,
        both.clone(),
    ));
    cases.push((
        "a sealed envelope with the tag of version 2 (0xc2)",
        cat(&[&[0xc2], &base[1..]]),
        NOW,
        both.clone(),
    ));
    for (description, envelope, now, spec) in cases {
        let err = unseal(&bob.1, &spec.store(), Timestamp(now), &envelope).unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "unseal",
            "recipient_identity_seed": h(bob.0.seed),
            "trust": spec.json(),
            "now": now,
            "input": h(&envelope),
            "error": error(err),
        }));
    }
    // A certified sender (Mallory) seals an initial message that names
    // another identity (x3dh's Alice).
    let mallory = identity("sealed mallory");
    let (_, mallory_cert) = sender_certificate(&app_a, "mallory", 3, &mallory.0, 1_850_000_000);
    let s = reference::seal(
        &mallory.0,
        &mallory_cert,
        &[(&bob.0, &inner)],
        &secret("foreign ephemeral"),
        &secret("foreign secret"),
        true,
    );
    let foreign = s.envelope(0);
    let err = unseal(&bob.1, &both.store(), Timestamp(NOW), &foreign).unwrap_err();
    negative.push(json!({
        "description": "sealed by a certified sender, carrying an initial message that names another identity",
        "operation": "unseal",
        "recipient_identity_seed": h(bob.0.seed),
        "trust": both.json(),
        "now": NOW,
        "input": h(&foreign),
        "error": error(err),
    }));

    // Sealing refuses, before drawing anything.
    let x_ratchet = {
        let mut c = Conversation::new("sealed refusals");
        let r = c.send(false, "a ratchet message");
        c.sent[r].clone()
    };
    // Payloads that a certified sender (x3dh's Alice) can write but no
    // sealer does: each opens, then its content is refused (§10.5 step 4).
    let group_message = {
        let mut key = reference::SendingKey::generate(
            secret("sealed group message chain id")[..4].try_into().unwrap(),
            secret("sealed group message chain key"),
            secret("sealed group message signing seed"),
        );
        key.encrypt(b"a group", b"a group message", nonce("sealed group message nonce")).message
    };
    let distribution_message = reference::distribution(
        b"a group",
        7,
        0,
        &secret("sealed distribution chain key"),
        &reference::ed25519_public(&secret("sealed distribution signing seed")),
    );
    let bob_encoded = bob.0.encoded();
    let one_entry = |content_type: u8, message: &[u8]| {
        reference::entries_content(&x_cert, &[(bob_encoded, content_type, message)])
    };
    let with_layout = |layout: u8| {
        let mut content = one_entry(0x02, &x_ratchet);
        content[4 + x_cert.len()] = layout;
        content
    };
    for (description, content) in [
        ("a payload whose layout byte is 0x03, which no layout has", with_layout(0x03)),
        ("a payload whose layout byte is 0x00", with_layout(0x00)),
        (
            "an entry of content type 0x03 (a group message's, which only the shared layout carries)",
            one_entry(0x03, &group_message),
        ),
        ("a group message in an entry of content type 0x02", one_entry(0x02, &group_message)),
        (
            "a ratchet message in an entry of content type 0x01 (initial)",
            one_entry(0x01, &x_ratchet),
        ),
        (
            "an initial message in an entry of content type 0x12 (a distribution over a ratchet message)",
            one_entry(0x12, &inner),
        ),
        ("an entry of content type 0x13, which is undefined", one_entry(0x13, &x_ratchet)),
        (
            "a sender key distribution message (0xFF 0xB1) itself in an entry of content type 0x02: its first byte, 0xFF, names no session message",
            one_entry(0x02, &distribution_message),
        ),
    ] {
        let label = format!("sealed content refusal: {description}");
        let s = reference::seal_content(
            &x_alice.0,
            &content,
            &[&bob.0],
            &secret(&format!("{label} ephemeral")),
            &secret(&format!("{label} secret")),
            true,
        );
        let envelope = s.envelope(0);
        let err = unseal(&bob.1, &both.store(), Timestamp(NOW), &envelope).unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "unseal",
            "recipient_identity_seed": h(bob.0.seed),
            "trust": both.json(),
            "now": NOW,
            "input": h(&envelope),
            "error": error(err),
        }));
    }

    let mut sealer = Sealer::new(SenderCertificate::from_bytes(&x_cert).unwrap());
    for (description, signer, recipients) in [
        (
            "an initial message naming another identity than the sealer's",
            &mallory,
            vec![(bob.1.public(), &inner)],
        ),
        ("no recipients", &x_alice, vec![]),
        (
            "one recipient twice",
            &x_alice,
            vec![(bob.1.public(), &x_ratchet), (bob.1.public(), &x_ratchet)],
        ),
        (
            "a group message as a recipient's session message (it goes in the shared layout, sealed once for all)",
            &x_alice,
            vec![(bob.1.public(), &group_message)],
        ),
    ] {
        let list: Vec<(IdentityKey, &[u8])> =
            recipients.iter().map(|(r, m)| (**r, m.as_slice())).collect();
        let mut cert_sealer;
        let sealer = if std::ptr::eq(signer, &mallory) {
            cert_sealer = Sealer::new(SenderCertificate::from_bytes(&mallory_cert).unwrap());
            &mut cert_sealer
        } else {
            &mut sealer
        };
        let err = sealer
            .seal_to_many(&mut ScriptedRng::new(&[]), &signer.1, &list, Padding::Buckets)
            .unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "seal",
            "sender_identity_seed": h(signer.0.seed),
            "sender_certificate": h(if std::ptr::eq(signer, &mallory) { &mallory_cert } else { &x_cert }),
            "recipients": recipients.iter().map(|(r, m)| json!({ "identity": h(r.to_bytes()), "message": h(m) })).collect::<Vec<_>>(),
            "padded": true,
            "rng": [],
            "error": error(err),
        }));
    }
    // Sealing with an identity the certificate does not name.
    let err = sealer
        .seal(&mut ScriptedRng::new(&[]), &mallory.1, bob.1.public(), &x_ratchet, Padding::Buckets)
        .unwrap_err();
    negative.push(json!({
        "description": "a sealing identity (mallory's) other than the certificate's (alice's)",
        "operation": "seal",
        "sender_identity_seed": h(mallory.0.seed),
        "sender_certificate": h(&x_cert),
        "recipients": [{ "identity": h(bob.0.encoded()), "message": h(&x_ratchet) }],
        "padded": true,
        "rng": [],
        "error": error(err),
    }));
    let mut upper = cat(&[&[0xe2], &reference::encode_certificate_key(&app_a.root.ed25519)]);
    upper.extend(reference::with_len(b"App-a"));
    negative.extend(refused(
        "TrustRoot",
        |b| TrustRoot::from_bytes(b).map(drop),
        vec![("a trust root whose app id has an upper-case letter", upper)],
    ));

    // Denied by certificate fingerprint: the store holds the fingerprint.
    let mut store = both.store();
    store.deny_certificate(&SenderCertificate::from_bytes(&x_cert).unwrap());
    let mut spec = both.clone();
    spec.denied_certificates.push(reference::sha256(&x_cert));
    let err = unseal(&bob.1, &store, Timestamp(NOW), &base).unwrap_err();
    negative.push(json!({
        "description": "the sender's certificate denied by its fingerprint",
        "operation": "unseal",
        "recipient_identity_seed": h(bob.0.seed),
        "trust": spec.json(),
        "now": NOW,
        "input": h(&base),
        "error": error(err),
    }));

    json!({
        "family": "sealed",
        "version": 3,
        "description": "Certificates, and sealed envelopes (version 3, 0xC3) for one recipient, padded and not, and at a padding bucket's edge. Each vector unseals at the recipient with the trust store and time under `unsealed`. The negative vectors include payloads whose layout byte, content types or entries are refused. docs/protocol.md §9, §10.",
        "certificates": certificates,
        "vectors": vectors,
        "negative": negative,
    })
}

fn multi_family() -> Value {
    let app_a = authority("app-a");
    let alice = identity("multi alice");
    let (_, cert) = sender_certificate(&app_a, "alice", 2, &alice.0, 1_850_000_000);
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
    let s = reference::seal(&alice.0, &cert, &entries, &ephemeral, &m, true);
    let multi = s.multi();
    let mut sealer = Sealer::new(SenderCertificate::from_bytes(&cert).unwrap());
    let mut rng = ScriptedRng::new(&[ephemeral, m]);
    let ours_entries: Vec<(IdentityKey, &[u8])> = recipients
        .iter()
        .zip(&messages)
        .map(|((_, pair), msg)| (*pair.public(), msg.as_slice()))
        .collect();
    let ours = sealer.seal_to_many(&mut rng, &alice.1, &ours_entries, Padding::Buckets).unwrap();
    assert!(rng.finished());
    assert_eq!(ours, multi, "multi-recipient envelope");
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    let trust_spec = TrustSpec::roots(&[&app_a]);
    let split: Vec<Value> = common_split(&parsed)
        .iter()
        .enumerate()
        .map(|(i, (_, envelope))| {
            assert_eq!(*envelope, s.envelope(i));
            let opened =
                unseal(&recipients[i].1, &trust_spec.store(), Timestamp(NOW), envelope).unwrap();
            assert_eq!(opened.message_unchecked(), messages[i].as_slice());
            h(envelope)
        })
        .collect();
    let mut v = sealed_json(&s, &ephemeral, &m);
    v["name"] = json!("three devices of one user");
    v["sender_identity_seed"] = h(alice.0.seed);
    v["sender_certificate"] = h(&cert);
    v["recipient_identity_seeds"] = recipients.iter().map(|(r, _)| h(r.seed)).collect();
    v["messages"] = messages.iter().map(h).collect();
    v["multi_recipient_envelope"] = h(&multi);
    v["split_envelopes"] = json!(split);
    v["unsealed"] = json!({ "now": NOW, "trust": trust_spec.json() });
    v["certificate_authority"] = json!({
        "app_id": "app-a",
        "root_seed": h(app_a.root.seed),
        "issuer_seed": h(app_a.issuer.seed),
        "issuer_certificate": h(&app_a.issuer_certificate),
        "sender_user_id": h(b"alice"),
        "sender_device_id": 2,
        "sender_expires": 1_850_000_000u64,
    });

    let mut negative = Vec::new();
    let shares_at = 1 + 33 + 32 + 4;
    let mut repeated = multi.clone();
    repeated.copy_within(shares_at..shares_at + 81, shares_at + 81);
    let mut zero = cat(&[&multi[..shares_at - 4], &0u32.to_be_bytes()]);
    zero.extend_from_slice(&multi[shares_at + 3 * 81..]);
    let mut over = multi.clone();
    over[shares_at - 4..shares_at].copy_from_slice(&4097u32.to_be_bytes());
    let mut odd_recipient = multi.clone();
    odd_recipient[shares_at + 32] |= 0x80;
    negative.extend(refused(
        "MultiRecipientEnvelope",
        |b| MultiRecipientEnvelope::parse(b).map(drop),
        vec![
            ("the second share repeats the first", repeated),
            ("no shares", zero),
            ("a share count of 4097, above MAX_RECIPIENTS", over),
            ("the payload one byte short of its length", multi[..multi.len() - 1].to_vec()),
            ("a recipient field with the sign bit set", odd_recipient),
            ("a multi-recipient envelope of version 1 (0xd1)", cat(&[&[0xd1], &multi[1..]])),
            ("a multi-recipient envelope of version 2 (0xd2)", cat(&[&[0xd2], &multi[1..]])),
        ],
    ));
    // Swapped share bodies between devices 1 and 2: device 1 cannot open.
    let mut swapped = multi.clone();
    let (s0, s1) = (shares_at + 33, shares_at + 81 + 33);
    let (b0, b1) = (multi[s0..s0 + 48].to_vec(), multi[s1..s1 + 48].to_vec());
    swapped[s0..s0 + 48].copy_from_slice(&b1);
    swapped[s1..s1 + 48].copy_from_slice(&b0);
    let envelope = common_split(&MultiRecipientEnvelope::parse(&swapped).unwrap())[0].1.clone();
    let err = unseal(&recipients[0].1, &trust_spec.store(), Timestamp(NOW), &envelope).unwrap_err();
    negative.push(json!({
        "description": "the wrapped secrets and tags of devices 1 and 2 swapped; device 1's split envelope",
        "operation": "unseal",
        "recipient_identity_seed": h(recipients[0].0.seed),
        "trust": trust_spec.json(),
        "now": NOW,
        "input": h(&envelope),
        "error": error(err),
    }));
    negative.push(two_keys_vector(&alice, &cert, &recipients, &trust_spec));

    json!({
        "family": "multi-recipient",
        "version": 3,
        "description": "One envelope (version 3, 0xD3) for three recipients, padded; its split into three sealed envelopes, each opened by its recipient with the trust store and time under `unsealed`. docs/protocol.md §10, §11.",
        "vectors": [v],
        "negative": negative,
    })
}

/// A malicious sender's envelope for two recipients: one payload valid
/// under the keys of two envelope secrets (a solved Poly1305 block),
/// device 1's share wrapping the secret the commitment is of, device 2's
/// another. Device 2 must refuse it (docs/protocol.md §17.9).
fn two_keys_vector(
    sender: &(Identity, IdentityKeyPair),
    cert: &[u8],
    recipients: &[(Identity, IdentityKeyPair)],
    trust_spec: &TrustSpec,
) -> Value {
    let (d1, d2) = (&recipients[0], &recipients[1]);
    let junk = |seed: u8| cat(&[&[0x32], &[seed; 160]]);
    let entries: Vec<(&Identity, Bytes)> = vec![(&d1.0, junk(1)), (&d2.0, junk(2))];
    let listed: Vec<([u8; 33], u8, &[u8])> =
        entries.iter().map(|(r, msg)| (r.encoded(), 0x02, msg.as_slice())).collect();
    let content = reference::entries_content(cert, &listed);
    // The first message's bytes: after the certificate, the layout byte,
    // the count and the first entry's recipient, type and length.
    let message_at = 4 + cert.len() + 1 + 4 + 33 + 1 + 4;
    let block = (message_at + 8).div_ceil(16);
    let e = secret("two keys ephemeral");
    let e_pub = x25519_public(&e);
    let encoded_e = encode_x25519(&e_pub);
    let s1 = secret("two keys secret 1");
    let okm1 = reference::hkdf(&[0; 32], &s1, b"sealwire/sealed/payload/v2", 76);
    let (k1, n1, commitment) = (&okm1[..32], &okm1[32..44], &okm1[44..]);
    let mut ciphertext =
        reference::aead_seal(k1, n1, &encoded_e, &content)[..content.len()].to_vec();
    let poly_key = |k: &[u8], n: &[u8]| {
        poly1305::chacha_poly_key(&k.try_into().unwrap(), &n.try_into().unwrap())
    };
    let (r1, t1) = poly_key(k1, n1);
    let s2 = (0..)
        .map(|i| secret(&format!("two keys secret 2, try {i}")))
        .find_map(|s2| {
            let okm2 = reference::hkdf(&[0; 32], &s2, b"sealwire/sealed/payload/v2", 76);
            let (r2, t2) = poly_key(&okm2[..32], &okm2[32..44]);
            poly1305::collide(&encoded_e, &ciphertext, block, (&r1, &t1), (&r2, &t2))
                .map(|x| (s2, x))
        })
        .map(|(s2, x)| {
            ciphertext[block * 16..block * 16 + 16].copy_from_slice(&x);
            s2
        })
        .unwrap();
    let mut payload = ciphertext.clone();
    payload.extend(poly1305::tag(&r1, &t1, &poly1305::blocks(&encoded_e, &ciphertext)));
    let okm2 = reference::hkdf(&[0; 32], &s2, b"sealwire/sealed/payload/v2", 76);
    assert!(reference::aead_open(k1, n1, &encoded_e, &payload).is_some());
    assert!(reference::aead_open(&okm2[..32], &okm2[32..44], &encoded_e, &payload).is_some());
    let digest = reference::sha256(&payload);
    let share = |r: &Identity, m: &[u8; 32]| {
        let encoded_r = r.encoded();
        let wrap = reference::hkdf(
            &[0; 32],
            &reference::x25519(&e, &r.x25519_public),
            &cat(&[b"sealwire/sealed/wrap/v1", &encoded_e, &encoded_r]),
            32,
        );
        let wrapped: Bytes = m.iter().zip(&wrap).map(|(a, b)| a ^ b).collect();
        let auth = reference::hkdf(
            &[0; 32],
            &reference::x25519(&sender.0.x25519_scalar, &r.x25519_public),
            &cat(&[b"sealwire/sealed/auth/v1", &sender.0.encoded(), &encoded_r]),
            32,
        );
        let tag =
            reference::hmac(&auth, &cat(&[&encoded_e, &encoded_r, commitment, &wrapped, &digest]));
        (encoded_r, wrapped, tag[..16].to_vec())
    };
    let shares = [share(&d1.0, &s1), share(&d2.0, &s2)];
    let mut multi = cat(&[&[0xd3], &encoded_e, commitment, &2u32.to_be_bytes()]);
    for (r, w, t) in &shares {
        multi.extend(cat(&[r, w, t]));
    }
    multi.extend(reference::with_len(&payload));
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    let split = common_split(&parsed);
    let store = trust_spec.store();
    assert!(unseal(&d1.1, &store, Timestamp(NOW), &split[0].1).is_ok());
    let err = unseal(&d2.1, &store, Timestamp(NOW), &split[1].1).unwrap_err();
    json!({
        "description": "a payload valid under the keys of two envelope secrets; this share wraps the one the commitment is not of (device 1's share, which wraps the other, opens). Without the commitment check the payload would open to a different content here.",
        "operation": "unseal",
        "recipient_identity_seed": h(d2.0.seed),
        "trust": trust_spec.json(),
        "now": NOW,
        "secrets": [h(s1), h(s2)],
        "input": h(&split[1].1),
        "error": error(err),
    })
}

/// Each recipient's sealed envelope, as a relay delivers them.
fn common_split(envelope: &MultiRecipientEnvelope<'_>) -> Vec<(IdentityKey, Vec<u8>)> {
    envelope
        .recipients()
        .map(|share| (IdentityKey::from_bytes(share.recipient()).unwrap(), share.to_envelope()))
        .collect()
}

// ---- the session layer (docs/sessions.md) ------------------------------------------------

fn sessions_family() -> Value {
    // Addresses.
    let mut addresses = Vec::new();
    let cases: [(&str, &[u8], u32); 4] = [
        ("chat.a", b"alice", 1),
        ("chat.b", b"a@b#1%", 7),
        ("x", &[0x00, 0xff, b' ', b'~'], 0),
        ("app-2_z.q", &[b'u'; 64], u32::MAX),
    ];
    for (app, user, device) in cases {
        let ours =
            Address::new(AppId::new(app).unwrap(), UserId::new(user).unwrap(), DeviceId(device));
        let bytes = reference::address(app.as_bytes(), user, device);
        assert_eq!(ours.to_bytes(), bytes);
        assert_eq!(Address::from_bytes(&bytes).unwrap(), ours);
        let text = reference::address_text(app, user, device);
        assert_eq!(ours.to_string(), text);
        addresses.push(json!({
            "app_id": app, "user_id": h(user), "device_id": device,
            "encoding": h(&bytes), "text": text,
        }));
    }

    // Safety numbers.
    let mut safety = Vec::new();
    let pairs = [
        ("alice and bob", ("chat.a", &b"alice"[..], 1), ("chat.b", &b"bob"[..], 1)),
        ("two devices of one user", ("chat.a", &b"alice"[..], 1), ("chat.a", &b"alice"[..], 2)),
        (
            "the same keys at other addresses",
            ("chat.c", &b"carol"[..], 3),
            ("chat.b", &b"bob"[..], 9),
        ),
    ];
    let (ka, kb) = (identity("safety a"), identity("safety b"));
    for (name, a, b) in pairs {
        let (aa, ab) = (
            reference::address(a.0.as_bytes(), a.1, a.2),
            reference::address(b.0.as_bytes(), b.1, b.2),
        );
        let (digits, scannable) =
            reference::safety_number((&ka.0.ed25519, &aa), (&kb.0.ed25519, &ab));
        let (da, ha) = reference::safety_side(&ka.0.ed25519, &aa);
        let (db, hb) = reference::safety_side(&kb.0.ed25519, &ab);
        let addr = |x: (&str, &[u8], u32)| {
            Address::new(AppId::new(x.0).unwrap(), UserId::new(x.1).unwrap(), DeviceId(x.2))
        };
        let ours = SafetyNumber::new(&addr(a), ka.1.public(), &addr(b), kb.1.public());
        assert_eq!(ours.digits(), digits, "{name}");
        assert_eq!(ours.scannable().to_vec(), scannable, "{name}");
        assert_eq!(SafetyNumber::new(&addr(b), kb.1.public(), &addr(a), ka.1.public()), ours);
        safety.push(json!({
            "name": name,
            "a": { "identity_seed": h(ka.0.seed), "identity_key": h(ka.0.encoded()), "address": h(&aa), "digits": da, "h_5200": h(ha) },
            "b": { "identity_seed": h(kb.0.seed), "identity_key": h(kb.0.encoded()), "address": h(&ab), "digits": db, "h_5200": h(hb) },
            "safety_number": digits,
            "scannable": h(&scannable),
        }));
    }

    // Remote identities and device lists.
    let mut records = Vec::new();
    let kc = identity("safety c");
    type Replaced<'a> = Vec<(&'a (Identity, IdentityKeyPair), u64)>;
    let cases: [(bool, u64, Replaced<'_>); 3] = [
        (false, 1_800_000_000, vec![]),
        (true, 0, vec![]),
        (false, 1_800_000_900, vec![(&kb, 1_800_000_900), (&kc, 1_800_000_100)]),
    ];
    for (verified, since, replaced) in cases {
        let raw: Vec<([u8; 32], u64)> = replaced.iter().map(|(k, t)| (k.0.ed25519, *t)).collect();
        let bytes = reference::remote_identity(&ka.0.ed25519, verified, since, &raw);
        let trust = if verified { Trust::Verified } else { Trust::Accepted };
        let ours = RemoteIdentity::from_bytes(&bytes).unwrap();
        assert_eq!(ours.to_bytes(), bytes);
        assert_eq!(
            (ours.key(), ours.trust(), ours.since()),
            (ka.1.public(), trust, Timestamp(since))
        );
        let history: Vec<(IdentityKey, Timestamp)> =
            replaced.iter().map(|(k, t)| (*k.1.public(), Timestamp(*t))).collect();
        assert_eq!(ours.replaced(), history.as_slice());
        if replaced.is_empty() {
            assert_eq!(RemoteIdentity::new(*ka.1.public(), trust, Timestamp(since)), ours);
        }
        records.push(json!({
            "kind": "remote identity", "identity_seed": h(ka.0.seed),
            "trust": if verified { "verified" } else { "accepted" }, "since": since,
            "replaced": replaced.iter().map(|(k, t)| json!({ "identity_seed": h(k.0.seed), "replaced_at": t })).collect::<Vec<_>>(),
            "encoding": h(&bytes),
        }));
    }
    for devices in [vec![3u32, 1, 2, 3], vec![], vec![u32::MAX, 0]] {
        let bytes = reference::device_list(&devices);
        let ids: Vec<DeviceId> = devices.iter().map(|&d| DeviceId(d)).collect();
        let ours = DeviceList::new(&ids).unwrap();
        assert_eq!(ours.to_bytes(), bytes);
        assert_eq!(DeviceList::from_bytes(&bytes).unwrap(), ours);
        records.push(json!({ "kind": "device list", "devices": devices, "encoding": h(&bytes) }));
    }

    // A session record holding real sessions: a responder session with a
    // reply sent, and an older one, archived and superseded.
    let session_bytes = |tag: &str| {
        let mut ag = agreement(tag, false);
        let mut rng = ScriptedRng::draws(vec![
            secret(&format!("{tag} ek")).to_vec(),
            secret(&format!("{tag} ratchet")).to_vec(),
            nonce(&format!("{tag} nonce")).to_vec(),
        ]);
        let mut alice = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        let first = alice.encrypt(&mut rng, b"first").unwrap();
        let (bob, _) =
            ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&first).unwrap()).unwrap();
        (bob.to_bytes().to_vec(), ag)
    };
    let (newer, _) = session_bytes("record newer");
    // The older session is with the same peer: the same identities, another
    // ephemeral key.
    let (older, _) = {
        let mut ag = agreement("record newer", false);
        let mut rng = ScriptedRng::draws(vec![
            secret("record older ek").to_vec(),
            secret("record older ratchet").to_vec(),
            nonce("record older nonce").to_vec(),
        ]);
        let mut alice = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        let first = alice.encrypt(&mut rng, b"older").unwrap();
        let (bob, _) =
            ag.bob_store.accept(&ag.bob.1, &InitialMessage::parse(&first).unwrap()).unwrap();
        (bob.to_bytes().to_vec(), ())
    };
    let refused_key = x25519_public(&secret("record refused base key"));
    type RecordCase<'a> = (
        &'a str,
        u64,
        Option<reference::RecordEntry<'a>>,
        Vec<reference::RecordEntry<'a>>,
        Option<[u8; 32]>,
    );
    let record_cases: [RecordCase<'_>; 4] = [
        ("empty, revision 4", 4, None, vec![], None),
        ("a current session", 1, Some((false, 1_800_000_000, 0, &newer)), vec![], None),
        (
            "a current session and an archived, superseded one",
            9,
            Some((false, 1_800_000_100, 2, &newer)),
            vec![(true, 1_800_000_000, 1, &older)],
            None,
        ),
        ("no session, and a refused base key", 2, None, vec![], Some(refused_key)),
    ];
    for (name, revision, current, archived, refused) in &record_cases {
        let bytes =
            reference::session_record_refusing(*revision, *current, archived, refused.as_ref());
        let ours = SessionRecord::from_bytes(&bytes).unwrap();
        assert_eq!(ours.revision(), *revision);
        assert_eq!(
            ours.refused().map(X25519PublicKey::to_bytes),
            refused.map(|k| encode_x25519(&k))
        );
        assert_eq!(*ours.to_bytes(), bytes, "{name}");
        let entry = |(superseded, created, epoch, session): &reference::RecordEntry<'_>| {
            json!({
                "superseded": superseded, "created": created, "epoch": epoch, "session_state": h(session),
            })
        };
        records.push(json!({
            "kind": "session record", "name": name, "revision": revision,
            "current": current.as_ref().map(entry), "archived": archived.iter().map(entry).collect::<Vec<_>>(),
            "refused_base_key": refused.map(h),
            "encoding": h(&bytes),
        }));
    }

    // An account, with and without a certificate.
    let a = authority("chat.a");
    let me = identity("account identity");
    let me_address = reference::address(b"chat.a", b"alice", 2);
    let (_, certificate) = sender_certificate(&a, "alice", 2, &me.0, 1_900_000_000);
    for with_certificate in [false, true] {
        let fields = reference::Account {
            revision: 7,
            address: &me_address,
            seed: &me.0.seed,
            certificate: with_certificate.then_some(&certificate[..]),
            signed: (3, 1_800_000_000),
            retired: &[(2, 1_800_000_000), (1, 1_799_395_200)],
            next_signed: 4,
            next_one_time: 301,
            unpublished_from: 201,
            epoch: 1,
            published_epoch: 0,
        };
        let bytes = reference::account(&fields);
        let ours = Account::from_bytes(&bytes).unwrap();
        assert_eq!(*ours.to_bytes(), bytes);
        assert_eq!(ours.identity_key(), me.1.public());
        assert!(ours.is_published(PreKeyId(200)) && !ours.is_published(PreKeyId(201)));
        assert!(ours.must_republish());
        records.push(json!({
            "kind": "account", "revision": 7, "address": h(&me_address), "identity_seed": h(me.0.seed),
            "certificate": with_certificate.then(|| h(&certificate)),
            "signed_prekey": { "id": 3, "created": 1_800_000_000u64 },
            "retired": [{ "id": 2, "since": 1_800_000_000u64 }, { "id": 1, "since": 1_799_395_200u64 }],
            "next_signed_prekey_id": 4, "next_one_time_prekey_id": 301, "unpublished_from": 201, "epoch": 1, "published_epoch": 0,
            "encoding": h(&bytes),
        }));
    }

    // Kept messages: a received one (its sender's key changed) and a sent
    // one, with an envelope made by sealing to two recipients.
    let mut messages = Vec::new();
    let from = reference::address(b"chat.b", b"bob", 1);
    let rid = reference::message_id(b"a sealed envelope");
    use reference::ReceivedKind as Kind;
    let kind_json = |kind: &Kind<'_>| match kind {
        Kind::Message => (json!("message"), Value::Null),
        Kind::GroupMessage(g) => (json!("group message"), h(g)),
        Kind::SenderKey(g) => (json!("sender key"), h(g)),
    };
    let group = b"hiking club";
    // (kind, identity event and the previous key, new session, listed, plaintext)
    type ReceivedCase<'a> =
        (Kind<'a>, (u8, Option<&'a (Identity, IdentityKeyPair)>), bool, bool, &'a [u8]);
    let cases: [ReceivedCase<'_>; 4] = [
        (Kind::Message, (2, Some(&kc)), true, false, b"hello"),
        (Kind::Message, (0, None), false, true, b""),
        (Kind::GroupMessage(group), (1, None), false, true, b"hello, club"),
        (Kind::SenderKey(group), (0, None), true, true, b""),
    ];
    for (kind, (event, previous), new_session, listed, plaintext) in &cases {
        let bytes = reference::received(
            &rid,
            &from,
            &kb.0.ed25519,
            (*event, previous.map(|p| &p.0.ed25519)),
            *new_session,
            *listed,
            kind,
            plaintext,
        );
        let ours = Received::from_bytes(&bytes).unwrap();
        assert_eq!(ours.id, MessageId::of(b"a sealed envelope"));
        assert_eq!(
            (&ours.identity, ours.new_session, ours.listed),
            (kb.1.public(), *new_session, *listed)
        );
        assert_eq!(ours.plaintext, *plaintext);
        match (kind, &ours.kind) {
            (Kind::Message, ReceivedKind::Message) => {}
            (Kind::GroupMessage(g), ReceivedKind::GroupMessage(id))
            | (Kind::SenderKey(g), ReceivedKind::SenderKey(id)) => assert_eq!(id.as_bytes(), *g),
            _ => panic!("kind"),
        }
        if let Some(p) = previous {
            assert_eq!(
                ours.identity_event,
                Some(IdentityEvent::Changed { previous: *p.1.public() })
            );
        }
        assert_eq!(ours.to_bytes(), bytes);
        let (kind_name, group_id) = kind_json(kind);
        let event_name = ["none", "new", "changed"][*event as usize];
        messages.push(json!({
            "kind": "received", "version": 2, "envelope": h(b"a sealed envelope"), "id": h(rid), "from": h(&from),
            "identity_seed": h(kb.0.seed), "identity_event": event_name,
            "previous_identity_seed": previous.map(|p| h(p.0.seed)),
            "new_session": new_session, "listed": listed, "received_kind": kind_name, "group_id": group_id,
            "plaintext": h(plaintext), "encoding": h(&bytes),
        }));
    }
    // Version 1 (0xFF 0x71, before groups) still decodes, as a direct
    // message, and is written again as version 2.
    let v1 = reference::received_v1(
        &rid,
        &from,
        &kb.0.ed25519,
        (1, None),
        true,
        true,
        b"from before groups",
    );
    let ours = Received::from_bytes(&v1).unwrap();
    assert_eq!(ours.kind, ReceivedKind::Message);
    let v2 = reference::received(
        &rid,
        &from,
        &kb.0.ed25519,
        (1, None),
        true,
        true,
        &Kind::Message,
        b"from before groups",
    );
    assert_eq!(ours.to_bytes(), v2);
    messages.push(json!({
        "kind": "received", "version": 1, "envelope": h(b"a sealed envelope"), "id": h(rid), "from": h(&from),
        "identity_seed": h(kb.0.seed), "identity_event": "new", "previous_identity_seed": null,
        "new_session": true, "listed": true, "received_kind": "message", "group_id": null,
        "plaintext": h(b"from before groups"), "encoding": h(&v1), "re_encoding": h(&v2),
    }));
    let upload = b"a multi-recipient envelope";
    let sid = reference::message_id(upload);
    let r1 = reference::address(b"chat.b", b"bob", 1);
    let r2 = reference::address(b"chat.b", b"bob", 2);
    let gone = reference::address(b"chat.b", b"bob", 3);
    let bytes =
        reference::sent(&sid, upload, &[(&r1, kb.0.ed25519), (&r2, kc.0.ed25519)], &[&gone], &[]);
    let ours = Sent::from_bytes(&bytes).unwrap();
    assert_eq!(ours.id, MessageId::of(upload));
    assert_eq!(ours.recipients.len(), 2);
    assert_eq!(ours.missing, [Address::from_bytes(&gone).unwrap()]);
    assert_eq!(ours.to_bytes(), bytes);
    messages.push(json!({
        "kind": "sent", "envelope": h(upload), "id": h(sid),
        "recipients": [{ "address": h(&r1), "identity_seed": h(kb.0.seed) }, { "address": h(&r2), "identity_seed": h(kc.0.seed) }],
        "missing": [h(&gone)], "denied": [], "encoding": h(&bytes),
    }));

    // A bundle carrying its certificate, and what checking it says.
    let bob = identity("bundle bob");
    let spk_secret = secret("bundle bob signed prekey");
    let spk = SignedPreKeyPair::generate(&mut ScriptedRng::new(&[spk_secret]), &bob.1, PreKeyId(5));
    let bob_address = reference::address(b"chat.a", b"bob", 1);
    let (_, bob_certificate) = sender_certificate(&a, "bob", 1, &bob.0, 1_900_000_000);
    let bundle_bytes = reference::bundle(
        &bob.0.ed25519,
        (5, &x25519_public(&spk_secret), spk.public().signature()),
        None,
        Some(&bob_certificate),
    );
    let ours = PreKeyBundle::new(*bob.1.public(), spk.public(), None)
        .with_certificate(SenderCertificate::from_bytes(&bob_certificate).unwrap());
    assert_eq!(ours.to_bytes(), bundle_bytes);
    let trust_spec = TrustSpec::roots(&[&a]);
    let store = trust_spec.store();
    let check = |bundle: &[u8], address: &[u8]| {
        let bundle = PreKeyBundle::from_bytes(bundle).unwrap();
        let address = Address::from_bytes(address).unwrap();
        bundle.check_certificate(&store, &address, Timestamp(NOW)).map(drop)
    };
    assert_eq!(check(&bundle_bytes, &bob_address), Ok(()));
    let mut bundle_checks = vec![json!({
        "description": "the certificate vouches for the bundle",
        "bundle": h(&bundle_bytes), "address": h(&bob_address), "error": null,
    })];
    let stranger = identity("bundle stranger");
    let stranger_spk = SignedPreKeyPair::generate(
        &mut ScriptedRng::new(&[secret("stranger spk")]),
        &stranger.1,
        PreKeyId(5),
    );
    let substituted = reference::bundle(
        &stranger.0.ed25519,
        (5, &x25519_public(&secret("stranger spk")), stranger_spk.public().signature()),
        None,
        Some(&bob_certificate),
    );
    let without = reference::bundle(
        &bob.0.ed25519,
        (5, &x25519_public(&spk_secret), spk.public().signature()),
        None,
        None,
    );
    for (description, bundle, address) in [
        ("a bundle without a certificate", without.clone(), bob_address.clone()),
        (
            "another identity key with Bob's certificate (the relay's substitution)",
            substituted,
            bob_address.clone(),
        ),
        (
            "Bob's bundle presented as another device of Bob's",
            bundle_bytes.clone(),
            reference::address(b"chat.a", b"bob", 2),
        ),
        (
            "Bob's bundle presented as a user of another app",
            bundle_bytes.clone(),
            reference::address(b"chat.b", b"bob", 1),
        ),
    ] {
        let err = check(&bundle, &address).unwrap_err();
        bundle_checks.push(json!({
            "description": description, "bundle": h(&bundle), "address": h(&address), "error": error(err),
        }));
    }

    // Negative decoding vectors.
    let mut negative = Vec::new();
    let addr = reference::address(b"chat.a", b"alice", 1);
    negative.extend(refused(
        "Address",
        |b| Address::from_bytes(b).map(drop),
        vec![
            ("an address one byte short", addr[..addr.len() - 1].to_vec()),
            ("an address with a trailing byte", cat(&[&addr, &[0]])),
            ("an app id with an upper-case letter", reference::address(b"Chat.a", b"alice", 1)),
            ("an empty user id", reference::address(b"chat.a", b"", 1)),
            ("a user id of 65 bytes", reference::address(b"chat.a", &[b'u'; 65], 1)),
            ("another escaped format (a session record's tag)", cat(&[&[0xff, 0x21], &addr[2..]])),
            ("not escaped", addr[1..].to_vec()),
        ],
    ));
    let ri = reference::remote_identity(&ka.0.ed25519, false, 5, &[]);
    let mut bad_trust = ri.clone();
    bad_trust[68] = 3;
    let mut odd = ri.clone();
    odd[34] |= 0x80;
    negative.extend(refused(
        "RemoteIdentity",
        |b| RemoteIdentity::from_bytes(b).map(drop),
        vec![
            ("a trust byte of 3", bad_trust),
            ("an identity key with the sign bit set", odd),
            ("a remote identity one byte short", ri[..ri.len() - 1].to_vec()),
            (
                "a replaced key equal to the current one",
                reference::remote_identity(&ka.0.ed25519, false, 5, &[(ka.0.ed25519, 4)]),
            ),
            (
                "five replaced keys, one above MAX_REPLACED_IDENTITIES",
                reference::remote_identity(
                    &ka.0.ed25519,
                    false,
                    5,
                    &[
                        (kb.0.ed25519, 4),
                        (identity("r1").0.ed25519, 3),
                        (identity("r2").0.ed25519, 2),
                        (identity("r3").0.ed25519, 1),
                        (identity("r4").0.ed25519, 0),
                    ],
                ),
            ),
        ],
    ));
    let list = reference::device_list(&[1, 2]);
    let mut unsorted = list.clone();
    unsorted.swap(6, 10);
    let mut repeated = list.clone();
    repeated[10] = 1;
    let mut many = vec![0xff, 0x51, 33];
    for d in 0..33u32 {
        many.extend(d.to_be_bytes());
    }
    negative.extend(refused(
        "DeviceList",
        |b| DeviceList::from_bytes(b).map(drop),
        vec![
            ("device ids out of order", unsorted),
            ("a device id twice", repeated),
            ("33 devices, one above MAX_DEVICES_PER_USER", many),
            ("a count of 3 with 2 ids", cat(&[&[0xff, 0x51, 3], &list[3..]])),
        ],
    ));
    let good = reference::session_record(1, Some((false, 1, 0, &newer)), &[]);
    let mut flags = good.clone();
    flags[11] = 2;
    let other_peer = {
        let mut ag = agreement("record other peer", false);
        let mut rng = ScriptedRng::draws(vec![
            secret("op ek").to_vec(),
            secret("op ratchet").to_vec(),
            nonce("op nonce").to_vec(),
        ]);
        let mut alice = Session::initiate(&mut rng, &ag.alice.1, &ag.bundle).unwrap();
        let first = alice.encrypt(&mut rng, b"x").unwrap();
        ag.bob_store
            .accept(&ag.bob.1, &InitialMessage::parse(&first).unwrap())
            .unwrap()
            .0
            .to_bytes()
            .to_vec()
    };
    let nine: Vec<reference::RecordEntry<'_>> = (0..9).map(|_| (false, 1, 0, &older[..])).collect();
    negative.extend(refused(
        "SessionRecord",
        |b| SessionRecord::from_bytes(b).map(drop),
        vec![
            ("an entry whose flags byte is 2", flags),
            (
                "sessions with two different peers in one record",
                reference::session_record(
                    1,
                    Some((false, 1, 0, &newer)),
                    &[(false, 1, 0, &other_peer)],
                ),
            ),
            (
                "one responder session twice (one base key)",
                reference::session_record(1, Some((false, 1, 0, &newer)), &[(false, 1, 0, &newer)]),
            ),
            (
                "nine archived sessions, one above MAX_ARCHIVED_SESSIONS",
                reference::session_record(1, None, &nine),
            ),
            ("a record with a trailing byte", cat(&[&good, &[0]])),
        ],
    ));
    let fields = reference::Account {
        revision: 1,
        address: &me_address,
        seed: &me.0.seed,
        certificate: None,
        signed: (3, 0),
        retired: &[(3, 0)],
        next_signed: 4,
        next_one_time: 1,
        unpublished_from: 1,
        epoch: 0,
        published_epoch: 0,
    };
    let twice = reference::account(&fields);
    let ahead = reference::account(&reference::Account { retired: &[], next_signed: 3, ..fields });
    let unpublished =
        reference::account(&reference::Account { retired: &[], unpublished_from: 2, ..fields });
    let (_, other_certificate) = sender_certificate(&a, "alice", 3, &me.0, 1_900_000_000);
    let wrong_certificate = reference::account(&reference::Account {
        retired: &[],
        certificate: Some(&other_certificate),
        ..fields
    });
    let published_ahead =
        reference::account(&reference::Account { retired: &[], published_epoch: 1, ..fields });
    negative.extend(refused(
        "Account",
        |b| Account::from_bytes(b).map(drop),
        vec![
            ("a retired signed prekey with the current one's id", twice),
            ("a signed prekey id not below the next one to hand out", ahead),
            ("unpublished-from above the next one-time id", unpublished),
            ("a certificate for another device of the user", wrong_certificate),
            ("a published epoch above the epoch", published_ahead),
        ],
    ));
    let good_received = reference::received(
        &rid,
        &from,
        &kb.0.ed25519,
        (1, None),
        false,
        true,
        &Kind::Message,
        b"x",
    );
    // The tail: flags, kind, the plaintext's length and its one byte.
    let mut bad_flags = good_received.clone();
    let flags_at = good_received.len() - 7;
    bad_flags[flags_at] = 4;
    let mut bad_event = good_received.clone();
    bad_event[flags_at - 1] = 3;
    let mut bad_kind = good_received.clone();
    bad_kind[flags_at + 1] = 3;
    let empty_group = reference::received(
        &rid,
        &from,
        &kb.0.ed25519,
        (1, None),
        false,
        true,
        &Kind::GroupMessage(b""),
        b"x",
    );
    let long_group = reference::received(
        &rid,
        &from,
        &kb.0.ed25519,
        (1, None),
        false,
        true,
        &Kind::SenderKey(&[b'g'; 65]),
        b"",
    );
    negative.extend(refused(
        "Received",
        |b| Received::from_bytes(b).map(drop),
        vec![
            ("a flags byte with an undefined bit", bad_flags),
            ("an identity event of 3", bad_event),
            ("a kind byte of 3", bad_kind),
            ("a group message's kind with an empty group id", empty_group),
            ("a sender key's kind with a group id of 65 bytes", long_group),
            (
                "a received message one byte short",
                good_received[..good_received.len() - 1].to_vec(),
            ),
            (
                "a received message of version 3 (0xFF 0x73)",
                cat(&[&[0xff, 0x73], &good_received[2..]]),
            ),
            (
                "version 1 (0xFF 0x71) with a kind byte: version 1 has none, so the kind is read as the plaintext's length",
                cat(&[&[0xff, 0x71], &good_received[2..]]),
            ),
        ],
    ));
    let good_sent = reference::sent(&sid, upload, &[(&r1, kb.0.ed25519)], &[], &[]);
    let mut many = good_sent.clone();
    let count_at = 2 + 16 + 4 + upload.len();
    many[count_at..count_at + 4].copy_from_slice(&4097u32.to_be_bytes());
    negative.extend(refused(
        "Sent",
        |b| Sent::from_bytes(b).map(drop),
        vec![
            ("4097 recipients, one above MAX_RECIPIENTS", many),
            ("a sent message with a trailing byte", cat(&[&good_sent, &[0]])),
        ],
    ));
    let scannable = reference::safety_number((&ka.0.ed25519, &addr), (&kb.0.ed25519, &addr)).1;
    let number = SafetyNumber::new(
        &Address::from_bytes(&addr).unwrap(),
        ka.1.public(),
        &Address::from_bytes(&addr).unwrap(),
        kb.1.public(),
    );
    negative.extend(refused(
        "SafetyNumber::matches_scanned",
        |b| number.matches_scanned(b).map(drop),
        vec![
            ("a scannable form one byte short", scannable[..65].to_vec()),
            ("a scannable form with a trailing byte", cat(&[&scannable, &[0]])),
            ("another escaped tag", cat(&[&[0xff, 0x62], &scannable[2..]])),
        ],
    ));

    json!({
        "family": "sessions",
        "version": 3,
        "description": "The session layer's formats and safety numbers: addresses, stored records, kept messages, bundles with their certificates and the check of them. docs/sessions.md §2, §3, §6.5, §8; docs/protocol.md §4.3.",
        "addresses": addresses,
        "safety_numbers": safety,
        "records": records,
        "kept_messages": messages,
        "bundle_certificates": { "trust": trust_spec.json(), "now": NOW, "checks": bundle_checks },
        "negative": negative,
    })
}

// ---- groups: sender keys (docs/protocol.md §21) --------------------------------------------

/// The group every group vector is in.
const GROUP: &[u8] = b"hiking club";

/// A sender key generated by both implementations from its three draws:
/// the chain id (the first 4 bytes of a secret), the chain key, the
/// signing seed.
struct GroupSender {
    ours: SenderKey,
    theirs: reference::SendingKey,
    /// As generated, before any message.
    initial: reference::SendingKey,
    draws: [Bytes; 3],
    /// The nonce label of each message.
    label: String,
}

impl GroupSender {
    fn new(label: &str, seed: [u8; 32]) -> Self {
        let id = secret(&format!("{label} chain id"))[..4].try_into().unwrap();
        Self::from_draws(label, id, secret(&format!("{label} chain key")), seed)
    }

    /// From its three draws as given: the chain id, the chain key, the
    /// signing seed.
    fn from_draws(label: &str, id: [u8; 4], chain_key: [u8; 32], seed: [u8; 32]) -> Self {
        let id = id.to_vec();
        let draws = [id.clone(), chain_key.to_vec(), seed.to_vec()];
        let mut rng = ScriptedRng::draws(draws.to_vec());
        let ours = SenderKey::generate(&mut rng);
        assert!(rng.finished());
        let theirs = reference::SendingKey::generate(id.try_into().unwrap(), chain_key, seed);
        assert_eq!(ours.chain_id(), theirs.chain_id);
        assert_eq!(ours.iteration(), 0);
        assert_eq!(ours.signing_key(), &theirs.public);
        Self { ours, initial: theirs.clone(), theirs, draws, label: label.to_string() }
    }

    fn json(&self, name: &str) -> Value {
        let k = &self.initial;
        json!({
            "name": name,
            "rng": self.draws.iter().map(h).collect::<Vec<_>>(),
            "chain_id": k.chain_id,
            "chain_key": h(k.chain_key),
            "signing_seed": h(k.seed),
            "signing_public": h(k.public),
            "signing_public_is_odd": k.public[31] & 0x80 != 0,
        })
    }

    fn nonce(&self, iteration: u32) -> [u8; 24] {
        nonce(&format!("{} nonce {iteration}", self.label))
    }

    /// Encrypts the next message with both; the nonce is the label's.
    fn encrypt(&mut self, plaintext: &[u8]) -> reference::GroupStep {
        let group = GroupId::new(GROUP).unwrap();
        let nonce = self.nonce(self.theirs.iteration);
        let mut rng = ScriptedRng::draws(vec![nonce.to_vec()]);
        let ours = self.ours.encrypt(&mut rng, &group, plaintext).unwrap();
        assert!(rng.finished());
        let step = self.theirs.encrypt(GROUP, plaintext, nonce);
        assert_eq!(ours, step.message, "{}: message {}", self.label, step.iteration);
        assert_eq!(self.ours.iteration(), self.theirs.iteration);
        let parsed = GroupMessage::parse(&ours).unwrap();
        assert_eq!((parsed.chain_id(), parsed.iteration()), (step.chain_id(), step.iteration));
        step
    }

    /// The distribution message of the key as it is now, by both.
    fn distribution(&self) -> Bytes {
        let group = GroupId::new(GROUP).unwrap();
        let ours = self.ours.distribution(&group).to_bytes().to_vec();
        assert_eq!(ours, self.theirs.distribution(GROUP));
        let decoded = SenderKeyDistribution::from_bytes(&ours).unwrap();
        assert_eq!(decoded.to_bytes().to_vec(), ours);
        assert_eq!(
            (decoded.chain_id(), decoded.iteration()),
            (self.theirs.chain_id, self.theirs.iteration)
        );
        ours
    }
}

impl reference::GroupStep {
    fn chain_id(&self) -> u32 {
        u32::from_be_bytes(self.header[6 + GROUP.len()..10 + GROUP.len()].try_into().unwrap())
    }
}

fn group_step_json(step: &reference::GroupStep, plaintext: &[u8]) -> Value {
    json!({
        "iteration": step.iteration,
        "rng": [h(step.nonce)],
        "plaintext": h(plaintext),
        "chain_key": h(step.chain_key),
        "message_key_seed": h(step.message_key_seed),
        "next_chain_key": h(step.next_chain_key),
        "aead_key": h(step.aead_key),
        "commitment": h(step.commitment),
        "nonce": h(step.nonce),
        "xchacha_subkey": h(step.subkey),
        "header": h(&step.header),
        "ciphertext": h(&step.ciphertext),
        "signed": h(&step.signed),
        "signature": h(step.signature),
        "encoding": h(&step.message),
    })
}

/// A message as it arrives at a receiver, with where it came from: the
/// sender key's index in `sender_keys`, its iteration, nonce and
/// plaintext; and how it was altered on the way, if it was.
#[derive(Clone)]
struct Arriving {
    message: Bytes,
    origin: Value,
}

impl Arriving {
    fn of(key: usize, step: &reference::GroupStep, plaintext: &[u8]) -> Self {
        Self {
            message: step.message.clone(),
            origin: json!({
                "sender_key": key, "iteration": step.iteration, "nonce": h(step.nonce),
                "plaintext": h(plaintext), "alteration": null,
            }),
        }
    }

    /// One byte flipped (XOR 0x01), at `offset` from the start.
    fn flipped(&self, offset: usize) -> Self {
        let mut message = self.message.clone();
        message[offset] ^= 1;
        let mut origin = self.origin.clone();
        origin["alteration"] = json!({ "flip": offset, "signed_again": false });
        Self { message, origin }
    }

    /// One byte flipped, then signed again with `seed` (the chain's).
    fn flipped_and_signed(&self, offset: usize, seed: &[u8; 32]) -> Self {
        let mut message = self.message.clone();
        message[offset] ^= 1;
        let at = message.len() - 64;
        let signature = reference::ed25519_sign(seed, &message[..at]);
        message[at..].copy_from_slice(&signature);
        let mut origin = self.origin.clone();
        origin["alteration"] = json!({ "flip": offset, "signed_again": true });
        Self { message, origin }
    }
}

/// A member's record of one sender device, held by sealwire and the
/// reference side by side, with what each step did.
struct GroupReceiver {
    ours: SenderKeyRecord,
    theirs: reference::SenderKeys,
    steps: Vec<Value>,
}

impl GroupReceiver {
    fn new() -> Self {
        Self {
            ours: SenderKeyRecord::new(),
            theirs: reference::SenderKeys::default(),
            steps: Vec::new(),
        }
    }

    fn from_bytes(bytes: &[u8], theirs: reference::SenderKeys) -> Self {
        let ours = SenderKeyRecord::from_bytes(bytes).unwrap();
        assert_eq!(*ours.to_bytes(), bytes);
        assert_eq!(theirs.encode(), bytes);
        Self { ours, theirs, steps: Vec::new() }
    }

    fn record_json(&self) -> (&'static str, Value) {
        let bytes = self.ours.to_bytes();
        assert_eq!(*bytes, self.theirs.encode());
        if bytes.len() > 2048 {
            ("record_after_sha256", h(reference::sha256(&bytes)))
        } else {
            ("record_after", h(bytes.as_slice()))
        }
    }

    fn process(
        &mut self,
        description: &str,
        sender: &(Identity, IdentityKeyPair),
        distribution: &[u8],
    ) {
        let decoded = SenderKeyDistribution::from_bytes(distribution).unwrap();
        let changed = self.ours.process(sender.1.public(), &decoded);
        assert_eq!(changed, self.theirs.process(&sender.0.ed25519, distribution), "{description}");
        let (field, record) = self.record_json();
        let mut step = json!({
            "action": "process",
            "description": description,
            "sender_identity": h(sender.0.encoded()),
            "distribution": h(distribution),
            "changed": changed,
            "skipped_keys_held": self.ours.skipped_keys(),
        });
        step[field] = record;
        self.steps.push(step);
    }

    fn decrypt(
        &mut self,
        description: &str,
        sender: &(Identity, IdentityKeyPair),
        arriving: &Arriving,
    ) -> Result<Bytes, Error> {
        let before = self.ours.to_bytes().to_vec();
        let parsed = GroupMessage::parse(&arriving.message).unwrap();
        let got = self.ours.decrypt(sender.1.public(), &parsed);
        let want = self.theirs.decrypt(&sender.0.ed25519, &arriving.message);
        match (&got, &want) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{description}"),
            (Err(e), Err(n)) => assert_eq!(format!("{e:?}"), *n, "{description}"),
            _ => panic!("{description}: sealwire {got:?}, the reference {want:?}"),
        }
        if got.is_err() {
            assert_eq!(self.ours.to_bytes().to_vec(), before, "{description}: unchanged");
        }
        let (field, record) = self.record_json();
        let mut step = json!({
            "action": "decrypt",
            "description": description,
            "sender_identity": h(sender.0.encoded()),
            "message": h(&arriving.message),
            "origin": arriving.origin,
            "plaintext": got.as_ref().ok().map(h),
            "error": got.as_ref().err().map(|e| error(*e)),
            "skipped_keys_held": self.ours.skipped_keys(),
        });
        step[field] = record;
        self.steps.push(step);
        got
    }
}

/// A stored sender key record's fields, from the reference's form.
fn sender_key_record_json(name: &str, r: &reference::SenderKeys) -> Value {
    json!({
        "name": name,
        "revision": r.revision,
        "identity": r.identity.map(|k| h(encode_identity(&k))),
        "chains": r.chains.iter().map(|c| json!({
            "chain_id": c.chain_id,
            "signing_key": h(c.signing_key),
            "start": c.start,
            "next": c.next,
            "chain_key": h(c.chain_key),
            "unknown_below": c.unknown_below,
            "skipped_keys": c.keys.iter().map(|(n, k)| json!({ "iteration": n, "message_key_seed": h(k) })).collect::<Vec<_>>(),
            "dropped": c.dropped.iter().map(|(s, e)| json!({ "start": s, "end": e })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "retired": r.retired,
        "encoding": h(r.encode()),
    })
}

fn group_family() -> Value {
    let group = GroupId::new(GROUP).unwrap();
    // Alice writes to the group; Bob joins after her first message. Their
    // pairwise session carries the distribution messages.
    let mut c = Conversation::new("group");
    let alice = identity("group alice");
    let bob = identity("group bob");
    let app_a = authority("app-a");
    let (_, alice_cert) = sender_certificate(&app_a, "alice", 1, &alice.0, 1_850_000_000);
    let (_, bob_cert) = sender_certificate(&app_a, "bob", 1, &bob.0, 1_850_000_000);
    let trust_spec = TrustSpec::roots(&[&app_a]);
    let certificate_authority = |user: &str, device: u32| {
        json!({
            "app_id": "app-a",
            "root_seed": h(app_a.root.seed),
            "issuer_seed": h(app_a.issuer.seed),
            "issuer_certificate": h(&app_a.issuer_certificate),
            "sender_user_id": h(user.as_bytes()),
            "sender_device_id": device,
            "sender_expires": 1_850_000_000u64,
        })
    };

    // Alice's sender key, and its chain.
    let mut k1 = GroupSender::new("group alice key 1", secret("group alice key 1 signing seed"));
    let d1_at_0 = k1.distribution();
    let plaintexts: [&[u8]; 6] = [
        b"m0: before Bob joined",
        b"",
        b"m2",
        b"m3: the first to arrive at Bob's",
        b"m4: a longer message, to take the ciphertext past one ChaCha20 block of 64 bytes",
        b"m5",
    ];
    let mut k1_steps = Vec::new();
    let mut d1_at_1 = Vec::new();
    for p in plaintexts {
        k1_steps.push(k1.encrypt(p));
        if k1_steps.len() == 1 {
            d1_at_1 = k1.distribution();
        }
    }
    let m: Vec<Arriving> =
        k1_steps.iter().zip(plaintexts).map(|(s, p)| Arriving::of(0, s, p)).collect();
    let k1_at_6 = k1.theirs.clone();
    // Further messages, for the skip limit: iteration 1007 is 1001 past
    // where Bob's record will be.
    let mut far = None;
    for i in 6..=1007u32 {
        let plaintext = format!("k1 message {i}");
        let step = k1.encrypt(plaintext.as_bytes());
        if i == 1007 {
            far = Some(Arriving::of(0, &step, plaintext.as_bytes()));
        }
    }
    let k1_far = far.unwrap();

    // Alice's second key (a rotation): its signing key has an odd x, which
    // a signing key may have.
    let k2_seed = (0..)
        .map(|i| secret(&format!("group alice key 2 signing seed {i}")))
        .find(|s| reference::ed25519_public(s)[31] & 0x80 != 0)
        .unwrap();
    let mut k2 = GroupSender::new("group alice key 2", k2_seed);
    assert_ne!(k2.theirs.chain_id, k1.theirs.chain_id);
    let d2_at_0 = k2.distribution();
    let mut k2_at = std::collections::BTreeMap::new();
    let wanted = [0u32, 3, 12, 22, 30, 41, 1001, 2002, 3003, 500, 1500];
    let mut k2_at_40 = None;
    for i in 0..=3003u32 {
        if i == 40 {
            k2_at_40 = Some(k2.theirs.clone());
        }
        let plaintext = format!("k2 message {i}");
        let step = k2.encrypt(plaintext.as_bytes());
        if wanted.contains(&i) {
            k2_at.insert(i, Arriving::of(1, &step, plaintext.as_bytes()));
        }
    }
    let k2_at_40 = k2_at_40.unwrap();

    // A second key of Alice's that shares her first key's chain id and
    // signing key under another chain key: what a sender that handed two
    // members two chain keys (Bob the first, another member this one)
    // would write with. Its message of iteration 6 is signed as the first
    // key's would be, and its plaintext is chosen so that the ciphertext
    // opens under this key and under the first key's key of 6, the one Bob
    // derives: one upload, two plaintexts, but for the commitment.
    let mut twin = GroupSender::from_draws(
        "group alice key 1 twin",
        k1.draws[0].clone().try_into().unwrap(),
        secret("group alice key 1 twin chain key"),
        k1.initial.seed,
    );
    assert_eq!(
        (twin.theirs.chain_id, twin.theirs.public),
        (k1.initial.chain_id, k1.initial.public)
    );
    assert_ne!(twin.theirs.chain_key, k1.initial.chain_key);
    for i in 0..6u32 {
        twin.encrypt(format!("twin message {i}").as_bytes());
    }
    let (_, bob_seed) = reference::kdf_ck(&k1_at_6.chain_key);
    let (bob_key, bob_commitment) = reference::group_message_key(&bob_seed);
    let (_, twin_seed) = reference::kdf_ck(&twin.theirs.chain_key);
    let (twin_key, _) = reference::group_message_key(&twin_seed);
    let twin_nonce = twin.nonce(6);
    let (r_bob, s_bob) = poly1305::xchacha_poly_key(&bob_key, &twin_nonce);
    let (r_twin, s_twin) = poly1305::xchacha_poly_key(&twin_key, &twin_nonce);
    // Four blocks of plaintext; the last is replaced by what makes the two
    // tags one.
    let (twin_plaintext, collision) = (0..)
        .find_map(|i| {
            let mut p = format!("for the other member: we meet at the north trailhead (try {i})")
                .into_bytes();
            p.resize(64, b'.');
            let trial = twin.theirs.clone().encrypt(GROUP, &p, twin_nonce);
            let body = &trial.ciphertext[..64];
            poly1305::collide(&trial.header, body, 3, (&r_twin, &s_twin), (&r_bob, &s_bob)).map(
                |x| {
                    for (j, b) in x.iter().enumerate() {
                        p[48 + j] ^= body[48 + j] ^ b;
                    }
                    (p, x)
                },
            )
        })
        .unwrap();
    let twin_step = twin.encrypt(&twin_plaintext);
    assert_eq!(twin_step.ciphertext[48..64], collision);
    let bob_would_read =
        reference::xaead_open(&bob_key, &twin_nonce, &twin_step.header, &twin_step.ciphertext)
            .expect("the ciphertext opens under Bob's key too");
    assert_ne!(bob_would_read, twin_plaintext);
    assert_ne!(twin_step.commitment, bob_commitment);
    let twin_at_6 = Arriving::of(3, &twin_step, &twin_plaintext);

    // Alice's third to seventh keys (rotations), for the chains a record
    // drops past MAX_SENDER_KEY_CHAINS and the ids it retires.
    let rotations: Vec<GroupSender> = (3..=7)
        .map(|n| {
            let label = format!("group alice key {n}");
            GroupSender::new(&label, secret(&format!("{label} signing seed")))
        })
        .collect();
    let rotation_distributions: Vec<Bytes> =
        rotations.iter().map(GroupSender::distribution).collect();
    let mut ids = vec![k1.initial.chain_id, k2.initial.chain_id, twin.initial.chain_id];
    ids.extend(rotations.iter().map(|k| k.initial.chain_id));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2 + rotations.len(), "the twin shares the first key's id, no other");

    // Bob's record of Alice's device.
    let mut r = GroupReceiver::new();
    r.process("Alice's distribution at iteration 1, after m0 (it arrived in the sealed envelope of content type 0x11 below)", &alice, &d1_at_1);
    r.decrypt("m3 first: the keys of 1 and 2 are kept", &alice, &m[3]).unwrap();
    r.decrypt("m1, whose plaintext is empty, with its kept key", &alice, &m[1]).unwrap();
    r.decrypt("m5: the key of 4 is kept", &alice, &m[5]).unwrap();
    r.decrypt("m3 again: a replay", &alice, &m[3]).unwrap_err();
    r.decrypt("m0, from before the distribution's iteration", &alice, &m[0]).unwrap_err();
    r.process(
        "the same distribution again: the chain is kept as it is (never moved back)",
        &alice,
        &d1_at_1,
    );
    let sig_at = m[5].message.len() - 1;
    r.decrypt("m5 with the last byte of its signature flipped", &alice, &m[5].flipped(sig_at))
        .unwrap_err();
    let ct_at = m[4].message.len() - 64 - 20;
    r.decrypt(
        "m4 with a byte of its ciphertext flipped (the signature covers it)",
        &alice,
        &m[4].flipped(ct_at),
    )
    .unwrap_err();
    let tag_at = m[4].message.len() - 64 - 1;
    r.decrypt(
        "m4 with the last byte of its AEAD tag flipped and signed again with the chain's key: the signature holds, the AEAD does not",
        &alice,
        &m[4].flipped_and_signed(tag_at, &k1.initial.seed),
    )
    .unwrap_err();
    // The last byte of the header: tag, the group id, chain id, iteration,
    // nonce, commitment.
    let commitment_at = 2 + 4 + GROUP.len() + 4 + 4 + 24 + 32 - 1;
    assert_eq!(m[4].message[..=commitment_at], k1_steps[4].header[..]);
    r.decrypt(
        "m4 with the last byte of its key commitment flipped and signed again with the chain's key: the signature holds, the commitment is not that of the key of 4",
        &alice,
        &m[4].flipped_and_signed(commitment_at, &k1.initial.seed),
    )
    .unwrap_err();
    r.decrypt(
        "a message of iteration 6 from a key with the first key's chain id and signing key but another chain key (sender key 3), its ciphertext made to open under that key and under the key Bob derives: the signature holds and the AEAD would open (to without_commitment_check's plaintext), but its commitment is the other key's",
        &alice,
        &twin_at_6,
    )
    .unwrap_err();
    r.steps.last_mut().unwrap()["without_commitment_check"] =
        json!({ "plaintext": h(&bob_would_read) });
    r.decrypt("m4 attributed to Bob, another identity than the record's", &bob, &m[4]).unwrap_err();
    r.decrypt(
        "the message of iteration 1007: 1001 past the next (6), one more than MAX_SENDER_KEY_SKIP",
        &alice,
        &k1_far,
    )
    .unwrap_err();
    r.decrypt(
        "the first message of Alice's second key, before its distribution: an unknown chain id",
        &alice,
        &k2_at[&0],
    )
    .unwrap_err();
    r.process("Alice's second key's distribution (a rotation): a second chain", &alice, &d2_at_0);
    r.decrypt("the second key's first message", &alice, &k2_at[&0]).unwrap();
    let two_chains = r.theirs.clone();
    let two_chains_step = r.steps.len();
    r.decrypt("m2 on the first chain, still held", &alice, &m[2]).unwrap();
    r.decrypt("m4 on the first chain", &alice, &m[4]).unwrap();
    r.decrypt("the second key's message of iteration 1001: exactly MAX_SENDER_KEY_SKIP (1000) keys skipped", &alice, &k2_at[&1001]).unwrap();
    r.decrypt(
        "iteration 2002: 1000 more, MAX_SENDER_KEY_SKIPPED_KEYS (2000) held",
        &alice,
        &k2_at[&2002],
    )
    .unwrap();
    r.decrypt("iteration 3003: 1000 more; the 1000 lowest (1 to 1000) are dropped, as the range [1, 1001)", &alice, &k2_at[&3003]).unwrap();
    r.decrypt("iteration 500, whose key was dropped", &alice, &k2_at[&500]).unwrap_err();
    r.decrypt("iteration 1500, whose key is held", &alice, &k2_at[&1500]).unwrap();
    r.decrypt("iteration 1001 again: a replay", &alice, &k2_at[&1001]).unwrap_err();
    for (n, d) in rotation_distributions.iter().take(4).enumerate() {
        let description = if n < 3 {
            format!("Alice's key {}'s distribution: chain {} of the record", n + 3, n + 3)
        } else {
            "Alice's key 6's distribution: a sixth chain, past MAX_SENDER_KEY_CHAINS (5): the oldest, the first key's, is dropped and its id retired".to_string()
        };
        r.process(&description, &alice, d);
    }
    assert_eq!(r.theirs.retired, [k1.initial.chain_id]);
    r.process(
        "Alice's first key's distribution again (as a sender restored from an older backup would send it): its chain id is retired, refused",
        &alice,
        &d1_at_1,
    );
    r.decrypt(
        "the first key's message of iteration 1007: its chain was dropped, no sender key",
        &alice,
        &k1_far,
    )
    .unwrap_err();
    let receiver = json!({
        "description": "Bob's record of Alice's device, from empty: each step in order, with what it returns and the record after it (its SHA-256 once it holds more than 2048 bytes).",
        "sender_identity_seed": h(alice.0.seed),
        "steps": r.steps,
    });

    // A stored record with dropped ranges and unknown_below, made by the
    // reference, and what it answers.
    let mut stored = reference::SenderKeys {
        revision: 7,
        identity: Some(alice.0.ed25519),
        chains: vec![two_chains.chains[0].clone()],
        retired: vec![],
    };
    let mut ck = k2.initial.chain_key;
    let mut keys = Vec::new();
    for n in 0..40u32 {
        let (next, key) = reference::kdf_ck(&ck);
        if n == 30 || n == 35 {
            keys.push((n, key));
        }
        ck = next;
    }
    assert_eq!(ck, k2_at_40.chain_key);
    stored.chains.push(reference::ReceivingChain {
        chain_id: k2.initial.chain_id,
        signing_key: k2.initial.public,
        start: 2,
        next: 40,
        chain_key: ck,
        unknown_below: 5,
        keys,
        dropped: vec![(10, 20), (25, 28)],
    });
    let stored_bytes = stored.encode();
    let mut s = GroupReceiver::from_bytes(&stored_bytes, stored.clone());
    s.decrypt("iteration 3: below unknown_below (5), not in a dropped range", &alice, &k2_at[&3])
        .unwrap_err();
    s.decrypt("iteration 12, in the dropped range [10, 20)", &alice, &k2_at[&12]).unwrap_err();
    s.decrypt("iteration 30, a kept key", &alice, &k2_at[&30]).unwrap();
    s.decrypt("iteration 22: neither kept nor dropped, so already read", &alice, &k2_at[&22])
        .unwrap_err();
    s.decrypt("iteration 41: the key of 40 is kept", &alice, &k2_at[&41]).unwrap();
    s.decrypt("m0 of the first chain, below its start (1)", &alice, &m[0]).unwrap_err();
    let mut stored_json = sender_key_record_json(
        "a stored record (made by hand): two chains, the second with kept keys, dropped ranges and unknown_below, revision 7",
        &stored,
    );
    stored_json["decrypts"] = json!(s.steps);

    // A stored record at the retired ids' limit: five chains, each as its
    // distribution left it, and 32 retired ids, the first key's the oldest.
    let fresh_chain = |k: &reference::SendingKey| reference::ReceivingChain {
        chain_id: k.chain_id,
        signing_key: k.public,
        start: k.iteration,
        next: k.iteration,
        chain_key: k.chain_key,
        unknown_below: 0,
        keys: vec![],
        dropped: vec![],
    };
    let mut chains = vec![fresh_chain(&k2.initial)];
    chains.extend(rotations.iter().take(4).map(|k| fresh_chain(&k.initial)));
    let mut retired = vec![k1.initial.chain_id];
    retired.extend((1..32).map(|n| {
        u32::from_be_bytes(secret(&format!("group retired chain id {n}"))[..4].try_into().unwrap())
    }));
    let mut distinct = retired.clone();
    distinct.extend(chains.iter().map(|c| c.chain_id));
    distinct.extend(rotations.iter().map(|k| k.initial.chain_id));
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 32 + 5 + 1, "retired ids distinct, none held or to come");
    let at_limit =
        reference::SenderKeys { revision: 12, identity: Some(alice.0.ed25519), chains, retired };
    let alice_reinstalled = identity("group alice reinstalled");
    let mut s = GroupReceiver::from_bytes(&at_limit.encode(), at_limit.clone());
    s.process(
        "Alice's first key's distribution: its id is the oldest retired, refused",
        &alice,
        &d1_at_1,
    );
    s.decrypt("m1 of the first key: no chain of its id", &alice, &m[1]).unwrap_err();
    s.process(
        "Alice's key 7's distribution: the oldest chain (the second key's) is dropped and its id retired; past MAX_SENDER_KEY_RETIRED_CHAINS (32) the oldest retired id, the first key's, is forgotten",
        &alice,
        &rotation_distributions[4],
    );
    assert!(!s.theirs.retired.contains(&k1.initial.chain_id));
    assert_eq!(s.theirs.retired.last(), Some(&k2.initial.chain_id));
    s.process(
        "Alice's first key's distribution again: its id is no longer among the last 32 retired, so it is taken in (the third key's chain dropped and retired)",
        &alice,
        &d1_at_1,
    );
    s.decrypt("m1 of the first key: it opens, the list being bounded", &alice, &m[1]).unwrap();
    s.process(
        "the second key's distribution (its id retired at step 3) from another identity, Alice's device reinstalled: the record is replaced, its retired ids cleared, and the chain taken in",
        &alice_reinstalled,
        &d2_at_0,
    );
    assert!(s.theirs.retired.is_empty());
    s.decrypt(
        "the second key's first message, from the new identity",
        &alice_reinstalled,
        &k2_at[&0],
    )
    .unwrap();
    let mut at_limit_json = sender_key_record_json(
        "a stored record at the limits (made by hand): five chains as their distributions left them and 32 retired ids (MAX_SENDER_KEY_RETIRED_CHAINS), the first key's the oldest, revision 12",
        &at_limit,
    );
    at_limit_json["decrypts"] = json!(s.steps);
    let empty = reference::SenderKeys::default();
    let empty_record = SenderKeyRecord::new();
    assert_eq!(*empty_record.to_bytes(), empty.encode());
    assert_eq!(*SenderKeyRecord::from_bytes(&empty.encode()).unwrap().to_bytes(), empty.encode());
    let sender_key_records = vec![
        sender_key_record_json("an empty record (SenderKeyRecord::new)", &empty),
        {
            let mut v = sender_key_record_json(
                &format!(
                    "Bob's record after the receiver's step {two_chains_step}: two chains, the first with kept keys of 2 and 4"
                ),
                &two_chains,
            );
            v["after_receiver_step"] = json!(two_chains_step);
            v
        },
        stored_json,
        at_limit_json,
    ];
    for v in &sender_key_records {
        let bytes = hex_decode(v["encoding"].as_str().unwrap());
        assert_eq!(*SenderKeyRecord::from_bytes(&bytes).unwrap().to_bytes(), bytes);
    }

    // Group records: Alice's, with her first key at iteration 6.
    let member = |app: &'static str, user: &'static str| (app.as_bytes(), user.as_bytes());
    let device =
        |app: &str, user: &str, d: u32| reference::address(app.as_bytes(), user.as_bytes(), d);
    let carol = identity("group carol");
    let dave = identity("group dave");
    let erin = identity("group erin");
    // Sorted by app id, then user id, then device id, each compared as
    // bytes: "alice" < "b" < "bob", though by encoded length "b" would be
    // first.
    let members = vec![
        member("app-a", "alice"),
        member("app-a", "b"),
        member("app-a", "bob"),
        member("app-b", "carol"),
    ];
    let full = reference::GroupRecordFields {
        revision: 3,
        group_id: GROUP,
        members: members.clone(),
        sender_key: Some(k1_at_6.stored()),
        key_epoch: 2,
        rotate: true,
        distributed: vec![
            (device("app-a", "b", 1), dave.0.ed25519),
            (device("app-a", "bob", 1), bob.0.ed25519),
            (device("app-a", "bob", 2), erin.0.ed25519),
        ],
        senders: vec![device("app-a", "bob", 1), device("app-b", "carol", 7)],
    };
    let bare = reference::GroupRecordFields {
        revision: 0,
        group_id: b"g",
        members: vec![member("app-a", "alice")],
        sender_key: None,
        key_epoch: 0,
        rotate: false,
        distributed: vec![],
        senders: vec![],
    };
    let mut group_records = Vec::new();
    for (name, f) in [
        (
            "Alice's record: her sender key at iteration 6, made in account epoch 2, a rotation pending",
            &full,
        ),
        ("a new group: no sender key yet", &bare),
    ] {
        let bytes = reference::group_record(f);
        let ours = GroupRecord::from_bytes(&bytes).unwrap();
        assert_eq!(*ours.to_bytes(), bytes, "{name}");
        assert_eq!(ours.revision(), f.revision);
        assert_eq!(ours.id().as_bytes(), f.group_id);
        assert_eq!(ours.members().len(), f.members.len());
        assert_eq!(ours.rotation_pending(), f.rotate);
        assert_eq!(ours.key_epoch(), f.key_epoch);
        assert_eq!(ours.distributed().len(), f.distributed.len());
        assert_eq!(ours.senders().len(), f.senders.len());
        let key = f.sender_key.as_ref().map(|_| {
            let k = ours.sender_key().unwrap();
            assert_eq!((k.chain_id(), k.iteration(), *k.signing_key()), (k1_at_6.chain_id, k1_at_6.iteration, k1_at_6.public));
            json!({
                "sender_key": 0, "chain_id": k1_at_6.chain_id, "iteration": k1_at_6.iteration,
                "chain_key": h(k1_at_6.chain_key), "signing_seed": h(k1_at_6.seed), "signing_public": h(k1_at_6.public),
            })
        });
        group_records.push(json!({
            "name": name,
            "revision": f.revision,
            "group_id": h(f.group_id),
            "members": f.members.iter().map(|(a, u)| json!({ "app_id": std::str::from_utf8(a).unwrap(), "user_id": h(u) })).collect::<Vec<_>>(),
            "sender_key": key,
            "key_epoch": f.sender_key.as_ref().map(|_| f.key_epoch),
            "rotation_pending": f.rotate,
            "distributed": f.distributed.iter().map(|(a, k)| json!({ "address": h(a), "identity_key": h(encode_identity(k)) })).collect::<Vec<_>>(),
            "senders": f.senders.iter().map(h).collect::<Vec<_>>(),
            "encoding": h(&bytes),
        }));
    }

    // The sealed group upload: m0, once, for Carol, Dave and Erin, who
    // have Alice's key from iteration 0.
    let recipients = [&carol, &dave, &erin];
    let ephemeral = secret("group upload ephemeral");
    let envelope_secret = secret("group upload envelope secret");
    let content = reference::shared_content(&alice_cert, &m[0].message);
    let ids: Vec<&Identity> = recipients.iter().map(|r| &r.0).collect();
    let s = reference::seal_content(&alice.0, &content, &ids, &ephemeral, &envelope_secret, true);
    let multi = s.multi();
    let mut sealer = Sealer::new(SenderCertificate::from_bytes(&alice_cert).unwrap());
    let mut rng = ScriptedRng::new(&[ephemeral, envelope_secret]);
    let keys: Vec<IdentityKey> = recipients.iter().map(|r| *r.1.public()).collect();
    let ours =
        sealer.seal_group(&mut rng, &alice.1, &keys, &m[0].message, Padding::Buckets).unwrap();
    assert!(rng.finished());
    assert_eq!(ours, multi, "sealed group upload");
    let parsed = MultiRecipientEnvelope::parse(&multi).unwrap();
    let split: Vec<Value> = common_split(&parsed)
        .iter()
        .enumerate()
        .map(|(i, (_, envelope))| {
            assert_eq!(*envelope, s.envelope(i));
            let opened =
                unseal(&recipients[i].1, &trust_spec.store(), Timestamp(NOW), envelope).unwrap();
            assert_eq!(opened.content_type(), ContentType::Group);
            assert!(!opened.is_sender_key_distribution());
            assert_eq!(opened.message_unchecked(), m[0].message.as_slice());
            let mut record = SenderKeyRecord::new();
            record.process(alice.1.public(), &SenderKeyDistribution::from_bytes(&d1_at_0).unwrap());
            assert_eq!(opened.decrypt_group(&mut record).unwrap(), plaintexts[0]);
            h(envelope)
        })
        .collect();
    let mut upload = sealed_json(&s, &ephemeral, &envelope_secret);
    upload["name"] = json!("m0 for three members");
    upload["padded"] = json!(true);
    upload["sender_identity_seed"] = h(alice.0.seed);
    upload["sender_certificate"] = h(&alice_cert);
    upload["certificate_authority"] = certificate_authority("alice", 1);
    upload["recipient_identity_seeds"] = recipients.iter().map(|r| h(r.0.seed)).collect();
    upload["group_message"] = h(&m[0].message);
    upload["multi_recipient_envelope"] = h(&multi);
    upload["split_envelopes"] = json!(split);
    upload["unsealed"] = json!({
        "now": NOW, "trust": trust_spec.json(), "app_id": "app-a", "user_id": h(b"alice"), "device_id": 1,
        "identity_key": h(alice.0.encoded()), "content_type": 3, "distribution": false,
    });
    upload["decrypted"] = json!({ "distribution": h(&d1_at_0), "plaintext": h(plaintexts[0]) });

    // Distribution messages over the pairwise session, sealed with their
    // content types: Alice's to Bob in an initial message (0x11), Bob's
    // to Alice in a ratchet message (0x12).
    let kb = GroupSender::new("group bob key", secret("group bob key signing seed"));
    let db_at_0 = kb.distribution();
    let to_bob = c.send_bytes(true, &d1_at_1);
    let bob_state = c.bob.to_bytes().to_vec();
    c.receive(false, to_bob);
    let to_alice = c.send_bytes(false, &db_at_0);
    let alice_state = c.alice.to_bytes().to_vec();
    c.receive(true, to_alice);
    let mut distribution_envelopes = Vec::new();
    for (name, sender, cert, user, recipient, state, wire, plaintext, content_type) in [
        (
            "Alice's distribution (iteration 1) to Bob, in an initial message: content type 0x11",
            &alice,
            &alice_cert,
            "alice",
            &bob,
            &bob_state,
            &c.sent[to_bob],
            &d1_at_1,
            0x11u8,
        ),
        (
            "Bob's distribution (iteration 0) to Alice, in a ratchet message: content type 0x12",
            &bob,
            &bob_cert,
            "bob",
            &alice,
            &alice_state,
            &c.sent[to_alice],
            &db_at_0,
            0x12,
        ),
    ] {
        let ephemeral = secret(&format!("{name} ephemeral"));
        let envelope_secret = secret(&format!("{name} envelope secret"));
        let content =
            reference::entries_content(cert, &[(recipient.0.encoded(), content_type, wire)]);
        let s = reference::seal_content(
            &sender.0,
            &content,
            &[&recipient.0],
            &ephemeral,
            &envelope_secret,
            true,
        );
        let multi = s.multi();
        let mut sealer = Sealer::new(SenderCertificate::from_bytes(cert).unwrap());
        let mut rng = ScriptedRng::new(&[ephemeral, envelope_secret]);
        let ours = sealer
            .seal_distributions(
                &mut rng,
                &sender.1,
                &[(*recipient.1.public(), wire.as_slice())],
                Padding::Buckets,
            )
            .unwrap();
        assert!(rng.finished());
        assert_eq!(ours, multi, "{name}");
        let envelope = common_split(&MultiRecipientEnvelope::parse(&multi).unwrap())[0].1.clone();
        assert_eq!(envelope, s.envelope(0));
        let opened = unseal(&recipient.1, &trust_spec.store(), Timestamp(NOW), &envelope).unwrap();
        assert!(opened.is_sender_key_distribution());
        assert_eq!(opened.message_unchecked(), wire.as_slice());
        let mut session = Session::from_bytes(state).unwrap();
        assert_eq!(opened.decrypt(&mut session).unwrap(), *plaintext);
        let mut v = sealed_json(&s, &ephemeral, &envelope_secret);
        v["name"] = json!(name);
        v["padded"] = json!(true);
        v["sender_identity_seed"] = h(sender.0.seed);
        v["sender_certificate"] = h(cert);
        v["certificate_authority"] = certificate_authority(user, 1);
        v["recipient_identity_seeds"] = json!([h(recipient.0.seed)]);
        v["messages"] = json!([h(wire)]);
        v["distribution"] = json!(true);
        v["multi_recipient_envelope"] = h(&multi);
        v["split_envelopes"] = json!([h(&envelope)]);
        v["unsealed"] = json!({
            "now": NOW, "trust": trust_spec.json(), "app_id": "app-a", "user_id": h(user.as_bytes()), "device_id": 1,
            "identity_key": h(sender.0.encoded()), "content_type": content_type & 0x0f, "distribution": true,
        });
        v["receiver_session_state"] = h(state);
        v["inner_plaintext"] = h(plaintext);
        distribution_envelopes.push(v);
    }

    let mut negative = group_negative(
        &alice,
        &alice_cert,
        &carol,
        &trust_spec,
        &m[0].message,
        &c.sent[to_alice],
        &d1_at_0,
        &k1_at_6,
        &two_chains,
        &full,
    );

    // Sealing a group upload refuses, before drawing anything.
    let ratchet_message = c.sent[to_alice].clone();
    for (description, recipients, message) in [
        ("a ratchet message given as the group message", vec![&carol], ratchet_message.clone()),
        ("one recipient twice", vec![&carol, &carol], m[0].message.clone()),
        ("no recipients", vec![], m[0].message.clone()),
    ] {
        let keys: Vec<IdentityKey> = recipients.iter().map(|r| *r.1.public()).collect();
        let err = Sealer::new(SenderCertificate::from_bytes(&alice_cert).unwrap())
            .seal_group(&mut ScriptedRng::new(&[]), &alice.1, &keys, &message, Padding::Buckets)
            .unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "seal group",
            "sender_identity_seed": h(alice.0.seed),
            "sender_certificate": h(&alice_cert),
            "recipients": recipients.iter().map(|r| h(r.0.encoded())).collect::<Vec<_>>(),
            "group_message": h(&message),
            "padded": true,
            "rng": [],
            "error": error(err),
        }));
    }
    // Encrypting refuses a plaintext above MAX_PLAINTEXT_LEN before it
    // draws the nonce.
    let mut fresh = GroupSender::new("group alice key 1", secret("group alice key 1 signing seed"));
    let too_long = vec![0u8; sealwire::limits::MAX_PLAINTEXT_LEN + 1];
    let err = fresh.ours.encrypt(&mut ScriptedRng::new(&[]), &group, &too_long).unwrap_err();
    assert_eq!(fresh.ours.iteration(), 0);
    negative.push(json!({
        "description": "a plaintext one byte longer than MAX_PLAINTEXT_LEN (given as plaintext_length zero bytes)",
        "operation": "group encrypt",
        "sender_key_rng": fresh.draws.iter().map(h).collect::<Vec<_>>(),
        "group_id": h(GROUP),
        "plaintext_length": too_long.len(),
        "rng": [],
        "error": error(err),
    }));

    let mut sender_keys = vec![
        k1.json("Alice's first sender key"),
        k2.json("Alice's second sender key (a rotation), its signing key of odd x"),
        kb.json("Bob's sender key"),
        twin.json("a key with the first key's chain id and signing key (its first and third draws) but another chain key"),
    ];
    for (n, k) in rotations.iter().enumerate() {
        sender_keys.push(k.json(&format!("Alice's sender key {} (a rotation)", n + 3)));
    }
    let mut distributions = vec![
        json!({ "sender_key": 0, "iteration": 0, "chain_key": h(k1.initial.chain_key), "encoding": h(&d1_at_0) }),
        json!({ "sender_key": 0, "iteration": 1, "chain_key": h(k1_steps[0].next_chain_key), "encoding": h(&d1_at_1) }),
        json!({ "sender_key": 1, "iteration": 0, "chain_key": h(k2.initial.chain_key), "encoding": h(&d2_at_0) }),
        json!({ "sender_key": 2, "iteration": 0, "chain_key": h(kb.initial.chain_key), "encoding": h(&db_at_0) }),
    ];
    for (n, (k, d)) in rotations.iter().zip(&rotation_distributions).enumerate() {
        distributions.push(json!({
            "sender_key": 4 + n, "iteration": 0, "chain_key": h(k.initial.chain_key), "encoding": h(d),
        }));
    }

    json!({
        "family": "group",
        "version": 3,
        "description": "Groups: sender keys generated from their draws, a chain of group messages with every intermediate, distribution messages, a commitment to each message's key in its header, a member's record through out-of-order, replayed, stale, forged, far-skipped and wrongly committed messages, rotations and a retired chain re-sent, stored sender key records (retired chain ids among them) and group records (with the sender key's epoch) field by field, a sealed group upload (layout 0x02) and distribution messages sealed with content types 0x11 and 0x12. docs/protocol.md §10, §11, §21.",
        "group_id": h(GROUP),
        "sender_keys": sender_keys,
        "chain": {
            "sender_key": 0,
            "messages": k1_steps.iter().zip(plaintexts).map(|(s, p)| group_step_json(s, p)).collect::<Vec<_>>(),
        },
        "distributions": distributions,
        "receiver": receiver,
        "sender_key_records": sender_key_records,
        "group_records": group_records,
        "sealed_group": [upload],
        "sealed_distributions": distribution_envelopes,
        "negative": negative,
    })
}

/// The group family's negative vectors: unsealing the shared layout, and
/// each new decoder.
#[allow(clippy::too_many_arguments)]
fn group_negative(
    alice: &(Identity, IdentityKeyPair),
    alice_cert: &[u8],
    carol: &(Identity, IdentityKeyPair),
    trust_spec: &TrustSpec,
    m0: &[u8],
    ratchet_message: &[u8],
    distribution: &[u8],
    key: &reference::SendingKey,
    record: &reference::SenderKeys,
    group_record: &reference::GroupRecordFields<'_>,
) -> Vec<Value> {
    let mut negative = Vec::new();

    // Shared payloads a certified sender (Alice) can write but no sealer
    // does, unsealed at Carol's.
    let shared = |content_type: u8, message: &[u8]| {
        let mut content = reference::shared_content(alice_cert, message);
        content[4 + alice_cert.len() + 1] = content_type;
        content
    };
    let mut empty_group = key.clone();
    let empty_group_message =
        empty_group.encrypt(b"", b"x", nonce("group negative empty id")).message;
    for (description, content, padding_byte) in [
        ("the shared layout with content type 0x02", shared(0x02, m0), false),
        ("the shared layout carrying a ratchet message", shared(0x03, ratchet_message), false),
        (
            "the shared layout carrying a sender key distribution message (0xFF 0xB1)",
            shared(0x03, distribution),
            false,
        ),
        (
            "the shared layout carrying a group message whose group id is empty",
            shared(0x03, &empty_group_message),
            false,
        ),
        ("the shared layout with a padding byte of 0x01", shared(0x03, m0), true),
    ] {
        let label = format!("group negative: {description}");
        let mut content = content;
        let recipients = [&carol.0];
        let e = secret(&format!("{label} ephemeral"));
        let s = secret(&format!("{label} secret"));
        let envelope = if padding_byte {
            // Padding as the sealer would choose it, its last byte set.
            let sealed = reference::seal_content(&alice.0, &content, &recipients, &e, &s, true);
            content.extend(vec![0u8; sealed.padding]);
            *content.last_mut().unwrap() = 1;
            reference::seal_content(&alice.0, &content, &recipients, &e, &s, false).envelope(0)
        } else {
            reference::seal_content(&alice.0, &content, &recipients, &e, &s, true).envelope(0)
        };
        let err = unseal(&carol.1, &trust_spec.store(), Timestamp(NOW), &envelope).unwrap_err();
        negative.push(json!({
            "description": description,
            "operation": "unseal",
            "recipient_identity_seed": h(carol.0.seed),
            "trust": trust_spec.json(),
            "now": NOW,
            "input": h(&envelope),
            "error": error(err),
        }));
    }

    // GroupMessage.
    let g = GROUP.len();
    let header_len = 2 + 4 + g + 4 + 4 + 24 + 32;
    let signed_by =
        |unsigned: &[u8]| cat(&[unsigned, &reference::ed25519_sign(&key.seed, unsigned)]);
    let mut long_group = key.clone();
    let long_group_message =
        long_group.encrypt(&[b'g'; 65], b"x", nonce("group negative long id")).message;
    let short_ciphertext = signed_by(&cat(&[&m0[..header_len], &reference::with_len(&[7u8; 15])]));
    let mut too_long = m0.to_vec();
    too_long[header_len..header_len + 4]
        .copy_from_slice(&((sealwire::limits::MAX_PLAINTEXT_LEN + 17) as u32).to_be_bytes());
    negative.extend(refused(
        "GroupMessage",
        |b| GroupMessage::parse(b).map(drop),
        vec![
            ("a group message one byte short", m0[..m0.len() - 1].to_vec()),
            ("a group message with a trailing byte", cat(&[m0, &[0]])),
            ("a group message without its signature", m0[..m0.len() - 64].to_vec()),
            ("a group message cut inside its nonce", m0[..header_len - 33].to_vec()),
            ("a group message cut inside its key commitment", m0[..header_len - 1].to_vec()),
            (
                "a group message without its key commitment (the layout before it), signed again",
                signed_by(&cat(&[&m0[..header_len - 32], &m0[header_len..m0.len() - 64]])),
            ),
            ("an empty group id", empty_group_message.clone()),
            ("a group id of 65 bytes, one above MAX_GROUP_ID_LEN", long_group_message),
            ("a ciphertext of 15 bytes, shorter than the AEAD tag", short_ciphertext),
            (
                "a ciphertext length of MAX_PLAINTEXT_LEN + 17, one above the longest ciphertext",
                too_long,
            ),
            ("not escaped: 0xC1 alone", m0[1..].to_vec()),
            ("a sender key distribution's tag (0xFF 0xB1)", cat(&[&[0xff, 0xb1], &m0[2..]])),
            ("a group message of version 2 (0xFF 0xC2)", cat(&[&[0xff, 0xc2], &m0[2..]])),
        ],
    ));

    // SenderKeyDistribution.
    let d = distribution;
    let with_signing_key = |k: &[u8; 32]| cat(&[&d[..d.len() - 32], k]);
    let mut p = [0xffu8; 32];
    p[31] = 0x7f;
    p[0] = 0xed;
    let mut p_plus_1 = p;
    p_plus_1[0] = 0xee;
    let mut neutral = [0u8; 32];
    neutral[0] = 1;
    let order_8 = curve25519_dalek::constants::EIGHT_TORSION[1].compress().to_bytes();
    let public = curve25519_dalek::edwards::CompressedEdwardsY(key.public).decompress().unwrap();
    let mixed = (public + curve25519_dalek::constants::EIGHT_TORSION[1]).compress().to_bytes();
    assert!(SenderKeyDistribution::from_bytes(&with_signing_key(&mixed)).is_ok());
    negative.extend(refused(
        "SenderKeyDistribution",
        |b| SenderKeyDistribution::from_bytes(b).map(drop),
        vec![
            ("a distribution one byte short", d[..d.len() - 1].to_vec()),
            ("a distribution with a trailing byte", cat(&[d, &[0]])),
            (
                "an empty group id",
                reference::distribution(b"", key.chain_id, 0, &key.chain_key, &key.public),
            ),
            (
                "a group id of 65 bytes, one above MAX_GROUP_ID_LEN",
                reference::distribution(&[b'g'; 65], key.chain_id, 0, &key.chain_key, &key.public),
            ),
            ("a signing key with y = p, a non-canonical encoding", with_signing_key(&p)),
            (
                "a signing key with y = p + 1, a non-canonical encoding of the neutral point",
                with_signing_key(&p_plus_1),
            ),
            ("a signing key of small order: the neutral point (y = 1)", with_signing_key(&neutral)),
            ("a signing key of small order: a point of order 8", with_signing_key(&order_8)),
            (
                "a signing key whose y (below p) is on no point of the curve",
                with_signing_key(&off_curve()),
            ),
            ("a group message's tag (0xFF 0xC1)", cat(&[&[0xff, 0xc1], &d[2..]])),
        ],
    ));

    // SenderKeyRecord: the record of two chains, changed one field at a
    // time.
    let base = record.encode();
    let change = |f: &dyn Fn(&mut reference::SenderKeys)| {
        let mut r = record.clone();
        f(&mut r);
        r.encode()
    };
    let identity_at = 2 + 8;
    let mut bad_flag = base.clone();
    bad_flag[identity_at] = 2;
    let mut odd_identity = base.clone();
    odd_identity[identity_at + 1 + 32] |= 0x80;
    let six = change(&|r| {
        for i in 0..4u32 {
            let mut chain = r.chains[1].clone();
            chain.chain_id = chain.chain_id.wrapping_add(i + 1);
            r.chains.push(chain);
        }
    });
    // A record whose last chain's counts are rewritten, with nothing after
    // them.
    assert!(record.retired.is_empty());
    let last_counts = |keys: u32, dropped: Option<u32>| {
        let mut r = record.clone();
        r.chains[1].keys.clear();
        r.chains[1].dropped.clear();
        let bytes = r.encode();
        // Less the two counts and the retired ids' count.
        let mut out = bytes[..bytes.len() - 9].to_vec();
        out.extend(keys.to_be_bytes());
        if let Some(d) = dropped {
            out.extend(d.to_be_bytes());
        }
        out
    };
    assert_eq!(record.chains[0].keys.len(), 2, "two kept keys in the first chain");
    let k0 = record.chains[0].keys.clone();
    // Retired ids: distinct from each other and from the chains' ids.
    let held: Vec<u32> = record.chains.iter().map(|c| c.chain_id).collect();
    let retired_ids: Vec<u32> = (0..)
        .map(|n| {
            u32::from_be_bytes(
                secret(&format!("group negative retired id {n}"))[..4].try_into().unwrap(),
            )
        })
        .filter(|id| !held.contains(id))
        .take(33)
        .collect();
    let mut ids_sorted = retired_ids.clone();
    ids_sorted.sort_unstable();
    ids_sorted.dedup();
    assert_eq!(ids_sorted.len(), 33);
    let (a, b) = (retired_ids[0], retired_ids[1]);
    let two_of_one = {
        let bytes = change(&|r| r.retired = vec![a]);
        let mut out = bytes.clone();
        let at = bytes.len() - 5;
        assert_eq!(out[at], 1);
        out[at] = 2;
        out
    };
    let mut small_order_key = base.clone();
    let signing_at = 2 + 8 + 1 + 33 + 1 + 4;
    small_order_key[signing_at..signing_at + 32].copy_from_slice(&neutral);
    negative.extend(refused(
        "SenderKeyRecord",
        |b| SenderKeyRecord::from_bytes(b).map(drop),
        vec![
            ("a record one byte short", base[..base.len() - 1].to_vec()),
            ("a record with a trailing byte", cat(&[&base, &[0]])),
            ("a record of version 2 (0xFF 0xD2)", cat(&[&[0xff, 0xd2], &base[2..]])),
            ("an identity flag of 2", bad_flag),
            ("an identity key with the sign bit set", odd_identity),
            ("chains without an identity", change(&|r| r.identity = None)),
            ("six chains, one above MAX_SENDER_KEY_CHAINS", six),
            ("two chains with one chain id", change(&|r| r.chains[1].chain_id = r.chains[0].chain_id)),
            ("a chain's signing key of small order (the neutral point)", small_order_key),
            ("a chain whose start is above its next", change(&|r| r.chains[1].start = r.chains[1].next + 1)),
            (
                "a chain whose unknown_below is above its next",
                change(&|r| r.chains[1].unknown_below = r.chains[1].next + 1),
            ),
            ("a kept key at the chain's next", change(&|r| r.chains[0].keys[1].0 = r.chains[0].next)),
            ("a kept key below the chain's start", change(&|r| r.chains[0].keys[0].0 = r.chains[0].start - 1)),
            ("one kept key twice", change(&|r| r.chains[0].keys[1] = k0[0])),
            ("kept keys in decreasing order", change(&|r| r.chains[0].keys.reverse())),
            ("an empty dropped range", change(&|r| r.chains[0].dropped = vec![(5, 5)])),
            ("a dropped range past the chain's next", change(&|r| r.chains[0].dropped = vec![(5, 7)])),
            ("a dropped range below the chain's start", change(&|r| r.chains[0].dropped = vec![(0, 2)])),
            ("a dropped range holding a kept key", change(&|r| r.chains[0].dropped = vec![(3, 5)])),
            (
                "dropped ranges out of order",
                change(&|r| {
                    r.chains[0].keys.clear();
                    r.chains[0].dropped = vec![(4, 5), (1, 2)];
                }),
            ),
            (
                "dropped ranges that overlap",
                change(&|r| {
                    r.chains[0].keys.clear();
                    r.chains[0].dropped = vec![(1, 4), (3, 5)];
                }),
            ),
            (
                "2,001 kept keys in all: the first chain's 2 and a count of 1,999 in the second (the limit is over the record)",
                last_counts(1999, None),
            ),
            ("a count of 3 kept keys with none after it", last_counts(3, None)),
            (
                "a count of 65 dropped ranges, one above MAX_SENDER_KEY_DROPPED_RANGES",
                last_counts(0, Some(65)),
            ),
            (
                "33 retired chain ids, one above MAX_SENDER_KEY_RETIRED_CHAINS",
                change(&|r| r.retired = retired_ids.clone()),
            ),
            ("a retired chain id twice", change(&|r| r.retired = vec![a, b, a])),
            (
                "a retired chain id that is a held chain's id",
                change(&|r| r.retired = vec![a, r.chains[1].chain_id]),
            ),
            (
                "retired chain ids without an identity (and no chains)",
                change(&|r| {
                    r.identity = None;
                    r.chains.clear();
                    r.retired = vec![a];
                }),
            ),
            ("a count of 2 retired chain ids with one after it", two_of_one),
        ],
    ));

    // GroupRecord: Alice's record, changed one field at a time.
    let base = reference::group_record(group_record);
    let change = |f: &dyn Fn(&mut reference::GroupRecordFields<'_>)| {
        let mut r = group_record.clone();
        f(&mut r);
        reference::group_record(&r)
    };
    let members_count_at = 2 + 8 + 4 + GROUP.len();
    let mut many = base[..members_count_at].to_vec();
    many.extend(1001u32.to_be_bytes());
    many.extend(&base[members_count_at + 4..]);
    let flags_at = base.len()
        - 4
        - group_record.senders.iter().map(Vec::len).sum::<usize>()
        - 4
        - group_record.distributed.iter().map(|(a, _)| a.len() + 33).sum::<usize>()
        - 1;
    let mut bad_rotate = base.clone();
    bad_rotate[flags_at] = 2;
    let key_flag_at = flags_at - 4 - 72 - 1;
    assert_eq!(base[key_flag_at], 1);
    let epoch_at = key_flag_at + 1 + 72;
    assert_eq!(base[epoch_at..epoch_at + 4], group_record.key_epoch.to_be_bytes());
    let mut bad_key_flag = base.clone();
    bad_key_flag[key_flag_at] = 2;
    let first_holder_key = flags_at + 1 + 4 + group_record.distributed[0].0.len() + 1;
    let mut odd_holder = base.clone();
    odd_holder[first_holder_key + 31] |= 0x80;
    let by_encoding = change(&|r| {
        r.members.sort_by_key(|(app, user)| {
            cat(&[&reference::with_len(app), &reference::with_len(user)])
        })
    });
    assert_ne!(by_encoding, base);
    negative.extend(refused(
        "GroupRecord",
        |b| GroupRecord::from_bytes(b).map(drop),
        vec![
            ("a record one byte short", base[..base.len() - 1].to_vec()),
            ("a record with a trailing byte", cat(&[&base, &[0]])),
            ("a record of version 2 (0xFF 0xE2)", cat(&[&[0xff, 0xe2], &base[2..]])),
            ("an empty group id", change(&|r| r.group_id = b"")),
            ("a group id of 65 bytes, one above MAX_GROUP_ID_LEN", change(&|r| r.group_id = &[b'g'; 65])),
            ("a count of 1001 members, one above MAX_GROUP_MEMBERS", many),
            (
                "members in the order of their encodings (\"b\" before \"alice\"), not of their bytes",
                by_encoding,
            ),
            ("a member twice", change(&|r| r.members[1] = r.members[0])),
            ("a member whose app id has an upper-case letter", change(&|r| r.members[0].0 = b"App-a")),
            ("a member with an empty user id", change(&|r| r.members[0].1 = b"")),
            ("a sender key flag of 2", bad_key_flag),
            ("a record cut inside the sender key's epoch", base[..epoch_at + 2].to_vec()),
            (
                "a sender key without its key epoch (the layout before it)",
                cat(&[&base[..epoch_at], &base[epoch_at + 4..]]),
            ),
            ("a rotation flag of 2", bad_rotate),
            (
                "a rotation pending without a sender key",
                change(&|r| {
                    r.sender_key = None;
                    r.distributed.clear();
                }),
            ),
            (
                "holders of the sender key without a sender key",
                change(&|r| {
                    r.sender_key = None;
                    r.rotate = false;
                }),
            ),
            ("holders out of order", change(&|r| r.distributed.swap(0, 2))),
            (
                "one device twice among the holders, under two identity keys",
                change(&|r| r.distributed[2].0 = r.distributed[1].0.clone()),
            ),
            ("a holder's identity key with the sign bit set", odd_holder),
            ("senders out of order", change(&|r| r.senders.reverse())),
            ("a sender twice", change(&|r| r.senders[1] = r.senders[0].clone())),
        ],
    ));
    negative
}
