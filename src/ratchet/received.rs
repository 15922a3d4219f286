//! What a session remembers of the peer's sending chains: the keys of
//! messages it skipped, and enough of what it received to tell a replay
//! from a message whose key it dropped.
//!
//! Each remembered chain (one per ratchet key of the peer, oldest first;
//! the last is the current receiving chain) holds:
//!
//! - `end`: every message number below it is accounted for. For the
//!   current chain it is the next number expected (`Nr`); for an earlier
//!   chain, the number of messages the peer sent in it (`PN` of the message
//!   that ended it). A number at or above the `end` of an earlier chain was
//!   never sent.
//! - the **skipped keys**: numbers below `end` not yet received, with
//!   their message keys, in increasing number;
//! - the **dropped ranges**: numbers whose keys were dropped under the
//!   limits before their message arrived, as ranges of consecutive
//!   numbers, in increasing order;
//! - `unknown_below`: below it, dropped ranges were forgotten (past
//!   [`MAX_DROPPED_RANGES`]), so a number there with no key is either.
//!
//! A number below `end` that is none of these was decrypted. So a message
//! whose key is not held is a [`Lookup::Duplicate`], a [`Lookup::Dropped`]
//! or, below `unknown_below`, [`Lookup::Unknown`], from public information
//! alone.
//!
//! Limits, applied in this order after every change (`docs/protocol.md`
//! §6.6): at most [`MAX_CHAIN_HISTORY`] chains (forgetting the oldest
//! chain that holds no keys); at most
//! [`MAX_RECEIVING_CHAINS`] chains holding keys, the current one always
//! counted; at most [`MAX_SKIPPED_KEYS`] keys; at most
//! [`MAX_DROPPED_RANGES`] ranges. Each drops the oldest first. Keys only
//! ever go in order within a chain (a new key is numbered above every key
//! its chain holds), so a chain's dropped numbers all lie below its keys.
//!
//! Lookup compares the header's ratchet key with at most
//! [`MAX_CHAIN_HISTORY`] chains and binary-searches the number, so its cost
//! does not grow with the age of the session.
//!
//! Message keys are secrets, and a `Vec` leaves copies behind when it
//! shifts or grows. Removal wipes the slots the shift leaves past the new
//! end, growth moves into a new buffer and wipes the old one, and a chain
//! wipes its whole buffer when dropped.

use alloc::vec::Vec;
use core::ops::Range;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::limits::{
    MAX_CHAIN_HISTORY, MAX_DROPPED_RANGES, MAX_RECEIVING_CHAINS, MAX_SKIPPED_KEYS,
};
use crate::primitives::x25519::X25519PublicKey;
use crate::ratchet::keys::MessageKey;

/// One stored key: the message number it opens and the key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct SkippedKey {
    pub(crate) counter: u32,
    pub(crate) key: MessageKey,
}

impl SkippedKey {
    /// A key for `counter`, all zero until it is filled in place.
    pub(crate) const fn zero(counter: u32) -> Self {
        Self { counter, key: MessageKey::zero() }
    }
}

/// Message numbers `start..end` whose keys were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dropped {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// What the session remembers of one of the peer's chains.
pub(crate) struct ReceivedChain {
    pub(crate) ratchet_key: X25519PublicKey,
    pub(crate) end: u32,
    pub(crate) keys: Vec<SkippedKey>,
    pub(crate) dropped: Vec<Dropped>,
    pub(crate) unknown_below: u32,
}

impl Drop for ReceivedChain {
    fn drop(&mut self) {
        // Elements and spare capacity alike.
        self.keys.zeroize();
    }
}

impl ReceivedChain {
    /// A chain with nothing received yet below `end`.
    pub(crate) const fn new(ratchet_key: X25519PublicKey, end: u32) -> Self {
        Self { ratchet_key, end, keys: Vec::new(), dropped: Vec::new(), unknown_below: 0 }
    }

    /// Drops this chain's `n` lowest keys, recording their numbers.
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

    /// Whether `counter` lies in a dropped range.
    fn was_dropped(&self, counter: u32) -> bool {
        let after = self.dropped.partition_point(|d| d.start <= counter);
        after.checked_sub(1).and_then(|i| self.dropped.get(i)).is_some_and(|d| counter < d.end)
    }
}

/// Where a key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    chain: usize,
    index: usize,
}

/// What a lookup of a message number in a remembered chain found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The key for this message.
    Key(Location),
    /// The message was decrypted before.
    Duplicate,
    /// The message's key was dropped under the limits before it arrived.
    Dropped,
    /// No key, and the session can no longer tell which of the two.
    Unknown,
    /// At or beyond the chain's end: the peer never sent this number here.
    Beyond,
}

/// Every chain the session remembers, oldest first.
#[derive(Default)]
pub(crate) struct ReceivedChains {
    chains: Vec<ReceivedChain>,
}

impl ReceivedChains {
    /// The chains, oldest first.
    pub(crate) fn chains(&self) -> &[ReceivedChain] {
        &self.chains
    }

    /// The newest chain: the current receiving chain, if there is one.
    pub(crate) fn last(&self) -> Option<&ReceivedChain> {
        self.chains.last()
    }

    /// How many keys are stored in all.
    pub(crate) fn key_count(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// How many dropped ranges are recorded in all.
    pub(crate) fn range_count(&self) -> usize {
        self.chains.iter().map(|c| c.dropped.len()).sum()
    }

    /// The position of the chain of `ratchet_key`, if it is remembered.
    pub(crate) fn find(&self, ratchet_key: &X25519PublicKey) -> Option<usize> {
        self.chains.iter().position(|c| c.ratchet_key == *ratchet_key)
    }

    /// What the session knows of message `counter` of chain `chain`.
    pub(crate) fn lookup(&self, chain: usize, counter: u32) -> Lookup {
        let Some(c) = self.chains.get(chain) else {
            return Lookup::Beyond;
        };
        if let Ok(index) = c.keys.binary_search_by_key(&counter, |k| k.counter) {
            return Lookup::Key(Location { chain, index });
        }
        if counter >= c.end {
            Lookup::Beyond
        } else if c.was_dropped(counter) {
            Lookup::Dropped
        } else if counter < c.unknown_below {
            Lookup::Unknown
        } else {
            Lookup::Duplicate
        }
    }

    /// The key at `at`.
    pub(crate) fn key(&self, at: Location) -> Option<&MessageKey> {
        self.chains.get(at.chain)?.keys.get(at.index).map(|k| &k.key)
    }

    /// Deletes the key at `at`: its message was decrypted. The chain stays,
    /// so that a replay of the message is recognised.
    pub(crate) fn remove_key(&mut self, at: Location) {
        if let Some(chain) = self.chains.get_mut(at.chain) {
            remove_zeroizing(&mut chain.keys, at.index..at.index.saturating_add(1));
        }
    }

    /// The current chain received up to `end`, skipping `keys` on the way.
    /// The keys are numbered at or above the chain's old end.
    pub(crate) fn advance_last(&mut self, end: u32, keys: &mut Vec<SkippedKey>) {
        if let Some(last) = self.chains.last_mut() {
            append_zeroizing(&mut last.keys, keys);
            last.end = last.end.max(end);
        }
    }

    /// A new current chain for `ratchet_key`, received up to `end` with
    /// `keys` skipped.
    pub(crate) fn push(
        &mut self,
        ratchet_key: X25519PublicKey,
        end: u32,
        keys: &mut Vec<SkippedKey>,
    ) {
        let mut chain = ReceivedChain::new(ratchet_key, end);
        append_zeroizing(&mut chain.keys, keys);
        self.chains.push(chain);
    }

    /// Adds a decoded chain. The session decoder checks the invariants.
    pub(crate) fn push_decoded(&mut self, chain: ReceivedChain) {
        self.chains.push(chain);
    }

    /// Applies the limits (see the module documentation). The newest chain
    /// is the current one, which always counts as holding keys.
    pub(crate) fn enforce_limits(&mut self) {
        // 1. The history. Earlier chains that hold no keys are forgotten
        // first, oldest first, so that keys only ever go under rules 2 and
        // 3, which record them as dropped. (At most MAX_RECEIVING_CHAINS
        // chains hold keys, fewer than the history holds, so there are
        // always keyless ones to forget.)
        let mut excess = self.chains.len().saturating_sub(MAX_CHAIN_HISTORY);
        let mut index = 0;
        while excess > 0 && index + 1 < self.chains.len() {
            if self.chains.get(index).is_some_and(|c| c.keys.is_empty()) {
                self.chains.remove(index);
                excess -= 1;
            } else {
                index += 1;
            }
        }

        // 2. Earlier chains that hold keys, beside the current one.
        let earlier = self.chains.len().saturating_sub(1);
        let holding = |chains: &[ReceivedChain]| {
            chains.iter().take(earlier).filter(|c| !c.keys.is_empty()).count()
        };
        while holding(&self.chains) > MAX_RECEIVING_CHAINS - 1 {
            let Some(oldest) = self.chains.iter_mut().take(earlier).find(|c| !c.keys.is_empty())
            else {
                break;
            };
            oldest.drop_lowest(oldest.keys.len());
        }

        // 3. The total of keys.
        let mut excess = self.key_count().saturating_sub(MAX_SKIPPED_KEYS);
        while excess > 0 {
            let Some(oldest) = self.chains.iter_mut().find(|c| !c.keys.is_empty()) else {
                break;
            };
            let n = excess.min(oldest.keys.len());
            oldest.drop_lowest(n);
            excess -= n;
        }

        // 4. The record of dropped ranges.
        let mut excess = self.range_count().saturating_sub(MAX_DROPPED_RANGES);
        while excess > 0 {
            let Some(oldest) = self.chains.iter_mut().find(|c| !c.dropped.is_empty()) else {
                break;
            };
            let n = excess.min(oldest.dropped.len());
            if let Some(forgotten) = oldest.dropped.get(n - 1) {
                oldest.unknown_below = oldest.unknown_below.max(forgotten.end);
            }
            oldest.dropped.drain(..n);
            excess -= n;
        }
    }
}

/// Moves every key of `from` to the end of `into`, wiping what the move
/// leaves behind: the old buffer of `into` if it has to grow, and `from`.
pub(crate) fn append_zeroizing(into: &mut Vec<SkippedKey>, from: &mut Vec<SkippedKey>) {
    if from.is_empty() {
        return;
    }
    if into.capacity() - into.len() >= from.len() {
        into.append(from);
    } else {
        let mut grown = Vec::with_capacity(into.len() + from.len());
        grown.append(into);
        grown.append(from);
        into.zeroize();
        *into = grown;
    }
    // `append` moved the keys out; wipe the copies the moves left.
    from.zeroize();
}

/// Removes `range` from `keys`. The removed keys zeroize as they drop; the
/// shift leaves copies of the moved keys in the slots just past the new
/// end, which are wiped here.
pub(crate) fn remove_zeroizing(keys: &mut Vec<SkippedKey>, range: Range<usize>) {
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

    fn ratchet_key(seed: u8) -> X25519PublicKey {
        *X25519KeyPair::from_secret_bytes([seed; 32]).public()
    }

    fn keys(range: Range<u32>) -> Vec<SkippedKey> {
        range
            .map(|counter| {
                let mut key = SkippedKey::zero(counter);
                key.key.set(&[counter as u8; 32]);
                key
            })
            .collect()
    }

    fn chains(specs: &[(u8, Range<u32>, u32)]) -> ReceivedChains {
        let mut store = ReceivedChains::default();
        for (seed, range, end) in specs {
            store.push(ratchet_key(*seed), *end, &mut keys(range.clone()));
        }
        store
    }

    #[test]
    fn tells_keys_duplicates_and_the_never_sent_apart() {
        let a = ratchet_key(1);
        let mut store = chains(&[(1, 0..3, 5)]);
        let chain = store.find(&a).unwrap();
        // 0..3 skipped, 3 and 4 decrypted, 5 not yet.
        for n in 0..3 {
            assert!(matches!(store.lookup(chain, n), Lookup::Key(_)));
        }
        assert_eq!(store.lookup(chain, 3), Lookup::Duplicate);
        assert_eq!(store.lookup(chain, 4), Lookup::Duplicate);
        assert_eq!(store.lookup(chain, 5), Lookup::Beyond);
        let Lookup::Key(at) = store.lookup(chain, 1) else { panic!() };
        assert_eq!(store.key(at).unwrap().as_bytes(), &[1; 32]);
        store.remove_key(at);
        assert_eq!(store.lookup(chain, 1), Lookup::Duplicate);
        assert_eq!(store.key_count(), 2);
        assert_eq!(store.find(&ratchet_key(2)), None);
    }

    #[test]
    fn total_limit_drops_oldest_keys_first_and_records_them() {
        let (a, b) = (ratchet_key(1), ratchet_key(2));
        let max = MAX_SKIPPED_KEYS as u32;
        let mut store = chains(&[(1, 0..10, 10), (2, 0..max, max + 1)]);
        store.enforce_limits();
        assert_eq!(store.key_count(), MAX_SKIPPED_KEYS);
        let (ca, cb) = (store.find(&a).unwrap(), store.find(&b).unwrap());
        assert_eq!(store.lookup(ca, 9), Lookup::Dropped);
        assert_eq!(store.chains()[ca].dropped, [Dropped { start: 0, end: 10 }]);
        assert!(matches!(store.lookup(cb, 0), Lookup::Key(_)));

        // One more key on b pushes out b's lowest.
        store.advance_last(max + 2, &mut keys(max + 1..max + 2));
        store.enforce_limits();
        assert_eq!(store.key_count(), MAX_SKIPPED_KEYS);
        assert_eq!(store.lookup(cb, 0), Lookup::Dropped);
        assert!(matches!(store.lookup(cb, 1), Lookup::Key(_)));
        // b's message `max` was decrypted in order.
        assert_eq!(store.lookup(cb, max), Lookup::Duplicate);
    }

    #[test]
    fn a_used_key_between_dropped_ones_stays_a_duplicate() {
        let mut store = chains(&[(1, 0..6, 6)]);
        let Lookup::Key(at) = store.lookup(0, 2) else { panic!() };
        store.remove_key(at);
        store.chains[0].drop_lowest(5);
        assert_eq!(
            store.chains()[0].dropped,
            [Dropped { start: 0, end: 2 }, Dropped { start: 3, end: 6 }]
        );
        assert_eq!(store.lookup(0, 1), Lookup::Dropped);
        assert_eq!(store.lookup(0, 2), Lookup::Duplicate);
        assert_eq!(store.lookup(0, 3), Lookup::Dropped);
        assert_eq!(store.lookup(0, 5), Lookup::Dropped);
        assert_eq!(store.lookup(0, 6), Lookup::Beyond);
    }

    #[test]
    fn chain_limit_counts_the_current_chain() {
        // Five earlier chains with keys and a current one without.
        let mut specs: Vec<(u8, Range<u32>, u32)> =
            (1..=MAX_RECEIVING_CHAINS as u8).map(|s| (s, 0..1, 1)).collect();
        specs.push((100, 0..0, 0));
        let mut store = chains(&specs);
        store.enforce_limits();
        // The oldest earlier chain lost its key but is still remembered.
        assert_eq!(store.chains().len(), MAX_RECEIVING_CHAINS + 1);
        assert_eq!(store.lookup(0, 0), Lookup::Dropped);
        assert!(matches!(store.lookup(1, 0), Lookup::Key(_)));
        let holding = store.chains().iter().filter(|c| !c.keys.is_empty()).count();
        assert_eq!(holding, MAX_RECEIVING_CHAINS - 1);
    }

    #[test]
    fn history_forgets_the_oldest_chains() {
        let specs: Vec<(u8, Range<u32>, u32)> =
            (1..=(MAX_CHAIN_HISTORY + 3) as u8).map(|s| (s, 0..0, 1)).collect();
        let mut store = chains(&specs);
        store.enforce_limits();
        assert_eq!(store.chains().len(), MAX_CHAIN_HISTORY);
        assert_eq!(store.find(&ratchet_key(3)), None);
        assert_eq!(store.find(&ratchet_key(4)), Some(0));
        assert_eq!(store.lookup(0, 0), Lookup::Duplicate);
    }

    #[test]
    fn forgotten_ranges_leave_the_numbers_below_them_unknown() {
        // Every other key used, then all dropped: one range per key.
        let n = (MAX_DROPPED_RANGES + 3) as u32;
        let mut store = chains(&[(1, 0..2 * n, 2 * n)]);
        for k in (1..2 * n).step_by(2) {
            let Lookup::Key(at) = store.lookup(0, k) else { panic!() };
            store.remove_key(at);
        }
        store.chains[0].drop_lowest(n as usize);
        assert_eq!(store.range_count(), n as usize);
        store.enforce_limits();
        assert_eq!(store.range_count(), MAX_DROPPED_RANGES);
        // Ranges [0,1), [2,3), [4,5) were forgotten.
        assert_eq!(store.chains()[0].unknown_below, 5);
        assert_eq!(store.lookup(0, 0), Lookup::Unknown);
        assert_eq!(store.lookup(0, 3), Lookup::Unknown);
        assert_eq!(store.lookup(0, 6), Lookup::Dropped);
        assert_eq!(store.lookup(0, 7), Lookup::Duplicate);
    }
}
