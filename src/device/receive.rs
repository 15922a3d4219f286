//! Receiving: unseal, check, route, decrypt, store (`docs/sessions.md` §4).

use alloc::vec::Vec;

use zeroize::Zeroize;

use super::pending::MessageId;
use super::send::next_identity;
use super::{Device, DeviceError, DeviceResult};
use crate::address::Address;
use crate::certificate::Timestamp;
use crate::error::{DecryptError, Error};
use crate::group::{GroupId, SenderKeyDistribution};
use crate::identity::IdentityKey;
use crate::limits::MAX_PENDING_RECEIVED;
use crate::message::{InitialMessage, Message};
use crate::sealed::ContentType;
use crate::sealed::unseal;
use crate::session::Session;
use crate::session_record::SessionRecord;
use crate::store::{Changes, Store};
use crate::trust::{IdentityEvent, Seen};

/// A message [`Device::receive`] opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Received {
    /// The message's id, by which the application acknowledges it
    /// ([`Device::acknowledge_received`]) once it has kept the plaintext.
    pub id: MessageId,
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
    /// What the message is: a direct message, a group message, or a
    /// sender key (which has no plaintext for the application).
    pub kind: ReceivedKind,
    /// Whether the message started a new session with the sender.
    pub new_session: bool,
    /// Whether the sender is in its user's device list as this device has
    /// it. A device not listed may be new (the server's next list will
    /// name it) or removed: replies to the user do not reach it, and an
    /// app may want to say so, above all for the user's own devices.
    pub listed: bool,
}

/// What [`Device::receive`] opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceivedKind {
    /// A message to this device's user (over the pairwise session).
    Message,
    /// A message to a group ([`Device::send_to_group`]).
    GroupMessage(GroupId),
    /// The sender's sender key for a group, now stored: nothing to show,
    /// and nothing to acknowledge (it is not kept as a pending message).
    /// Envelopes of this group kept after [`crate::GroupError::NoSenderKey`]
    /// can be received again.
    SenderKey(GroupId),
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
    /// session for, and for an initial message whose prekeys are gone;
    /// [`DeviceError::Agreement`] with
    /// [`crate::AgreementError::PostQuantumRequired`] for a classic initial
    /// message where the policy requires post-quantum (its base key is
    /// remembered as refused, as for prekeys that are gone, so that this
    /// device's own next session wins the race, `docs/sessions.md` §4.4);
    /// [`DeviceError::Decode`];
    /// [`DeviceError::Store`], [`DeviceError::Conflict`].
    pub fn receive(&mut self, envelope: &[u8], now: Timestamp) -> DeviceResult<Received, S> {
        let unsealed = unseal(self.account.identity(), &self.trust, now, envelope)?;
        let from = Address::of_certificate(unsealed.certificate());
        if from == *self.address() {
            return Err(DeviceError::FromSelf);
        }
        let sender = *unsealed.identity_key();
        let id = MessageId::of(envelope);
        if unsealed.content_type() == ContentType::Group {
            let message = unsealed.group_message()?;
            return self.attempt(|device| device.receive_group(id, &from, &sender, &message));
        }
        let message = Message::parse(unsealed.message_unchecked())?;
        let distribution = unsealed.is_sender_key_distribution();
        self.attempt(|device| device.receive_once(id, &from, &sender, &message, distribution, now))
    }

    fn receive_once(
        &mut self,
        id: MessageId,
        from: &Address,
        sender: &IdentityKey,
        message: &Message<'_>,
        distribution: bool,
        now: Timestamp,
    ) -> DeviceResult<Received, S> {
        let stored = self.store.load_identity(from).map_err(DeviceError::Store)?;
        let seen = Seen::of(stored.as_ref(), sender);
        let identity_event = self.identity_decision(from, &seen, sender)?;
        let (waiting, _) = self.store.pending_counts().map_err(DeviceError::Store)?;
        if waiting >= MAX_PENDING_RECEIVED {
            return Err(DeviceError::InboxFull);
        }
        let listed = self.load_device_list(from.user())?.contains(from.device());
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
                match self.accept(from, initial, &mut record, &mut changes, now) {
                    Ok(text) => plaintext = text,
                    Err(Refusal::Error(e)) => return Err(e),
                    Err(refusal) => {
                        // The peer sends over a session this device cannot
                        // accept (its prekeys are gone, or it is classic
                        // where post-quantum is required): remember its
                        // base key, so that the session this device starts
                        // next wins against it on both sides (§4.4).
                        if record.refused() != Some(initial.base_key()) {
                            record.refuse(*initial.base_key());
                            record.bump();
                            let mut changes = Changes::new();
                            changes.put_session(from.clone(), record);
                            self.commit(changes)?;
                        }
                        return Err(match refusal {
                            Refusal::Classic => {
                                DeviceError::Agreement(crate::AgreementError::PostQuantumRequired)
                            }
                            _ => DeviceError::NoSession(from.clone()),
                        });
                    }
                }
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
            let identity = next_identity(stored.as_ref(), sender, now);
            changes.put_identity(from.clone(), stored, identity);
        }
        let kind = if distribution {
            // The plaintext is the sender's key for a group: stored in
            // the same commit as the session that carried it.
            let key = SenderKeyDistribution::from_bytes(&plaintext);
            plaintext.zeroize();
            plaintext = Vec::new();
            let key = key?;
            self.take_sender_key(from, sender, &key, &mut changes)?;
            ReceivedKind::SenderKey(key.group_id().clone())
        } else {
            ReceivedKind::Message
        };
        let received = Received {
            id,
            from: from.clone(),
            identity: *sender,
            plaintext,
            identity_event,
            kind,
            new_session,
            listed,
        };
        // Stored with the session, before the plaintext is returned: if the
        // application dies before it keeps the message, the message is
        // still pending when it starts again (and the relay's copy is a
        // duplicate by then). A sender key has nothing to keep.
        if !distribution {
            changes.add_received(received.clone());
        }
        self.commit(changes)?;
        Ok(received)
    }

    /// Accepts a new session from `initial`, unless its base key was
    /// accepted before: installs it in `record` and adds the consumed
    /// one-time prekey and the accepted base key to `changes`. A message
    /// this device cannot accept (the prekeys it names are gone, or it does
    /// not decrypt under them) is [`Refusal::Refused`].
    fn accept(
        &self,
        from: &Address,
        initial: &InitialMessage<'_>,
        record: &mut SessionRecord,
        changes: &mut Changes,
        now: Timestamp,
    ) -> Result<Vec<u8>, Refusal<S::Error>> {
        let signed_id = initial.signed_prekey_id();
        let accepted = self
            .store
            .is_base_key_accepted(signed_id, initial.base_key())
            .map_err(|e| Refusal::Error(DeviceError::Store(e)))?;
        if accepted {
            return Err(Refusal::Error(decrypt_error(from, DecryptError::Duplicate)));
        }
        // A classic agreement where post-quantum is required: refused
        // before any prekey is looked up.
        #[cfg(feature = "pq")]
        if !initial.is_post_quantum()
            && self.policy.post_quantum == crate::trust::PostQuantum::Required
        {
            return Err(Refusal::Classic);
        }
        let signed = self
            .store
            .load_signed_prekey(signed_id)
            .map_err(|e| Refusal::Error(DeviceError::Store(e)))?
            .ok_or(Refusal::Refused)?;
        let one_time = match initial.one_time_prekey_id() {
            Some(id) => Some(
                self.store
                    .load_one_time_prekey(id)
                    .map_err(|e| Refusal::Error(DeviceError::Store(e)))?
                    .ok_or(Refusal::Refused)?,
            ),
            None => None,
        };
        #[cfg(feature = "pq")]
        let kem = match initial.kem_prekey_id() {
            Some(id) => Some(
                self.store
                    .load_kem_prekey(id)
                    .map_err(|e| Refusal::Error(DeviceError::Store(e)))?
                    .ok_or(Refusal::Refused)?,
            ),
            None => None,
        };
        #[cfg(feature = "pq")]
        let accepted = Session::accept_hybrid(
            self.account.identity(),
            &signed,
            one_time.as_ref(),
            kem.as_ref(),
            initial,
        );
        #[cfg(not(feature = "pq"))]
        let accepted =
            Session::accept(self.account.identity(), &signed, one_time.as_ref(), initial);
        let (session, plaintext) = accepted.map_err(|e| match e {
            // The sealed envelope is authentic: the initiator used
            // keys that are not this device's (the relay handed out
            // a one-time prekey twice, or substituted one).
            Error::Decrypt(DecryptError::Failed) | Error::Agreement(_) => Refusal::Refused,
            Error::Decrypt(error) => Refusal::Error(decrypt_error(from, error)),
            Error::Decode(e) => Refusal::Error(DeviceError::Decode(e)),
            Error::Encrypt(e) => Refusal::Error(DeviceError::Encrypt(e)),
            Error::Certificate(e) => Refusal::Error(DeviceError::Certificate(e)),
            Error::Unseal(e) => Refusal::Error(DeviceError::Unseal(e)),
            Error::Seal(e) => Refusal::Error(DeviceError::Seal(e)),
            Error::Group(error) => Refusal::Error(DeviceError::Group { from: None, error }),
        })?;
        record.install_accepted(session, now, self.account.epoch());
        if let Some(id) = initial.one_time_prekey_id() {
            changes.consume_one_time_prekey(id);
        }
        #[cfg(feature = "pq")]
        if let Some(kem) = kem.filter(|k| k.kind() == crate::KemPreKeyKind::OneTime) {
            changes.consume_kem_prekey(kem.id());
        }
        changes.accept_base_key(signed_id, *initial.base_key());
        Ok(plaintext)
    }
}

/// Why an initial message was not accepted.
enum Refusal<E> {
    /// It cannot be: the peer's session is not one this device can share.
    Refused,
    /// It is of the classic agreement, and the policy requires the
    /// post-quantum one.
    #[cfg_attr(not(feature = "pq"), allow(dead_code))]
    Classic,
    /// Another error.
    Error(DeviceError<E>),
}

pub(super) fn decrypt_error<E>(from: &Address, error: DecryptError) -> DeviceError<E> {
    DeviceError::Decrypt { from: from.clone(), error }
}
