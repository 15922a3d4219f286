//! Groups through the device API: membership, sending with sender keys,
//! and receiving group messages (`docs/protocol.md` §21,
//! `docs/sessions.md` §12).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rand_core::CryptoRng;

use super::pending::MessageId;
use super::receive::{Received, ReceivedKind, decrypt_error};
use super::{Device, DeviceError, DeviceResult, Sent};
use crate::address::{Address, UserAddress};
use crate::certificate::Timestamp;
use crate::error::{EncryptError, Error, GroupError};
use crate::group::{GroupId, GroupMessage, GroupRecord, SenderKeyDistribution};
use crate::identity::IdentityKey;
use crate::limits::{MAX_GROUP_DEVICES, MAX_PENDING_RECEIVED, MAX_PENDING_SENT, MAX_PLAINTEXT_LEN};
use crate::store::{Changes, Store};
use crate::trust::Seen;

/// What [`Device::send_to_group`] made: the uploads for the relay, in the
/// order to upload them. Every one of them is also kept as a pending sent
/// message ([`Device::pending_sent`]) until acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupSent {
    /// This device's sender key for the devices that did not hold it yet,
    /// one upload per user (over the pairwise sessions, sealed with the
    /// distribution content type). Upload these first: a member that gets
    /// the group message before its sender key keeps it for later
    /// ([`GroupError::NoSenderKey`]).
    pub distributions: Vec<Sent>,
    /// The group message: one upload whose payload holds the message once,
    /// with a 81-byte share per recipient device. Each recipient downloads
    /// its 151-byte prefix and that payload, whatever the group's size.
    pub message: Sent,
    /// Whether this message went out under a new sender key (the first
    /// message, or after a member or one of its devices left).
    pub rotated: bool,
}

impl<S: Store> Device<S> {
    /// Creates the group `group` on this device with `members` (users; the
    /// application's server keeps the list, and every member's devices
    /// call this with the same list). This user's own devices are always
    /// recipients, whether or not the list names this user.
    ///
    /// # Errors
    /// [`GroupError::GroupExists`] (as [`DeviceError::Group`]);
    /// [`GroupError::TooManyMembers`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn create_group(
        &mut self,
        group: &GroupId,
        members: &[UserAddress],
    ) -> DeviceResult<(), S> {
        self.attempt(|device| {
            if device.store.load_group(group).map_err(DeviceError::Store)?.is_some() {
                return Err(GroupError::GroupExists.into());
            }
            let mut record = GroupRecord::new(group.clone(), members)?;
            record.bump();
            let mut changes = Changes::new();
            changes.put_group(record);
            device.commit(changes)
        })
    }

    /// This device's record of `group`: its members, and whose keys it
    /// holds.
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn group(&self, group: &GroupId) -> DeviceResult<Option<GroupRecord>, S> {
        self.store.load_group(group).map_err(DeviceError::Store)
    }

    /// Adds `users` to `group`. Each new member's devices get this device's
    /// current sender key with its next group message, at the chain's
    /// current position: they cannot read the messages sent before.
    ///
    /// # Errors
    /// As [`Device::set_group_members`].
    pub fn add_group_members(
        &mut self,
        group: &GroupId,
        users: &[UserAddress],
    ) -> DeviceResult<(), S> {
        self.change_members(group, |members| members.extend_from_slice(users))
    }

    /// Removes `users` from `group`: their group messages and sender keys
    /// are refused from now on ([`GroupError::NotAMember`]; what this device
    /// holds of their keys stays, for a member added back), and this
    /// device's next group message goes out under a new sender key, which
    /// they do not get. Every remaining member's devices must apply the
    /// same removal (from the application's server) before they next send.
    /// This device's own user is never removed from its view.
    ///
    /// # Errors
    /// As [`Device::set_group_members`].
    pub fn remove_group_members(
        &mut self,
        group: &GroupId,
        users: &[UserAddress],
    ) -> DeviceResult<(), S> {
        self.change_members(group, |members| members.retain(|m| !users.contains(m)))
    }

    /// Replaces the members of `group` with `members`, with the effects of
    /// [`Device::add_group_members`] and [`Device::remove_group_members`]
    /// for those added and removed.
    ///
    /// # Errors
    /// [`GroupError::UnknownGroup`]; [`GroupError::TooManyMembers`];
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn set_group_members(
        &mut self,
        group: &GroupId,
        members: &[UserAddress],
    ) -> DeviceResult<(), S> {
        self.change_members(group, |list| *list = members.to_vec())
    }

    fn change_members(
        &mut self,
        group: &GroupId,
        change: impl Fn(&mut Vec<UserAddress>),
    ) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut record = device.load_group(group)?;
            let mut members = record.members().to_vec();
            change(&mut members);
            let removed = record.set_members(&members)?;
            // This user is never removed from its own devices' view: they
            // stay recipients and senders whether or not the list names it.
            let own = device.address().user();
            if removed.iter().any(|user| user != own) {
                record.require_rotation();
            }
            record.bump();
            let mut changes = Changes::new();
            changes.put_group(record);
            device.commit(changes)
        })
    }

    /// Makes this device's next message to `group` go out under a new
    /// sender key, handed to the recipients of that message only: after a
    /// device was stolen, once it is off its user's device list (or its
    /// key denied), or at any time the application chooses.
    ///
    /// # Errors
    /// [`GroupError::UnknownGroup`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn rotate_group_key(&mut self, group: &GroupId) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut record = device.load_group(group)?;
            if record.sender_key().is_none() || record.rotation_pending() {
                return Ok(());
            }
            record.require_rotation();
            record.bump();
            let mut changes = Changes::new();
            changes.put_group(record);
            device.commit(changes)
        })
    }

    /// Hands this device's current sender key for `group` to `to` again
    /// with the next group message: for a device that reports it never got
    /// it (its group messages answer [`GroupError::NoSenderKey`] and no key
    /// arrives), after the relay lost it. Nothing changes if `to` did not
    /// hold it.
    ///
    /// # Errors
    /// [`GroupError::UnknownGroup`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn resend_group_key(&mut self, group: &GroupId, to: &Address) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let mut record = device.load_group(group)?;
            if !record.forget_holder(to) {
                return Ok(());
            }
            record.bump();
            let mut changes = Changes::new();
            changes.put_group(record);
            device.commit(changes)
        })
    }

    /// Deletes `group` from this device (this user left it, or it was
    /// dissolved): the record, this device's sender key and every sender
    /// key it held. Deleting a group that does not exist changes nothing.
    ///
    /// # Errors
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn delete_group(&mut self, group: &GroupId) -> DeviceResult<(), S> {
        self.attempt(|device| {
            let Some(record) = device.store.load_group(group).map_err(DeviceError::Store)? else {
                return Ok(());
            };
            let mut changes = Changes::new();
            for sender in record.senders() {
                changes.delete_sender_key(group.clone(), sender.clone());
            }
            changes.delete_group(group.clone());
            device.commit(changes)
        })
    }

    /// Sends `plaintext` to every device of every member of `group` (and
    /// this user's other devices): one group message under this device's
    /// sender key, sealed once for all of them.
    ///
    /// In order: the recipients are the devices in the members' device
    /// lists with a usable session (the others are in [`GroupSent`]'s
    /// `message.missing`: start sessions and send again for them to get
    /// the key); if a device that held the sender key is no longer a
    /// recipient under the same identity key (it left, or was
    /// reinstalled), or a member was removed, the key is replaced first;
    /// each recipient without the current key gets it over its session;
    /// then the message is encrypted and sealed. The advanced sessions,
    /// the group record and every upload are stored in one commit before
    /// this returns.
    ///
    /// # Errors
    /// [`GroupError::UnknownGroup`]; [`GroupError::TooManyDevices`] above
    /// [`MAX_GROUP_DEVICES`]; [`DeviceError::NoRecipients`] if no device
    /// has a usable session; [`DeviceError::OutboxFull`] if the uploads do
    /// not fit the outbox; [`DeviceError::NoCertificate`];
    /// [`DeviceError::Encrypt`] above [`MAX_PLAINTEXT_LEN`];
    /// [`DeviceError::Seal`]; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn send_to_group<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        group: &GroupId,
        plaintext: &[u8],
        now: Timestamp,
    ) -> DeviceResult<GroupSent, S> {
        if self.sealer.is_none() {
            return Err(DeviceError::NoCertificate);
        }
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong.into());
        }
        self.attempt(|device| device.send_to_group_once(rng, group, plaintext, now))
    }

    fn send_to_group_once<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        group: &GroupId,
        plaintext: &[u8],
        now: Timestamp,
    ) -> DeviceResult<GroupSent, S> {
        let mut record = self.load_group(group)?;
        let addresses = self.group_devices(&record)?;
        let mut missing = Vec::new();
        let mut denied = Vec::new();
        let mut recipients: Vec<(Address, IdentityKey)> = Vec::new();
        let mut sessions = Vec::new();
        for address in addresses {
            let record = self.load_session(&address)?.unwrap_or_default();
            let identity = match record.current() {
                Some(session) if self.can_send(&record, now) => *session.remote_identity(),
                _ => {
                    missing.push(address);
                    continue;
                }
            };
            if self.trust.is_denied(&identity) {
                denied.push(address);
                continue;
            }
            recipients.push((address, identity));
            sessions.push(record);
        }
        if recipients.is_empty() {
            missing.extend(denied);
            return Err(DeviceError::NoRecipients { missing });
        }

        let epoch = self.account.epoch();
        let rotated = record.check_holders(&recipients)
            || record.sender_key().is_none()
            || record.key_epoch() < epoch;
        let key = record.sending_key(rng, epoch);
        let distribution = key.distribution(group);
        let message = key.encrypt(rng, group, plaintext)?;

        // The sender key, over the sessions, to the devices without it:
        // one upload per user.
        let mut changes = Changes::new();
        let bytes = distribution.to_bytes();
        let mut by_user: BTreeMap<UserAddress, Vec<(Address, IdentityKey, Vec<u8>)>> =
            BTreeMap::new();
        for ((address, identity), mut session_record) in recipients.iter().zip(sessions) {
            if record.holds_key(address, identity) {
                continue;
            }
            let Some(session) = session_record.current_mut() else { continue };
            let sealed = session.encrypt(rng, &bytes)?;
            session_record.bump();
            changes.put_session(address.clone(), session_record);
            record.mark_distributed(address.clone(), *identity);
            by_user.entry(address.user().clone()).or_default().push((
                address.clone(),
                *identity,
                sealed,
            ));
        }
        let (_, waiting) = self.store.pending_counts().map_err(DeviceError::Store)?;
        if waiting.saturating_add(by_user.len()).saturating_add(1) > MAX_PENDING_SENT {
            return Err(DeviceError::OutboxFull);
        }
        let padding = self.padding;
        let identity = self.account.identity();
        let sealer = self.sealer.as_mut().ok_or(DeviceError::NoCertificate)?;
        let mut distributions = Vec::with_capacity(by_user.len());
        for (_, devices) in by_user {
            let list: Vec<(IdentityKey, &[u8])> =
                devices.iter().map(|(_, k, m)| (*k, m.as_slice())).collect();
            let envelope = sealer.seal_distributions(rng, identity, &list, padding)?;
            let sent = Sent {
                id: MessageId::of(&envelope),
                envelope,
                recipients: devices.into_iter().map(|(a, k, _)| (a, k)).collect(),
                missing: Vec::new(),
                denied: Vec::new(),
            };
            changes.add_sent(sent.clone());
            distributions.push(sent);
        }

        let keys: Vec<IdentityKey> = recipients.iter().map(|(_, k)| *k).collect();
        let envelope = sealer.seal_group(rng, identity, &keys, &message, padding)?;
        let sent = Sent { id: MessageId::of(&envelope), envelope, recipients, missing, denied };
        changes.add_sent(sent.clone());
        record.bump();
        changes.put_group(record);
        self.commit(changes)?;
        Ok(GroupSent { distributions, message: sent, rotated })
    }

    /// The devices a group message goes to: every listed device of every
    /// member, and this user's other devices, this device left out.
    fn group_devices(&self, record: &GroupRecord) -> DeviceResult<Vec<Address>, S> {
        let own = self.address().user();
        let mut users: Vec<&UserAddress> = record.members().iter().collect();
        if !record.is_member(own) {
            users.push(own);
        }
        let mut addresses = Vec::new();
        for user in users {
            for &d in self.load_device_list(user)?.devices() {
                let address = user.device(d);
                if address != *self.address() {
                    addresses.push(address);
                }
            }
            if addresses.len() > MAX_GROUP_DEVICES {
                return Err(GroupError::TooManyDevices.into());
            }
        }
        Ok(addresses)
    }

    fn load_group(&self, group: &GroupId) -> DeviceResult<GroupRecord, S> {
        self.store
            .load_group(group)
            .map_err(DeviceError::Store)?
            .ok_or(DeviceError::Group { from: None, error: GroupError::UnknownGroup })
    }

    /// Whether `from` may write to the group: a member, or this user's own
    /// device.
    fn check_member(&self, record: &GroupRecord, from: &Address) -> DeviceResult<(), S> {
        if record.is_member(from.user()) || from.user() == self.address().user() {
            Ok(())
        } else {
            Err(DeviceError::Group { from: Some(from.clone()), error: GroupError::NotAMember })
        }
    }

    /// Stores `key`, received from `from` (under `sender`) over a session,
    /// into `changes`.
    pub(super) fn take_sender_key(
        &self,
        from: &Address,
        sender: &IdentityKey,
        key: &SenderKeyDistribution,
        changes: &mut Changes,
    ) -> DeviceResult<(), S> {
        let group = key.group_id();
        let mut record = self.load_group(group).map_err(|e| with_sender(e, from))?;
        self.check_member(&record, from)?;
        let mut keys = self
            .store
            .load_sender_key(group, from)
            .map_err(DeviceError::Store)?
            .unwrap_or_default();
        if keys.process(sender, key) {
            keys.bump();
            changes.put_sender_key(group.clone(), from.clone(), keys);
        }
        if !record.senders().contains(from) {
            if record.senders().len() >= MAX_GROUP_DEVICES {
                return Err(DeviceError::Group {
                    from: Some(from.clone()),
                    error: GroupError::TooManySenders,
                });
            }
            record.add_sender(from);
            record.bump();
            changes.put_group(record);
        }
        Ok(())
    }

    /// Receives a group message from `from` (under `sender`).
    pub(super) fn receive_group(
        &mut self,
        id: MessageId,
        from: &Address,
        sender: &IdentityKey,
        message: &GroupMessage<'_>,
    ) -> DeviceResult<Received, S> {
        let group = message.group_id()?;
        let record = self.load_group(&group).map_err(|e| with_sender(e, from))?;
        self.check_member(&record, from)?;
        // Only the identity key this device trusts for the sender may
        // write: an envelope under a key it replaced (an old install) is
        // refused as in a session; any other key has no sender key here.
        let stored = self.store.load_identity(from).map_err(DeviceError::Store)?;
        match Seen::of(stored.as_ref(), sender) {
            Seen::Known => {}
            seen @ Seen::Replaced => {
                self.identity_decision(from, &seen, sender)?;
            }
            _ => {
                return Err(DeviceError::Group {
                    from: Some(from.clone()),
                    error: GroupError::NoSenderKey,
                });
            }
        }
        let (waiting, _) = self.store.pending_counts().map_err(DeviceError::Store)?;
        if waiting >= MAX_PENDING_RECEIVED {
            return Err(DeviceError::InboxFull);
        }
        let no_key =
            || DeviceError::Group { from: Some(from.clone()), error: GroupError::NoSenderKey };
        let mut keys = self
            .store
            .load_sender_key(&group, from)
            .map_err(DeviceError::Store)?
            .ok_or_else(no_key)?;
        let plaintext = keys.decrypt(sender, message).map_err(|e| match e {
            Error::Group(error) => DeviceError::Group { from: Some(from.clone()), error },
            Error::Decrypt(error) => decrypt_error(from, error),
            Error::Decode(e) => DeviceError::Decode(e),
            _ => no_key(),
        })?;
        keys.bump();
        let listed = self.load_device_list(from.user())?.contains(from.device());
        let mut changes = Changes::new();
        changes.put_sender_key(group.clone(), from.clone(), keys);
        let received = Received {
            id,
            from: from.clone(),
            identity: *sender,
            plaintext,
            identity_event: None,
            kind: ReceivedKind::GroupMessage(group),
            new_session: false,
            listed,
        };
        changes.add_received(received.clone());
        self.commit(changes)?;
        Ok(received)
    }
}

/// Names the sender in a group error.
fn with_sender<E>(error: DeviceError<E>, from: &Address) -> DeviceError<E> {
    match error {
        DeviceError::Group { from: None, error } => {
            DeviceError::Group { from: Some(from.clone()), error }
        }
        other => other,
    }
}
