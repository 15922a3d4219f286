//! The Double Ratchet, as Signal's specification defines it.
//!
//! The state keeps the specification's variables: the root key `RK`; the
//! sending chain (`DHs`, `CKs`, `Ns`); `PN`; the peer's current ratchet key
//! `DHr` and the receiving chain (`CKr`, `Nr`); and the skipped message
//! keys, which live with the rest of what the session remembers of the
//! peer's chains ([`received`]).
//!
//! Messages are sealed with XChaCha20-Poly1305 under the message key and a
//! random 24-byte nonce drawn from the caller's RNG, carried in the header.
//! A session restored from an older copy derives the same message keys
//! again, but never the same nonce: no keystream or Poly1305 key repeats.
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
//! Decryption is transactional: [`Ratchet::decrypt_into`] first computes,
//! on borrowed state, everything the message needs (a [`Pending`] change
//! and the message key), authenticates the message, and only then commits
//! it. Any failure returns before the commit and leaves the state as it
//! was. The pending change is built in place and committed by copying, so
//! the keys it holds are wiped when it is dropped.

pub(crate) mod keys;
pub(crate) mod received;

use alloc::vec::Vec;

use rand_core::CryptoRng;

use crate::codec::{Codec, Reader, Writer};
use crate::error::{DecodeError, DecryptError, EncryptError};
use crate::limits::{
    MAX_CHAIN_HISTORY, MAX_DROPPED_RANGES, MAX_PLAINTEXT_LEN, MAX_RECEIVING_CHAINS, MAX_SKIP,
    MAX_SKIPPED_KEYS,
};
use crate::message::{HEADER_LEN, Header, RatchetMessage};
use crate::primitives::aead::{self, TAG_LEN, XNONCE_LEN};
use crate::primitives::buffer::reserve_wiping;
use crate::primitives::x25519::{X25519KeyPair, X25519PublicKey};
use crate::x3dh::AD_LEN;
use keys::{ChainKey, MessageKey, RootKey};
use received::{Dropped, Location, Lookup, ReceivedChain, ReceivedChains, SkippedKey};

/// Our sending chain: `DHs`, `CKs`, `Ns`.
pub(crate) struct SendingChain {
    ratchet: X25519KeyPair,
    chain_key: ChainKey,
    counter: u32,
}

/// The state of one Double Ratchet.
pub(crate) struct Ratchet {
    root_key: RootKey,
    /// `None` after a new receiving chain until our next message, which
    /// performs the sending half of the DH ratchet step.
    sending: Option<SendingChain>,
    previous_counter: u32,
    remote_ratchet: X25519PublicKey,
    /// `CKr`; `None` only for an initiator that has not yet received
    /// anything. Its chain is the newest in `chains`, whose `end` is `Nr`.
    receiving: Option<ChainKey>,
    chains: ReceivedChains,
}

/// Which change a message makes, once it is authenticated.
#[derive(Clone, Copy)]
enum Kind {
    /// Use and delete a stored skipped key.
    Skipped(Location),
    /// Advance the current receiving chain past the message.
    Current,
    /// The receiving half of a DH ratchet step.
    NewChain { remote_ratchet: X25519PublicKey, previous_counter: u32 },
}

/// What a message will change, computed before it is authenticated.
struct Pending {
    kind: Kind,
    /// The key that opens the message.
    message_key: MessageKey,
    /// `NewChain`: the root key after the step.
    root_key: RootKey,
    /// `Current`, `NewChain`: the chain key after the message.
    chain_key: ChainKey,
    /// `Current`, `NewChain`: the number after the message.
    end: u32,
    /// `Current`, `NewChain`: the keys of the messages it skips.
    skipped: Vec<SkippedKey>,
}

impl Pending {
    fn new() -> Self {
        Self {
            kind: Kind::Current,
            message_key: MessageKey::zero(),
            root_key: RootKey::zero(),
            chain_key: ChainKey::zero(),
            end: 0,
            skipped: Vec::new(),
        }
    }
}

/// The associated data the AEAD authenticates: `AD || header`.
fn aead_ad(ad: &[u8; AD_LEN], header: &Header) -> [u8; AD_LEN + HEADER_LEN] {
    let mut out = [0u8; AD_LEN + HEADER_LEN];
    let (a, h) = out.split_at_mut(AD_LEN);
    a.copy_from_slice(ad);
    h.copy_from_slice(&header.to_bytes());
    out
}

/// Steps `chain_key`, which is at message `from`, to message `until`,
/// appending the keys of messages `from..until` to `out`. Callers check
/// that the gap is at most [`MAX_SKIP`] first.
fn derive_keys(chain_key: &mut ChainKey, from: u32, until: u32, out: &mut Vec<SkippedKey>) {
    out.reserve(until.saturating_sub(from) as usize);
    for counter in from..until {
        let mut key = SkippedKey::zero(counter);
        chain_key.advance(&mut key.key);
        out.push(key);
    }
}

/// Refuses a gap of more than [`MAX_SKIP`] messages.
fn check_gap(from: u32, until: u32) -> Result<(), DecryptError> {
    if until.saturating_sub(from) > MAX_SKIP { Err(DecryptError::TooManySkipped) } else { Ok(()) }
}

/// From `pending.chain_key` at message `from`: the keys skipped up to
/// message `counter`, its message key, and the chain key and number after
/// it, all into `pending`.
fn open_chain(pending: &mut Pending, from: u32, counter: u32) -> Result<(), DecryptError> {
    check_gap(from, counter)?;
    pending.end = counter.checked_add(1).ok_or(DecryptError::TooManySkipped)?;
    derive_keys(&mut pending.chain_key, from, counter, &mut pending.skipped);
    pending.chain_key.advance(&mut pending.message_key);
    Ok(())
}

/// Authenticates `message` with `key` and appends its plaintext to `out`.
/// On failure `out` is left as it was. If `out` must grow, its old buffer
/// (which may hold earlier plaintexts) is wiped.
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
    reserve_wiping(out, body.len());
    out.extend_from_slice(body);
    let header = message.header();
    let opened = match out.get_mut(start..) {
        Some(buf) => {
            aead::open_random_nonce(key.as_bytes(), &header.nonce, &aead_ad(ad, header), buf, tag)
        }
        None => Err(()),
    };
    if opened.is_err() {
        out.truncate(start);
        return Err(DecryptError::Failed);
    }
    Ok(())
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
        let mut root_key = RootKey::zero();
        root_key.set(shared);
        let mut chain_key = ChainKey::zero();
        root_key.advance(&dh, &mut chain_key);
        Some(Self {
            root_key,
            sending: Some(SendingChain { ratchet, chain_key, counter: 0 }),
            previous_counter: 0,
            remote_ratchet: *their_signed_prekey,
            receiving: None,
            chains: ReceivedChains::default(),
        })
    }

    /// The responder's start (`RatchetInitBob`, whose `DHs` is the signed
    /// prekey) together with its first message, which always opens a new
    /// receiving chain. `dh` is `DH(SPK_B, header.ratchet_key)`. The signed
    /// prekey's secret is used for this step only and is not kept.
    pub(crate) fn responder(
        shared: &[u8; 32],
        dh: Option<crate::primitives::x25519::DhOutput>,
        message: &RatchetMessage<'_>,
        ad: &[u8; AD_LEN],
        out: &mut Vec<u8>,
    ) -> Result<Self, DecryptError> {
        let header = message.header();
        check_gap(0, header.counter)?;
        let dh = dh.ok_or(DecryptError::Failed)?;
        let mut root_key = RootKey::zero();
        root_key.set(shared);
        let mut pending = Pending::new();
        root_key.advance(&dh, &mut pending.chain_key);
        open_chain(&mut pending, 0, header.counter)?;
        open_into(&pending.message_key, ad, message, out)?;
        let mut chain_key = ChainKey::zero();
        chain_key.set(pending.chain_key.as_bytes());
        let mut chains = ReceivedChains::default();
        chains.push(header.ratchet_key, pending.end, &mut pending.skipped);
        chains.enforce_limits();
        Ok(Self {
            root_key,
            sending: None,
            previous_counter: 0,
            remote_ratchet: header.ratchet_key,
            receiving: Some(chain_key),
            chains,
        })
    }

    /// Encrypts `plaintext`, appending the ratchet message to `out`. Draws
    /// the message's 24-byte nonce from `rng` (after a new `DHs`, when the
    /// sending chain is absent). On error nothing is appended and the state
    /// is unchanged.
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
        let sealed_len = plaintext
            .len()
            .checked_add(TAG_LEN)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(EncryptError::PlaintextTooLong)?;
        let chain = match self.sending {
            Some(ref mut chain) => chain,
            None => {
                // The sending half of the DH ratchet step. Nothing after it
                // can fail: a fresh chain is at 0 and the length is checked.
                let ratchet = X25519KeyPair::generate(rng);
                let dh = ratchet.dh(&self.remote_ratchet).ok_or(EncryptError::NonContributory)?;
                let mut chain_key = ChainKey::zero();
                self.root_key.advance(&dh, &mut chain_key);
                self.sending.insert(SendingChain { ratchet, chain_key, counter: 0 })
            }
        };
        // Message numbers stop at u32::MAX − 1, so that the receiver's
        // next expected number always fits.
        if chain.counter == u32::MAX {
            return Err(EncryptError::ChainExhausted);
        }
        let mut nonce = [0u8; XNONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let header = Header {
            ratchet_key: *chain.ratchet.public(),
            previous_counter: self.previous_counter,
            counter: chain.counter,
            nonce,
        };
        let mut next_chain_key = ChainKey::zero();
        next_chain_key.set(chain.chain_key.as_bytes());
        let mut message_key = MessageKey::zero();
        next_chain_key.advance(&mut message_key);

        let start = out.len();
        out.reserve(HEADER_LEN + 4 + plaintext.len() + TAG_LEN);
        let mut w = Writer::new(out);
        w.bytes(&header.to_bytes());
        w.u32(sealed_len);
        let body = out.len();
        out.extend_from_slice(plaintext);
        let sealed = match out.get_mut(body..) {
            Some(buf) => aead::seal_random_nonce(
                message_key.as_bytes(),
                &header.nonce,
                &aead_ad(ad, &header),
                buf,
            ),
            None => Err(()),
        };
        let Ok(tag) = sealed else {
            out.truncate(start);
            return Err(EncryptError::PlaintextTooLong);
        };
        out.extend_from_slice(&tag);

        chain.chain_key.set(next_chain_key.as_bytes());
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
        let mut pending = Pending::new();
        self.plan(message.header(), &mut pending)?;
        open_into(&pending.message_key, ad, message, out)?;
        self.commit(&mut pending);
        Ok(())
    }

    /// Works out, without changing anything, what `header`'s message
    /// needs: which key opens it and what to change once it has opened.
    fn plan(&self, header: &Header, pending: &mut Pending) -> Result<(), DecryptError> {
        let current = match (&self.receiving, self.chains.last()) {
            (Some(chain_key), Some(chain)) if chain.ratchet_key == header.ratchet_key => {
                Some((chain_key, chain.end))
            }
            _ => None,
        };
        if let Some((chain_key, next)) = current {
            if header.counter >= next {
                pending.chain_key.set(chain_key.as_bytes());
                open_chain(pending, next, header.counter)?;
                pending.kind = Kind::Current;
                return Ok(());
            }
            let index = self.chains.chains().len() - 1;
            return self.plan_received(index, header.counter, pending);
        }
        match self.chains.find(&header.ratchet_key) {
            Some(index) => self.plan_received(index, header.counter, pending),
            None => self.plan_new_chain(header, pending),
        }
    }

    /// A message of a chain the session remembers, behind its position:
    /// its key is stored, or the session can say why it is not.
    fn plan_received(
        &self,
        chain: usize,
        counter: u32,
        pending: &mut Pending,
    ) -> Result<(), DecryptError> {
        match self.chains.lookup(chain, counter) {
            Lookup::Key(at) => {
                let key = self.chains.key(at).ok_or(DecryptError::Failed)?;
                pending.message_key.set(key.as_bytes());
                pending.kind = Kind::Skipped(at);
                Ok(())
            }
            Lookup::Duplicate => Err(DecryptError::Duplicate),
            Lookup::Dropped => Err(DecryptError::KeyDropped),
            Lookup::Unknown => Err(DecryptError::StaleMessage),
            // An earlier chain ended before this number: never sent.
            Lookup::Beyond => Err(DecryptError::Failed),
        }
    }

    fn plan_new_chain(&self, header: &Header, pending: &mut Pending) -> Result<(), DecryptError> {
        // Without a sending chain our last ratchet secret is gone: the peer
        // has not seen a newer key of ours, so cannot have a new one.
        let Some(sending) = &self.sending else {
            return Err(DecryptError::Failed);
        };
        if let (Some(_), Some(current)) = (&self.receiving, self.chains.last()) {
            check_gap(current.end, header.previous_counter)?;
        }
        check_gap(0, header.counter)?;
        let dh = sending.ratchet.dh(&header.ratchet_key).ok_or(DecryptError::Failed)?;
        self.root_key.derive(&dh, &mut pending.root_key, &mut pending.chain_key);
        open_chain(pending, 0, header.counter)?;
        pending.kind = Kind::NewChain {
            remote_ratchet: header.ratchet_key,
            previous_counter: header.previous_counter,
        };
        Ok(())
    }

    /// Applies a change whose message authenticated. Cannot fail.
    fn commit(&mut self, pending: &mut Pending) {
        match pending.kind {
            Kind::Skipped(at) => self.chains.remove_key(at),
            Kind::Current => {
                if let Some(chain_key) = &mut self.receiving {
                    chain_key.set(pending.chain_key.as_bytes());
                }
                self.chains.advance_last(pending.end, &mut pending.skipped);
                self.chains.enforce_limits();
            }
            Kind::NewChain { remote_ratchet, previous_counter } => {
                // Keep the keys of the rest of the old chain, up to the
                // number of messages the peer says it sent there, and end
                // that chain there. The gap was checked when planning.
                if let (Some(old), Some(chain)) = (&mut self.receiving, self.chains.last()) {
                    let mut rest = Vec::new();
                    derive_keys(old, chain.end, previous_counter, &mut rest);
                    self.chains.advance_last(previous_counter, &mut rest);
                }
                self.root_key.set(pending.root_key.as_bytes());
                if let Some(sending) = self.sending.take() {
                    self.previous_counter = sending.counter;
                }
                self.remote_ratchet = remote_ratchet;
                match &mut self.receiving {
                    Some(chain_key) => chain_key.set(pending.chain_key.as_bytes()),
                    None => {
                        let chain_key = self.receiving.insert(ChainKey::zero());
                        chain_key.set(pending.chain_key.as_bytes());
                    }
                }
                self.chains.push(remote_ratchet, pending.end, &mut pending.skipped);
                self.chains.enforce_limits();
            }
        }
    }

    /// Whether any message from the peer has been decrypted.
    /// Whether the session remembers the peer's chain of `ratchet_key`.
    pub(crate) fn remembers(&self, ratchet_key: &X25519PublicKey) -> bool {
        self.chains.find(ratchet_key).is_some()
    }

    pub(crate) const fn has_received(&self) -> bool {
        self.receiving.is_some()
    }

    /// How many skipped keys are stored.
    pub(crate) fn skipped_len(&self) -> usize {
        self.chains.key_count()
    }

    /// The longest encoding of a ratchet state: every optional part
    /// present, the history full, the key store full, every range used.
    pub(crate) const MAX_ENCODED_LEN: usize = 32
        + 4
        + X25519PublicKey::ENCODED_LEN
        + 1
        + (32 + X25519PublicKey::ENCODED_LEN + 32 + 4)
        + 1
        + 32
        + 4
        + MAX_CHAIN_HISTORY * CHAIN_FIXED_LEN
        + MAX_SKIPPED_KEYS * SKIPPED_KEY_LEN
        + MAX_DROPPED_RANGES * DROPPED_RANGE_LEN;

    /// The exact length of [`Ratchet::encode`]'s output, so that a secret
    /// encoding can be written into a buffer that never reallocates (a
    /// reallocation would leave a copy of the secrets behind).
    pub(crate) fn encoded_len(&self) -> usize {
        let fixed = 32 + 4 + X25519PublicKey::ENCODED_LEN + 1 + 1 + 4;
        let sending =
            if self.sending.is_some() { 32 + X25519PublicKey::ENCODED_LEN + 32 + 4 } else { 0 };
        let receiving = if self.receiving.is_some() { 32 } else { 0 };
        let chains: usize = self
            .chains
            .chains()
            .iter()
            .map(|c| {
                CHAIN_FIXED_LEN
                    + c.keys.len() * SKIPPED_KEY_LEN
                    + c.dropped.len() * DROPPED_RANGE_LEN
            })
            .sum();
        fixed + sending + receiving + chains
    }

    /// Writes the state (see `docs/protocol.md` §8.2).
    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes(self.root_key.as_bytes());
        w.u32(self.previous_counter);
        self.remote_ratchet.encode(w);
        w.flag(self.sending.is_some());
        if let Some(sending) = &self.sending {
            w.bytes(sending.ratchet.secret_bytes());
            sending.ratchet.public().encode(w);
            w.bytes(sending.chain_key.as_bytes());
            w.u32(sending.counter);
        }
        w.flag(self.receiving.is_some());
        if let Some(chain_key) = &self.receiving {
            w.bytes(chain_key.as_bytes());
        }
        let chains = self.chains.chains();
        w.u32(u32::try_from(chains.len()).unwrap_or(u32::MAX));
        for chain in chains {
            chain.ratchet_key.encode(w);
            w.u32(chain.end);
            w.u32(chain.unknown_below);
            w.u32(u32::try_from(chain.keys.len()).unwrap_or(u32::MAX));
            for key in &chain.keys {
                w.u32(key.counter);
                w.bytes(key.key.as_bytes());
            }
            w.u32(u32::try_from(chain.dropped.len()).unwrap_or(u32::MAX));
            for range in &chain.dropped {
                w.u32(range.start);
                w.u32(range.end);
            }
        }
    }

    /// Reads and checks a state written by [`Ratchet::encode`].
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut root_key = RootKey::zero();
        root_key.set(&r.array()?);
        let previous_counter = r.u32()?;
        let remote_ratchet = X25519PublicKey::read(r)?;
        let sending = if r.flag()? {
            let ratchet = X25519KeyPair::read_stored(r)?;
            let mut chain_key = ChainKey::zero();
            chain_key.set(&r.array()?);
            let counter = r.u32()?;
            Some(SendingChain { ratchet, chain_key, counter })
        } else {
            None
        };
        let receiving = if r.flag()? {
            let mut chain_key = ChainKey::zero();
            chain_key.set(&r.array()?);
            Some(chain_key)
        } else {
            None
        };
        if sending.is_none() && receiving.is_none() {
            return Err(DecodeError::InconsistentState);
        }
        let chains = read_chains(r, &remote_ratchet, receiving.is_some())?;
        Ok(Self { root_key, sending, previous_counter, remote_ratchet, receiving, chains })
    }
}

/// Bytes per stored skipped key: u32 number and 32-byte key.
pub(crate) const SKIPPED_KEY_LEN: usize = 4 + 32;

/// Bytes per recorded dropped range: two u32.
pub(crate) const DROPPED_RANGE_LEN: usize = 4 + 4;

/// Bytes of a remembered chain besides its keys and ranges: its ratchet
/// key, `end`, `unknown_below` and the two counts.
pub(crate) const CHAIN_FIXED_LEN: usize = X25519PublicKey::ENCODED_LEN + 4 + 4 + 4 + 4;

/// Reads the remembered chains and checks every invariant of
/// `docs/protocol.md` §8.2.
fn read_chains(
    r: &mut Reader<'_>,
    remote_ratchet: &X25519PublicKey,
    has_receiving: bool,
) -> Result<ReceivedChains, DecodeError> {
    let raw = r.u32()?;
    let count = r.count(raw, MAX_CHAIN_HISTORY, CHAIN_FIXED_LEN)?;
    // The newest chain is the current receiving chain, and only it.
    if has_receiving != (count > 0) {
        return Err(DecodeError::InconsistentState);
    }
    let mut chains = ReceivedChains::default();
    let mut total_keys = 0usize;
    let mut total_ranges = 0usize;
    let mut earlier_holding = 0usize;
    for index in 0..count {
        let ratchet_key = X25519PublicKey::read(r)?;
        let is_last = index + 1 == count;
        if (ratchet_key == *remote_ratchet) != is_last || chains.find(&ratchet_key).is_some() {
            return Err(DecodeError::InconsistentState);
        }
        let end = r.u32()?;
        let unknown_below = r.u32()?;
        if unknown_below > end {
            return Err(DecodeError::InconsistentState);
        }
        let mut chain = ReceivedChain::new(ratchet_key, end);
        chain.unknown_below = unknown_below;

        let raw = r.u32()?;
        let n = r.count(raw, MAX_SKIPPED_KEYS - total_keys, SKIPPED_KEY_LEN)?;
        chain.keys.reserve_exact(n);
        let mut floor = unknown_below;
        for i in 0..n {
            let counter = r.u32()?;
            if counter < floor || (i > 0 && counter == floor) || counter >= end {
                return Err(DecodeError::InconsistentState);
            }
            floor = counter;
            let mut key = SkippedKey::zero(counter);
            key.key.set(&r.array()?);
            chain.keys.push(key);
        }
        total_keys += n;
        if !is_last && n > 0 {
            earlier_holding += 1;
        }

        let raw = r.u32()?;
        let d = r.count(raw, MAX_DROPPED_RANGES - total_ranges, DROPPED_RANGE_LEN)?;
        chain.dropped.reserve_exact(d);
        // Ranges lie above `unknown_below` (strictly, once it was raised by
        // a forgotten range), apart from each other, and below every key.
        let ceiling = chain.keys.first().map_or(end, |k| k.counter);
        let mut after: Option<u32> = (unknown_below > 0).then_some(unknown_below);
        for _ in 0..d {
            let (start, stop) = (r.u32()?, r.u32()?);
            let ordered = start < stop && stop <= ceiling && start >= unknown_below;
            if !ordered || after.is_some_and(|a| start <= a) {
                return Err(DecodeError::InconsistentState);
            }
            after = Some(stop);
            chain.dropped.push(Dropped { start, end: stop });
        }
        total_ranges += d;
        chains.push_decoded(chain);
    }
    if earlier_holding > MAX_RECEIVING_CHAINS - 1 {
        return Err(DecodeError::InconsistentState);
    }
    Ok(chains)
}
