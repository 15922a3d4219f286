#![no_main]
//! KEM ciphertexts from the fuzzer in a post-quantum initial message: a
//! fixed responder (Bob, with a one-time KEM prekey) accepts the message
//! whose 1088-byte ciphertext is the input (cut or zero-padded to length).
//! Only the genuine ciphertext may be accepted; every other one is refused
//! as a message that does not decrypt (ML-KEM rejects implicitly), never a
//! panic, and consumes nothing.
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealwire::{
    DecryptError, Error, IdentityKeyPair, InitialMessage, KEM_CIPHERTEXT_LEN, KemPreKeyKind,
    KemPreKeyPair, OneTimePreKeyPair, PreKeyBundle, PreKeyId, Session, SignedPreKeyPair,
};
use std::sync::OnceLock;

struct Fixture {
    bob: IdentityKeyPair,
    signed: SignedPreKeyPair,
    one_time: OneTimePreKeyPair,
    kem: KemPreKeyPair,
    message: Vec<u8>,
    /// Where the ciphertext sits in `message` (docs/protocol.md §7.2).
    at: usize,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(20);
        let bob = IdentityKeyPair::generate(&mut rng);
        let signed = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
        let one_time = OneTimePreKeyPair::generate(&mut rng, PreKeyId(100));
        let kem = KemPreKeyPair::generate(&mut rng, &bob, PreKeyId(200), KemPreKeyKind::OneTime);
        let bundle = PreKeyBundle::new(*bob.public(), signed.public(), Some(one_time.public()))
            .with_kem_prekey(kem.public());
        let alice = IdentityKeyPair::generate(&mut rng);
        let mut session = Session::initiate(&mut rng, &alice, &bundle).expect("initiate");
        let message = session.encrypt(&mut rng, b"fuzz").expect("encrypt");
        let at = 1 + 33 + 33 + 4 + 1 + 4 + 1 + 4;
        Fixture { bob, signed, one_time, kem, message, at }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut ciphertext = [0u8; KEM_CIPHERTEXT_LEN];
    let n = data.len().min(KEM_CIPHERTEXT_LEN);
    ciphertext[..n].copy_from_slice(&data[..n]);
    let genuine = &f.message[f.at..f.at + KEM_CIPHERTEXT_LEN] == &ciphertext[..];
    let mut message = f.message.clone();
    message[f.at..f.at + KEM_CIPHERTEXT_LEN].copy_from_slice(&ciphertext);
    let parsed = InitialMessage::parse(&message).expect("the framing is unchanged");
    let result =
        Session::accept_hybrid(&f.bob, &f.signed, Some(&f.one_time), Some(&f.kem), &parsed);
    match result {
        Ok((_, text)) => {
            assert!(genuine, "a changed KEM ciphertext was accepted");
            assert_eq!(text, b"fuzz");
        }
        Err(e) => {
            assert!(!genuine, "the genuine message was refused: {e:?}");
            assert_eq!(e, Error::Decrypt(DecryptError::Failed), "a changed ciphertext: {e:?}");
        }
    }
});
