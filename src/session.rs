//! A session between two devices: X3DH starts it, the Double Ratchet runs
//! it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::bundle::PreKeyBundle;
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{AgreementError, DecodeError, DecryptError, EncryptError, Error};
use crate::identity::{IdentityKey, IdentityKeyPair};
#[cfg(feature = "pq")]
use crate::kem_prekey::KemPreKeyPair;
use crate::labels::V_SESSION;

/// The tag of stored session state version 2, still read (§8.2).
const V_SESSION_V2: u8 = 0x42;
use crate::limits::MAX_BASE_KEY_DRAWS;
use crate::message::{
    INITIAL_PREFIX_MAX, InitialMessage, InitialPrefix, KEM_CT_LEN, Message, RATCHET_OVERHEAD,
    write_initial_prefix,
};
use crate::prekey::{OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
use crate::primitives::aead::TAG_LEN;
use crate::primitives::x25519::{X25519KeyPair, X25519PublicKey};
use crate::ratchet::Ratchet;
use crate::x3dh::{self, AD_LEN, SharedKey, VerifiedBundle};

/// Which side of the key agreement a session was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Fetched the peer's bundle and sent the first message.
    Initiator,
    /// Published the bundle and accepted the first message.
    Responder,
}

/// An end-to-end encrypted session with one device of a peer.
///
/// Created by [`Session::initiate`] (from the peer's prekey bundle) or
/// [`Session::accept`] (from the peer's first message); there is no way to
/// re-initialise an existing session. Store it between messages with
/// [`Session::to_bytes`], which is secret.
///
/// Every method that fails leaves the session exactly as it was.
///
/// # Storing a session
///
/// A session's state must never go backwards, or it decrypts a replayed
/// message a second time. Sending from an older copy leaks nothing and
/// lets nothing be forged (every message is sealed under a fresh random
/// nonce), but it costs: the peer refuses a message at a number it has
/// read as a [`DecryptError::Duplicate`], and if the lost state had taken
/// a DH ratchet step the peer read, the copy takes a different one, the
/// two sides no longer share a state, and every later message fails until
/// a new session replaces this one. So:
///
/// - **Sending**: encrypt, save the advanced state, and only then hand the
///   message to the network. A crash in between loses a message the peer
///   never saw, not a state.
/// - **Receiving**: decrypt, save the advanced state, and only then show
///   the plaintext. A crash in between makes the message arrive again,
///   which decrypts again, exactly once for the user.
/// - **Writing back**: every successful `encrypt` and `decrypt` increases
///   [`Session::generation`]. A store refuses to write a state whose
///   generation is not above the one it holds *for the same session* (the
///   same [`Session::base_key`]), and, to catch two copies that advanced
///   separately, writes only if what it holds is still the generation it
///   handed out (compare and swap). Generations of different sessions do
///   not compare: a new session starts again at 0 or 1.
///
/// [`crate::Device`] does all of this, keeps the sessions with each peer
/// device in a [`crate::SessionRecord`], and handles simultaneous
/// initiation and restored backups (`docs/sessions.md`).
pub struct Session(Box<SessionState>);

struct SessionState {
    role: Role,
    /// How many times the state has changed since the session began.
    generation: u64,
    local_identity: IdentityKey,
    remote_identity: IdentityKey,
    /// The initiator's ephemeral key `EK_A`, which names the session.
    base_key: X25519PublicKey,
    /// The responder's prekeys the agreement used.
    prekeys: PreKeysUsed,
    /// The post-quantum agreement's KEM prekey and ciphertext, if it was
    /// one.
    kem: Option<KemUsed>,
    /// For an initiator: no message from the responder has decrypted yet,
    /// so every message carries the X3DH fields.
    awaiting_reply: bool,
    ratchet: Ratchet,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct PreKeysUsed {
    signed_prekey_id: PreKeyId,
    one_time_prekey_id: Option<PreKeyId>,
}

/// What a session of the post-quantum agreement keeps of it.
#[derive(Clone, PartialEq, Eq)]
struct KemUsed {
    /// The responder's KEM prekey.
    prekey_id: PreKeyId,
    /// SHA-256 of the KEM ciphertext: a repeated initial message must carry
    /// the same one.
    digest: [u8; 32],
    /// The ciphertext itself, kept by an initiator while it repeats the
    /// initial message (until the first reply).
    ciphertext: Option<Box<[u8; KEM_CT_LEN]>>,
}

impl KemUsed {
    const fn encoded_len(&self) -> usize {
        4 + 32 + 1 + if self.ciphertext.is_some() { KEM_CT_LEN } else { 0 }
    }
}

/// The KEM secret of `ciphertext` under `kem`, which must be the prekey
/// `id` the message names.
#[cfg(feature = "pq")]
fn decapsulate(
    kem: Option<&KemPreKeyPair>,
    id: PreKeyId,
    ciphertext: &[u8; KEM_CT_LEN],
) -> Result<Zeroizing<[u8; 32]>, AgreementError> {
    let kem = kem.filter(|k| k.id() == id).ok_or(AgreementError::UnknownKemPreKey(id))?;
    Ok(kem.decapsulate(ciphertext))
}

/// Without the `pq` feature no initial message with KEM fields parses;
/// none reaches this.
#[cfg(not(feature = "pq"))]
fn decapsulate(
    _kem: Option<&core::convert::Infallible>,
    id: PreKeyId,
    _ciphertext: &[u8; KEM_CT_LEN],
) -> Result<Zeroizing<[u8; 32]>, AgreementError> {
    Err(AgreementError::UnknownKemPreKey(id))
}

/// A KEM encapsulation of the initiator: the prekey id, the ciphertext and
/// the shared secret.
#[cfg(not(feature = "pq"))]
type Encapsulated = (PreKeyId, Box<[u8; KEM_CT_LEN]>, Zeroizing<[u8; 32]>);

fn kem_digest(ciphertext: &[u8; KEM_CT_LEN]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(ciphertext).into()
}

impl SessionState {
    /// `AD = Encode(IK_A) || Encode(IK_B)`, initiator first.
    fn ad(&self) -> [u8; AD_LEN] {
        match self.role {
            Role::Initiator => x3dh::associated_data(&self.local_identity, &self.remote_identity),
            Role::Responder => x3dh::associated_data(&self.remote_identity, &self.local_identity),
        }
    }
}

impl Session {
    /// The longest encoding of a session: 75,599 bytes, almost all of it a
    /// full store of skipped message keys.
    pub const MAX_ENCODED_LEN: usize = 1
        + 1
        + 8
        + 2 * IdentityKey::STORED_LEN
        + X25519PublicKey::ENCODED_LEN
        + (4 + 1 + 4)
        + (1 + 4 + 32 + 1 + KEM_CT_LEN)
        + 1
        + Ratchet::MAX_ENCODED_LEN;

    /// Starts a session from a peer's prekey bundle, as the X3DH initiator,
    /// or, if the bundle carries a KEM prekey, as the PQXDH initiator: a
    /// KEM prekey that is there is always used.
    ///
    /// The bundle's signatures are checked before any of its keys is used.
    /// Costs one signature verification (two with a KEM prekey), two key
    /// generations, five X25519 operations (four without a one-time
    /// prekey), and with a KEM prekey one ML-KEM-768 encapsulation. Every
    /// message this session encrypts is an initial message until the
    /// peer's first reply is decrypted, so the peer can accept the session
    /// from whichever of them arrives first.
    ///
    /// Draws from `rng`, in order: the base key (32 bytes, more if
    /// [`crate::Device`] draws it below a bound), the encapsulation's `m`
    /// (32 bytes), the first ratchet key (32 bytes).
    ///
    /// # Errors
    /// [`AgreementError::InvalidSignature`] for a bundle whose signed prekey
    /// is not signed by its identity key;
    /// [`AgreementError::InvalidKemSignature`] for one whose KEM prekey is
    /// not; [`AgreementError::NonContributory`] if a key in it has low
    /// order.
    pub fn initiate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        bundle: &PreKeyBundle,
    ) -> Result<Self, AgreementError> {
        Self::initiate_below(rng, identity, bundle, None)
    }

    /// [`Session::initiate`], with a base key below `bound` if one is
    /// found in [`crate::limits::MAX_BASE_KEY_DRAWS`] draws (else the
    /// smallest drawn), so that the session wins a race against the
    /// peer's session of base key `bound` (`docs/sessions.md` §4.4). The
    /// signature is checked before anything is drawn.
    pub(crate) fn initiate_below<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &IdentityKeyPair,
        bundle: &PreKeyBundle,
        bound: Option<&X25519PublicKey>,
    ) -> Result<Self, AgreementError> {
        let verified = VerifiedBundle::verify(bundle)?;
        let mut ephemeral = X25519KeyPair::generate(rng);
        if let Some(bound) = bound {
            for _ in 1..MAX_BASE_KEY_DRAWS {
                if ephemeral.public() < bound {
                    break;
                }
                let next = X25519KeyPair::generate(rng);
                if next.public() < ephemeral.public() {
                    ephemeral = next;
                }
            }
        }
        #[cfg(feature = "pq")]
        let encapsulated = bundle.kem_prekey().map(|k| {
            let (ciphertext, secret) = k.key().encapsulate(rng);
            (k.id(), ciphertext, secret)
        });
        #[cfg(not(feature = "pq"))]
        let encapsulated: Option<Encapsulated> = None;
        let mut shared = SharedKey::new([0; 32]);
        let kem_secret = encapsulated.as_ref().map(|(_, _, secret)| &**secret);
        x3dh::initiator_secret(identity, &ephemeral, &verified, kem_secret, &mut shared)?;
        let kem = encapsulated.map(|(prekey_id, ciphertext, _)| KemUsed {
            prekey_id,
            digest: kem_digest(&ciphertext),
            ciphertext: Some(ciphertext),
        });
        let ratchet = Ratchet::initiator(rng, &shared, bundle.signed_prekey().key())
            .ok_or(AgreementError::NonContributory)?;
        Ok(Self(Box::new(SessionState {
            role: Role::Initiator,
            generation: 0,
            local_identity: *identity.public(),
            remote_identity: *bundle.identity(),
            base_key: *ephemeral.public(),
            prekeys: PreKeysUsed {
                signed_prekey_id: bundle.signed_prekey().id(),
                one_time_prekey_id: bundle.one_time_prekey().map(|k| k.id()),
            },
            kem,
            awaiting_reply: true,
            ratchet,
        })))
    }

    /// Accepts a session from a peer's initial message, as the X3DH
    /// responder, and decrypts the message it carries.
    ///
    /// `signed` and `one_time` are the prekeys the message names
    /// ([`InitialMessage::signed_prekey_id`],
    /// [`InitialMessage::one_time_prekey_id`]); a one-time prekey the
    /// message does not name is not used. Nothing is changed by a failure,
    /// and nothing is consumed by success: the caller deletes the one-time
    /// prekey, and records the base key, in the same step as it stores the
    /// session (the device layer, [`crate::Device`], does so). Costs four
    /// X25519 operations (three without a one-time prekey) and one more for
    /// the ratchet.
    ///
    /// A repeated initial message (with the same
    /// [`InitialMessage::base_key`]) accepted again makes a second session
    /// that decrypts the same plaintext: route it to the session that has
    /// this base key instead, and refuse a base key already accepted, as
    /// [`crate::Device::receive`] does.
    ///
    /// # Errors
    /// [`AgreementError::UnknownSignedPreKey`] or
    /// [`AgreementError::UnknownOneTimePreKey`] if `signed` or `one_time`
    /// is not the prekey the message names;
    /// [`AgreementError::NonContributory`] for a low-order key; a
    /// [`DecryptError`] if the message does not decrypt.
    pub fn accept(
        identity: &IdentityKeyPair,
        signed: &SignedPreKeyPair,
        one_time: Option<&OneTimePreKeyPair>,
        message: &InitialMessage<'_>,
    ) -> Result<(Self, Vec<u8>), Error> {
        Self::accept_with_kem(identity, signed, one_time, None, message)
    }

    /// [`Session::accept`] for an initial message of either agreement:
    /// `kem` is the KEM prekey the message names
    /// ([`InitialMessage::kem_prekey_id`]); it is not used for a classic
    /// message. Nothing is consumed: the caller deletes a one-time KEM
    /// prekey in the same step as it stores the session, and a last-resort
    /// KEM prekey's replays are refused by the accepted base keys, as the
    /// signed prekey's are. Costs one ML-KEM-768 decapsulation more.
    ///
    /// Whether to accept a classic message at all is the caller's policy
    /// ([`crate::TrustPolicy::post_quantum`]).
    ///
    /// # Errors
    /// As [`Session::accept`];
    /// [`AgreementError::UnknownKemPreKey`] if the message names a KEM
    /// prekey and `kem` is not that one.
    #[cfg(feature = "pq")]
    pub fn accept_hybrid(
        identity: &IdentityKeyPair,
        signed: &SignedPreKeyPair,
        one_time: Option<&OneTimePreKeyPair>,
        kem: Option<&KemPreKeyPair>,
        message: &InitialMessage<'_>,
    ) -> Result<(Self, Vec<u8>), Error> {
        Self::accept_with_kem(identity, signed, one_time, kem, message)
    }

    fn accept_with_kem(
        identity: &IdentityKeyPair,
        signed: &SignedPreKeyPair,
        one_time: Option<&OneTimePreKeyPair>,
        #[cfg(feature = "pq")] kem: Option<&KemPreKeyPair>,
        #[cfg(not(feature = "pq"))] kem: Option<&core::convert::Infallible>,
        message: &InitialMessage<'_>,
    ) -> Result<(Self, Vec<u8>), Error> {
        if signed.id() != message.signed_prekey_id() {
            return Err(AgreementError::UnknownSignedPreKey(message.signed_prekey_id()).into());
        }
        let one_time = match message.one_time_prekey_id() {
            Some(id) => Some(
                one_time
                    .filter(|k| k.id() == id)
                    .ok_or(AgreementError::UnknownOneTimePreKey(id))?,
            ),
            None => None,
        };
        let kem_secret = match (message.kem_prekey_id(), message.kem_ciphertext()) {
            (Some(id), Some(ciphertext)) => {
                Some((id, kem_digest(ciphertext), decapsulate(kem, id, ciphertext)?))
            }
            _ => None,
        };
        let mut shared = SharedKey::new([0; 32]);
        x3dh::responder_secret(
            identity,
            signed,
            one_time,
            message.identity(),
            message.base_key(),
            kem_secret.as_ref().map(|(_, _, secret)| &**secret),
            &mut shared,
        )?;
        let ad = x3dh::associated_data(message.identity(), identity.public());
        let inner = message.message();
        let dh = signed.dh(&inner.header().ratchet_key);
        let mut plaintext = Vec::with_capacity(inner.ciphertext().len().saturating_sub(TAG_LEN));
        let ratchet = Ratchet::responder(&shared, dh, inner, &ad, &mut plaintext)?;
        let session = Self(Box::new(SessionState {
            role: Role::Responder,
            generation: 1,
            local_identity: *identity.public(),
            remote_identity: *message.identity(),
            base_key: *message.base_key(),
            prekeys: PreKeysUsed {
                signed_prekey_id: message.signed_prekey_id(),
                one_time_prekey_id: message.one_time_prekey_id(),
            },
            kem: kem_secret.map(|(prekey_id, digest, _)| KemUsed {
                prekey_id,
                digest,
                ciphertext: None,
            }),
            awaiting_reply: false,
            ratchet,
        }));
        Ok((session, plaintext))
    }

    /// Encrypts `plaintext` into a new message for the peer.
    ///
    /// Costs one chain step, one key expansion and one ChaCha20-Poly1305
    /// seal; the first message after receiving from the peer also takes the
    /// sending half of a DH ratchet step (a key generation and an X25519).
    /// The result is an [`InitialMessage`] while the peer has not replied,
    /// a [`crate::RatchetMessage`] after.
    ///
    /// # Errors
    /// [`EncryptError::PlaintextTooLong`] above
    /// [`crate::limits::MAX_PLAINTEXT_LEN`]; [`EncryptError::ChainExhausted`]
    /// after 2^32 − 1 messages without a reply.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EncryptError> {
        let mut out = Vec::new();
        self.encrypt_into(rng, plaintext, &mut out)?;
        Ok(out)
    }

    /// Like [`Session::encrypt`], but appends the message to `out`, so a
    /// caller can reuse one buffer. On error nothing is appended.
    ///
    /// # Errors
    /// As [`Session::encrypt`].
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        let state = &mut *self.0;
        let ad = state.ad();
        let inner_len = RATCHET_OVERHEAD.saturating_add(plaintext.len());
        let start = out.len();
        if state.awaiting_reply {
            out.reserve(INITIAL_PREFIX_MAX.saturating_add(inner_len));
            let prefix = InitialPrefix {
                identity: &state.local_identity,
                base_key: &state.base_key,
                signed_prekey_id: state.prekeys.signed_prekey_id,
                one_time_prekey_id: state.prekeys.one_time_prekey_id,
                kem: state
                    .kem
                    .as_ref()
                    .and_then(|k| Some((k.prekey_id, &**k.ciphertext.as_ref()?))),
            };
            write_initial_prefix(&mut Writer::new(out), &prefix, inner_len);
        }
        let result = state.ratchet.encrypt(rng, plaintext, &ad, out);
        match result {
            Ok(()) => state.generation = state.generation.saturating_add(1),
            Err(_) => out.truncate(start),
        }
        result
    }

    /// Decrypts a message from the peer: a ratchet message, or an initial
    /// message of this session (the peer repeats the X3DH fields until it
    /// hears back).
    ///
    /// Costs one chain step per message number advanced, one key expansion
    /// and one ChaCha20-Poly1305 open; a message that starts a new chain of
    /// the peer's also costs one X25519.
    ///
    /// # Errors
    /// [`DecryptError::Malformed`] for bytes that do not parse,
    /// [`DecryptError::OtherSession`] for an initial message of another
    /// session, [`DecryptError::Duplicate`] for a message this session has
    /// already decrypted (from any chain it remembers, the initial message
    /// included), [`DecryptError::KeyDropped`] for one whose key was
    /// dropped under the limits, [`DecryptError::StaleMessage`] when the
    /// session can no longer tell which of the two,
    /// [`DecryptError::TooManySkipped`] beyond [`crate::limits::MAX_SKIP`],
    /// and [`DecryptError::Failed`] otherwise. [`DecryptError::action`]
    /// says what to do with each.
    pub fn decrypt(&mut self, message: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let message = Message::parse(message)?;
        self.decrypt_message(&message)
    }

    /// Like [`Session::decrypt`], but appends the plaintext to `out`, so a
    /// caller can reuse one buffer: with enough capacity in `out`,
    /// decrypting allocates nothing. On error neither the session nor `out`
    /// changes.
    ///
    /// # Errors
    /// As [`Session::decrypt`].
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut Vec<u8>) -> Result<(), DecryptError> {
        let message = Message::parse(message)?;
        self.decrypt_message_into(&message, out)
    }

    /// Like [`Session::decrypt`], for a message already parsed.
    ///
    /// # Errors
    /// As [`Session::decrypt`].
    pub fn decrypt_message(&mut self, message: &Message<'_>) -> Result<Vec<u8>, DecryptError> {
        let inner = match message {
            Message::Ratchet(m) => m,
            Message::Initial(m) => m.message(),
        };
        let mut plaintext = Vec::with_capacity(inner.ciphertext().len().saturating_sub(TAG_LEN));
        self.decrypt_message_into(message, &mut plaintext)?;
        Ok(plaintext)
    }

    /// Like [`Session::decrypt_into`], for a message already parsed.
    ///
    /// # Errors
    /// As [`Session::decrypt`].
    pub fn decrypt_message_into(
        &mut self,
        message: &Message<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        let state = &mut *self.0;
        let inner = match message {
            Message::Ratchet(m) => m,
            Message::Initial(m) => {
                // A repeat of the message that established this session:
                // every X3DH field must be the one the session was made
                // from, none of them is ignored.
                let ours = state.role == Role::Responder
                    && *m.base_key() == state.base_key
                    && *m.identity() == state.remote_identity
                    && m.signed_prekey_id() == state.prekeys.signed_prekey_id
                    && m.one_time_prekey_id() == state.prekeys.one_time_prekey_id
                    && m.kem_prekey_id() == state.kem.as_ref().map(|k| k.prekey_id)
                    && m.kem_ciphertext().map(kem_digest) == state.kem.as_ref().map(|k| k.digest);
                if !ours {
                    return Err(DecryptError::OtherSession);
                }
                // The initiator sends every initial message from its first
                // ratchet key. Once the session has forgotten that chain
                // (past MAX_CHAIN_HISTORY), it cannot tell a replay from a
                // late message whose key it no longer holds.
                if !state.ratchet.remembers(&m.message().header().ratchet_key) {
                    return Err(DecryptError::StaleMessage);
                }
                m.message()
            }
        };
        state.ratchet.decrypt_into(inner, &state.ad(), out)?;
        // Anything that decrypts came from the peer: the initiator can stop
        // repeating the X3DH fields, the KEM ciphertext among them.
        state.awaiting_reply = false;
        if let Some(kem) = &mut state.kem {
            kem.ciphertext = None;
        }
        state.generation = state.generation.saturating_add(1);
        Ok(())
    }

    /// How many times this session's state has changed: 0 when an
    /// initiator starts it, 1 when a responder accepts it (it decrypted the
    /// first message), and one more with every successful
    /// [`Session::encrypt`] and [`Session::decrypt`]. A failed call leaves
    /// it as it was. Stored with the session. A store uses it to refuse
    /// writing back an older state over a newer one (see "Storing a
    /// session" above).
    pub fn generation(&self) -> u64 {
        self.0.generation
    }

    /// Which side of the agreement this device was on.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// This device's identity key.
    pub fn local_identity(&self) -> &IdentityKey {
        &self.0.local_identity
    }

    /// The peer's identity key. Compare it with the one the app expects for
    /// this peer (for example by safety numbers) before trusting it.
    pub fn remote_identity(&self) -> &IdentityKey {
        &self.0.remote_identity
    }

    /// The initiator's ephemeral key, which names this session: an initial
    /// message with the same base key belongs to it.
    pub fn base_key(&self) -> &X25519PublicKey {
        &self.0.base_key
    }

    /// Whether this session still waits for the peer's first reply: it
    /// was initiated here, and nothing from the peer has decrypted in it
    /// yet. Until then every message it encrypts is an initial message.
    pub fn awaiting_reply(&self) -> bool {
        self.0.awaiting_reply
    }

    /// The id of the responder's signed prekey the agreement used.
    pub fn signed_prekey_id(&self) -> PreKeyId {
        self.0.prekeys.signed_prekey_id
    }

    /// Whether the session began with the post-quantum agreement (PQXDH):
    /// its keys stay secret from an attacker who records the traffic and
    /// later breaks X25519.
    pub fn is_post_quantum(&self) -> bool {
        self.0.kem.is_some()
    }

    /// The id of the responder's KEM prekey the agreement used, if it was
    /// the post-quantum one.
    pub fn kem_prekey_id(&self) -> Option<PreKeyId> {
        self.0.kem.as_ref().map(|k| k.prekey_id)
    }

    /// How many skipped message keys the session holds, at most
    /// [`crate::limits::MAX_SKIPPED_KEYS`].
    pub fn skipped_key_count(&self) -> usize {
        self.0.ratchet.skipped_len()
    }

    /// The stored encoding (`0x43`, see `docs/protocol.md` §8.2). Secret:
    /// it holds the session's keys.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let state = &*self.0;
        let prekeys = 4 + 1 + if state.prekeys.one_time_prekey_id.is_some() { 4 } else { 0 };
        let kem = 1 + state.kem.as_ref().map_or(0, KemUsed::encoded_len);
        let len = 1
            + 1
            + 8
            + 2 * IdentityKey::STORED_LEN
            + X25519PublicKey::ENCODED_LEN
            + prekeys
            + kem
            + 1
            + state.ratchet.encoded_len();
        // Sized exactly: growing would leave copies of the keys in freed memory.
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        let mut w = Writer::new(&mut out);
        w.u8(V_SESSION);
        w.u8(match state.role {
            Role::Initiator => 1,
            Role::Responder => 2,
        });
        w.u64(state.generation);
        state.local_identity.encode_stored(&mut w);
        state.remote_identity.encode_stored(&mut w);
        state.base_key.encode(&mut w);
        w.u32(state.prekeys.signed_prekey_id.0);
        w.flag(state.prekeys.one_time_prekey_id.is_some());
        if let Some(id) = state.prekeys.one_time_prekey_id {
            w.u32(id.0);
        }
        w.flag(state.kem.is_some());
        if let Some(kem) = &state.kem {
            w.u32(kem.prekey_id.0);
            w.bytes(&kem.digest);
            w.flag(kem.ciphertext.is_some());
            if let Some(ciphertext) = &kem.ciphertext {
                w.bytes(&**ciphertext);
            }
        }
        w.flag(state.awaiting_reply);
        state.ratchet.encode(&mut w);
        debug_assert_eq!(out.len(), len);
        out
    }

    /// Decodes a stored session, checking every invariant. Reads version 3
    /// and version 2 (a session stored before the post-quantum agreement,
    /// which is classic); writes version 3.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed or inconsistent input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let state = decode_all(bytes, Self::MAX_ENCODED_LEN, SessionState::read)?;
        Ok(Self(Box::new(state)))
    }
}

impl SessionState {
    /// Reads and checks the state written by [`Session::to_bytes`].
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // Version 2 (`0x42`, stored before the post-quantum agreement) is
        // read too: the same fields without the KEM section.
        let version = r.u8()?;
        if version != V_SESSION && version != V_SESSION_V2 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let role = match r.u8()? {
            1 => Role::Initiator,
            2 => Role::Responder,
            _ => return Err(DecodeError::InvalidValue),
        };
        let generation = r.u64()?;
        let local_identity = IdentityKey::read_stored(r)?;
        let remote_identity = IdentityKey::read_stored(r)?;
        let base_key = X25519PublicKey::read(r)?;
        let signed_prekey_id = PreKeyId(r.u32()?);
        let one_time_prekey_id = if r.flag()? { Some(PreKeyId(r.u32()?)) } else { None };
        let prekeys = PreKeysUsed { signed_prekey_id, one_time_prekey_id };
        let kem = if version == V_SESSION && r.flag()? {
            let prekey_id = PreKeyId(r.u32()?);
            let digest = r.array()?;
            let ciphertext =
                if r.flag()? { Some(Box::new(r.array::<KEM_CT_LEN>()?)) } else { None };
            Some(KemUsed { prekey_id, digest, ciphertext })
        } else {
            None
        };
        let awaiting_reply = r.flag()?;
        let ratchet = Ratchet::read(r)?;
        // Only an initiator awaits a reply, and exactly such a session has
        // no receiving chain yet; a post-quantum one keeps its ciphertext
        // exactly while it awaits the reply, and that ciphertext is the
        // one its digest names.
        let ciphertext_kept = match &kem {
            Some(KemUsed { ciphertext: Some(ct), digest, .. }) => {
                if kem_digest(ct) != *digest {
                    return Err(DecodeError::InconsistentState);
                }
                Some(true)
            }
            Some(_) => Some(false),
            None => None,
        };
        let consistent = awaiting_reply != ratchet.has_received()
            && (!awaiting_reply || role == Role::Initiator)
            && ciphertext_kept.is_none_or(|kept| kept == awaiting_reply);
        if !consistent {
            return Err(DecodeError::InconsistentState);
        }
        Ok(Self {
            role,
            generation,
            local_identity,
            remote_identity,
            base_key,
            prekeys,
            kem,
            awaiting_reply,
            ratchet,
        })
    }
}

// Root, chain and message keys, the ratchet secret and every skipped key
// zeroize on drop (see the zeroize checks in lib.rs).
impl zeroize::ZeroizeOnDrop for Session {}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = &*self.0;
        f.debug_struct("Session")
            .field("role", &state.role)
            .field("generation", &state.generation)
            .field("local_identity", &state.local_identity)
            .field("remote_identity", &state.remote_identity)
            .field("base_key", &state.base_key)
            .field("awaiting_reply", &state.awaiting_reply)
            .field("post_quantum", &state.kem.is_some())
            .field("keys", &"[redacted]")
            .finish()
    }
}
