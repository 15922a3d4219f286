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
//!     Address, AppId, CertificateKeyPair, Device, DeviceId, IdentityEvent, IssuerCertificate,
//!     MemoryStore, MultiRecipientEnvelope, SenderCertificate, Timestamp, TrustRoot, TrustStore,
//!     UserId,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The caller supplies the RNG and the time; sealwire reads neither.
//! let mut rng = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
//! let now = Timestamp(1_800_000_000);
//!
//! // The app's certificate authority: a root key (offline) and an issuer.
//! let app = AppId::new("chat.a")?;
//! let root = CertificateKeyPair::generate(&mut rng);
//! let issuer_key = CertificateKeyPair::generate(&mut rng);
//! let forever = Timestamp(u64::MAX);
//! let issuer = IssuerCertificate::issue(&root, &app, 1, &issuer_key.public(), now, forever)?;
//! let mut trust = TrustStore::new();
//! trust.add_root(&TrustRoot::new(app.clone(), root.public()));
//!
//! // Two devices, each with its store, certified by the app.
//! let mut devices = Vec::new();
//! for user in [&b"alice"[..], b"bob"] {
//!     let address = Address::new(app.clone(), UserId::new(user)?, DeviceId(1));
//!     let mut device =
//!         Device::create(&mut rng, MemoryStore::new(), address.clone(), trust.clone(), now)?;
//!     let user = address.user_id().clone();
//!     let key = *device.identity();
//!     device.set_certificate(SenderCertificate::issue(
//!         &issuer_key, &issuer, user, DeviceId(1), &key, forever,
//!     )?)?;
//!     devices.push(device);
//! }
//! let (mut alice, mut bob) = (devices.remove(0), devices.remove(0));
//!
//! // Alice publishes her prekeys; the server hands out bundles made of them.
//! let published = alice.publication(&mut rng, now, None)?;
//! alice.mark_published(&published)?;
//! let bundle = published.bundle(published.one_time_prekeys().first().copied());
//!
//! // Bob learns Alice's devices from the server, starts a session from the
//! // bundle (told of a new contact's key: show it) and writes to her.
//! bob.set_devices(alice.address().user(), &[DeviceId(1)])?;
//! let event = bob.start_session(&mut rng, alice.address(), &bundle, now)?;
//! assert_eq!(event, Some(IdentityEvent::New));
//! let sent = bob.send(&mut rng, alice.address().user(), b"hi Alice", now)?;
//!
//! // The relay splits the upload per device; Alice opens her part.
//! for part in MultiRecipientEnvelope::parse(&sent.envelope)?.recipients() {
//!     let received = alice.receive(&part.to_envelope(), now)?;
//!     assert_eq!((&received.from, &received.plaintext[..]), (bob.address(), &b"hi Alice"[..]));
//! }
//!
//! // And answers; the sessions are in the stores, saved before each
//! // envelope left and before each plaintext was returned.
//! alice.set_devices(bob.address().user(), &[DeviceId(1)])?;
//! let reply = alice.send(&mut rng, bob.address().user(), b"hi Bob", now)?;
//! for part in MultiRecipientEnvelope::parse(&reply.envelope)?.recipients() {
//!     assert_eq!(bob.receive(&part.to_envelope(), now)?.plaintext, b"hi Bob");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! [`Device`] is the layer an app calls: it keeps sessions per device
//! (current and archived, as Signal's Sesame), trusts or questions peers'
//! identity keys by a [`TrustPolicy`], checks that a bundle's own app
//! vouches for it, rotates and replenishes prekeys, refuses replayed
//! initial messages, and stores each operation's changes in one commit
//! through a [`store::Store`]. Underneath it are [`Session`] (X3DH and the
//! Double Ratchet between two devices), [`Sealer`] and [`unseal`] (sealed
//! envelopes), and certificates: usable on their own, with the app then
//! responsible for what `docs/sessions.md` lists.
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

mod account;
mod address;
mod bundle;
mod certificate;
mod codec;
mod device;
mod device_list;
mod error;
mod group;
mod hex;
mod identity;
#[cfg(feature = "pq")]
mod kem_prekey;
mod labels;
pub mod limits;
mod message;
mod prekey;
mod primitives;
mod ratchet;
mod safety_number;
mod sealed;
mod session;
mod session_record;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
mod trust;
mod x3dh;

pub use account::Account;
pub use address::{Address, UserAddress};

pub use bundle::PreKeyBundle;
pub use certificate::{
    AppId, CertificateKey, CertificateKeyPair, DeviceId, IssuerCertificate, SenderCertificate,
    Timestamp, TrustRoot, TrustStore, UserId,
};
pub use device::{
    Device, DeviceError, DeviceListChange, DeviceResult, GroupSent, IdentityQuestion, MessageId,
    Publication, Received, ReceivedKind, Sent,
};
pub use device_list::DeviceList;
pub use error::{
    Action, AgreementError, CertificateError, DecodeError, DecryptError, EncryptError, Error,
    GroupError, SealError, UnsealError,
};
pub use group::{
    GroupId, GroupMessage, GroupRecord, SenderKey, SenderKeyDistribution, SenderKeyRecord,
};
pub use identity::{IdentityKey, IdentityKeyPair};
#[cfg(feature = "pq")]
pub use kem_prekey::{KEM_CIPHERTEXT_LEN, KemPreKey, KemPreKeyKind, KemPreKeyPair};
pub use message::{Header, InitialMessage, Message, RatchetMessage};
pub use prekey::{OneTimePreKey, OneTimePreKeyPair, PreKeyId, SignedPreKey, SignedPreKeyPair};
pub use primitives::x25519::X25519PublicKey;
pub use sealed::{
    ContentType, MultiRecipientEnvelope, Padding, RecipientShare, SealedEnvelope, Sealer, Unsealed,
    unseal,
};

/// The `rand_core` this crate takes its RNG traits from (0.10), so that an
/// application names the same version: `sealwire::rand_core::CryptoRng`.
pub use rand_core;
pub use safety_number::{SAFETY_NUMBER_ITERATIONS, SafetyNumber};
pub use session::{Role, Session};
pub use session_record::SessionRecord;
pub use store::MemoryStore;
#[cfg(feature = "pq")]
pub use trust::PostQuantum;
pub use trust::{BundleCertificates, Decision, IdentityEvent, RemoteIdentity, Trust, TrustPolicy};

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
        zeroizes_on_drop::<crate::SessionRecord>();
        zeroizes_on_drop::<crate::Account>();
        zeroizes_on_drop::<crate::SenderKey>();
        zeroizes_on_drop::<crate::SenderKeyRecord>();
        zeroizes_on_drop::<crate::SenderKeyDistribution>();
        zeroizes_on_drop::<crate::GroupRecord>();
    }
}
