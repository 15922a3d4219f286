//! Messages a device keeps until the application acknowledges them: what
//! it received (the inbox) and what it sent (the outbox), each stored in
//! the same commit as the session it advanced (`docs/sessions.md` §6.6).
//!
//! A process can be killed between any two instructions. A message
//! received is stored with its session, so that if the application dies
//! before it has kept the plaintext, the message is still there when it
//! starts again (the relay's copy is a duplicate by then). A message sent
//! is stored with its session, so that if the application dies before the
//! upload, it uploads it when it starts again (an upload that did arrive
//! is a duplicate for its recipients). Both are acknowledged by id once
//! the application has kept or uploaded them.

use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

use super::receive::Received;
use super::receive::ReceivedKind;
use super::send::Sent;
use crate::address::Address;
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::DecodeError;
use crate::group::GroupId;
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, MESSAGE_ID, X_RECEIVED, X_RECEIVED_V1, X_SENT};
use crate::limits::{MAX_PLAINTEXT_LEN, MAX_RECIPIENTS};
use crate::sealed::MultiRecipientEnvelope;
use crate::trust::IdentityEvent;

/// Names a received or sent message until it is acknowledged: the first
/// 16 bytes of `SHA-256("sealwire/message-id/v1" || envelope)`, of the
/// envelope received or uploaded.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// The id of a message carried by `envelope`.
    pub fn of(envelope: &[u8]) -> Self {
        let hash = Sha256::new().chain_update(MESSAGE_ID).chain_update(envelope).finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(hash.get(..16).unwrap_or(&[0; 16]));
        Self(id)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageId(")?;
        crate::hex::write(f, &self.0)?;
        f.write_str(")")
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::write(f, &self.0)
    }
}

/// The longest stored received message.
pub(crate) const RECEIVED_MAX_LEN: usize = 2
    + 16
    + Address::MAX_ENCODED_LEN
    + IdentityKey::ENCODED_LEN
    + 1
    + IdentityKey::ENCODED_LEN
    + 1
    + 1
    + 4
    + crate::limits::MAX_GROUP_ID_LEN
    + 4
    + MAX_PLAINTEXT_LEN;

/// The longest stored sent message.
pub(crate) const SENT_MAX_LEN: usize = 2
    + 16
    + 4
    + MultiRecipientEnvelope::MAX_ENCODED_LEN
    + 3 * 4
    + MAX_RECIPIENTS * (Address::MAX_ENCODED_LEN + IdentityKey::ENCODED_LEN);

impl Received {
    /// The stored form, for the inbox (`docs/sessions.md` §3.6): `0xFF
    /// 0x72`, the id, the sender's address and `Encode(IK)`, the identity
    /// event (`0x00` none, `0x01` new, `0x02` changed and the previous
    /// `Encode(IK)`), flags (`0x01` a new session, `0x02` listed), the kind
    /// (`0x00` a message, `0x01` a group message and `0x02` a sender key,
    /// each followed by the group id), and the plaintext (a `u32` length
    /// and the bytes). Version 1 (`0xFF 0x71`, no kind) is still read.
    /// Secret: it holds the plaintext.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a stored received message.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, RECEIVED_MAX_LEN, Self::read)
    }
}

impl Codec for Received {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_RECEIVED);
        w.bytes(&self.id.0);
        self.from.encode(w);
        self.identity.encode(w);
        match &self.identity_event {
            None => w.u8(0),
            Some(IdentityEvent::New) => w.u8(1),
            Some(IdentityEvent::Changed { previous }) => {
                w.u8(2);
                previous.encode(w);
            }
        }
        w.u8(u8::from(self.new_session) | (u8::from(self.listed) << 1));
        match &self.kind {
            ReceivedKind::Message => w.u8(0),
            ReceivedKind::GroupMessage(group) => {
                w.u8(1);
                group.encode(w);
            }
            ReceivedKind::SenderKey(group) => {
                w.u8(2);
                group.encode(w);
            }
        }
        w.bytes_u32(&self.plaintext);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        let version = r.u8()?;
        if version != X_RECEIVED && version != X_RECEIVED_V1 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let id = MessageId(r.array()?);
        let from = Address::read(r)?;
        let identity = IdentityKey::read(r)?;
        let identity_event = match r.u8()? {
            0 => None,
            1 => Some(IdentityEvent::New),
            2 => Some(IdentityEvent::Changed { previous: IdentityKey::read(r)? }),
            _ => return Err(DecodeError::InvalidValue),
        };
        let flags = r.u8()?;
        if flags > 3 {
            return Err(DecodeError::InvalidValue);
        }
        // Version 1 has no kind: every message was a direct one.
        let kind = match (version, if version == X_RECEIVED { r.u8()? } else { 0 }) {
            (_, 0) => ReceivedKind::Message,
            (_, 1) => ReceivedKind::GroupMessage(GroupId::read(r)?),
            (_, 2) => ReceivedKind::SenderKey(GroupId::read(r)?),
            _ => return Err(DecodeError::InvalidValue),
        };
        let plaintext = r.bytes_u32(MAX_PLAINTEXT_LEN)?.to_vec();
        Ok(Self {
            id,
            from,
            identity,
            plaintext,
            identity_event,
            kind,
            new_session: flags & 1 != 0,
            listed: flags & 2 != 0,
        })
    }
}

impl Sent {
    /// The stored form, for the outbox (`docs/sessions.md` §3.6): `0xFF
    /// 0x81`, the id, the envelope (a `u32` length and the bytes), then
    /// three lists, each a `u32` count: the recipients (address and
    /// `Encode(IK)` each), the devices missing a session and the devices
    /// denied (addresses).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a stored sent message.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, SENT_MAX_LEN, Self::read)
    }
}

fn write_addresses(w: &mut Writer<'_>, addresses: &[Address]) {
    // At most MAX_RECIPIENTS, which fits a u32.
    w.u32(u32::try_from(addresses.len()).unwrap_or(u32::MAX));
    for a in addresses {
        a.encode(w);
    }
}

fn read_addresses(r: &mut Reader<'_>) -> Result<Vec<Address>, DecodeError> {
    let raw = r.u32()?;
    let n = r.count(raw, MAX_RECIPIENTS, 2 + 4 + 1 + 4 + 1 + 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Address::read(r)?);
    }
    Ok(out)
}

impl Codec for Sent {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(ESCAPE);
        w.u8(X_SENT);
        w.bytes(&self.id.0);
        w.bytes_u32(&self.envelope);
        w.u32(u32::try_from(self.recipients.len()).unwrap_or(u32::MAX));
        for (address, key) in &self.recipients {
            address.encode(w);
            key.encode(w);
        }
        write_addresses(w, &self.missing);
        write_addresses(w, &self.denied);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(ESCAPE)?;
        r.version(X_SENT)?;
        let id = MessageId(r.array()?);
        let envelope = r.bytes_u32(MultiRecipientEnvelope::MAX_ENCODED_LEN)?.to_vec();
        let raw = r.u32()?;
        let n = r.count(raw, MAX_RECIPIENTS, 2 + 4 + 1 + 4 + 1 + 4 + IdentityKey::ENCODED_LEN)?;
        let mut recipients = Vec::with_capacity(n);
        for _ in 0..n {
            let address = Address::read(r)?;
            recipients.push((address, IdentityKey::read(r)?));
        }
        let missing = read_addresses(r)?;
        let denied = read_addresses(r)?;
        Ok(Self { id, envelope, recipients, missing, denied })
    }
}
