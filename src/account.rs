//! This device's own record: its address, its identity key pair, its
//! sender certificate, and where its prekeys stand in their lifecycle.
//!
//! The prekey secrets themselves live in the store
//! ([`crate::store::PreKeyStore`]); the account holds their schedule: which
//! signed prekey is current and since when, which are retired and since
//! when, the next ids to hand out, and which one-time prekeys have been
//! published (`docs/sessions.md` §6).

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

use crate::address::Address;
use crate::certificate::{SenderCertificate, Timestamp};
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::identity::{IdentityKey, IdentityKeyPair};
use crate::labels::{ESCAPE, X_ACCOUNT};
use crate::limits::{
    MAX_SIGNED_PREKEYS, RESTORE_ONE_TIME_ID_GAP, RESTORE_SIGNED_ID_GAP, SIGNED_PREKEY_GRACE_SECS,
    SIGNED_PREKEY_ROTATION_SECS,
};
use crate::prekey::PreKeyId;

/// A signed prekey that is no longer current, kept for its grace period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retired {
    pub(crate) id: PreKeyId,
    pub(crate) since: Timestamp,
}

/// This device: its address, identity, certificate and prekey schedule.
///
/// Stored through [`crate::store::AccountStore`]; like a
/// [`crate::SessionRecord`] it carries a revision that grows by one with
/// every change.
///
/// Encoding (`docs/sessions.md` §3): `0xFF 0x41`, the revision (`u64`),
/// the address, the identity key pair's stored form (`0x52`, 33 bytes), a
/// flag and the sender certificate if present, the current signed
/// prekey's id (`u32`) and creation time (`u64`), the number of retired
/// signed prekeys (`u8`) and for each its id and retirement time, the next
/// signed and one-time prekey ids (`u32` each), and the lowest one-time
/// prekey id not yet published (`u32`), the epoch (`u32`), and the epoch
/// of the last whole publication (`u32`).
pub struct Account {
    revision: u64,
    address: Address,
    identity: IdentityKeyPair,
    certificate: Option<SenderCertificate>,
    signed: PreKeyId,
    signed_created: Timestamp,
    /// Newest first.
    retired: Vec<Retired>,
    next_signed_id: u32,
    next_one_time_id: u32,
    unpublished_from: u32,
    /// Grows by one each time the device's state is restored from a
    /// backup: sessions of earlier epochs no longer send.
    epoch: u32,
    /// The epoch of the last publication marked published: below `epoch`,
    /// the next publication replaces everything the server holds.
    published_epoch: u32,
}

impl Account {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 2
        + 8
        + Address::MAX_ENCODED_LEN
        + IdentityKeyPair::ENCODED_LEN
        + 1
        + SenderCertificate::MAX_ENCODED_LEN
        + 4
        + 8
        + 1
        + (MAX_SIGNED_PREKEYS - 1) * (4 + 8)
        + 5 * 4;

    /// A new account, revision 0, whose first signed prekey (id 1) was made
    /// at `now`.
    pub(crate) fn new(address: Address, identity: IdentityKeyPair, now: Timestamp) -> Self {
        Self {
            revision: 0,
            address,
            identity,
            certificate: None,
            signed: PreKeyId(1),
            signed_created: now,
            retired: Vec::new(),
            next_signed_id: 2,
            next_one_time_id: 1,
            unpublished_from: 1,
            epoch: 0,
            published_epoch: 0,
        }
    }

    /// How many times the account has changed.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// This device's address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// This device's identity key pair.
    pub fn identity(&self) -> &IdentityKeyPair {
        &self.identity
    }

    /// This device's identity key.
    pub fn identity_key(&self) -> &IdentityKey {
        self.identity.public()
    }

    /// This device's sender certificate, once the app has issued one.
    pub fn certificate(&self) -> Option<&SenderCertificate> {
        self.certificate.as_ref()
    }

    /// The id of the current signed prekey.
    pub fn signed_prekey_id(&self) -> PreKeyId {
        self.signed
    }

    /// When the current signed prekey was made.
    pub fn signed_prekey_created(&self) -> Timestamp {
        self.signed_created
    }

    /// The retired signed prekeys still kept, newest first, with the time
    /// each was retired.
    pub fn retired_signed_prekeys(&self) -> impl Iterator<Item = (PreKeyId, Timestamp)> + '_ {
        self.retired.iter().map(|r| (r.id, r.since))
    }

    /// Whether a one-time prekey with this id has been published.
    pub fn is_published(&self, id: PreKeyId) -> bool {
        id.0 < self.unpublished_from
    }

    /// The epoch: how many times the device's state was restored from a
    /// backup ([`crate::Device::after_restore`]).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub(crate) fn next_epoch(&mut self) {
        self.epoch = self.epoch.saturating_add(1);
    }

    /// Whether everything published must be replaced: the state was
    /// restored since the last publication.
    pub fn must_republish(&self) -> bool {
        self.published_epoch < self.epoch
    }

    /// Records a whole publication of the current epoch.
    pub(crate) fn republished(&mut self) {
        self.published_epoch = self.epoch;
    }

    /// Moves the prekey ids past every id the device may have handed out
    /// after the state it was restored to: one-time ids by
    /// [`RESTORE_ONE_TIME_ID_GAP`], signed ids by [`RESTORE_SIGNED_ID_GAP`].
    /// `None` once ids ran out.
    pub(crate) fn skip_ids_after_restore(&mut self) -> Option<()> {
        self.next_one_time_id = self.next_one_time_id.checked_add(RESTORE_ONE_TIME_ID_GAP)?;
        self.next_signed_id = self.next_signed_id.checked_add(RESTORE_SIGNED_ID_GAP)?;
        self.unpublished_from = self.next_one_time_id;
        Some(())
    }

    pub(crate) fn bump(&mut self) {
        self.revision = self.revision.saturating_add(1);
    }

    pub(crate) fn set_certificate(&mut self, certificate: SenderCertificate) {
        self.certificate = Some(certificate);
    }

    /// Whether the current signed prekey is due for rotation at `now`. A
    /// clock that went backwards makes nothing due.
    pub(crate) fn rotation_due(&self, now: Timestamp) -> bool {
        now.0.saturating_sub(self.signed_created.0) >= SIGNED_PREKEY_ROTATION_SECS
    }

    /// The id for a new signed prekey, or `None` once ids ran out.
    pub(crate) fn take_signed_id(&mut self) -> Option<PreKeyId> {
        let id = self.next_signed_id;
        self.next_signed_id = id.checked_add(1)?;
        Some(PreKeyId(id))
    }

    /// `n` fresh one-time prekey ids, or `None` once ids ran out.
    pub(crate) fn take_one_time_ids(&mut self, n: usize) -> Option<core::ops::Range<u32>> {
        let start = self.next_one_time_id;
        let end = start.checked_add(u32::try_from(n).ok()?)?;
        self.next_one_time_id = end;
        Some(start..end)
    }

    /// Makes `id` (made at `now`) the current signed prekey and retires
    /// the previous one. Returns the signed prekeys to delete: those past
    /// their grace period, and the oldest beyond [`MAX_SIGNED_PREKEYS`].
    pub(crate) fn rotate(&mut self, id: PreKeyId, now: Timestamp) -> Vec<PreKeyId> {
        self.retired.insert(0, Retired { id: self.signed, since: now });
        self.signed = id;
        self.signed_created = now;
        self.expire(now)
    }

    /// Deletes retired signed prekeys past their grace period at `now`,
    /// and the oldest beyond [`MAX_SIGNED_PREKEYS`]; returns their ids.
    pub(crate) fn expire(&mut self, now: Timestamp) -> Vec<PreKeyId> {
        let mut gone = Vec::new();
        let mut kept = Vec::with_capacity(self.retired.len());
        for r in self.retired.drain(..) {
            let expired = now.0.saturating_sub(r.since.0) > SIGNED_PREKEY_GRACE_SECS;
            if expired || kept.len() + 1 >= MAX_SIGNED_PREKEYS {
                gone.push(r.id);
            } else {
                kept.push(r);
            }
        }
        self.retired = kept;
        gone
    }

    /// Marks every one-time prekey below `end` as published.
    pub(crate) fn mark_published(&mut self, end: u32) {
        self.unpublished_from = self.unpublished_from.max(end.min(self.next_one_time_id));
    }

    /// The next one-time prekey id to hand out.
    pub(crate) fn next_one_time_id(&self) -> u32 {
        self.next_one_time_id
    }

    /// The lowest one-time prekey id not yet published.
    pub(crate) fn unpublished_from(&self) -> u32 {
        self.unpublished_from
    }

    /// The stored form (secret: it holds the identity key).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::MAX_ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_ACCOUNT);
        w.u64(self.revision);
        self.address.encode(&mut w);
        w.bytes(&self.identity.to_bytes());
        w.flag(self.certificate.is_some());
        if let Some(certificate) = &self.certificate {
            certificate.encode(&mut w);
        }
        w.u32(self.signed.0);
        w.u64(self.signed_created.0);
        // At most MAX_SIGNED_PREKEYS - 1, which fits a byte.
        w.u8(u8::try_from(self.retired.len()).unwrap_or(u8::MAX));
        for r in &self.retired {
            w.u32(r.id.0);
            w.u64(r.since.0);
        }
        w.u32(self.next_signed_id);
        w.u32(self.next_one_time_id);
        w.u32(self.unpublished_from);
        w.u32(self.epoch);
        w.u32(self.published_epoch);
        out
    }

    /// Decodes a stored account.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed or inconsistent input (ids that are
    /// not below the next id to hand out, a retired prekey listed twice).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, Self::read)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_ACCOUNT)?;
        let revision = r.u64()?;
        let address = Address::read(r)?;
        let identity = IdentityKeyPair::from_bytes(r.take(IdentityKeyPair::ENCODED_LEN)?)?;
        let certificate = if r.flag()? { Some(SenderCertificate::read(r)?) } else { None };
        let signed = PreKeyId(r.u32()?);
        let signed_created = Timestamp(r.u64()?);
        let raw = r.u8()?;
        let n = r.count(u32::from(raw), MAX_SIGNED_PREKEYS - 1, 4 + 8)?;
        let mut retired = Vec::with_capacity(n);
        for _ in 0..n {
            retired.push(Retired { id: PreKeyId(r.u32()?), since: Timestamp(r.u64()?) });
        }
        let next_signed_id = r.u32()?;
        let next_one_time_id = r.u32()?;
        let unpublished_from = r.u32()?;
        let epoch = r.u32()?;
        let published_epoch = r.u32()?;
        let mut ids: Vec<u32> = retired.iter().map(|r| r.id.0).collect();
        ids.push(signed.0);
        ids.sort_unstable();
        let consistent = ids.windows(2).all(|w| matches!(w, [a, b] if a != b))
            && ids.iter().all(|&id| id < next_signed_id)
            && unpublished_from <= next_one_time_id
            && published_epoch <= epoch
            && certificate.as_ref().is_none_or(|c| {
                c.identity_key() == identity.public() && Address::of_certificate(c) == address
            });
        if !consistent {
            return Err(DecodeError::InconsistentState);
        }
        Ok(Self {
            revision,
            address,
            identity,
            certificate,
            signed,
            signed_created,
            retired,
            next_signed_id,
            next_one_time_id,
            unpublished_from,
            epoch,
            published_epoch,
        })
    }
}

impl zeroize::ZeroizeOnDrop for Account {}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("revision", &self.revision)
            .field("address", &self.address)
            .field("identity", &self.identity)
            .field("certificate", &self.certificate.is_some())
            .field("signed_prekey", &self.signed)
            .field("retired", &self.retired)
            .field("next_one_time_id", &self.next_one_time_id)
            .field("unpublished_from", &self.unpublished_from)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::certificate::{AppId, DeviceId, UserId};

    const DAY: u64 = 24 * 3600;

    fn account(now: u64) -> Account {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let address = Address::new(
            AppId::new("chat.a").unwrap(),
            UserId::new(b"alice").unwrap(),
            DeviceId(1),
        );
        Account::new(address, IdentityKeyPair::generate(&mut rng), Timestamp(now))
    }

    #[test]
    fn rotation_is_due_after_a_week_and_not_before() {
        let a = account(1000);
        assert!(!a.rotation_due(Timestamp(1000 + 7 * DAY - 1)));
        assert!(a.rotation_due(Timestamp(1000 + 7 * DAY)));
        // A clock that went backwards.
        assert!(!a.rotation_due(Timestamp(0)));
    }

    #[test]
    fn retired_prekeys_last_their_grace_period_and_no_more_than_the_bound() {
        let mut a = account(0);
        let mut now = 0;
        let mut deleted = Vec::new();
        for _ in 0..10 {
            now += 7 * DAY;
            let id = a.take_signed_id().unwrap();
            deleted.extend(a.rotate(id, Timestamp(now)));
            assert!(a.retired.len() < MAX_SIGNED_PREKEYS);
            // Every retired key is within its grace period.
            assert!(a.retired.iter().all(|r| now - r.since.0 <= SIGNED_PREKEY_GRACE_SECS));
        }
        // Keys 1..=10 were current in turn; 11 is current now. Retired at
        // weeks 1..=10; at week 10 those retired more than 30 days ago
        // (weeks 1 to 5) are gone.
        assert_eq!(a.signed.0, 11);
        assert_eq!(deleted.iter().map(|id| id.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(a.retired.iter().map(|r| r.id.0).collect::<Vec<_>>(), [10, 9, 8, 7, 6]);
        // Exactly at the end of the grace period a key is still kept; a
        // second later it goes.
        let at_edge = a.retired[4].since.0 + SIGNED_PREKEY_GRACE_SECS;
        assert!(a.expire(Timestamp(at_edge)).is_empty());
        assert_eq!(a.expire(Timestamp(at_edge + 1)), [PreKeyId(6)]);
    }

    #[test]
    fn rotating_too_often_deletes_the_oldest_early() {
        let mut a = account(0);
        for i in 0..MAX_SIGNED_PREKEYS as u64 + 2 {
            let id = a.take_signed_id().unwrap();
            a.rotate(id, Timestamp(i));
        }
        assert_eq!(a.retired.len(), MAX_SIGNED_PREKEYS - 1);
    }

    #[test]
    fn stored_account_round_trips_and_refuses_inconsistency() {
        let mut a = account(5);
        let id = a.take_signed_id().unwrap();
        a.rotate(id, Timestamp(9));
        a.take_one_time_ids(10).unwrap();
        a.mark_published(6);
        a.bump();
        let bytes = a.to_bytes();
        let b = Account::from_bytes(&bytes).unwrap();
        assert_eq!(b.to_bytes(), bytes);
        assert!(b.is_published(PreKeyId(5)) && !b.is_published(PreKeyId(6)));

        // The retired key's id set to the current one's.
        let mut twice = bytes.to_vec();
        let at = bytes.len() - 20 - 12;
        twice[at..at + 4].copy_from_slice(&2u32.to_be_bytes());
        assert_eq!(Account::from_bytes(&twice).err(), Some(DecodeError::InconsistentState));
    }
}
