//! What a device keeps about one group (`docs/protocol.md` §21.5).

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{GroupId, SenderKey};
use crate::address::{Address, UserAddress};
use crate::codec::{Codec, Writer, decode_all};
use crate::error::{DecodeError, GroupError};
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, X_GROUP_RECORD};
use crate::limits::{MAX_GROUP_DEVICES, MAX_GROUP_ID_LEN, MAX_GROUP_MEMBERS};

/// One group as this device has it: its members (from the application's
/// server), this device's own sender key for it, which devices hold that
/// key, and whose sender keys this device holds. Zeroized on drop (the
/// sender key).
///
/// Stored through [`crate::store::GroupStore`] with a revision that grows
/// by one with every stored change.
pub struct GroupRecord {
    revision: u64,
    id: GroupId,
    /// Sorted, distinct.
    members: Vec<UserAddress>,
    sender_key: Option<SenderKey>,
    /// The account's epoch when the sender key was made: a key from before
    /// a restored backup is replaced before the next message.
    key_epoch: u32,
    /// Set when a device that held the sender key stopped being a
    /// recipient: the next message goes out under a new key.
    rotate: bool,
    /// The devices holding the current sender key, with the identity key
    /// each was handed it under. Sorted by address, distinct.
    distributed: Vec<(Address, IdentityKey)>,
    /// The devices whose sender keys this device holds. Sorted, distinct.
    senders: Vec<Address>,
}

impl zeroize::ZeroizeOnDrop for GroupRecord {}

impl GroupRecord {
    /// The longest stored record.
    pub const MAX_ENCODED_LEN: usize = 2
        + 8
        + 4
        + MAX_GROUP_ID_LEN
        + 4
        + MAX_GROUP_MEMBERS * UserAddress::MAX_ENCODED_LEN
        + 1
        + SenderKey::STORED_LEN
        + 4
        + 1
        + 4
        + MAX_GROUP_DEVICES * (Address::MAX_ENCODED_LEN + IdentityKey::ENCODED_LEN)
        + 4
        + MAX_GROUP_DEVICES * Address::MAX_ENCODED_LEN;

    /// A new group with `members` (sorted and deduplicated here), no sender
    /// key yet, revision 0.
    ///
    /// # Errors
    /// [`GroupError::TooManyMembers`] above
    /// [`crate::limits::MAX_GROUP_MEMBERS`].
    pub(crate) fn new(id: GroupId, members: &[UserAddress]) -> Result<Self, GroupError> {
        let mut record = Self {
            revision: 0,
            id,
            members: Vec::new(),
            sender_key: None,
            key_epoch: 0,
            rotate: false,
            distributed: Vec::new(),
            senders: Vec::new(),
        };
        record.set_members(members)?;
        Ok(record)
    }

    /// The revision: how many times the record was stored.
    pub const fn revision(&self) -> u64 {
        self.revision
    }

    pub(crate) fn bump(&mut self) {
        self.revision = self.revision.saturating_add(1);
    }

    /// The group's id.
    pub const fn id(&self) -> &GroupId {
        &self.id
    }

    /// The members, sorted.
    pub fn members(&self) -> &[UserAddress] {
        &self.members
    }

    /// Whether `user` is a member.
    pub fn is_member(&self, user: &UserAddress) -> bool {
        self.members.binary_search(user).is_ok()
    }

    /// This device's sender key for the group, once it has sent.
    pub const fn sender_key(&self) -> Option<&SenderKey> {
        self.sender_key.as_ref()
    }

    /// The account epoch the sender key was made in.
    pub const fn key_epoch(&self) -> u32 {
        self.key_epoch
    }

    /// Whether the next message goes out under a new sender key.
    pub const fn rotation_pending(&self) -> bool {
        self.rotate
    }

    /// The devices that hold this device's current sender key.
    pub fn distributed(&self) -> &[(Address, IdentityKey)] {
        &self.distributed
    }

    /// The devices whose sender keys this device holds.
    pub fn senders(&self) -> &[Address] {
        &self.senders
    }

    /// Replaces the members. Returns the users that are no longer members.
    pub(crate) fn set_members(
        &mut self,
        members: &[UserAddress],
    ) -> Result<Vec<UserAddress>, GroupError> {
        let mut next = members.to_vec();
        next.sort_unstable();
        next.dedup();
        if next.len() > MAX_GROUP_MEMBERS {
            return Err(GroupError::TooManyMembers);
        }
        let removed: Vec<UserAddress> =
            self.members.iter().filter(|m| next.binary_search(m).is_err()).cloned().collect();
        self.members = next;
        Ok(removed)
    }

    /// Asks for a new sender key before the next message.
    pub(crate) fn require_rotation(&mut self) {
        if self.sender_key.is_some() {
            self.rotate = true;
        }
    }

    /// The sender key to send with, made or rotated first if needed (a
    /// key made before epoch `epoch` is replaced): a new key starts with
    /// nobody holding it.
    pub(crate) fn sending_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        epoch: u32,
    ) -> &mut SenderKey {
        if self.key_epoch < epoch {
            self.require_rotation();
        }
        let replace = match &self.sender_key {
            None => Some(SenderKey::generate(rng)),
            Some(key) if self.rotate => Some(SenderKey::rotate(rng, key.chain_id())),
            Some(_) => None,
        };
        if let Some(key) = replace {
            self.distributed.clear();
            self.rotate = false;
            self.key_epoch = epoch;
            self.sender_key = Some(key);
        }
        self.sender_key.get_or_insert_with(|| SenderKey::generate(rng))
    }

    /// Whether `device`, under `identity`, holds the current sender key.
    pub(crate) fn holds_key(&self, device: &Address, identity: &IdentityKey) -> bool {
        self.distributed
            .binary_search_by(|(a, _)| a.cmp(device))
            .ok()
            .and_then(|i| self.distributed.get(i))
            .is_some_and(|(_, k)| k == identity)
    }

    /// Forgets that `device` holds the current sender key: the next message
    /// hands it the key again. Returns whether it was a holder.
    pub(crate) fn forget_holder(&mut self, device: &Address) -> bool {
        let before = self.distributed.len();
        self.distributed.retain(|(a, _)| a != device);
        self.distributed.len() != before
    }

    /// Records that `device` now holds the current sender key.
    pub(crate) fn mark_distributed(&mut self, device: Address, identity: IdentityKey) {
        match self.distributed.binary_search_by(|(a, _)| a.cmp(&device)) {
            Ok(i) => {
                if let Some(entry) = self.distributed.get_mut(i) {
                    entry.1 = identity;
                }
            }
            Err(i) => self.distributed.insert(i, (device, identity)),
        }
    }

    /// Forgets the holders that are not among `recipients` (with the same
    /// identity key) and asks for a rotation if there were any: a device
    /// that left, or was reinstalled, must not read what comes next.
    /// Returns whether a rotation is now pending.
    pub(crate) fn check_holders(&mut self, recipients: &[(Address, IdentityKey)]) -> bool {
        let gone =
            self.distributed.iter().any(|(a, k)| !recipients.iter().any(|(b, j)| a == b && k == j));
        if gone {
            self.require_rotation();
        }
        self.rotate
    }

    /// Records that this device holds `sender`'s keys.
    pub(crate) fn add_sender(&mut self, sender: &Address) {
        if let Err(i) = self.senders.binary_search(sender) {
            self.senders.insert(i, sender.clone());
        }
    }

    /// The stored form. It holds the sender key: the buffer wipes itself.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_GROUP_RECORD);
        w.u64(self.revision);
        self.id.encode(&mut w);
        w.u32(u32::try_from(self.members.len()).unwrap_or(u32::MAX));
        for member in &self.members {
            member.encode(&mut w);
        }
        w.flag(self.sender_key.is_some());
        if let Some(key) = &self.sender_key {
            key.encode(&mut w);
            w.u32(self.key_epoch);
        }
        w.flag(self.rotate);
        w.u32(u32::try_from(self.distributed.len()).unwrap_or(u32::MAX));
        for (address, identity) in &self.distributed {
            address.encode(&mut w);
            identity.encode(&mut w);
        }
        w.u32(u32::try_from(self.senders.len()).unwrap_or(u32::MAX));
        for address in &self.senders {
            address.encode(&mut w);
        }
        out
    }

    /// Decodes a stored record: members and devices sorted and distinct,
    /// within the limits; a rotation pending only with a sender key.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed or inconsistent input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_GROUP_RECORD)?;
            let revision = r.u64()?;
            let id = GroupId::read(r)?;
            let raw = r.u32()?;
            let n = r.count(raw, MAX_GROUP_MEMBERS, 10)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(UserAddress::read(r)?);
            }
            let (sender_key, key_epoch) =
                if r.flag()? { (Some(SenderKey::read(r)?), r.u32()?) } else { (None, 0) };
            let rotate = r.flag()?;
            if rotate && sender_key.is_none() {
                return Err(DecodeError::InconsistentState);
            }
            let raw = r.u32()?;
            let n = r.count(raw, MAX_GROUP_DEVICES, 16 + IdentityKey::ENCODED_LEN)?;
            let mut distributed = Vec::with_capacity(n);
            for _ in 0..n {
                distributed.push((Address::read(r)?, IdentityKey::read(r)?));
            }
            let raw = r.u32()?;
            let n = r.count(raw, MAX_GROUP_DEVICES, 16)?;
            let mut senders = Vec::with_capacity(n);
            for _ in 0..n {
                senders.push(Address::read(r)?);
            }
            let sorted = members.windows(2).all(|w| matches!(w, [a, b] if a < b))
                && distributed.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0))
                && senders.windows(2).all(|w| matches!(w, [a, b] if a < b));
            if !sorted || (sender_key.is_none() && !distributed.is_empty()) {
                return Err(DecodeError::InconsistentState);
            }
            Ok(Self { revision, id, members, sender_key, key_epoch, rotate, distributed, senders })
        })
    }
}

impl fmt::Debug for GroupRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupRecord")
            .field("revision", &self.revision)
            .field("id", &self.id)
            .field("members", &self.members.len())
            .field("sender_key", &self.sender_key)
            .field("key_epoch", &self.key_epoch)
            .field("rotate", &self.rotate)
            .field("distributed", &self.distributed.len())
            .field("senders", &self.senders.len())
            .finish()
    }
}
