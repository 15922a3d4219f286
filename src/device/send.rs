//! Starting sessions and sending.

use alloc::boxed::Box;
use alloc::vec::Vec;

use rand_core::CryptoRng;

use super::pending::MessageId;
use super::{Device, DeviceError, DeviceResult, IdentityQuestion};
use crate::address::{Address, UserAddress};
use crate::bundle::PreKeyBundle;
use crate::certificate::Timestamp;
use crate::error::{CertificateError, EncryptError};
use crate::identity::IdentityKey;
use crate::limits::{MAX_PENDING_SENT, MAX_PLAINTEXT_LEN, MAX_UNACKNOWLEDGED_SESSION_SECS};
use crate::session::Session;
use crate::session_record::SessionRecord;
use crate::store::{Changes, Store};
use crate::trust::{BundleCertificates, Decision, IdentityEvent, RemoteIdentity, Seen, Trust};

/// What [`Device::send`] made: one sealed multi-recipient envelope for the
/// relay, which splits it per recipient
/// ([`crate::MultiRecipientEnvelope`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sent {
    /// The message's id, by which the application acknowledges it
    /// ([`Device::acknowledge_sent`]) once the relay has taken it.
    pub id: MessageId,
    /// The envelope to upload.
    pub envelope: Vec<u8>,
    /// The devices it is for, each with the identity key the relay routes
    /// its share by.
    pub recipients: Vec<(Address, IdentityKey)>,
    /// Listed devices that have no usable session and did not get the
    /// message: fetch their bundles, [`Device::start_session`], and send
    /// to them again.
    pub missing: Vec<Address>,
    /// Listed devices whose key is on the trust store's deny list: they
    /// did not get the message.
    pub denied: Vec<Address>,
}

impl Sent {
    /// The envelope split per device, for a relay that takes one sealed
    /// envelope per recipient: each device's address and its envelope (its
    /// 151-byte prefix and a copy of the shared payload). A relay that
    /// takes the upload whole splits it without copying
    /// ([`crate::MultiRecipientEnvelope`]).
    pub fn envelopes(&self) -> Vec<(Address, Vec<u8>)> {
        let Ok(upload) = crate::MultiRecipientEnvelope::parse(&self.envelope) else {
            return Vec::new();
        };
        upload
            .recipients()
            .filter_map(|share| {
                let address = self
                    .recipients
                    .iter()
                    .find(|(_, k)| k.to_bytes() == *share.recipient())
                    .map(|(a, _)| a.clone())?;
                Some((address, share.to_envelope()))
            })
            .collect()
    }

    /// The device an identity key in [`Sent::recipients`] belongs to: for a
    /// relay that reports a recipient it does not know (then update the
    /// device list with [`Device::set_devices`]).
    pub fn recipient(&self, identity: &IdentityKey) -> Option<&Address> {
        self.recipients.iter().find(|(_, k)| k == identity).map(|(a, _)| a)
    }
}

impl<S: Store> Device<S> {
    /// Starts a session with the device at `address` from its `bundle`, as
    /// the X3DH initiator. The session becomes current: the next message
    /// to that device goes over it. Device lists are not changed: they
    /// are the server's ([`Device::set_devices`]).
    ///
    /// The bundle's certificate is checked as the trust policy requires
    /// (by default whenever the bundle's key is not the one trusted for
    /// the device already): it must validate at `now`, certify the
    /// bundle's identity key, and certify `address`. A certificate the
    /// bundle carries is checked even where none is required, and a key on
    /// the trust store's deny list is refused in every case. Then the
    /// identity key goes through the trust policy like any other.
    ///
    /// If the current session with `address` was started here, for the
    /// same key, in this epoch, can still send and awaits its reply,
    /// nothing is done: that session is on its way, and another would only
    /// cost a one-time prekey and archive room.
    ///
    /// Returns what changed about the device's identity, if anything: show
    /// it to the user as [`Received::identity_event`] would be shown.
    ///
    /// [`Received::identity_event`]: crate::Received::identity_event
    ///
    /// # Errors
    /// [`DeviceError::OwnAddress`]; [`DeviceError::Certificate`] for a
    /// bundle without the certificate required, one that does not hold, or
    /// a denied key; [`DeviceError::ReplacedIdentity`] for a key the
    /// device replaced (an old bundle); [`DeviceError::UntrustedIdentity`]
    /// or [`DeviceError::IdentityChanged`] if the policy wants the user to
    /// approve the key; [`DeviceError::Agreement`] for a bundle whose
    /// signature does not verify; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn start_session<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        address: &Address,
        bundle: &PreKeyBundle,
        now: Timestamp,
    ) -> DeviceResult<Option<IdentityEvent>, S> {
        if address == self.address() {
            return Err(DeviceError::OwnAddress);
        }
        if self.trust.is_denied(bundle.identity()) {
            return Err(CertificateError::Denied.into());
        }
        #[cfg(feature = "pq")]
        if self.policy.post_quantum == crate::trust::PostQuantum::Required
            && bundle.kem_prekey().is_none()
        {
            return Err(DeviceError::Agreement(crate::AgreementError::PostQuantumRequired));
        }
        self.attempt(|device| {
            let stored = device.store.load_identity(address).map_err(DeviceError::Store)?;
            let seen = Seen::of(stored.as_ref(), bundle.identity());
            let required = match device.policy.bundle_certificates {
                BundleCertificates::Required => seen != Seen::Known,
                BundleCertificates::RequiredAcrossApps => {
                    seen != Seen::Known && address.app() != device.address().app()
                }
                BundleCertificates::Optional => false,
            };
            if required || bundle.certificate().is_some() {
                bundle.check_certificate(&device.trust, address, now)?;
            }
            let event = device.identity_decision(address, &seen, bundle.identity())?;
            let mut record = device.load_session(address)?.unwrap_or_default();
            // A session started here for this key, in this epoch, that can
            // still send and awaits its reply is on its way: another would
            // only cost a prekey and archive room (a relay replaying old
            // envelopes would make an app that resets on each start many).
            let on_its_way = record.fresh_initiation(device.account.epoch())
                && record.remote_identity() == Some(bundle.identity())
                && device.can_send(&record, now);
            if on_its_way {
                return Ok(None);
            }
            let bound = record.refused().copied();
            let session =
                Session::initiate_below(rng, device.account.identity(), bundle, bound.as_ref())?;
            record.install_initiated(session, now, device.account.epoch());
            record.bump();
            let mut changes = Changes::new();
            changes.put_session(address.clone(), record);
            if event.is_some() {
                let identity = next_identity(stored.as_ref(), bundle.identity(), now);
                changes.put_identity(address.clone(), stored, identity);
            }
            device.commit(changes)?;
            Ok(event)
        })
    }

    /// Applies the trust policy to `identity`, seen for `address`: the
    /// event to report if it is accepted, the error if the user must
    /// decide, or the refusal of a replaced key.
    pub(super) fn identity_decision(
        &self,
        address: &Address,
        seen: &Seen,
        identity: &IdentityKey,
    ) -> DeviceResult<Option<IdentityEvent>, S> {
        let question = |previous: Option<IdentityKey>| {
            Box::new(IdentityQuestion { address: address.clone(), previous, identity: *identity })
        };
        match (seen.decision(&self.policy), seen) {
            (_, Seen::Known) => Ok(None),
            (None, _) | (_, Seen::Replaced) => Err(DeviceError::ReplacedIdentity(question(None))),
            (Some(Decision::Accept), Seen::New) => Ok(Some(IdentityEvent::New)),
            (Some(Decision::Accept), Seen::Changed(previous)) => {
                Ok(Some(IdentityEvent::Changed { previous: *previous.key() }))
            }
            (Some(Decision::AskUser), Seen::New) => {
                Err(DeviceError::UntrustedIdentity(question(None)))
            }
            (Some(Decision::AskUser), Seen::Changed(previous)) => {
                Err(DeviceError::IdentityChanged(question(Some(*previous.key()))))
            }
        }
    }

    /// The devices a message to `user` goes to (its devices, and this
    /// user's other devices) that have no usable session: fetch a bundle
    /// for each and call [`Device::start_session`] before sending. A
    /// session is not usable once it predates a restored backup
    /// ([`Device::after_restore`]), or when it was initiated here and has
    /// waited for a reply longer than
    /// [`crate::limits::MAX_UNACKNOWLEDGED_SESSION_SECS`].
    ///
    /// # Errors
    /// [`DeviceError::Store`].
    pub fn missing_sessions(
        &self,
        user: &UserAddress,
        now: Timestamp,
    ) -> DeviceResult<Vec<Address>, S> {
        let mut missing = Vec::new();
        for address in self.recipients_of(user)? {
            let record = self.load_session(&address)?.unwrap_or_default();
            if !self.can_send(&record, now) {
                missing.push(address);
            }
        }
        Ok(missing)
    }

    pub(super) fn can_send(&self, record: &SessionRecord, now: Timestamp) -> bool {
        record.can_send(now, self.account.epoch(), MAX_UNACKNOWLEDGED_SESSION_SECS)
    }

    /// The devices of `user` and this user's other devices, this device
    /// left out.
    fn recipients_of(&self, user: &UserAddress) -> DeviceResult<Vec<Address>, S> {
        let own = self.address().user().clone();
        let mut addresses: Vec<Address> =
            self.load_device_list(user)?.devices().iter().map(|&d| user.device(d)).collect();
        if *user != own {
            addresses.extend(self.load_device_list(&own)?.devices().iter().map(|&d| own.device(d)));
        }
        addresses.retain(|a| a != self.address());
        Ok(addresses)
    }

    /// Sends `plaintext` to every device of `user` and to this user's other
    /// devices, each over its current session, in one sealed envelope.
    ///
    /// The advanced sessions are stored before the envelope is returned:
    /// hand it to the network only after this returns. Devices without a
    /// usable session are listed in [`Sent::missing`] and do not get the
    /// message. Costs per recipient one encryption, the load and store of
    /// its session record, and one X25519 and 81 bytes in the envelope.
    ///
    /// # Errors
    /// [`DeviceError::NoRecipients`] if no device has a usable session;
    /// [`DeviceError::NoCertificate`] before [`Device::set_certificate`];
    /// [`DeviceError::Encrypt`] for a plaintext above
    /// [`crate::limits::MAX_PLAINTEXT_LEN`]; [`DeviceError::Seal`] for an
    /// envelope above the limits; [`DeviceError::Store`],
    /// [`DeviceError::Conflict`].
    pub fn send<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        user: &UserAddress,
        plaintext: &[u8],
        now: Timestamp,
    ) -> DeviceResult<Sent, S> {
        let addresses = self.recipients_of(user)?;
        self.send_to_devices(rng, &addresses, plaintext, now)
    }

    /// Sends `plaintext` to one device only (a reply to the device that
    /// wrote, a message for this user's own other device).
    ///
    /// # Errors
    /// [`DeviceError::UnknownDevice`] if the device is not in its user's
    /// device list; [`DeviceError::OwnAddress`]; otherwise as
    /// [`Device::send`].
    pub fn send_to_device<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        address: &Address,
        plaintext: &[u8],
        now: Timestamp,
    ) -> DeviceResult<Sent, S> {
        if address == self.address() {
            return Err(DeviceError::OwnAddress);
        }
        if !self.load_device_list(address.user())?.contains(address.device()) {
            return Err(DeviceError::UnknownDevice(address.clone()));
        }
        self.send_to_devices(rng, core::slice::from_ref(address), plaintext, now)
    }

    fn send_to_devices<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        addresses: &[Address],
        plaintext: &[u8],
        now: Timestamp,
    ) -> DeviceResult<Sent, S> {
        if self.sealer.is_none() {
            return Err(DeviceError::NoCertificate);
        }
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(EncryptError::PlaintextTooLong.into());
        }
        self.attempt(|device| {
            let (_, waiting) = device.store.pending_counts().map_err(DeviceError::Store)?;
            if waiting >= MAX_PENDING_SENT {
                return Err(DeviceError::OutboxFull);
            }
            let mut missing = Vec::new();
            let mut denied = Vec::new();
            let mut recipients = Vec::new();
            let mut messages: Vec<(IdentityKey, Vec<u8>)> = Vec::new();
            let mut changes = Changes::new();
            for address in addresses {
                let mut record = device.load_session(address)?.unwrap_or_default();
                if !device.can_send(&record, now) {
                    missing.push(address.clone());
                    continue;
                }
                let Some(session) = record.current_mut() else {
                    missing.push(address.clone());
                    continue;
                };
                if device.trust.is_denied(session.remote_identity()) {
                    denied.push(address.clone());
                    continue;
                }
                let message = session.encrypt(rng, plaintext)?;
                let identity = *session.remote_identity();
                record.bump();
                changes.put_session(address.clone(), record);
                recipients.push((address.clone(), identity));
                messages.push((identity, message));
            }
            if recipients.is_empty() {
                missing.extend(denied);
                return Err(DeviceError::NoRecipients { missing });
            }
            let list: Vec<(IdentityKey, &[u8])> =
                messages.iter().map(|(k, m)| (*k, m.as_slice())).collect();
            let padding = device.padding;
            let sealer = device.sealer.as_mut().ok_or(DeviceError::NoCertificate)?;
            let envelope = sealer.seal_to_many(rng, device.account.identity(), &list, padding)?;
            let sent = Sent { id: MessageId::of(&envelope), envelope, recipients, missing, denied };
            // Stored with the sessions, before the envelope leaves: if the
            // application dies before the upload, the envelope is still
            // pending when it starts again.
            changes.add_sent(sent.clone());
            device.commit(changes)?;
            Ok(sent)
        })
    }
}

/// The identity to store for a key accepted at `now`: a new one, or the
/// stored one replaced by it.
pub(super) fn next_identity(
    stored: Option<&RemoteIdentity>,
    key: &IdentityKey,
    now: Timestamp,
) -> RemoteIdentity {
    match stored {
        Some(stored) => stored.replace(*key, Trust::Accepted, now),
        None => RemoteIdentity::new(*key, Trust::Accepted, now),
    }
}
