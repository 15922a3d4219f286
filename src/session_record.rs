//! The sessions with one device of a peer, as Signal's Sesame keeps them:
//! the current session, which sends, and a bounded archive of earlier
//! ones, which still decrypt what was in flight.
//!
//! The rules (`docs/sessions.md` §4 gives the reasoning):
//!
//! - **R1.** A session initiated here becomes current; the previous
//!   current one is archived.
//! - **R2.** A session accepted from a new initial message becomes
//!   current, except when both sides initiated at once: while the current
//!   session was initiated here and awaits its first reply, the session
//!   with the smaller base key wins on both sides, and the other is
//!   archived as *superseded*.
//! - **R3.** A message decrypts with the current session, or with an
//!   archived one, which is then promoted to current unless it is
//!   superseded. An initial message goes only to the session with its base
//!   key.
//! - **R4.** At most [`MAX_ARCHIVED_SESSIONS`] archived sessions; past
//!   that the oldest is dropped.
//! - **R5.** Every session of a record is with the same identity key; a
//!   session with a new identity key replaces the record's sessions.

use alloc::vec::Vec;
use core::fmt;

use zeroize::Zeroizing;

use crate::certificate::Timestamp;
use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{DecodeError, DecryptError};
use crate::identity::IdentityKey;
use crate::labels::{ESCAPE, X_SESSION_RECORD};
use crate::limits::MAX_ARCHIVED_SESSIONS;
use crate::message::Message;
use crate::primitives::x25519::X25519PublicKey;
use crate::session::{Role, Session};

/// One session in a record, with what the record knows about it.
struct Entry {
    session: Session,
    /// Lost a simultaneous initiation: it still decrypts, but is never
    /// promoted to current again.
    superseded: bool,
    /// When it was made: how old an unanswered initiated session is.
    created: Timestamp,
    /// The account's epoch when it was made: a session of an earlier
    /// epoch predates a restored backup and no longer sends.
    epoch: u32,
}

/// Which session of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Current,
    Archived(usize),
}

/// What happened to a session a message was decrypted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decrypted {
    /// The current session decrypted it.
    Current,
    /// An archived session decrypted it and is now current.
    Promoted,
    /// An archived, superseded session decrypted it and stays archived.
    Archived,
}

/// The sessions with one device of a peer: the current one and up to
/// [`MAX_ARCHIVED_SESSIONS`] archived ones, newest first.
///
/// Stored through [`crate::store::SessionStore`]; its `revision` grows by
/// one with every change, so that a store can refuse to write a record
/// over one it did not come from (`docs/sessions.md` §7).
///
/// Encoding (`docs/sessions.md` §3): `0xFF 0x21`, the revision (`u64`),
/// a flag and the current entry if present, the number of archived
/// entries (`u8`) and the entries, newest first. An entry is a flags byte
/// (`0x01` superseded, else `0x00`), its creation time (`u64`), the
/// account epoch it was made in (`u32`) and the session's stored form (a
/// `u32` length and the bytes). Last, a flag and `Encode(PK)` of the base
/// key of a session the peer started that this device could not accept.
#[derive(Default)]
pub struct SessionRecord {
    revision: u64,
    current: Option<Entry>,
    archive: Vec<Entry>,
    /// The base key of a session the peer started that this device could
    /// not accept (its prekeys were gone): the next session this device
    /// starts is made to win a race against it (`docs/sessions.md` §4.4).
    refused: Option<X25519PublicKey>,
}

impl SessionRecord {
    /// The longest encoding: a current session and a full archive, every
    /// session at its longest.
    pub const MAX_ENCODED_LEN: usize = 2
        + 8
        + 1
        + 1
        + (1 + MAX_ARCHIVED_SESSIONS) * (ENTRY_OVERHEAD + Session::MAX_ENCODED_LEN)
        + 1
        + X25519PublicKey::ENCODED_LEN;

    /// An empty record, revision 0 (as if absent).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times the record has changed. 0 for a record never stored.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The session that sends, if there is one.
    pub fn current(&self) -> Option<&Session> {
        self.current.as_ref().map(|e| &e.session)
    }

    /// When the current session was made.
    pub fn current_created(&self) -> Option<Timestamp> {
        self.current.as_ref().map(|e| e.created)
    }

    /// The archived sessions, newest first.
    pub fn archived(&self) -> impl Iterator<Item = &Session> {
        self.archive.iter().map(|e| &e.session)
    }

    /// Whether the record holds no session at all.
    pub fn is_empty(&self) -> bool {
        self.current.is_none() && self.archive.is_empty()
    }

    /// The identity key of the peer every session of this record is with.
    pub fn remote_identity(&self) -> Option<&IdentityKey> {
        self.entries().next().map(|e| e.session.remote_identity())
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.current.iter().chain(self.archive.iter())
    }

    /// The next revision, for a record about to be stored.
    pub(crate) fn bump(&mut self) {
        self.revision = self.revision.saturating_add(1);
    }

    /// The current session, to encrypt with.
    pub(crate) fn current_mut(&mut self) -> Option<&mut Session> {
        self.current.as_mut().map(|e| &mut e.session)
    }

    /// Whether the current session may send at `now` in account epoch
    /// `epoch`: it is of this epoch, and if it was initiated here and is
    /// still unanswered, it is at most `max_unanswered` seconds old.
    pub(crate) fn can_send(&self, now: Timestamp, epoch: u32, max_unanswered: u64) -> bool {
        self.current.as_ref().is_some_and(|e| {
            e.epoch >= epoch
                && !(e.session.awaiting_reply()
                    && now.0.saturating_sub(e.created.0) > max_unanswered)
        })
    }

    /// Whether the current session was started here in epoch `epoch` (or
    /// later) and the peer has not answered it yet.
    pub(crate) fn fresh_initiation(&self, epoch: u32) -> bool {
        self.current.as_ref().is_some_and(|e| {
            e.epoch >= epoch && e.session.role() == Role::Initiator && e.session.awaiting_reply()
        })
    }

    /// Whether every session is of an epoch before `epoch`: all predate a
    /// restored backup.
    pub(crate) fn all_before(&self, epoch: u32) -> bool {
        self.entries().all(|e| e.epoch < epoch)
    }

    /// The base key of the peer's session this device could not accept,
    /// if the next session it starts must win a race against it.
    pub fn refused(&self) -> Option<&X25519PublicKey> {
        self.refused.as_ref()
    }

    /// Records that the peer's session with `base_key` could not be
    /// accepted.
    pub(crate) fn refuse(&mut self, base_key: X25519PublicKey) {
        self.refused = Some(base_key);
    }

    /// R1: a session initiated here becomes current.
    pub(crate) fn install_initiated(&mut self, session: Session, now: Timestamp, epoch: u32) {
        self.refused = None;
        self.keep_identity(session.remote_identity());
        self.archive_current(false);
        self.current = Some(Entry { session, superseded: false, created: now, epoch });
        self.trim();
    }

    /// R2: a session accepted from a new initial message. Returns whether
    /// it became current.
    pub(crate) fn install_accepted(
        &mut self,
        session: Session,
        now: Timestamp,
        epoch: u32,
    ) -> bool {
        self.keep_identity(session.remote_identity());
        let race = self
            .current
            .as_ref()
            .filter(|c| c.session.role() == Role::Initiator && c.session.awaiting_reply());
        let entry = Entry { session, superseded: false, created: now, epoch };
        let installed = match race {
            // Both sides initiated: the smaller base key wins on both.
            Some(ours) if ours.session.base_key() < entry.session.base_key() => {
                self.archive.insert(0, Entry { superseded: true, ..entry });
                false
            }
            Some(_) => {
                self.archive_current(true);
                self.current = Some(entry);
                true
            }
            None => {
                self.archive_current(false);
                self.current = Some(entry);
                true
            }
        };
        self.trim();
        installed
    }

    /// Archives the current session, so that the next message to this
    /// device starts a new session (after a reset, or a restored backup).
    pub(crate) fn archive_current(&mut self, superseded: bool) {
        if let Some(mut entry) = self.current.take() {
            entry.superseded |= superseded;
            self.archive.insert(0, entry);
            self.trim();
        }
    }

    /// Drops every session, keeping the revision.
    pub(crate) fn clear(&mut self) {
        self.current = None;
        self.archive.clear();
    }

    /// R5: drops every session with another identity than `identity`.
    pub(crate) fn keep_identity(&mut self, identity: &IdentityKey) {
        if self.current.as_ref().is_some_and(|e| e.session.remote_identity() != identity) {
            self.current = None;
        }
        self.archive.retain(|e| e.session.remote_identity() == identity);
    }

    /// R4.
    fn trim(&mut self) {
        self.archive.truncate(MAX_ARCHIVED_SESSIONS);
    }

    /// Whether a responder session with this base key is in the record.
    pub(crate) fn has_base_key(&self, base_key: &X25519PublicKey) -> bool {
        self.find_base_key(base_key).is_some()
    }

    fn find_base_key(&self, base_key: &X25519PublicKey) -> Option<Slot> {
        let matches =
            |e: &Entry| e.session.role() == Role::Responder && e.session.base_key() == base_key;
        if self.current.as_ref().is_some_and(matches) {
            return Some(Slot::Current);
        }
        self.archive.iter().position(matches).map(Slot::Archived)
    }

    fn entry_mut(&mut self, slot: Slot) -> Option<&mut Entry> {
        match slot {
            Slot::Current => self.current.as_mut(),
            Slot::Archived(i) => self.archive.get_mut(i),
        }
    }

    /// R3: decrypts `message` from `sender`, appending the plaintext to
    /// `out`, and promotes the session that decrypted it, unless it is
    /// superseded or of an epoch before `epoch`. An initial
    /// message goes only to the session with its base key
    /// ([`DecryptError::OtherSession`] if there is none); a ratchet message
    /// is tried with the current session, then the archived ones, newest
    /// first. A session that knows the message (a duplicate, a dropped
    /// key) answers for it at once. On error nothing has changed.
    pub(crate) fn decrypt(
        &mut self,
        message: &Message<'_>,
        sender: &IdentityKey,
        epoch: u32,
        out: &mut Vec<u8>,
    ) -> Result<Decrypted, DecryptError> {
        if self.remote_identity() != Some(sender) {
            return Err(DecryptError::OtherSession);
        }
        let slots: Vec<Slot> = match message {
            Message::Initial(initial) => {
                let slot = self.find_base_key(initial.base_key());
                slot.into_iter().collect()
            }
            Message::Ratchet(_) => self
                .current
                .iter()
                .map(|_| Slot::Current)
                .chain((0..self.archive.len()).map(Slot::Archived))
                .collect(),
        };
        let mut first = None;
        for slot in slots {
            let Some(entry) = self.entry_mut(slot) else { continue };
            match entry.session.decrypt_message_into(message, out) {
                Ok(()) => return Ok(self.promote(slot, epoch)),
                Err(
                    e @ (DecryptError::Duplicate
                    | DecryptError::KeyDropped
                    | DecryptError::StaleMessage
                    | DecryptError::Malformed(_)),
                ) => return Err(e),
                // Only this session's keys decide: try the next, and
                // report what the first (the newest) said.
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.unwrap_or(DecryptError::OtherSession))
    }

    fn promote(&mut self, slot: Slot, epoch: u32) -> Decrypted {
        match slot {
            Slot::Current => Decrypted::Current,
            Slot::Archived(i) => {
                if self.archive.get(i).is_none_or(|e| e.superseded || e.epoch < epoch) {
                    return Decrypted::Archived;
                }
                let entry = self.archive.remove(i);
                self.archive_current(false);
                self.current = Some(entry);
                Decrypted::Promoted
            }
        }
    }

    /// The stored form (secret: it holds every session's keys).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let sessions: Vec<(&Entry, Zeroizing<Vec<u8>>)> =
            self.entries().map(|e| (e, e.session.to_bytes())).collect();
        let len = 2
            + 8
            + 1
            + 1
            + sessions.iter().map(|(_, bytes)| ENTRY_OVERHEAD + bytes.len()).sum::<usize>()
            + 1
            + self.refused.map_or(0, |_| X25519PublicKey::ENCODED_LEN);
        // Sized exactly: growing would leave copies of the keys behind.
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        let mut w = Writer::new(&mut out);
        w.u8(ESCAPE);
        w.u8(X_SESSION_RECORD);
        w.u64(self.revision);
        w.flag(self.current.is_some());
        let mut entries = sessions.iter();
        if self.current.is_some()
            && let Some((entry, bytes)) = entries.next()
        {
            write_entry(&mut w, entry, bytes);
        }
        // At most MAX_ARCHIVED_SESSIONS, which fits a byte.
        w.u8(u8::try_from(self.archive.len()).unwrap_or(u8::MAX));
        for (entry, bytes) in entries {
            write_entry(&mut w, entry, bytes);
        }
        w.flag(self.refused.is_some());
        if let Some(key) = &self.refused {
            key.encode(&mut w);
        }
        out
    }

    /// Decodes a stored record, checking every session and that they fit
    /// together: at most [`MAX_ARCHIVED_SESSIONS`] archived, all with one
    /// identity key, no two responder sessions with one base key.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed or inconsistent input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_all(bytes, Self::MAX_ENCODED_LEN, |r| {
            r.version(ESCAPE)?;
            r.version(X_SESSION_RECORD)?;
            let revision = r.u64()?;
            let current = if r.flag()? { Some(read_entry(r)?) } else { None };
            let raw = r.u8()?;
            let n = r.count(u32::from(raw), MAX_ARCHIVED_SESSIONS, ENTRY_OVERHEAD)?;
            let mut archive = Vec::with_capacity(n);
            for _ in 0..n {
                archive.push(read_entry(r)?);
            }
            let refused = if r.flag()? { Some(X25519PublicKey::read(r)?) } else { None };
            let record = Self { revision, current, archive, refused };
            record.check()?;
            Ok(record)
        })
    }

    fn check(&self) -> Result<(), DecodeError> {
        let identity = self.remote_identity();
        let mut responder_keys: Vec<&X25519PublicKey> = Vec::new();
        for entry in self.entries() {
            if Some(entry.session.remote_identity()) != identity {
                return Err(DecodeError::InconsistentState);
            }
            if entry.session.role() == Role::Responder {
                if responder_keys.contains(&entry.session.base_key()) {
                    return Err(DecodeError::InconsistentState);
                }
                responder_keys.push(entry.session.base_key());
            }
        }
        Ok(())
    }
}

/// An entry's bytes besides its session: flags, creation time, epoch and
/// the session's length.
const ENTRY_OVERHEAD: usize = 1 + 8 + 4 + 4;

fn write_entry(w: &mut Writer<'_>, entry: &Entry, session: &[u8]) {
    w.u8(u8::from(entry.superseded));
    w.u64(entry.created.0);
    w.u32(entry.epoch);
    w.bytes_u32(session);
}

fn read_entry(r: &mut Reader<'_>) -> Result<Entry, DecodeError> {
    let superseded = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(DecodeError::InvalidValue),
    };
    let created = Timestamp(r.u64()?);
    let epoch = r.u32()?;
    let session = Session::from_bytes(r.bytes_u32(Session::MAX_ENCODED_LEN)?)?;
    Ok(Entry { session, superseded, created, epoch })
}

// Every session zeroizes its keys on drop.
impl zeroize::ZeroizeOnDrop for SessionRecord {}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("revision", &self.revision)
            .field("current", &self.current.as_ref().map(|e| e.session.base_key()))
            .field(
                "archived",
                &self
                    .archive
                    .iter()
                    .map(|e| (e.session.base_key(), e.superseded))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
