//! The Double Ratchet, as Signal's specification defines it.
//!
//! The state keeps the specification's variables: the root key `RK`; the
//! sending chain (`DHs`, `CKs`, `Ns`); `PN`; the peer's current ratchet key
//! `DHr` and the receiving chain (`CKr`, `Nr`); and the skipped message
//! keys.
//!
//! One scheduling difference, which changes no byte on the wire: when a
//! message opens a new receiving chain, the specification performs both
//! halves of the DH ratchet step at once (receiving, then generating a new
//! `DHs` and deriving the new sending chain). Here the sending half waits
//! for the next [`Ratchet::encrypt`]. Decryption therefore needs no RNG,
//! and a new ratchet secret is not held before it is used. Until then the
//! old `DHs` is gone, so a further new ratchet key from the peer (which an
//! honest peer cannot send before seeing ours) is refused.
//!
//! Decryption is transactional: [`Ratchet::decrypt`] first computes, on
//! borrowed state, everything the message needs (a [`Plan`] and the message
//! key), authenticates the message, and only then commits the plan. Any
//! failure returns before the commit and leaves the state as it was.

pub(crate) mod keys;
pub(crate) mod skipped;

use alloc::vec::Vec;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::codec::{Codec, Reader, Writer};
use crate::error::{DecodeError, DecryptError, EncryptError};
use crate::limits::{MAX_PLAINTEXT_LEN, MAX_RECEIVING_CHAINS, MAX_SKIP, MAX_SKIPPED_KEYS};
use crate::message::{HEADER_LEN, Header, RatchetMessage};
use crate::primitives::aead::TAG_LEN;
use crate::primitives::x25519::{DhOutput, X25519KeyPair, X25519PublicKey};
use crate::x3dh::AD_LEN;
use keys::{ChainKey, MessageKey, RootKey};
use skipped::{Location, Lookup, SkippedChain, SkippedKey, SkippedKeys};

/// Our sending chain: `DHs`, `CKs`, `Ns`.
pub(crate) struct SendingChain {
    ratchet: X25519KeyPair,
    chain_key: ChainKey,
    counter: u32,
}

/// The receiving chain of the peer's current ratchet key: `CKr`, `Nr`.
pub(crate) struct ReceivingChain {
    chain_key: ChainKey,
    next: u32,
}

/// The state of one Double Ratchet.
pub(crate) struct Ratchet {
    root_key: RootKey,
    /// `None` after a new receiving chain until our next message, which
    /// performs the sending half of the DH ratchet step.
    sending: Option<SendingChain>,
    previous_counter: u32,
    remote_ratchet: X25519PublicKey,
    /// `None` only for an initiator that has not yet received anything.
    receiving: Option<ReceivingChain>,
    skipped: SkippedKeys,
}

/// What a message will change, computed before it is authenticated.
enum Plan {
    /// Use and delete a stored skipped key.
    Skipped(Location),
    /// Advance the current receiving chain past the message.
    Current { chain: ReceivingChain, skipped: Vec<SkippedKey> },
    /// The receiving half of a DH ratchet step.
    NewChain {
        root_key: RootKey,
        remote_ratchet: X25519PublicKey,
        previous_counter: u32,
        chain: ReceivingChain,
        skipped: Vec<SkippedKey>,
    },
}

/// The associated data the AEAD authenticates: `AD || header`.
fn aead_ad(ad: &[u8; AD_LEN], header: &Header) -> [u8; AD_LEN + HEADER_LEN] {
    let mut out = [0u8; AD_LEN + HEADER_LEN];
    let (a, h) = out.split_at_mut(AD_LEN);
    a.copy_from_slice(ad);
    h.copy_from_slice(&header.to_bytes());
    out
}

/// The keys for messages `from..until` of a chain whose key at `from` is
/// `chain_key`, and the chain key at `until`. Callers check that the gap
/// is at most [`MAX_SKIP`] first.
fn derive_keys(chain_key: &ChainKey, from: u32, until: u32) -> (ChainKey, Vec<SkippedKey>) {
    let mut keys = Vec::with_capacity(until.saturating_sub(from) as usize);
    let mut chain_key = chain_key.duplicate();
    for counter in from..until {
        let (next, key) = chain_key.step();
        keys.push(SkippedKey { counter, key });
        chain_key = next;
    }
    (chain_key, keys)
}

/// Refuses a gap of more than [`MAX_SKIP`] messages.
fn check_gap(from: u32, until: u32) -> Result<(), DecryptError> {
    if until.saturating_sub(from) > MAX_SKIP { Err(DecryptError::TooManySkipped) } else { Ok(()) }
}

/// The chain after message `counter`, the skipped keys before it and its
/// message key, from a chain key at message 0.
fn open_chain(
    chain_key: &ChainKey,
    counter: u32,
) -> Result<(ReceivingChain, Vec<SkippedKey>, MessageKey), DecryptError> {
    check_gap(0, counter)?;
    let next = counter.checked_add(1).ok_or(DecryptError::TooManySkipped)?;
    let (at, skipped) = derive_keys(chain_key, 0, counter);
    let (chain_key, key) = at.step();
    Ok((ReceivingChain { chain_key, next }, skipped, key))
}

/// Authenticates `message` with `key` and appends its plaintext to `out`.
/// On failure `out` is left as it was.
fn open_into(
    key: &MessageKey,
    ad: &[u8; AD_LEN],
    message: &RatchetMessage<'_>,
    out: &mut Vec<u8>,
) -> Result<(), DecryptError> {
    let (body, tag) = message
        .ciphertext()
        .split_last_chunk::<TAG_LEN>()
        .ok_or(DecryptError::Malformed(DecodeError::Truncated))?;
    let start = out.len();
    out.extend_from_slice(body);
    let opened = match out.get_mut(start..) {
        Some(buf) => key.aead_key().open(&aead_ad(ad, message.header()), buf, tag),
        None => Err(()),
    };
    if opened.is_err() {
        out.truncate(start);
        return Err(DecryptError::Failed);
    }
    Ok(())
}

/// Authenticates and decrypts `message` with `key` into a new buffer.
fn open(
    key: &MessageKey,
    ad: &[u8; AD_LEN],
    message: &RatchetMessage<'_>,
) -> Result<Vec<u8>, DecryptError> {
    let mut plaintext = Vec::with_capacity(message.ciphertext().len().saturating_sub(TAG_LEN));
    open_into(key, ad, message, &mut plaintext)?;
    Ok(plaintext)
}

impl Ratchet {
    /// The initiator's start (the specification's `RatchetInitAlice`):
    /// a fresh `DHs`, and the first sending chain from
    /// `KDF_RK(SK, DH(DHs, SPK_B))`.
    pub(crate) fn initiator<R: CryptoRng + ?Sized>(
        rng: &mut R,
        shared: &[u8; 32],
        their_signed_prekey: &X25519PublicKey,
    ) -> Option<Self> {
        let ratchet = X25519KeyPair::generate(rng);
        let dh = ratchet.dh(their_signed_prekey)?;
        let (root_key, chain_key) = RootKey::from_bytes(*shared).step(&dh);
        Some(Self {
            root_key,
            sending: Some(SendingChain { ratchet, chain_key, counter: 0 }),
            previous_counter: 0,
            remote_ratchet: *their_signed_prekey,
            receiving: None,
            skipped: SkippedKeys::default(),
        })
    }

    /// The responder's start (`RatchetInitBob`, whose `DHs` is the signed
    /// prekey) together with its first message, which always opens a new
    /// receiving chain. `dh` is `DH(SPK_B, header.ratchet_key)`. The signed
    /// prekey's secret is used for this step only and is not kept.
    pub(crate) fn responder(
        shared: &[u8; 32],
        dh: Option<DhOutput>,
        message: &RatchetMessage<'_>,
        ad: &[u8; AD_LEN],
    ) -> Result<(Self, Vec<u8>), DecryptError> {
        let header = message.header();
        check_gap(0, header.counter)?;
        let dh = dh.ok_or(DecryptError::Failed)?;
        let (root_key, chain_key) = RootKey::from_bytes(*shared).step(&dh);
        let (chain, skipped_keys, key) = open_chain(&chain_key, header.counter)?;
        let plaintext = open(&key, ad, message)?;
        let mut skipped = SkippedKeys::default();
        skipped.append(&header.ratchet_key, skipped_keys);
        let ratchet = Self {
            root_key,
            sending: None,
            previous_counter: 0,
            remote_ratchet: header.ratchet_key,
            receiving: Some(chain),
            skipped,
        };
        Ok((ratchet, plaintext))
    }

    /// Encrypts `plaintext`, appending the ratchet message to `out`. On
    /// error nothing is appended and the state is unchanged.
    pub(crate) fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        ad: &[u8; AD_LEN],
        out: &mut Vec<u8>,
    ) -> Result<(), EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong);
        }
        let sealed_len =
            u32::try_from(plaintext.len() + TAG_LEN).map_err(|_| EncryptError::PlaintextTooLong)?;
        let chain = match self.sending {
            Some(ref mut chain) => chain,
            None => {
                // The sending half of the DH ratchet step. Nothing after it
                // can fail: a fresh chain is at 0 and the length is checked.
                let ratchet = X25519KeyPair::generate(rng);
                let dh = ratchet.dh(&self.remote_ratchet).ok_or(EncryptError::NonContributory)?;
                let (root_key, chain_key) = self.root_key.step(&dh);
                self.root_key = root_key;
                self.sending.insert(SendingChain { ratchet, chain_key, counter: 0 })
            }
        };
        // Message numbers stop at u32::MAX − 1, so that the receiver's
        // next expected number always fits.
        if chain.counter == u32::MAX {
            return Err(EncryptError::ChainExhausted);
        }
        let header = Header {
            ratchet_key: *chain.ratchet.public(),
            previous_counter: self.previous_counter,
            counter: chain.counter,
        };
        let (next_chain_key, message_key) = chain.chain_key.step();

        let start = out.len();
        out.reserve(HEADER_LEN + 4 + plaintext.len() + TAG_LEN);
        let mut w = Writer::new(out);
        w.bytes(&header.to_bytes());
        w.u32(sealed_len);
        let body = out.len();
        out.extend_from_slice(plaintext);
        let sealed = match out.get_mut(body..) {
            Some(buf) => message_key.aead_key().seal(&aead_ad(ad, &header), buf),
            None => Err(()),
        };
        let Ok(tag) = sealed else {
            out.truncate(start);
            return Err(EncryptError::PlaintextTooLong);
        };
        out.extend_from_slice(&tag);

        chain.chain_key = next_chain_key;
        chain.counter += 1;
        Ok(())
    }

    /// Decrypts a ratchet message, appending the plaintext to `out`. On
    /// error the state and `out` are unchanged.
    pub(crate) fn decrypt_into(
        &mut self,
        message: &RatchetMessage<'_>,
        ad: &[u8; AD_LEN],
        out: &mut Vec<u8>,
    ) -> Result<(), DecryptError> {
        let (plan, key) = self.plan(message.header())?;
        open_into(&key, ad, message, out)?;
        self.commit(plan);
        Ok(())
    }

    /// Works out, without changing anything, what decrypting a message
    /// with this header needs: its key and the changes to make.
    fn plan(&self, header: &Header) -> Result<(Plan, MessageKey), DecryptError> {
        if let Some(current) = &self.receiving
            && header.ratchet_key == self.remote_ratchet
            && header.counter >= current.next
        {
            check_gap(current.next, header.counter)?;
            let next = header.counter.checked_add(1).ok_or(DecryptError::TooManySkipped)?;
            let (at, skipped) = derive_keys(&current.chain_key, current.next, header.counter);
            let (chain_key, key) = at.step();
            return Ok((Plan::Current { chain: ReceivingChain { chain_key, next }, skipped }, key));
        }
        match self.skipped.find(&header.ratchet_key, header.counter) {
            Lookup::Found(at) => {
                let key = self.skipped.get(at).ok_or(DecryptError::StaleMessage)?;
                Ok((Plan::Skipped(at), MessageKey::from_bytes(*key.as_bytes())))
            }
            // A chain we still hold keys for, or the current chain behind
            // its position: this key was used, or dropped under the limits.
            Lookup::Gone => Err(DecryptError::StaleMessage),
            Lookup::UnknownChain
                if self.receiving.is_some() && header.ratchet_key == self.remote_ratchet =>
            {
                Err(DecryptError::StaleMessage)
            }
            Lookup::UnknownChain => self.plan_new_chain(header),
        }
    }

    fn plan_new_chain(&self, header: &Header) -> Result<(Plan, MessageKey), DecryptError> {
        // Without a sending chain our last ratchet secret is gone: the peer
        // has not seen a newer key of ours, so cannot have a new one.
        let Some(sending) = &self.sending else {
            return Err(DecryptError::Failed);
        };
        if let Some(current) = &self.receiving {
            check_gap(current.next, header.previous_counter)?;
        }
        check_gap(0, header.counter)?;
        let dh = sending.ratchet.dh(&header.ratchet_key).ok_or(DecryptError::Failed)?;
        let (root_key, chain_key) = self.root_key.step(&dh);
        let (chain, skipped, key) = open_chain(&chain_key, header.counter)?;
        let plan = Plan::NewChain {
            root_key,
            remote_ratchet: header.ratchet_key,
            previous_counter: header.previous_counter,
            chain,
            skipped,
        };
        Ok((plan, key))
    }

    /// Applies a plan whose message authenticated. Cannot fail.
    fn commit(&mut self, plan: Plan) {
        match plan {
            Plan::Skipped(at) => self.skipped.remove(at),
            Plan::Current { chain, skipped } => {
                self.skipped.append(&self.remote_ratchet, skipped);
                self.receiving = Some(chain);
                self.skipped.enforce_limits(Some(&self.remote_ratchet));
            }
            Plan::NewChain { root_key, remote_ratchet, previous_counter, chain, skipped } => {
                // Keep the keys of the rest of the old chain, up to the
                // number of messages the peer says it sent there. The gap
                // was checked when planning.
                if let Some(old) = self.receiving.take()
                    && previous_counter > old.next
                {
                    let (_, rest) = derive_keys(&old.chain_key, old.next, previous_counter);
                    self.skipped.append(&self.remote_ratchet, rest);
                }
                self.root_key = root_key;
                if let Some(sending) = self.sending.take() {
                    self.previous_counter = sending.counter;
                }
                self.remote_ratchet = remote_ratchet;
                self.skipped.append(&remote_ratchet, skipped);
                self.receiving = Some(chain);
                self.skipped.enforce_limits(Some(&remote_ratchet));
            }
        }
    }

    /// Whether any message from the peer has been decrypted.
    pub(crate) const fn has_received(&self) -> bool {
        self.receiving.is_some()
    }

    /// How many skipped keys are stored.
    pub(crate) fn skipped_len(&self) -> usize {
        self.skipped.len()
    }

    /// The longest encoding of a ratchet state: every optional part
    /// present and the skipped-key store full.
    pub(crate) const MAX_ENCODED_LEN: usize = 32
        + 4
        + X25519PublicKey::ENCODED_LEN
        + 1
        + (32 + X25519PublicKey::ENCODED_LEN + 32 + 4)
        + 1
        + (32 + 4)
        + 4
        + MAX_RECEIVING_CHAINS * (X25519PublicKey::ENCODED_LEN + 4)
        + MAX_SKIPPED_KEYS * SKIPPED_KEY_LEN;

    /// The exact length of [`Ratchet::encode`]'s output, so that a secret
    /// encoding can be written into a buffer that never reallocates (a
    /// reallocation would leave a copy of the secrets behind).
    pub(crate) fn encoded_len(&self) -> usize {
        let fixed = 32 + 4 + X25519PublicKey::ENCODED_LEN + 1 + 1 + 4;
        let sending =
            if self.sending.is_some() { 32 + X25519PublicKey::ENCODED_LEN + 32 + 4 } else { 0 };
        let receiving = if self.receiving.is_some() { 32 + 4 } else { 0 };
        let skipped: usize = self
            .skipped
            .chains()
            .iter()
            .map(|c| X25519PublicKey::ENCODED_LEN + 4 + c.keys.len() * SKIPPED_KEY_LEN)
            .sum();
        fixed + sending + receiving + skipped
    }

    /// Writes the state (see `docs/protocol.md`, "Session state").
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.root_key.as_bytes());
        w.u32(self.previous_counter);
        self.remote_ratchet.encode(w);
        w.flag(self.sending.is_some());
        if let Some(sending) = &self.sending {
            w.bytes(sending.ratchet.secret_bytes().as_slice());
            sending.ratchet.public().encode(w);
            w.bytes(sending.chain_key.as_bytes());
            w.u32(sending.counter);
        }
        w.flag(self.receiving.is_some());
        if let Some(receiving) = &self.receiving {
            w.bytes(receiving.chain_key.as_bytes());
            w.u32(receiving.next);
        }
        let chains = self.skipped.chains();
        w.u32(u32::try_from(chains.len()).unwrap_or(u32::MAX));
        for chain in chains {
            chain.ratchet_key.encode(w);
            w.u32(u32::try_from(chain.keys.len()).unwrap_or(u32::MAX));
            for key in &chain.keys {
                w.u32(key.counter);
                w.bytes(key.key.as_bytes());
            }
        }
    }

    /// Reads and checks a state written by [`Ratchet::encode`].
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let root_key = RootKey::from_bytes(*Zeroizing::new(r.array()?));
        let previous_counter = r.u32()?;
        let remote_ratchet = X25519PublicKey::read(r)?;
        let sending = if r.flag()? {
            let secret = Zeroizing::new(r.array::<32>()?);
            let public = X25519PublicKey::read(r)?;
            let chain_key = ChainKey::from_bytes(*Zeroizing::new(r.array()?));
            let counter = r.u32()?;
            Some(SendingChain {
                ratchet: X25519KeyPair::from_stored(*secret, public),
                chain_key,
                counter,
            })
        } else {
            None
        };
        let receiving = if r.flag()? {
            let chain_key = ChainKey::from_bytes(*Zeroizing::new(r.array()?));
            Some(ReceivingChain { chain_key, next: r.u32()? })
        } else {
            None
        };
        if sending.is_none() && receiving.is_none() {
            return Err(DecodeError::InconsistentState);
        }

        let raw = r.u32()?;
        let chain_count = r.count(raw, MAX_RECEIVING_CHAINS, X25519PublicKey::ENCODED_LEN + 4)?;
        let mut skipped = SkippedKeys::default();
        let mut total = 0usize;
        for index in 0..chain_count {
            let ratchet_key = X25519PublicKey::read(r)?;
            let raw = r.u32()?;
            let count = r.count(raw, MAX_SKIPPED_KEYS - total, SKIPPED_KEY_LEN)?;
            if count == 0 || skipped.chains().iter().any(|c| c.ratchet_key == ratchet_key) {
                return Err(DecodeError::InconsistentState);
            }
            let is_current = ratchet_key == remote_ratchet;
            // Keys of the current chain must come last and lie behind it.
            let limit = match (&receiving, is_current) {
                (_, false) => u32::MAX,
                (Some(current), true) if index + 1 == chain_count => current.next,
                _ => return Err(DecodeError::InconsistentState),
            };
            let mut keys = Vec::with_capacity(count);
            let mut floor: Option<u32> = None;
            for _ in 0..count {
                let counter = r.u32()?;
                let key = MessageKey::from_bytes(*Zeroizing::new(r.array()?));
                if floor.is_some_and(|f| counter <= f) || counter >= limit {
                    return Err(DecodeError::InconsistentState);
                }
                floor = Some(counter);
                keys.push(SkippedKey { counter, key });
            }
            total += count;
            skipped.push_decoded(SkippedChain { ratchet_key, keys });
        }
        let current_is_stored =
            skipped.chains().last().is_some_and(|c| c.ratchet_key == remote_ratchet);
        let remembered = chain_count + usize::from(receiving.is_some() && !current_is_stored);
        if remembered > MAX_RECEIVING_CHAINS {
            return Err(DecodeError::InconsistentState);
        }
        Ok(Self { root_key, sending, previous_counter, remote_ratchet, receiving, skipped })
    }
}

/// Bytes per stored skipped key: u32 number and 32-byte key.
pub(crate) const SKIPPED_KEY_LEN: usize = 4 + 32;
