//! A sender key: the sending side ([`SenderKey`]) and what a member keeps
//! of another device's ([`SenderKeyRecord`]).

use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::VerifyingKey;
use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::GroupId;
use super::message::{
    GroupMessage, HEADER_FIXED_LEN, SIGNATURE_LEN, SenderKeyDistribution, read_signing_key,
};
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{DecodeError, DecryptError, EncryptError, Error, GroupError};
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, GROUP_MESSAGE_KEY_INFO, X_SENDER_KEY_RECORD};
use crate::limits::{
    MAX_PLAINTEXT_LEN, MAX_SENDER_KEY_CHAINS, MAX_SENDER_KEY_DROPPED_RANGES,
    MAX_SENDER_KEY_RETIRED_CHAINS, MAX_SENDER_KEY_SKIP, MAX_SENDER_KEY_SKIPPED_KEYS,
};
use crate::primitives::aead::{self, TAG_LEN, XNONCE_LEN};
use crate::primitives::ed25519::{self, Ed25519Secret};
use crate::primitives::kdf::hkdf_sha256;
use crate::ratchet::keys::{ChainKey, MessageKey};
use crate::ratchet::received::{Dropped, SkippedKey, append_zeroizing, remove_zeroizing};

/// The XChaCha20-Poly1305 key of one group message and the commitment to
/// it, from its seed: HKDF-SHA256 with a salt of 32 zero bytes and the
/// label `"sealwire/group/message-key/v1"`, 64 bytes: the key, then the
/// commitment the header carries. Poly1305 does not commit to its key, so
/// without the commitment a sender that gave two members two chain keys
/// could make one ciphertext that opens to a different plaintext for
/// each; with it, only the key the commitment names opens the message.
fn message_key(seed: &MessageKey, key: &mut [u8; 32]) -> [u8; 32] {
    let mut okm = Zeroizing::new([0u8; 64]);
    hkdf_sha256(&[0u8; 32], &[seed.as_bytes()], &[GROUP_MESSAGE_KEY_INFO], &mut okm);
    let (k, c) = okm.split_at(32);
    key.copy_from_slice(k);
    let mut commitment = [0u8; 32];
    commitment.copy_from_slice(c);
    commitment
}

/// This device's sender key in one group: the sending chain and its
/// signing key. Zeroized on drop; `Debug` shows only the chain's id and
/// position.
pub struct SenderKey {
    chain_id: u32,
    iteration: u32,
    chain_key: ChainKey,
    signing: Ed25519Secret,
    signing_public: [u8; 32],
}

impl zeroize::ZeroizeOnDrop for SenderKey {}

impl SenderKey {
    /// Length of the stored form: chain id, iteration, chain key, signing
    /// key seed.
    pub(crate) const STORED_LEN: usize = 4 + 4 + 32 + 32;

    /// A new sender key from the caller's RNG, in this order: the chain id
    /// (4 bytes, big-endian), the chain key (32 bytes), the signing key's
    /// seed (32 bytes). Its chain starts at iteration 0.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 4];
        rng.fill_bytes(&mut id);
        let mut chain_key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(chain_key.as_mut_slice());
        let signing = Ed25519Secret::generate(rng);
        Self::from_parts(u32::from_be_bytes(id), 0, &chain_key, signing)
    }

    /// A new sender key whose chain id is not `previous` (a rotation): the
    /// receivers keep the chains apart by id.
    pub(crate) fn rotate<R: CryptoRng + ?Sized>(rng: &mut R, previous: u32) -> Self {
        loop {
            let key = Self::generate(rng);
            if key.chain_id != previous {
                return key;
            }
        }
    }

    fn from_parts(
        chain_id: u32,
        iteration: u32,
        chain_key: &[u8; 32],
        signing: Ed25519Secret,
    ) -> Self {
        let mut key = ChainKey::zero();
        key.set(chain_key);
        let signing_public = signing.verifying_key().to_bytes();
        Self { chain_id, iteration, chain_key: key, signing, signing_public }
    }

    /// The chain's id.
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The number the next message will carry.
    pub const fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The chain's public signing key.
    pub const fn signing_key(&self) -> &[u8; 32] {
        &self.signing_public
    }

    /// The distribution message that hands this key, as it is now, to a
    /// member: it opens this message and the ones after it, none before.
    pub fn distribution(&self, group: &GroupId) -> SenderKeyDistribution {
        SenderKeyDistribution::new(
            group.clone(),
            self.chain_id,
            self.iteration,
            self.chain_key.as_bytes(),
            self.signing_public,
        )
    }

    /// Encrypts `plaintext` for the group: one chain step, the key's
    /// expansion, one XChaCha20-Poly1305 seal under a nonce of 24 bytes
    /// from `rng`, and one signature. The chain moves forward one step.
    ///
    /// # Errors
    /// [`EncryptError::PlaintextTooLong`] above
    /// [`crate::limits::MAX_PLAINTEXT_LEN`];
    /// [`EncryptError::ChainExhausted`] after 2^32 − 1 messages on one
    /// chain (rotate).
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        group: &GroupId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, EncryptError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong);
        }
        let next = self.iteration.checked_add(1).ok_or(EncryptError::ChainExhausted)?;
        let mut nonce = [0u8; XNONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut seed = MessageKey::zero();
        let mut key = Zeroizing::new([0u8; 32]);
        let mut chain_key = ChainKey::zero();
        chain_key.set(self.chain_key.as_bytes());
        chain_key.advance(&mut seed);
        let commitment = message_key(&seed, &mut key);

        let len = HEADER_FIXED_LEN
            + group.as_bytes().len()
            + 4
            + plaintext.len()
            + TAG_LEN
            + SIGNATURE_LEN;
        let mut out = Vec::with_capacity(len);
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(crate::labels::X_GROUP_MESSAGE);
        group.encode(&mut w);
        w.u32(self.chain_id);
        w.u32(self.iteration);
        w.bytes(&nonce);
        w.bytes(&commitment);
        let header_len = out.len();
        let mut w = Writer::new(&mut out);
        w.u32(
            u32::try_from(plaintext.len() + TAG_LEN).map_err(|_| EncryptError::PlaintextTooLong)?,
        );
        w.bytes(plaintext);
        let (header, body) = out.split_at_mut(header_len);
        let body = body.get_mut(4..).ok_or(EncryptError::PlaintextTooLong)?;
        let tag = aead::seal_random_nonce(&key, &nonce, header, body)
            .map_err(|()| EncryptError::PlaintextTooLong)?;
        out.extend_from_slice(&tag);
        let signature = self.signing.sign(&out);
        out.extend_from_slice(&signature);
        self.chain_key.set(chain_key.as_bytes());
        self.iteration = next;
        Ok(out)
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.u32(self.chain_id);
        w.u32(self.iteration);
        w.bytes(self.chain_key.as_bytes());
        w.bytes(self.signing.seed());
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain_id = r.u32()?;
        let iteration = r.u32()?;
        let chain_key = Zeroizing::new(r.array::<32>()?);
        let seed = Zeroizing::new(r.array::<32>()?);
        Ok(Self::from_parts(chain_id, iteration, &chain_key, Ed25519Secret::from_seed(&seed)))
    }
}

impl fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKey")
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("signing_key", &crate::hex::Hex(&self.signing_public))
            .field("keys", &"[redacted]")
            .finish()
    }
}

/// One of a sender's chains as a member keeps it.
struct ReceivingChain {
    chain_id: u32,
    signing_key: [u8; 32],
    verifying: VerifyingKey,
    /// The first iteration the key opened: nothing before it ever can.
    start: u32,
    /// The next iteration the chain key opens.
    next: u32,
    chain_key: ChainKey,
    /// Skipped keys, in increasing iteration, all in `start..next`.
    keys: Vec<SkippedKey>,
    /// Iterations whose keys were dropped under the limits.
    dropped: Vec<Dropped>,
    /// Below this, dropped ranges were forgotten.
    unknown_below: u32,
}

impl Drop for ReceivingChain {
    fn drop(&mut self) {
        self.keys.zeroize();
    }
}

impl ReceivingChain {
    /// Fixed bytes of a stored chain.
    const FIXED_LEN: usize = 4 + 32 + 4 + 4 + 32 + 4 + 4 + 4;

    fn was_dropped(&self, iteration: u32) -> bool {
        let after = self.dropped.partition_point(|d| d.start <= iteration);
        after.checked_sub(1).and_then(|i| self.dropped.get(i)).is_some_and(|d| iteration < d.end)
    }

    fn drop_lowest(&mut self, n: usize) {
        let n = n.min(self.keys.len());
        for key in self.keys.iter().take(n) {
            match self.dropped.last_mut() {
                Some(last) if last.end == key.counter => last.end = key.counter.saturating_add(1),
                _ => self
                    .dropped
                    .push(Dropped { start: key.counter, end: key.counter.saturating_add(1) }),
            }
        }
        remove_zeroizing(&mut self.keys, 0..n);
    }
}

/// What a member keeps of one sender device's sender keys in one group:
/// the sender's identity key, and at most
/// [`MAX_SENDER_KEY_CHAINS`] chains, oldest first. Zeroized on drop.
///
/// Stored through [`crate::store::GroupStore`] with a revision that grows
/// by one with every stored change, as session records are.
pub struct SenderKeyRecord {
    revision: u64,
    identity: Option<IdentityKey>,
    chains: Vec<ReceivingChain>,
    /// Ids of chains dropped past [`MAX_SENDER_KEY_CHAINS`], oldest first:
    /// never taken in again.
    retired: Vec<u32>,
}

impl zeroize::ZeroizeOnDrop for SenderKeyRecord {}

/// How a message's key was found.
enum Plan {
    /// A skipped key, at this index of the chain's keys.
    Skipped(usize),
    /// The chain moves forward: the keys skipped on the way, and the new
    /// chain key.
    Forward { skipped: Vec<SkippedKey>, chain_key: ChainKey, next: u32 },
}

impl Default for SenderKeyRecord {
    fn default() -> Self {
        Self::new()
    }
}

impl SenderKeyRecord {
    /// Fixed bytes of the stored form: tag, revision, the identity's flag
    /// and key, the number of chains.
    const FIXED_LEN: usize = 2 + 8 + 1 + IdentityKey::ENCODED_LEN + 1 + 1;

    /// The longest stored record.
    pub const MAX_ENCODED_LEN: usize = Self::FIXED_LEN
        + MAX_SENDER_KEY_CHAINS * ReceivingChain::FIXED_LEN
        + MAX_SENDER_KEY_SKIPPED_KEYS * 36
        + MAX_SENDER_KEY_DROPPED_RANGES * 8
        + MAX_SENDER_KEY_RETIRED_CHAINS * 4;

    /// An empty record, revision 0 (as if absent).
    pub const fn new() -> Self {
        Self { revision: 0, identity: None, chains: Vec::new(), retired: Vec::new() }
    }

    /// The revision: how many times the record was stored.
    pub const fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn bump(&mut self) {
        self.revision = self.revision.saturating_add(1);
    }

    /// The identity key of the sender device whose keys these are.
    pub const fn identity(&self) -> Option<&IdentityKey> {
        self.identity.as_ref()
    }

    /// Whether the record holds a chain.
    pub fn is_empty(&self) -> bool {
        self.chains.is_empty()
    }

    /// The ids of the chains held, oldest first.
    pub fn chain_ids(&self) -> Vec<u32> {
        self.chains.iter().map(|c| c.chain_id).collect()
    }

    /// How many skipped keys the record holds.
    pub fn skipped_keys(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// Takes in a distribution message from `sender` (the identity its
    /// session is with). A sender of another identity than the record's
    /// (the device was reinstalled) replaces everything; a chain already
    /// held with the same signing key is kept as it is (a distribution
    /// sent again never moves a chain back); a chain this record dropped
    /// (past [`MAX_SENDER_KEY_CHAINS`]) is not taken in again, while its
    /// id is among the last [`MAX_SENDER_KEY_RETIRED_CHAINS`] dropped; a
    /// new chain is added, the oldest dropped past
    /// [`MAX_SENDER_KEY_CHAINS`].
    ///
    /// Returns whether the record changed.
    pub fn process(&mut self, sender: &IdentityKey, distribution: &SenderKeyDistribution) -> bool {
        if self.identity.as_ref() != Some(sender) {
            self.chains.clear();
            self.retired.clear();
            self.identity = Some(*sender);
        }
        if self.retired.contains(&distribution.chain_id()) {
            return false;
        }
        if let Some(at) = self.chains.iter().position(|c| c.chain_id == distribution.chain_id()) {
            let same =
                self.chains.get(at).is_some_and(|c| c.signing_key == *distribution.signing_key());
            if same {
                return false;
            }
            self.chains.remove(at);
        }
        let Ok(verifying) = ed25519::decode_public(distribution.signing_key()) else {
            // `SenderKeyDistribution` holds only keys that decode.
            return false;
        };
        let mut chain_key = ChainKey::zero();
        chain_key.set(distribution.chain_key());
        self.chains.push(ReceivingChain {
            chain_id: distribution.chain_id(),
            signing_key: *distribution.signing_key(),
            verifying,
            start: distribution.iteration(),
            next: distribution.iteration(),
            chain_key,
            keys: Vec::new(),
            dropped: Vec::new(),
            unknown_below: 0,
        });
        if self.chains.len() > MAX_SENDER_KEY_CHAINS {
            let dropped = self.chains.remove(0);
            self.retired.push(dropped.chain_id);
            if self.retired.len() > MAX_SENDER_KEY_RETIRED_CHAINS {
                self.retired.remove(0);
            }
        }
        true
    }

    /// Decrypts a group message from `sender` (the identity that sealed
    /// it). The signature is checked first, then the key is found or
    /// derived on copies; the record changes only once the message has
    /// opened.
    ///
    /// # Errors
    /// [`GroupError::NoSenderKey`] (as [`Error::Group`]) if no chain of
    /// this sender has the message's id; [`GroupError::InvalidSignature`];
    /// [`DecryptError::StaleMessage`] for a message from before the key
    /// this device was given (or below forgotten dropped ranges);
    /// [`DecryptError::TooManySkipped`] past [`MAX_SENDER_KEY_SKIP`];
    /// [`DecryptError::Duplicate`]; [`DecryptError::KeyDropped`];
    /// [`DecryptError::Failed`] for a signed message that does not open.
    pub fn decrypt(
        &mut self,
        sender: &IdentityKey,
        message: &GroupMessage<'_>,
    ) -> Result<Vec<u8>, Error> {
        if self.identity.as_ref() != Some(sender) {
            return Err(GroupError::NoSenderKey.into());
        }
        let at = self
            .chains
            .iter()
            .position(|c| c.chain_id == message.chain_id())
            .ok_or(GroupError::NoSenderKey)?;
        let chain = self.chains.get(at).ok_or(GroupError::NoSenderKey)?;
        if !ed25519::verify_with(&chain.verifying, message.signed(), message.signature()) {
            return Err(GroupError::InvalidSignature.into());
        }
        let iteration = message.iteration();
        let mut seed = MessageKey::zero();
        let plan = if iteration >= chain.next {
            if iteration - chain.next > MAX_SENDER_KEY_SKIP {
                return Err(DecryptError::TooManySkipped.into());
            }
            let next = iteration.checked_add(1).ok_or(DecryptError::TooManySkipped)?;
            let mut chain_key = ChainKey::zero();
            chain_key.set(chain.chain_key.as_bytes());
            let mut skipped = Vec::with_capacity((iteration - chain.next) as usize);
            for n in chain.next..iteration {
                let mut key = SkippedKey::zero(n);
                chain_key.advance(&mut key.key);
                skipped.push(key);
            }
            chain_key.advance(&mut seed);
            Plan::Forward { skipped, chain_key, next }
        } else if iteration < chain.start {
            return Err(DecryptError::StaleMessage.into());
        } else if let Ok(index) = chain.keys.binary_search_by_key(&iteration, |k| k.counter) {
            let key = chain.keys.get(index).ok_or(DecryptError::Failed)?;
            seed.set(key.key.as_bytes());
            Plan::Skipped(index)
        } else if chain.was_dropped(iteration) {
            return Err(DecryptError::KeyDropped.into());
        } else if iteration < chain.unknown_below {
            return Err(DecryptError::StaleMessage.into());
        } else {
            return Err(DecryptError::Duplicate.into());
        };

        let mut key = Zeroizing::new([0u8; 32]);
        let commitment = message_key(&seed, &mut key);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&commitment[..], &message.commitment()[..])) {
            return Err(DecryptError::Failed.into());
        }
        let (body, tag) = message
            .ciphertext()
            .split_last_chunk::<TAG_LEN>()
            .ok_or(DecryptError::Malformed(DecodeError::Truncated))?;
        let mut plaintext = body.to_vec();
        if aead::open_random_nonce(&key, message.nonce(), message.header(), &mut plaintext, tag)
            .is_err()
        {
            plaintext.zeroize();
            return Err(DecryptError::Failed.into());
        }

        let chain = self.chains.get_mut(at).ok_or(DecryptError::Failed)?;
        match plan {
            Plan::Skipped(index) => remove_zeroizing(&mut chain.keys, index..index + 1),
            Plan::Forward { mut skipped, chain_key, next } => {
                chain.chain_key.set(chain_key.as_bytes());
                chain.next = next;
                append_zeroizing(&mut chain.keys, &mut skipped);
                self.enforce_limits();
            }
        }
        Ok(plaintext)
    }

    /// Drops the oldest skipped keys past [`MAX_SENDER_KEY_SKIPPED_KEYS`]
    /// (oldest chain first, lowest iteration first), and forgets the
    /// oldest dropped ranges past [`MAX_SENDER_KEY_DROPPED_RANGES`].
    fn enforce_limits(&mut self) {
        let mut excess = self.skipped_keys().saturating_sub(MAX_SENDER_KEY_SKIPPED_KEYS);
        for chain in &mut self.chains {
            if excess == 0 {
                break;
            }
            let n = excess.min(chain.keys.len());
            chain.drop_lowest(n);
            excess -= n;
        }
        let mut ranges: usize = self.chains.iter().map(|c| c.dropped.len()).sum();
        for chain in &mut self.chains {
            while ranges > MAX_SENDER_KEY_DROPPED_RANGES && !chain.dropped.is_empty() {
                let forgotten = chain.dropped.remove(0);
                chain.unknown_below = chain.unknown_below.max(forgotten.end);
                ranges -= 1;
            }
        }
    }

    /// The stored form (`docs/protocol.md` §21.5). It holds chain keys:
    /// the buffer wipes itself.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_SENDER_KEY_RECORD);
        w.u64(self.revision);
        w.flag(self.identity.is_some());
        if let Some(identity) = &self.identity {
            identity.encode(&mut w);
        }
        w.u8(u8::try_from(self.chains.len()).unwrap_or(u8::MAX));
        for chain in &self.chains {
            w.u32(chain.chain_id);
            w.bytes(&chain.signing_key);
            w.u32(chain.start);
            w.u32(chain.next);
            w.bytes(chain.chain_key.as_bytes());
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
        w.u8(u8::try_from(self.retired.len()).unwrap_or(u8::MAX));
        for id in &self.retired {
            w.u32(*id);
        }
        out
    }

    /// Decodes a stored record, checking every invariant: chain ids
    /// distinct (and not retired), `start ≤ next`, skipped keys increasing within
    /// `start..next`, dropped ranges increasing and apart, and every limit.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed or inconsistent input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_SENDER_KEY_RECORD)?;
            let revision = r.u64()?;
            let identity = if r.flag()? { Some(IdentityKey::read(r)?) } else { None };
            let count = usize::from(r.u8()?);
            if count > MAX_SENDER_KEY_CHAINS || (identity.is_none() && count > 0) {
                return Err(DecodeError::InconsistentState);
            }
            let mut record =
                Self { revision, identity, chains: Vec::with_capacity(count), retired: Vec::new() };
            let (mut keys, mut ranges) = (0usize, 0usize);
            for _ in 0..count {
                let chain = read_chain(r, &mut keys, &mut ranges)?;
                if record.chains.iter().any(|c| c.chain_id == chain.chain_id) {
                    return Err(DecodeError::InconsistentState);
                }
                record.chains.push(chain);
            }
            let retired = usize::from(r.u8()?);
            if retired > MAX_SENDER_KEY_RETIRED_CHAINS || (record.identity.is_none() && retired > 0)
            {
                return Err(DecodeError::InconsistentState);
            }
            for _ in 0..retired {
                let id = r.u32()?;
                if record.retired.contains(&id) || record.chains.iter().any(|c| c.chain_id == id) {
                    return Err(DecodeError::InconsistentState);
                }
                record.retired.push(id);
            }
            Ok(record)
        })
    }
}

/// Reads one stored chain, adding its keys and ranges to the totals and
/// checking them against the limits before anything is allocated.
fn read_chain(
    r: &mut Reader<'_>,
    keys: &mut usize,
    ranges: &mut usize,
) -> Result<ReceivingChain, DecodeError> {
    let inconsistent = DecodeError::InconsistentState;
    let chain_id = r.u32()?;
    let signing_key = read_signing_key(r)?;
    let verifying = ed25519::decode_public(&signing_key)?;
    let start = r.u32()?;
    let next = r.u32()?;
    let mut chain_key = ChainKey::zero();
    chain_key.set(&Zeroizing::new(r.array::<32>()?));
    let unknown_below = r.u32()?;
    if start > next || unknown_below > next {
        return Err(inconsistent);
    }
    let raw = r.u32()?;
    let n = r.count(raw, MAX_SENDER_KEY_SKIPPED_KEYS - *keys, 36)?;
    *keys += n;
    let mut chain = ReceivingChain {
        chain_id,
        signing_key,
        verifying,
        start,
        next,
        chain_key,
        keys: Vec::with_capacity(n),
        dropped: Vec::new(),
        unknown_below,
    };
    let mut floor = start;
    for _ in 0..n {
        let counter = r.u32()?;
        if counter < floor || counter >= next {
            return Err(inconsistent);
        }
        floor = counter.checked_add(1).ok_or(inconsistent)?;
        let mut key = SkippedKey::zero(counter);
        key.key.set(&Zeroizing::new(r.array::<32>()?));
        chain.keys.push(key);
    }
    let raw = r.u32()?;
    let d = r.count(raw, MAX_SENDER_KEY_DROPPED_RANGES - *ranges, 8)?;
    *ranges += d;
    chain.dropped.reserve_exact(d);
    let mut floor = start;
    for _ in 0..d {
        let (s, e) = (r.u32()?, r.u32()?);
        // Ranges are apart: touching ones are always written merged.
        let apart = if chain.dropped.is_empty() { s >= floor } else { s > floor };
        if !apart || s >= e || e > next || chain.keys.iter().any(|k| (s..e).contains(&k.counter)) {
            return Err(inconsistent);
        }
        floor = e;
        chain.dropped.push(Dropped { start: s, end: e });
    }
    Ok(chain)
}

impl fmt::Debug for SenderKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeyRecord")
            .field("revision", &self.revision)
            .field("identity", &self.identity)
            .field("chains", &self.chain_ids())
            .field("skipped_keys", &self.skipped_keys())
            .field("keys", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityKeyPair;

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn setup() -> (ChaCha20Rng, GroupId, SenderKey, IdentityKey, SenderKeyRecord) {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let group = GroupId::new(b"g").unwrap();
        let key = SenderKey::generate(&mut rng);
        let sender = *IdentityKeyPair::generate(&mut rng).public();
        let mut record = SenderKeyRecord::new();
        assert!(record.process(&sender, &key.distribution(&group)));
        (rng, group, key, sender, record)
    }

    #[test]
    fn messages_open_once_in_any_order_and_the_record_round_trips() {
        let (mut rng, group, mut key, sender, mut record) = setup();
        let messages: Vec<Vec<u8>> =
            (0..5u8).map(|i| key.encrypt(&mut rng, &group, &[i; 3]).unwrap()).collect();
        for i in [3usize, 0, 4, 1] {
            let m = GroupMessage::parse(&messages[i]).unwrap();
            assert_eq!(record.decrypt(&sender, &m).unwrap(), [i as u8; 3]);
            let again = SenderKeyRecord::from_bytes(&record.to_bytes()).unwrap();
            assert_eq!(again.to_bytes(), record.to_bytes());
            record = again;
        }
        let m = GroupMessage::parse(&messages[3]).unwrap();
        assert_eq!(record.decrypt(&sender, &m), Err(DecryptError::Duplicate.into()));
        assert_eq!(record.skipped_keys(), 1);
    }

    #[test]
    fn limits_drop_the_oldest_keys_and_record_them() {
        let (mut rng, group, mut key, sender, mut record) = setup();
        let first = key.encrypt(&mut rng, &group, b"0").unwrap();
        // Two jumps of MAX_SENDER_KEY_SKIP: 2000 keys held, then one more
        // jump drops the oldest.
        let mut last = Vec::new();
        for _ in 0..3 * (MAX_SENDER_KEY_SKIP + 1) {
            last.push(key.encrypt(&mut rng, &group, b"x").unwrap());
        }
        // last[k] is iteration k + 1.
        for at in [MAX_SENDER_KEY_SKIP as usize - 1, 2 * MAX_SENDER_KEY_SKIP as usize] {
            record.decrypt(&sender, &GroupMessage::parse(&last[at]).unwrap()).unwrap();
        }
        assert_eq!(record.skipped_keys(), MAX_SENDER_KEY_SKIPPED_KEYS);
        let at = 3 * MAX_SENDER_KEY_SKIP as usize + 1;
        record.decrypt(&sender, &GroupMessage::parse(&last[at]).unwrap()).unwrap();
        assert_eq!(record.skipped_keys(), MAX_SENDER_KEY_SKIPPED_KEYS);
        let dropped = GroupMessage::parse(&first).unwrap();
        assert_eq!(record.decrypt(&sender, &dropped), Err(DecryptError::KeyDropped.into()));
        let round = SenderKeyRecord::from_bytes(&record.to_bytes()).unwrap();
        assert_eq!(round.to_bytes(), record.to_bytes());
    }
}
