//! Skipped message keys, kept so that late and reordered messages can
//! still be decrypted, within the limits of [`crate::limits`].
//!
//! Keys are grouped by the receiving chain (the peer's ratchet key) they
//! belong to. Chains are kept in the order they were received, oldest
//! first; within a chain, keys are in increasing message number. That
//! order is also the eviction order: when a limit is reached, the first
//! key of the first chain goes first.
//!
//! Lookup compares the header's ratchet key with at most
//! [`MAX_RECEIVING_CHAINS`] chains, then binary-searches the number, so it
//! does not grow with the age of the session.
//!
//! Message keys are secrets, and a `Vec` leaves copies behind when it
//! shifts or grows. Removal wipes the slots that the shift leaves past the
//! new end, growth moves into a new buffer and wipes the old one, and a
//! chain wipes its whole buffer when dropped.

use alloc::vec::Vec;
use core::ops::Range;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::limits::{MAX_RECEIVING_CHAINS, MAX_SKIPPED_KEYS};
use crate::primitives::x25519::X25519PublicKey;
use crate::ratchet::keys::MessageKey;

/// One stored key: the message number it opens and the key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct SkippedKey {
    pub(crate) counter: u32,
    pub(crate) key: MessageKey,
}

/// The stored keys of one receiving chain.
pub(crate) struct SkippedChain {
    pub(crate) ratchet_key: X25519PublicKey,
    pub(crate) keys: Vec<SkippedKey>,
}

impl Drop for SkippedChain {
    fn drop(&mut self) {
        // Elements and spare capacity alike.
        self.keys.zeroize();
    }
}

/// Where a key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    chain: usize,
    index: usize,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// The key for this chain and number.
    Found(Location),
    /// The chain is remembered, but holds no key for this number.
    Gone,
    /// No remembered chain has this ratchet key.
    UnknownChain,
}

/// All skipped keys of a session.
#[derive(Default)]
pub(crate) struct SkippedKeys {
    chains: Vec<SkippedChain>,
}

impl SkippedKeys {
    /// The stored chains, oldest first.
    pub(crate) fn chains(&self) -> &[SkippedChain] {
        &self.chains
    }

    /// How many keys are stored in all.
    pub(crate) fn len(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// Finds the key for message `counter` of the chain `ratchet_key`.
    pub(crate) fn find(&self, ratchet_key: &X25519PublicKey, counter: u32) -> Lookup {
        let Some(chain) = self.chains.iter().position(|c| c.ratchet_key == *ratchet_key) else {
            return Lookup::UnknownChain;
        };
        let keys = self.chains.get(chain).map_or(&[][..], |c| &c.keys[..]);
        match keys.binary_search_by_key(&counter, |k| k.counter) {
            Ok(index) => Lookup::Found(Location { chain, index }),
            Err(_) => Lookup::Gone,
        }
    }

    /// The key at `at`.
    pub(crate) fn get(&self, at: Location) -> Option<&MessageKey> {
        self.chains.get(at.chain)?.keys.get(at.index).map(|k| &k.key)
    }

    /// Deletes the key at `at` (it was used), and its chain if it was the
    /// chain's last key.
    pub(crate) fn remove(&mut self, at: Location) {
        let Some(chain) = self.chains.get_mut(at.chain) else {
            return;
        };
        remove_zeroizing(&mut chain.keys, at.index..at.index.saturating_add(1));
        if chain.keys.is_empty() {
            self.chains.remove(at.chain);
        }
    }

    /// Stores `keys` for the chain `ratchet_key`. They must be numbered
    /// above any key already stored for that chain, and the chain must be
    /// the newest one stored (or new): keys only ever arrive for the
    /// current receiving chain, or for the one it replaces.
    pub(crate) fn append(&mut self, ratchet_key: &X25519PublicKey, mut keys: Vec<SkippedKey>) {
        if keys.is_empty() {
            return;
        }
        match self.chains.last_mut() {
            Some(last) if last.ratchet_key == *ratchet_key => {
                let mut grown = Vec::with_capacity(last.keys.len() + keys.len());
                grown.append(&mut last.keys);
                grown.append(&mut keys);
                // `append` moved the keys out; wipe what the moves left.
                last.keys.zeroize();
                keys.zeroize();
                last.keys = grown;
            }
            _ => self.chains.push(SkippedChain { ratchet_key: *ratchet_key, keys }),
        }
    }

    /// Applies the limits, dropping the oldest keys first. `current` is
    /// the current receiving chain, which counts towards
    /// [`MAX_RECEIVING_CHAINS`] whether or not it holds skipped keys.
    pub(crate) fn enforce_limits(&mut self, current: Option<&X25519PublicKey>) {
        let current_is_stored = match (current, self.chains.last()) {
            (Some(current), Some(last)) => last.ratchet_key == *current,
            (None, _) => true,
            (Some(_), None) => false,
        };
        let max_stored =
            if current_is_stored { MAX_RECEIVING_CHAINS } else { MAX_RECEIVING_CHAINS - 1 };
        let excess = self.chains.len().saturating_sub(max_stored);
        self.chains.drain(..excess);
        let mut excess = self.len().saturating_sub(MAX_SKIPPED_KEYS);
        while excess > 0 {
            let Some(oldest) = self.chains.first_mut() else {
                return;
            };
            let n = excess.min(oldest.keys.len());
            remove_zeroizing(&mut oldest.keys, 0..n);
            excess -= n;
            if oldest.keys.is_empty() {
                self.chains.remove(0);
            }
        }
    }

    /// Adds a decoded chain. The session decoder checks the invariants.
    pub(crate) fn push_decoded(&mut self, chain: SkippedChain) {
        self.chains.push(chain);
    }
}

/// Removes `range` from `keys`. The removed keys zeroize as they drop; the
/// shift leaves copies of the moved keys in the slots just past the new
/// end, which are wiped here.
fn remove_zeroizing(keys: &mut Vec<SkippedKey>, range: Range<usize>) {
    let Some(removed) = keys.get(range.clone()).map(<[SkippedKey]>::len) else {
        return;
    };
    keys.drain(range);
    if let Some(stale) = keys.spare_capacity_mut().get_mut(..removed) {
        stale.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::x25519::X25519KeyPair;

    fn chain_key(seed: u8) -> X25519PublicKey {
        *X25519KeyPair::from_secret_bytes([seed; 32]).public()
    }

    fn keys(range: Range<u32>) -> Vec<SkippedKey> {
        range
            .map(|counter| SkippedKey { counter, key: MessageKey::from_bytes([counter as u8; 32]) })
            .collect()
    }

    #[test]
    fn finds_appends_and_removes() {
        let a = chain_key(1);
        let mut store = SkippedKeys::default();
        store.append(&a, keys(0..3));
        store.append(&a, keys(5..7));
        assert_eq!(store.len(), 5);
        let Lookup::Found(at) = store.find(&a, 5) else { panic!("key 5 is stored") };
        assert_eq!(store.get(at).unwrap().as_bytes(), &[5; 32]);
        store.remove(at);
        assert!(matches!(store.find(&a, 5), Lookup::Gone));
        assert!(matches!(store.find(&a, 3), Lookup::Gone));
        assert!(matches!(store.find(&chain_key(2), 0), Lookup::UnknownChain));
        assert_eq!(store.len(), 4);
    }

    #[test]
    fn removing_the_last_key_forgets_the_chain() {
        let a = chain_key(1);
        let mut store = SkippedKeys::default();
        store.append(&a, keys(4..5));
        let Lookup::Found(at) = store.find(&a, 4) else { panic!("key 4 is stored") };
        store.remove(at);
        assert!(store.chains().is_empty());
    }

    #[test]
    fn total_limit_drops_oldest_keys_first() {
        let (a, b) = (chain_key(1), chain_key(2));
        let mut store = SkippedKeys::default();
        store.append(&a, keys(0..10));
        store.append(&b, keys(0..(MAX_SKIPPED_KEYS as u32)));
        store.enforce_limits(Some(&b));
        assert_eq!(store.len(), MAX_SKIPPED_KEYS);
        assert!(matches!(store.find(&a, 9), Lookup::UnknownChain));
        assert!(matches!(store.find(&b, 0), Lookup::Found(_)));

        // One more key on b pushes out b's lowest.
        store.append(&b, keys(MAX_SKIPPED_KEYS as u32..MAX_SKIPPED_KEYS as u32 + 1));
        store.enforce_limits(Some(&b));
        assert_eq!(store.len(), MAX_SKIPPED_KEYS);
        assert!(matches!(store.find(&b, 0), Lookup::Gone));
        assert!(matches!(store.find(&b, 1), Lookup::Found(_)));
    }

    #[test]
    fn chain_limit_counts_the_current_chain() {
        let mut store = SkippedKeys::default();
        for seed in 1..=MAX_RECEIVING_CHAINS as u8 {
            store.append(&chain_key(seed), keys(0..1));
        }
        // All stored chains are earlier ones; with a new current chain
        // that holds no keys, one of them must go.
        let current = chain_key(100);
        store.enforce_limits(Some(&current));
        assert_eq!(store.chains().len(), MAX_RECEIVING_CHAINS - 1);
        assert!(matches!(store.find(&chain_key(1), 0), Lookup::UnknownChain));
        assert!(matches!(store.find(&chain_key(2), 0), Lookup::Found(_)));

        // When the current chain holds keys, it is one of the five.
        store.append(&current, keys(0..1));
        store.enforce_limits(Some(&current));
        assert_eq!(store.chains().len(), MAX_RECEIVING_CHAINS);
    }

    #[test]
    fn any_excess_of_chains_is_trimmed_oldest_first() {
        let mut store = SkippedKeys::default();
        let extra = 7;
        for seed in 1..=(MAX_RECEIVING_CHAINS + extra) as u8 {
            store.append(&chain_key(seed), keys(0..1));
        }
        assert_eq!(store.chains().len(), MAX_RECEIVING_CHAINS + extra);
        store.enforce_limits(None);
        assert_eq!(store.chains().len(), MAX_RECEIVING_CHAINS);
        let first_kept = extra as u8 + 1;
        assert!(matches!(store.find(&chain_key(first_kept - 1), 0), Lookup::UnknownChain));
        assert!(matches!(store.find(&chain_key(first_kept), 0), Lookup::Found(_)));
    }
}
