//! Receiving: unseal, check, route, decrypt, store (`docs/sessions.md` §4).

use alloc::vec::Vec;

use super::{Device, DeviceError, DeviceResult};
use crate::address::Address;
use crate::certificate::Timestamp;
use crate::error::{AgreementError, DecryptError, Error};
use crate::identity::IdentityKey;
use crate::message::{InitialMessage, Message};
use crate::sealed::unseal;
use crate::session::Session;
use crate::session_record::SessionRecord;
use crate::store::{Changes, Store};
use crate::trust::{IdentityEvent, RemoteIdentity, Seen, Trust};

/// A message [`Device::receive`] opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// The device that sent it, as its certificate from its own app names
    /// it.
    pub from: Address,
    /// The sender device's identity key.
    pub identity: IdentityKey,
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// What changed about the sender's identity key, if anything: show it
    /// to the user (a new contact, a changed safety number).
    pub identity_event: Option<IdentityEvent>,
    /// Whether the message started a new session with the sender.
    pub new_session: bool,
}

impl<S: Store> Device<S> {
    /// Opens an envelope the relay delivered, at `now` (this device's own
    /// clock).
    ///
    /// In order: the envelope is unsealed and the sender's certificate
    /// validated against the trust roots; the sender's identity key goes
    /// through the trust policy; the message goes to the session it
    /// belongs to (an initial message to the session with its base key, or
    /// a new session if its base key was never accepted; a ratchet message
    /// to the current session, then the archived ones); and the advanced
    /// session, the consumed one-time prekey, the accepted base key and
    /// the sender's identity are stored in one commit, before the
    /// plaintext is returned. Any failure stores nothing.
    ///
    /// # Errors
    /// Each with its [`DeviceError::action`]:
    /// [`DeviceError::Unseal`] (the envelope, or its certificate, does not
    /// hold); [`DeviceError::FromSelf`]; [`DeviceError::UntrustedIdentity`]
    /// or [`DeviceError::IdentityChanged`] (keep the envelope, ask the
    /// user, receive it again once approved); [`DeviceError::Decrypt`]
    /// with [`DecryptError::Duplicate`] for a message already received
    /// (an initial message too, even after its session was archived or
    /// dropped), and the other decryption errors;
    /// [`DeviceError::NoSession`] for a ratchet message this device has no
    /// session for; [`DeviceError::Agreement`] for an initial message
    /// whose prekeys are gone; [`DeviceError::Decode`];
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn receive(&mut self, envelope: &[u8], now: Timestamp) -> DeviceResult<Received, S> {
        let unsealed = unseal(self.account.identity(), &self.trust, now, envelope)?;
        let from = Address::of_certificate(unsealed.certificate());
        if from == *self.address() {
            return Err(DeviceError::FromSelf);
        }
        let sender = *unsealed.identity_key();
        let message = Message::parse(unsealed.message_unchecked())?;
        self.attempt(|device| device.receive_once(&from, &sender, &message, now))
    }

    fn receive_once(
        &mut self,
        from: &Address,
        sender: &IdentityKey,
        message: &Message<'_>,
        now: Timestamp,
    ) -> DeviceResult<Received, S> {
        let stored = self.store.load_identity(from).map_err(DeviceError::Store)?;
        let seen = Seen::of(stored.as_ref(), sender);
        let identity_event = self.identity_decision(from, &seen, sender)?;
        let mut record = self.load_session(from)?.unwrap_or_default();
        let mut changes = Changes::new();
        let mut plaintext = Vec::new();
        let epoch = self.account.epoch();
        let new_session = match message {
            Message::Initial(initial)
                if seen == Seen::Known && record.has_base_key(initial.base_key()) =>
            {
                record
                    .decrypt(message, sender, epoch, &mut plaintext)
                    .map_err(|error| decrypt_error(from, error))?;
                false
            }
            Message::Initial(initial) => {
                plaintext = self.accept(from, initial, &mut record, &mut changes, now)?;
                true
            }
            Message::Ratchet(_) => {
                if record.remote_identity() != Some(sender) {
                    return Err(DeviceError::NoSession(from.clone()));
                }
                match record.decrypt(message, sender, epoch, &mut plaintext) {
                    Ok(_) => false,
                    // Only sessions from before a restored backup, and none
                    // of them knows the message: the peer is ahead of them.
                    Err(
                        DecryptError::Failed
                        | DecryptError::OtherSession
                        | DecryptError::TooManySkipped,
                    ) if record.all_before(epoch) => {
                        return Err(DeviceError::NoSession(from.clone()));
                    }
                    Err(error) => return Err(decrypt_error(from, error)),
                }
            }
        };
        record.bump();
        changes.put_session(from.clone(), record);
        if identity_event.is_some() {
            changes.put_identity(from.clone(), RemoteIdentity::new(*sender, Trust::Accepted, now));
        }
        self.list_device(from, &mut changes)?;
        // Stored before the plaintext is shown: a crash now makes the
        // message arrive again, and then it is a duplicate.
        self.commit(changes)?;
        Ok(Received {
            from: from.clone(),
            identity: *sender,
            plaintext,
            identity_event,
            new_session,
        })
    }

    /// Accepts a new session from `initial`, unless its base key was
    /// accepted before: installs it in `record` and adds the consumed
    /// one-time prekey and the accepted base key to `changes`.
    fn accept(
        &self,
        from: &Address,
        initial: &InitialMessage<'_>,
        record: &mut SessionRecord,
        changes: &mut Changes,
        now: Timestamp,
    ) -> DeviceResult<Vec<u8>, S> {
        let signed_id = initial.signed_prekey_id();
        let accepted = self
            .store
            .is_base_key_accepted(signed_id, initial.base_key())
            .map_err(DeviceError::Store)?;
        if accepted {
            return Err(decrypt_error(from, DecryptError::Duplicate));
        }
        let signed = self
            .store
            .load_signed_prekey(signed_id)
            .map_err(DeviceError::Store)?
            .ok_or(AgreementError::UnknownSignedPreKey(signed_id))?;
        let one_time = match initial.one_time_prekey_id() {
            Some(id) => Some(
                self.store
                    .load_one_time_prekey(id)
                    .map_err(DeviceError::Store)?
                    .ok_or(AgreementError::UnknownOneTimePreKey(id))?,
            ),
            None => None,
        };
        let (session, plaintext) =
            Session::accept(self.account.identity(), &signed, one_time.as_ref(), initial).map_err(
                |e| match e {
                    Error::Decrypt(error) => decrypt_error(from, error),
                    Error::Agreement(e) => DeviceError::Agreement(e),
                    Error::Decode(e) => DeviceError::Decode(e),
                    Error::Encrypt(e) => DeviceError::Encrypt(e),
                    Error::Certificate(e) => DeviceError::Certificate(e),
                    Error::Unseal(e) => DeviceError::Unseal(e),
                    Error::Seal(e) => DeviceError::Seal(e),
                },
            )?;
        record.install_accepted(session, now, self.account.epoch());
        if let Some(id) = initial.one_time_prekey_id() {
            changes.consume_one_time_prekey(id);
        }
        changes.accept_base_key(signed_id, *initial.base_key());
        Ok(plaintext)
    }
}

fn decrypt_error<E>(from: &Address, error: DecryptError) -> DeviceError<E> {
    DeviceError::Decrypt { from: from.clone(), error }
}
