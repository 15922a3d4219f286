//! Sealed-sender envelopes: the relay sees who receives, not who sends.
//!
//! Sealing (see `docs/protocol.md` for every byte):
//!
//! 1. A fresh ephemeral key `E` and a random 32-byte envelope secret `M`.
//! 2. The payload (the sender certificate and one entry per recipient,
//!    each with that recipient's session message, then padding) is
//!    encrypted **once** with ChaCha20-Poly1305 under a key derived from
//!    `M`, and a commitment `K_C` to that key, derived with it, travels
//!    once in the envelope.
//! 3. For each recipient `R`: `M` is wrapped under a key from `DH(E, IK_R)`,
//!    which hides everything, the sender's identity included, from anyone
//!    but `R`; and a 16-byte tag, keyed from the static `DH(IK_S, IK_R)`,
//!    binds `E`, `R`, `K_C`, the wrapped secret and the payload's hash.
//!    Only the holder of `IK_S` (or `R` itself) can make that tag, which is
//!    how `R` knows who wrote. The static key is cached per recipient, so
//!    each recipient after the first costs one DH and 81 bytes.
//!
//! Unsealing checks, in order: the envelope parses; it is addressed to
//! this identity; the unwrapped secret matches `K_C` and the payload
//! decrypts (so every recipient of one envelope reads the same payload);
//! the tag verifies under the certificate's identity key; the certificate
//! chain validates; the payload holds one entry for this identity, whose
//! initial message (if it is one) names the certificate's identity.
//! Nothing is changed anywhere by a failure: unsealing holds no state.

mod content;
mod envelope;
mod keys;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::certificate::{AppId, DeviceId, SenderCertificate, Timestamp, TrustStore, UserId};
use crate::codec::{Codec, Writer};
use crate::error::{DecodeError, Error, SealError, UnsealError};
use crate::group::{GroupMessage, SenderKeyRecord};
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::labels::{V_MULTI_ENVELOPE, V_SEALED_ENVELOPE};
use crate::limits::{
    MAX_CACHED_PEERS, MAX_ENVELOPE_LEN, MAX_FANOUT_BYTES, MAX_RECIPIENTS, MIN_PADDED_ENVELOPE_LEN,
};
use crate::message::{InitialMessage, Message};
use crate::prekey::{OneTimePreKeyPair, SignedPreKeyPair};
use crate::primitives::aead::{self, AeadKey};
use crate::primitives::x25519::X25519KeyPair;
use crate::session::Session;

pub use content::ContentType;
use content::{Content, ENTRY_OVERHEAD, Outgoing, Writing};
use envelope::{ENVELOPE_OVERHEAD, MULTI_HEADER_LEN, RawEnvelope, SHARE_LEN};
pub use envelope::{MultiRecipientEnvelope, RecipientShare, SealedEnvelope};
use keys::TAG_LEN;

/// Whether to pad envelopes to a size bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Padding {
    /// No padding: the relay learns each envelope's exact length.
    None,
    /// Pad each recipient's envelope to the next power of two of at least
    /// [`MIN_PADDED_ENVELOPE_LEN`] bytes: the relay learns the bucket only.
    #[default]
    Buckets,
}

impl Padding {
    /// The length an envelope of `len` bytes is padded to.
    fn target(self, len: usize) -> usize {
        match self {
            Self::None => len,
            Self::Buckets => len.max(MIN_PADDED_ENVELOPE_LEN).next_power_of_two(),
        }
    }
}

/// Seals envelopes for one device: holds its sender certificate and a
/// cache of the per-recipient authentication keys (at most
/// [`MAX_CACHED_PEERS`], oldest dropped first), which saves one DH per
/// recipient on every envelope after the first.
///
/// ```
/// use sealwire::*;
///
/// # fn main() -> Result<(), Error> {
/// let mut rng = sealwire::rand_core::UnwrapErr(getrandom::SysRng);
/// // The time comes from this device's own clock, never from the relay.
/// let now = Timestamp(1_800_000_000);
///
/// // App A's authority: a root (offline) and an issuer (its server).
/// let app = AppId::new("app-a")?;
/// let root = CertificateKeyPair::generate(&mut rng);
/// let issuer_key = CertificateKeyPair::generate(&mut rng);
/// let issuer = IssuerCertificate::issue(
///     &root, &app, 1, &issuer_key.public(), Timestamp(0), Timestamp(u64::MAX),
/// )?;
///
/// // Alice, of app A, gets a certificate for her device.
/// let alice = IdentityKeyPair::generate(&mut rng);
/// let certificate = SenderCertificate::issue(
///     &issuer_key, &issuer, UserId::new(b"alice")?, DeviceId(1), alice.public(),
///     Timestamp(now.0 + 86_400),
/// )?;
/// let mut sealer = Sealer::new(certificate);
///
/// // Bob, on another app, trusts app A's root and publishes a bundle.
/// let bob = IdentityKeyPair::generate(&mut rng);
/// let signed = SignedPreKeyPair::generate(&mut rng, &bob, PreKeyId(1));
/// let bundle = PreKeyBundle::new(*bob.public(), signed.public(), None);
/// let mut trust = TrustStore::new();
/// trust.add_root(&TrustRoot::new(app, root.public()));
///
/// // Alice seals the first message of a new session.
/// let mut session = Session::initiate(&mut rng, &alice, &bundle)?;
/// let message = session.encrypt(&mut rng, b"hello from app A")?;
/// let envelope = sealer.seal(&mut rng, &alice, bob.public(), &message, Padding::Buckets)?;
///
/// // Bob learns who wrote, checked against app A's root, and reads it.
/// let opened = unseal(&bob, &trust, now, &envelope)?;
/// assert_eq!(opened.user_id().as_bytes(), b"alice");
/// // (Bob looks up the prekeys the message names; here he has one.)
/// assert_eq!(opened.initial_message()?.signed_prekey_id(), signed.id());
/// let (_bob_session, text) = opened.accept(&bob, &signed, None)?;
/// assert_eq!(text, b"hello from app A");
/// # Ok(())
/// # }
/// ```
pub struct Sealer {
    certificate: SenderCertificate,
    certificate_bytes: Vec<u8>,
    cache: AuthKeyCache,
}

impl Sealer {
    /// A sealer for the device `certificate` names.
    pub fn new(certificate: SenderCertificate) -> Self {
        let certificate_bytes = certificate.to_bytes();
        Self { certificate, certificate_bytes, cache: AuthKeyCache::default() }
    }

    /// The sender certificate in use.
    pub fn certificate(&self) -> &SenderCertificate {
        &self.certificate
    }

    /// Replaces the certificate (renewal). The cache is kept if the identity
    /// key is the same, dropped otherwise.
    pub fn set_certificate(&mut self, certificate: SenderCertificate) {
        if certificate.identity_key() != self.certificate.identity_key() {
            self.cache = AuthKeyCache::default();
        }
        self.certificate_bytes = certificate.to_bytes();
        self.certificate = certificate;
    }

    /// Seals `message` (an initial or ratchet message of the session with
    /// `recipient`) into a sealed envelope for `recipient`.
    ///
    /// Costs a key generation, two X25519 (one once the recipient's
    /// authentication key is cached), the payload's encryption and hash.
    ///
    /// # Errors
    /// [`SealError::CertificateMismatch`] if `identity` is not the
    /// certificate's; [`SealError::InvalidMessage`] if `message` is neither
    /// message type; [`SealError::TooLong`] above
    /// [`MAX_ENVELOPE_LEN`]; [`SealError::NonContributory`] for a low-order
    /// recipient key.
    pub fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        recipient: &IdentityKey,
        message: &[u8],
        padding: Padding,
    ) -> Result<Vec<u8>, SealError> {
        if identity.public() != self.certificate.identity_key() {
            return Err(SealError::CertificateMismatch);
        }
        let mut out = Vec::new();
        let entries = check_recipients(identity.public(), &[(*recipient, message)], false)?;
        self.seal_into(
            rng,
            identity,
            &Writing::Entries(&entries),
            &[*recipient],
            padding,
            Form::Single,
            &mut out,
        )?;
        Ok(out)
    }

    /// Seals one envelope for several recipients, each with the message of
    /// its own session with this device (a user's devices, or a group's).
    /// The relay splits the result with [`MultiRecipientEnvelope::parse`]
    /// and [`MultiRecipientEnvelope::recipients`].
    ///
    /// Costs one key generation, the payload's encryption and hash once,
    /// and per recipient one X25519 (two the first time a recipient is
    /// seen) and 81 bytes. Every recipient receives the whole payload, so
    /// for large groups with long messages the payload grows with the
    /// group.
    ///
    /// # Errors
    /// As [`Sealer::seal`], and [`SealError::NoRecipients`],
    /// [`SealError::TooManyRecipients`] (above [`MAX_RECIPIENTS`]) and
    /// [`SealError::DuplicateRecipient`].
    pub fn seal_to_many<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        messages: &[(IdentityKey, &[u8])],
        padding: Padding,
    ) -> Result<Vec<u8>, SealError> {
        self.seal_entries(rng, identity, messages, false, padding)
    }

    /// Seals one multi-recipient envelope of session messages whose
    /// plaintexts are sender key distribution messages
    /// ([`crate::SenderKey::distribution`]): as
    /// [`Sealer::seal_to_many`], with the distribution content type, so
    /// that the recipient knows the plaintext is not the application's.
    ///
    /// # Errors
    /// As [`Sealer::seal_to_many`].
    pub fn seal_distributions<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        messages: &[(IdentityKey, &[u8])],
        padding: Padding,
    ) -> Result<Vec<u8>, SealError> {
        self.seal_entries(rng, identity, messages, true, padding)
    }

    fn seal_entries<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        messages: &[(IdentityKey, &[u8])],
        distribution: bool,
        padding: Padding,
    ) -> Result<Vec<u8>, SealError> {
        if identity.public() != self.certificate.identity_key() {
            return Err(SealError::CertificateMismatch);
        }
        let entries = check_recipients(identity.public(), messages, distribution)?;
        let recipients: Vec<IdentityKey> = messages.iter().map(|(k, _)| *k).collect();
        let mut out = Vec::new();
        let content = Writing::Entries(&entries);
        self.seal_into(rng, identity, &content, &recipients, padding, Form::Multi, &mut out)?;
        Ok(out)
    }

    /// Seals one group message (from [`crate::SenderKey::encrypt`]) for
    /// every recipient, in one multi-recipient envelope whose payload
    /// holds the message **once**: each recipient's sealed envelope is its
    /// 151-byte prefix and that payload, the same length whatever the
    /// number of recipients. Every recipient checks that the payload is
    /// the one the envelope commits to, so all read the same message.
    ///
    /// Costs one key generation, the payload's encryption and hash once,
    /// and per recipient one X25519 (two the first time a recipient is
    /// seen, or past [`MAX_CACHED_PEERS`]) and 81 bytes in the upload.
    ///
    /// # Errors
    /// [`SealError::InvalidMessage`] if `group_message` is not a group
    /// message; otherwise as [`Sealer::seal_to_many`].
    pub fn seal_group<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        recipients: &[IdentityKey],
        group_message: &[u8],
        padding: Padding,
    ) -> Result<Vec<u8>, SealError> {
        if identity.public() != self.certificate.identity_key() {
            return Err(SealError::CertificateMismatch);
        }
        check_recipient_keys(recipients)?;
        GroupMessage::parse(group_message).map_err(SealError::InvalidMessage)?;
        let mut out = Vec::new();
        let content = Writing::Shared(group_message);
        self.seal_into(rng, identity, &content, recipients, padding, Form::Multi, &mut out)?;
        Ok(out)
    }

    /// Writes an envelope of the given form to `out`: the header with room
    /// for the shares, the payload encrypted in place, then the shares,
    /// which cover the payload's hash. Every length is computed with
    /// checked arithmetic: on a 32-bit target the messages alone could
    /// overflow a `usize`.
    #[allow(clippy::too_many_arguments)]
    fn seal_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        identity: &IdentityKeyPair,
        content: &Writing<'_, '_>,
        recipients: &[IdentityKey],
        padding: Padding,
        form: Form,
        out: &mut Vec<u8>,
    ) -> Result<(), SealError> {
        if identity.public() != self.certificate.identity_key() {
            return Err(SealError::CertificateMismatch);
        }
        let content_len =
            content::unpadded_len(&self.certificate_bytes, content).ok_or(SealError::TooLong)?;
        let unpadded = ENVELOPE_OVERHEAD
            .checked_add(content_len)
            .and_then(|n| n.checked_add(aead::TAG_LEN))
            .filter(|&n| n <= MAX_ENVELOPE_LEN)
            .ok_or(SealError::TooLong)?;
        // At most MAX_ENVELOPE_LEN, a power of two.
        let envelope_len = padding.target(unpadded);
        let padding_len = envelope_len - unpadded;
        let delivered =
            (envelope_len as u64).checked_mul(recipients.len() as u64).ok_or(SealError::TooLong)?;
        if delivered > MAX_FANOUT_BYTES {
            return Err(SealError::TooLong);
        }
        let payload_len = envelope_len - ENVELOPE_OVERHEAD;

        let ephemeral = X25519KeyPair::generate(rng);
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(secret.as_mut_slice());
        let mut payload_key = AeadKey::zero();
        let commitment = keys::payload_keys(&secret, &mut payload_key);

        // The header, with zeroed wrapped secrets and tags to be filled in
        // once the payload's hash is known.
        let shares_at = match form {
            Form::Single => ENVELOPE_OVERHEAD - 4 - (32 + TAG_LEN),
            Form::Multi => MULTI_HEADER_LEN,
        };
        let shares_len = match form {
            Form::Single => 32 + TAG_LEN,
            Form::Multi => recipients.len() * SHARE_LEN,
        };
        let total = shares_at
            .checked_add(shares_len)
            .and_then(|n| n.checked_add(4))
            .and_then(|n| n.checked_add(payload_len))
            .ok_or(SealError::TooLong)?;
        let start = out.len();
        out.reserve(total);
        let mut w = Writer::new(out);
        match (form, recipients.first()) {
            (Form::Single, Some(recipient)) => {
                w.u8(V_SEALED_ENVELOPE);
                recipient.encode(&mut w);
                ephemeral.public().encode(&mut w);
                w.bytes(&commitment);
            }
            _ => {
                w.u8(V_MULTI_ENVELOPE);
                ephemeral.public().encode(&mut w);
                w.bytes(&commitment);
                w.u32(u32::try_from(recipients.len()).map_err(|_| SealError::TooManyRecipients)?);
            }
        }
        w.zeros(shares_len);
        w.u32(u32::try_from(payload_len).map_err(|_| SealError::TooLong)?);
        let payload_at = out.len();
        content::write(&mut Writer::new(out), &self.certificate_bytes, content, padding_len);
        let ad = ephemeral.public().to_bytes();
        let tag = out
            .get_mut(payload_at..)
            .ok_or(SealError::TooLong)
            .and_then(|body| payload_key.seal(&ad, body).map_err(|()| SealError::TooLong))?;
        out.extend_from_slice(&tag);
        let hash = keys::payload_hash(out.get(payload_at..).unwrap_or_default());

        // The shares.
        let mut shares = Vec::with_capacity(shares_len);
        let mut wrap = Zeroizing::new([0u8; 32]);
        let mut auth = Zeroizing::new([0u8; 32]);
        for key in recipients {
            let recipient = key.to_bytes();
            let dh = ephemeral.dh(key.x25519()).ok_or(SealError::NonContributory)?;
            keys::wrap_key(&dh, ephemeral.public(), &recipient, &mut wrap);
            let mut wrapped = [0u8; 32];
            keys::xor_into(&secret, &wrap, &mut wrapped);
            self.cache.get(identity, key, &mut auth)?;
            let tag = keys::share_tag(
                &auth,
                ephemeral.public(),
                &recipient,
                &commitment,
                &wrapped,
                &hash,
            );
            if form == Form::Multi {
                shares.extend_from_slice(&recipient);
            }
            shares.extend_from_slice(&wrapped);
            shares.extend_from_slice(&tag);
        }
        // The room left for the shares is `shares_len` bytes, which is
        // what they take.
        let slot = out
            .get_mut(start + shares_at..start + shares_at + shares.len())
            .ok_or(SealError::TooLong)?;
        slot.copy_from_slice(&shares);
        Ok(())
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("certificate", &self.certificate)
            .field("cached_peers", &self.cache.keys.len())
            .finish()
    }
}

/// Which envelope `seal_into` writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Single,
    Multi,
}

/// Checks a recipient list: 1 to [`MAX_RECIPIENTS`], distinct.
fn check_recipient_keys(recipients: &[IdentityKey]) -> Result<(), SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(SealError::TooManyRecipients);
    }
    let mut keys: Vec<&[u8; 32]> = recipients.iter().map(IdentityKey::ed25519_bytes).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|pair| matches!(pair, [a, b] if a == b)) {
        return Err(SealError::DuplicateRecipient);
    }
    Ok(())
}

/// Checks the recipient list and each message: its type (a session
/// message), and that an initial message names `sender`, whom the
/// recipient will hold it to.
fn check_recipients<'m>(
    sender: &IdentityKey,
    messages: &[(IdentityKey, &'m [u8])],
    distribution: bool,
) -> Result<Vec<Outgoing<'m>>, SealError> {
    if messages.len() > MAX_RECIPIENTS {
        return Err(SealError::TooManyRecipients);
    }
    let recipients: Vec<IdentityKey> = messages.iter().map(|(k, _)| *k).collect();
    check_recipient_keys(&recipients)?;
    messages
        .iter()
        .map(|(recipient, message)| {
            let content_type = ContentType::of(message).map_err(SealError::InvalidMessage)?;
            if content_type == ContentType::Group {
                return Err(SealError::InvalidMessage(DecodeError::UnknownVersion(0xff)));
            }
            let parsed = Message::parse(message).map_err(SealError::InvalidMessage)?;
            if let Message::Initial(initial) = parsed
                && initial.identity() != sender
            {
                return Err(SealError::ForeignInitialMessage);
            }
            Ok(Outgoing { recipient: *recipient, content_type, distribution, message })
        })
        .collect()
}

/// Authentication keys per recipient, oldest dropped first. Each key is
/// boxed, so that when the map rebalances it moves a pointer and never a
/// copy of the key; the box wipes the key when it is dropped.
#[derive(Default)]
struct AuthKeyCache {
    keys: BTreeMap<[u8; 32], Box<Zeroizing<[u8; 32]>>>,
    order: VecDeque<[u8; 32]>,
}

impl AuthKeyCache {
    /// Writes the key for envelopes from `identity` to `recipient` into
    /// `out`, computing it (one X25519) and keeping it if it is not cached.
    fn get(
        &mut self,
        identity: &IdentityKeyPair,
        recipient: &IdentityKey,
        out: &mut [u8; 32],
    ) -> Result<(), SealError> {
        let id = *recipient.ed25519_bytes();
        if let Some(key) = self.keys.get(&id) {
            out.copy_from_slice(key.as_slice());
            return Ok(());
        }
        let dh = identity.dh(recipient.x25519()).ok_or(SealError::NonContributory)?;
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        keys::auth_key(&dh, identity.public(), recipient, &mut key);
        out.copy_from_slice(key.as_slice());
        if self.keys.len() >= MAX_CACHED_PEERS
            && let Some(oldest) = self.order.pop_front()
        {
            self.keys.remove(&oldest);
        }
        self.keys.insert(id, key);
        self.order.push_back(id);
        Ok(())
    }
}

/// The sender of an unsealed envelope, as its validated certificate names
/// it, and the message it carries.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Unsealed {
    certificate: SenderCertificate,
    content_type: ContentType,
    distribution: bool,
    message: Vec<u8>,
}

impl Unsealed {
    /// The sender's validated certificate.
    pub fn certificate(&self) -> &SenderCertificate {
        &self.certificate
    }

    /// The sender's app.
    pub fn app_id(&self) -> &AppId {
        self.certificate.app_id()
    }

    /// The sender's user id.
    pub fn user_id(&self) -> &UserId {
        self.certificate.user_id()
    }

    /// The sender's device.
    pub fn device_id(&self) -> DeviceId {
        self.certificate.device_id()
    }

    /// The identity key that sealed the envelope.
    pub fn identity_key(&self) -> &IdentityKey {
        self.certificate.identity_key()
    }

    /// Whether the message is an initial, a ratchet or a group message.
    pub fn content_type(&self) -> ContentType {
        self.content_type
    }

    /// Whether the message is a session message whose plaintext is a
    /// sender key distribution message ([`crate::SenderKeyDistribution`])
    /// rather than the application's.
    pub fn is_sender_key_distribution(&self) -> bool {
        self.distribution
    }

    /// The group message, if the envelope carries one.
    ///
    /// # Errors
    /// [`DecodeError`] for a session message.
    pub fn group_message(&self) -> Result<GroupMessage<'_>, DecodeError> {
        GroupMessage::parse(&self.message)
    }

    /// Decrypts the group message with `record`, the sender keys this
    /// device holds of the envelope's sender in the message's group (which
    /// the caller looked up by [`Unsealed::group_message`]'s group id and
    /// the sender's address). The record must belong to the identity that
    /// sealed the envelope.
    ///
    /// # Errors
    /// [`DecodeError`] (as [`Error::Decode`]) for a session message;
    /// otherwise as [`SenderKeyRecord::decrypt`].
    pub fn decrypt_group(&self, record: &mut SenderKeyRecord) -> Result<Vec<u8>, Error> {
        let message = self.group_message()?;
        record.decrypt(self.identity_key(), &message)
    }

    /// The inner message, **without** the check that [`Unsealed::decrypt`]
    /// makes: that the session it goes to is the one with the sender. A
    /// ratchet message handed to a session with someone else would be
    /// attributed to that someone else by whoever reads the result. Prefer
    /// [`Unsealed::decrypt`] and [`Unsealed::accept`].
    pub fn message_unchecked(&self) -> &[u8] {
        &self.message
    }

    /// Decrypts the inner message with `session`, after checking that the
    /// session's peer is the identity that sealed the envelope.
    ///
    /// # Errors
    /// [`UnsealError::WrongSession`] (as [`Error::Unseal`]) if the session
    /// is with someone else; otherwise as [`Session::decrypt`].
    pub fn decrypt(&self, session: &mut Session) -> Result<Vec<u8>, Error> {
        if self.content_type == ContentType::Group {
            return Err(DecodeError::UnknownVersion(0xff).into());
        }
        if session.remote_identity() != self.identity_key() {
            return Err(UnsealError::WrongSession.into());
        }
        Ok(session.decrypt(&self.message)?)
    }

    /// The inner message as an initial message, if it is one: which
    /// prekeys it names, and its base key, to look up before
    /// [`Unsealed::accept`].
    ///
    /// # Errors
    /// [`DecodeError`] for a ratchet message.
    pub fn initial_message(&self) -> Result<InitialMessage<'_>, DecodeError> {
        InitialMessage::parse(&self.message)
    }

    /// Accepts a new session from the inner message (an initial message,
    /// whose identity [`unseal`] has checked against the certificate), with
    /// the prekeys it names. As with [`Session::accept`], the caller
    /// refuses a base key already accepted; [`crate::Device::receive`] does
    /// all of this.
    ///
    /// # Errors
    /// [`DecodeError`] (as [`Error::Decode`]) for a ratchet message; otherwise
    /// as [`Session::accept`].
    pub fn accept(
        &self,
        identity: &IdentityKeyPair,
        signed: &SignedPreKeyPair,
        one_time: Option<&OneTimePreKeyPair>,
    ) -> Result<(Session, Vec<u8>), Error> {
        let initial = InitialMessage::parse(&self.message)?;
        Session::accept(identity, signed, one_time, &initial)
    }
}

/// Opens a sealed envelope addressed to `identity`, validating its sender
/// certificate against `trust` at time `now`.
///
/// `now` must come from this device's own clock, never from the relay or
/// from anything the envelope carries: whoever chooses the time decides
/// whether an expired certificate, or one of a revoked issuer's window,
/// still passes.
///
/// Costs two X25519, two Ed25519 verifications, and the payload's
/// decryption and hash. Holds no state, so a failure changes nothing.
///
/// # Errors
/// In the order they are checked: [`UnsealError::Malformed`],
/// [`UnsealError::NotForRecipient`] (the envelope is for another identity),
/// [`UnsealError::Failed`] (the unwrapped secret does not match the
/// payload commitment, or the payload does not decrypt),
/// [`UnsealError::SenderMismatch`] (not sealed by the certificate's
/// identity), [`UnsealError::Certificate`] (the chain does not validate),
/// [`UnsealError::NotForRecipient`] (no entry for this identity),
/// [`UnsealError::ForeignInitialMessage`] (an initial message that names
/// another identity). [`UnsealError::action`] says what to do with each.
pub fn unseal(
    identity: &IdentityKeyPair,
    trust: &TrustStore,
    now: Timestamp,
    envelope: &[u8],
) -> Result<Unsealed, UnsealError> {
    let envelope = RawEnvelope::parse(envelope)?;
    let me = identity.public();
    let own = me.to_bytes();
    if envelope.recipient != own {
        // Not ours; a recipient field that is no key at all is malformed.
        IdentityKey::from_bytes(&envelope.recipient)?;
        return Err(UnsealError::NotForRecipient);
    }

    // The payload: unwrap M, check it against the commitment, decrypt.
    let dh = identity.dh(&envelope.ephemeral).ok_or(UnsealError::Failed)?;
    let mut wrap = Zeroizing::new([0u8; 32]);
    keys::wrap_key(&dh, &envelope.ephemeral, &own, &mut wrap);
    let mut secret = Zeroizing::new([0u8; 32]);
    keys::xor_into(&envelope.wrapped, &wrap, &mut secret);
    let mut payload_key = AeadKey::zero();
    let commitment = keys::payload_keys(&secret, &mut payload_key);
    if !bool::from(commitment.ct_eq(&envelope.commitment)) {
        return Err(UnsealError::Failed);
    }
    let (body, tag) = envelope
        .payload
        .split_last_chunk::<{ aead::TAG_LEN }>()
        .ok_or(UnsealError::Malformed(DecodeError::Truncated))?;
    let mut plaintext = Zeroizing::new(body.to_vec());
    payload_key
        .open(&envelope.ephemeral.to_bytes(), &mut plaintext, tag)
        .map_err(|()| UnsealError::Failed)?;
    let (certificate, content) = content::read(&plaintext)?;

    // Who sealed it: the tag verifies only under the sender's static key.
    let sender = *certificate.identity_key();
    let static_dh = identity.dh_identity(&sender).ok_or(UnsealError::SenderMismatch)?;
    let mut auth = Zeroizing::new([0u8; 32]);
    keys::auth_key(&static_dh, &sender, me, &mut auth);
    let expected = keys::share_tag(
        &auth,
        &envelope.ephemeral,
        &own,
        &envelope.commitment,
        &envelope.wrapped,
        &keys::payload_hash(envelope.payload),
    );
    if !bool::from(expected.ct_eq(&envelope.tag)) {
        return Err(UnsealError::SenderMismatch);
    }

    trust.validate(&certificate, now)?;

    let entries = match content {
        Content::Entries(entries) => entries,
        Content::Shared(message) => {
            return Ok(Unsealed {
                content_type: ContentType::Group,
                distribution: false,
                message: message.to_vec(),
                certificate,
            });
        }
    };
    let mut mine = entries.iter().filter(|e| e.recipient == own);
    let entry = match (mine.next(), mine.next()) {
        (Some(entry), None) => entry,
        (None, _) => return Err(UnsealError::NotForRecipient),
        (Some(_), Some(_)) => return Err(UnsealError::Malformed(DecodeError::InconsistentState)),
    };
    if entry.content_type == ContentType::Initial {
        let initial = InitialMessage::parse(entry.message)?;
        if *initial.identity() != sender {
            return Err(UnsealError::ForeignInitialMessage);
        }
    }
    Ok(Unsealed {
        content_type: entry.content_type,
        distribution: entry.distribution,
        message: entry.message.to_vec(),
        certificate,
    })
}

// Sizes the specification states, and the limits' relations.
const _: () = assert!(ENTRY_OVERHEAD == 38);
const _: () = assert!(SHARE_LEN == 81);
const _: () = assert!(ENVELOPE_OVERHEAD == 151);
const _: () = assert!(MULTI_HEADER_LEN == 70);
// The largest message fits in a single-recipient envelope with the largest
// certificate, and padding never goes past the limit.
const _: () = assert!(
    ENVELOPE_OVERHEAD
        + 4
        + SenderCertificate::MAX_ENCODED_LEN
        + 4
        + ENTRY_OVERHEAD
        + crate::limits::MAX_MESSAGE_LEN
        + aead::TAG_LEN
        <= MAX_ENVELOPE_LEN
);
const _: () = assert!(MAX_ENVELOPE_LEN.is_power_of_two());
const _: () = assert!(MIN_PADDED_ENVELOPE_LEN.is_power_of_two());
