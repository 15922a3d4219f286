//! sealwire: the protocol core of end-to-end encrypted messaging between
//! apps that share one backend.
//!
//! Two devices that have never talked agree on keys with X3DH from a
//! published prekey bundle, then exchange messages in any order under the
//! Double Ratchet. The relay between them stores bundles and moves bytes;
//! it cannot read or forge messages. Sealed-sender envelopes ([`Sealer`],
//! [`unseal`]) hide the sender from the relay too: the sender's identity
//! travels encrypted, proved by a certificate from its own app, which a
//! recipient on another app checks against that app's trust root.
//!
//! ```
//! use sealwire::{
//!     IdentityKeyPair, InitialMessage, MemoryPreKeyStore, OneTimePreKeyPair, PreKeyBundle,
//!     PreKeyId, Session, SignedPreKeyPair,
//! };
//!
//! # fn main() -> Result<(), sealwire::Error> {
//! // The caller supplies the RNG; this one asks the operating system.
//! let mut rng = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
//!
//! // Alice publishes a bundle and keeps the secrets in her prekey store.
//! let alice = IdentityKeyPair::generate(&mut rng);
//! let signed = SignedPreKeyPair::generate(&mut rng, &alice, PreKeyId(1));
//! let one_time = OneTimePreKeyPair::generate(&mut rng, PreKeyId(100));
//! let bundle = PreKeyBundle::new(*alice.public(), signed.public(), Some(one_time.public()));
//! let mut alice_prekeys = MemoryPreKeyStore::new();
//! alice_prekeys.add_signed_prekey(signed);
//! alice_prekeys.add_one_time_prekey(one_time);
//! let published = bundle.to_bytes();
//!
//! // Bob fetches the bundle and writes first.
//! let bob = IdentityKeyPair::generate(&mut rng);
//! let mut bob_session = Session::initiate(&mut rng, &bob, &PreKeyBundle::from_bytes(&published)?)?;
//! let first = bob_session.encrypt(&mut rng, b"hi Alice")?;
//!
//! // Alice accepts the session from Bob's first message.
//! let initial = InitialMessage::parse(&first)?;
//! let (mut alice_session, text) = Session::accept(&alice, &mut alice_prekeys, &initial)?;
//! assert_eq!(text, b"hi Alice");
//! assert_eq!(alice_session.remote_identity(), bob.public());
//!
//! // From here on both sides encrypt and decrypt.
//! let reply = alice_session.encrypt(&mut rng, b"hi Bob")?;
//! assert_eq!(bob_session.decrypt(&reply)?, b"hi Bob");
//!
//! // Sessions are stored between messages (the bytes are secret): save
//! // after every encrypt and decrypt, before the message goes out or the
//! // plaintext is shown.
//! let stored = alice_session.to_bytes();
//! let mut alice_session = Session::from_bytes(&stored)?;
//! let again = bob_session.encrypt(&mut rng, b"still there?")?;
//! assert_eq!(alice_session.decrypt(&again)?, b"still there?");
//! # Ok(())
//! # }
//! ```
//!
//! # What is protected, and what is not
//!
//! - Only the two devices can read a message or make one the other accepts.
//!   Any change to a message, or a message from another session, fails to
//!   decrypt and leaves the session as it was.
//! - Forward secrecy: a message's key is deleted once it is used, and chain
//!   keys move forward one way, so state stolen later does not open
//!   messages already read.
//! - Post-compromise recovery: each reply brings a new Diffie-Hellman
//!   exchange, so state stolen now stops opening messages after the next
//!   round trip, unless the thief also takes over the conversation.
//! - Restored state: a session restored from an older copy (a crash before
//!   saving, a backup, a clone) seals every message under a fresh random
//!   nonce, so nothing leaks and nothing can be forged from two messages it
//!   sends at one number. It would decrypt a replay a second time: its
//!   [`Session::generation`] lets the app's store refuse to write it back
//!   over a newer state.
//! - Replays, reordering and loss: a message the session has decrypted
//!   gets [`DecryptError::Duplicate`], one whose key was dropped under the
//!   limits [`DecryptError::KeyDropped`], a forgery [`DecryptError::Failed`];
//!   every error says what to do about it ([`Error::action`]).
//! - Not hidden from the relay: who receives, when, and a size bucket (with
//!   sealed envelopes); without them also the sender, exact lengths and
//!   message headers (ratchet key and counters).
//! - A stolen device reveals its identity key, its unused prekeys, its
//!   stored sessions and their skipped message keys: the messages still to
//!   come on those sessions until they ratchet forward, and the late
//!   messages those skipped keys open.
//! - Identity keys are only as trustworthy as the app's way of checking
//!   them: compare [`Session::remote_identity`] with what the user
//!   expects. One X25519 secret stands behind exactly one identity key
//!   (identity keys are torsion-free with an even `x`).
//! - Time comes from the caller: certificates are checked against the
//!   device's own clock, never one the relay reports.
//!
//! # no_std
//!
//! With default features off the crate is `#![no_std]` and needs only
//! `alloc`. It never reads a clock or an OS RNG: every function that needs
//! randomness takes a [`rand_core::CryptoRng`].
//!
//! `docs/protocol.md` specifies every byte, label and constant.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod bundle;
mod certificate;
mod codec;
mod error;
mod hex;
mod identity;
mod labels;
pub mod limits;
mod message;
mod prekey;
mod primitives;
mod ratchet;
mod sealed;
mod session;
mod x3dh;

pub use bundle::PreKeyBundle;
pub use certificate::{
    AppId, CertificateKey, CertificateKeyPair, DeviceId, IssuerCertificate, SenderCertificate,
    Timestamp, TrustRoot, TrustStore, UserId,
};
pub use error::{
    Action, AgreementError, CertificateError, DecodeError, DecryptError, EncryptError, Error,
    SealError, UnsealError,
};
pub use identity::{IdentityKey, IdentityKeyPair};
pub use message::{Header, InitialMessage, Message, RatchetMessage};
pub use prekey::{
    MemoryPreKeyStore, OneTimePreKey, OneTimePreKeyPair, PreKeyId, PreKeyStore, SignedPreKey,
    SignedPreKeyPair,
};
pub use primitives::x25519::X25519PublicKey;
pub use sealed::{
    ContentType, MultiRecipientEnvelope, Padding, RecipientShare, SealedEnvelope, Sealer, Unsealed,
    unseal,
};

/// The `rand_core` this crate takes its RNG traits from (0.10), so that an
/// application names the same version: `sealwire::rand_core::CryptoRng`.
pub use rand_core;
pub use session::{Role, Session};

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// Every type that holds key material zeroizes it on drop. These checks
/// fail to compile if one stops doing so.
#[cfg(test)]
mod zeroize_checks {
    use zeroize::ZeroizeOnDrop;

    fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn every_secret_type_zeroizes_on_drop() {
        // The primitives' own secret types, which ours are built from.
        zeroizes_on_drop::<x25519_dalek::StaticSecret>();
        zeroizes_on_drop::<x25519_dalek::SharedSecret>();
        zeroizes_on_drop::<ed25519_dalek::SigningKey>();
        zeroizes_on_drop::<chacha20poly1305::ChaCha20Poly1305>();
        zeroizes_on_drop::<zeroize::Zeroizing<[u8; 32]>>();
        // Ours.
        zeroizes_on_drop::<crate::primitives::x25519::X25519KeyPair>();
        zeroizes_on_drop::<crate::primitives::x25519::DhOutput>();
        zeroizes_on_drop::<crate::primitives::ed25519::Ed25519Secret>();
        zeroizes_on_drop::<crate::primitives::aead::AeadKey>();
        zeroizes_on_drop::<crate::ratchet::keys::RootKey>();
        zeroizes_on_drop::<crate::ratchet::keys::ChainKey>();
        zeroizes_on_drop::<crate::ratchet::keys::MessageKey>();
        zeroizes_on_drop::<crate::ratchet::received::SkippedKey>();
        zeroizes_on_drop::<crate::IdentityKeyPair>();
        zeroizes_on_drop::<crate::SignedPreKeyPair>();
        zeroizes_on_drop::<crate::OneTimePreKeyPair>();
        zeroizes_on_drop::<crate::CertificateKeyPair>();
        zeroizes_on_drop::<crate::Session>();
    }
}
