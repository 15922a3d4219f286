//! Every limit sealwire enforces, in one place.
//!
//! Each bounds memory or work that a peer or the relay could otherwise
//! drive without bound. Exceeding one gives a typed error and changes
//! nothing. `docs/protocol.md` gives the reasoning for each value.

/// The most message keys one received message may make the receiver skip
/// in one chain: the gap between the next expected message number and the
/// one received. `MAX_SKIP` skipped messages are accepted; `MAX_SKIP + 1`
/// fail with [`DecryptError::TooManySkipped`](crate::DecryptError::TooManySkipped).
///
/// A message that opens a new chain may skip up to `MAX_SKIP` keys at the
/// end of the previous chain *and* up to `MAX_SKIP` at the start of the new
/// one. Each skipped key costs one chain step (two HMAC-SHA256) to derive.
pub const MAX_SKIP: u32 = 1000;

/// The most skipped message keys a session stores across all its receiving
/// chains. Storing more drops the oldest first: keys of earlier chains
/// before later ones, lower message numbers before higher in a chain.
/// At 36 bytes each (number and key), a full store is about 72 KB. A
/// message whose key was dropped gets
/// [`DecryptError::KeyDropped`](crate::DecryptError::KeyDropped).
pub const MAX_SKIPPED_KEYS: usize = 2000;

/// The most receiving chains that hold skipped keys: the current one
/// (whether or not it holds keys) and earlier ones. When one more chain
/// would hold keys, the oldest earlier chain's keys are all dropped.
pub const MAX_RECEIVING_CHAINS: usize = 5;

/// The most of the peer's chains a session remembers at all, the current
/// one included: for each, its ratchet key, how many messages it had, and
/// which of its keys were dropped (about 50 bytes a chain). That is how a
/// replay of a message from an earlier chain gets
/// [`DecryptError::Duplicate`](crate::DecryptError::Duplicate) rather than
/// [`DecryptError::Failed`](crate::DecryptError::Failed). Each DH ratchet
/// step of the peer starts a chain; past this many, the oldest is
/// forgotten, and a replay from it can no longer be told from a forgery.
pub const MAX_CHAIN_HISTORY: usize = 32;

/// The most ranges of dropped message numbers a session records, over all
/// the chains it remembers (8 bytes each). Dropped keys are recorded as
/// ranges of consecutive numbers, so that a message whose key was dropped
/// gets [`DecryptError::KeyDropped`](crate::DecryptError::KeyDropped) and a
/// replay gets [`DecryptError::Duplicate`](crate::DecryptError::Duplicate).
/// Past this many, the oldest range is forgotten, and a message below it
/// gets [`DecryptError::StaleMessage`](crate::DecryptError::StaleMessage):
/// the session can no longer tell which of the two it was.
pub const MAX_DROPPED_RANGES: usize = 64;

/// The longest plaintext one message may carry: 1 MiB. Larger payloads
/// belong in an attachment encrypted under a key sent in a message.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 20;

/// The longest encoded message any decoder accepts: the longest plaintext,
/// its 16-byte tag and room for every header (an initial message of the
/// post-quantum agreement carries a 1088-byte KEM ciphertext). Longer
/// input is refused before it is parsed.
pub const MAX_MESSAGE_LEN: usize = MAX_PLAINTEXT_LEN + 2048;

/// The longest sealed envelope for one recipient: 4 MiB. It holds the
/// largest message with room to spare; multi-recipient envelopes carry one
/// entry per recipient in a payload of at most this size less the
/// envelope's own 151 bytes.
pub const MAX_ENVELOPE_LEN: usize = 1 << 22;

/// The smallest size bucket of padded envelopes: 512 bytes. Padded
/// envelopes take the next power of two from here up to
/// [`MAX_ENVELOPE_LEN`].
pub const MIN_PADDED_ENVELOPE_LEN: usize = 512;

/// The most recipients of one multi-recipient envelope.
pub const MAX_RECIPIENTS: usize = 4096;

/// The most bytes one multi-recipient envelope may make the relay
/// deliver: its number of recipients times the length of each recipient's
/// sealed envelope, 4 GiB (a `u64`, since it does not fit a 32-bit
/// `usize`). The relay keeps one copy of the payload however many
/// recipients there are; this bounds the traffic one upload can cause,
/// which before the bound was 16 GiB (4096 recipients of a 4 MiB
/// envelope). It allows [`MAX_RECIPIENTS`] recipients of a 1 MiB envelope,
/// or 1024 of the largest.
pub const MAX_FANOUT_BYTES: u64 = 1 << 32;

/// The most recipients whose authentication keys a [`crate::Sealer`]
/// caches (about 100 bytes each, 400 KB when full): [`MAX_RECIPIENTS`], so
/// that sending again and again to the largest upload (a group of
/// [`MAX_GROUP_DEVICES`] devices) finds every key cached. Sealing to more
/// distinct recipients recomputes the oldest keys, one X25519 each.
pub const MAX_CACHED_PEERS: usize = MAX_RECIPIENTS;

/// The longest app id in a certificate, in bytes.
pub const MAX_APP_ID_LEN: usize = 64;

/// The longest user id in a certificate, in bytes.
pub const MAX_USER_ID_LEN: usize = 64;

// The session layer: records, prekeys, devices.

/// The most archived sessions a [`crate::SessionRecord`] keeps besides
/// the current one.
///
/// An archived session only serves messages that were in flight when it
/// stopped being current, and the loser of a simultaneous initiation. A
/// peer starts a new session rarely (after losing its state, or in a
/// race), so a few suffice; each costs up to
/// [`crate::Session::MAX_ENCODED_LEN`] bytes, about 500 in the steady
/// state. Past this many the oldest is dropped, and a message still in
/// flight on it can no longer be read.
pub const MAX_ARCHIVED_SESSIONS: usize = 8;

/// The most identity keys a device remembers that a peer's device
/// replaced (a reinstall each). An envelope or bundle under one of them is
/// refused ([`crate::DeviceError::ReplacedIdentity`]); past this many the
/// oldest is forgotten, and a replay under it would be taken for a new
/// change of key (reported, or asked about).
pub const MAX_REPLACED_IDENTITIES: usize = 4;

/// The most devices one user may have in a device list. A list from the
/// server with more is refused; it bounds the fan-out of one message.
pub const MAX_DEVICES_PER_USER: usize = 32;

/// How many one-time prekeys [`crate::Device::publication`] tops the
/// published supply up to.
pub const ONE_TIME_PREKEY_BATCH: usize = 100;

/// Below how many one-time prekeys left on the server
/// [`crate::Device::publication`] generates a new batch.
pub const ONE_TIME_PREKEY_REPLENISH_BELOW: usize = 20;

/// The most one-time prekeys a device stores. The server hands out keys
/// that are never used (to initiators that never write), so the device
/// cannot know which of its keys are still on offer; past this many it
/// deletes the oldest, and an initial message naming one fails with
/// [`crate::AgreementError::UnknownOneTimePreKey`].
pub const MAX_ONE_TIME_PREKEYS: usize = 2 * ONE_TIME_PREKEY_BATCH;

/// How long a signed prekey is current: 7 days, in seconds. After that
/// [`crate::Device::publication`] makes a new one.
pub const SIGNED_PREKEY_ROTATION_SECS: u64 = 7 * 24 * 3600;

/// How long a signed prekey is kept after it stopped being current: 30
/// days, in seconds, so that initial messages made from a bundle fetched
/// before the rotation still open. An initial message waiting longer than
/// this at the relay can no longer be read.
pub const SIGNED_PREKEY_GRACE_SECS: u64 = 30 * 24 * 3600;

/// The most signed prekeys a device keeps: the current one and those in
/// their grace period (one per rotation in a grace period, plus one).
/// Rotating more often than weekly (a wrong clock) deletes the oldest
/// early.
pub const MAX_SIGNED_PREKEYS: usize =
    1 + SIGNED_PREKEY_GRACE_SECS.div_ceil(SIGNED_PREKEY_ROTATION_SECS) as usize;

/// How long a session initiated here may wait for its first reply before
/// [`crate::Device::send`] stops using it and asks for a new bundle
/// instead: the signed prekey it was made from may be gone by then, so
/// the peer could never accept it. Equal to the grace period.
pub const MAX_UNACKNOWLEDGED_SESSION_SECS: u64 = SIGNED_PREKEY_GRACE_SECS;

/// How far a restored device moves its next one-time prekey id
/// ([`crate::Device::after_restore`]): past every id it may have handed out
/// after the state it was restored to (2^24 ids, 167,772 batches), so no
/// new key takes the id of one the server may still hold.
pub const RESTORE_ONE_TIME_ID_GAP: u32 = 1 << 24;

/// How far a restored device moves its next signed prekey id: 4096
/// rotations, 78 years of weekly ones.
pub const RESTORE_SIGNED_ID_GAP: u32 = 1 << 12;

/// How many ephemeral keys a device draws at most to start a session
/// whose base key is below that of a session it could not accept, so that
/// the new one wins the race on both sides (`docs/sessions.md` §4.4). For
/// a random bound, all 256 miss with probability 1/257; the smallest draw
/// is used then. Each draw is one X25519 key generation (about 25 µs).
pub const MAX_BASE_KEY_DRAWS: usize = 256;

/// The most received messages a device keeps unacknowledged
/// ([`crate::Device::pending_received`]). Past this many, receiving
/// refuses with [`crate::DeviceError::InboxFull`] (keep the envelope and
/// try again once the app has acknowledged some).
pub const MAX_PENDING_RECEIVED: usize = 1024;

/// The most sent messages a device keeps unacknowledged
/// ([`crate::Device::pending_sent`]). Past this many, sending refuses with
/// [`crate::DeviceError::OutboxFull`].
pub const MAX_PENDING_SENT: usize = 1024;

/// How many times a device operation is tried when the store reports that
/// another handle changed the same records first
/// ([`crate::store::CommitError::Conflict`]).
pub const MAX_COMMIT_ATTEMPTS: usize = 3;

// Groups (sender keys): docs/protocol.md §21.

/// The longest group id, in bytes. Group ids are the application's (its
/// server keeps groups); sealwire only compares them.
pub const MAX_GROUP_ID_LEN: usize = 64;

/// The most members (users) a group may have: 1000, the largest group
/// sealwire is tested at. A member list with more is refused
/// ([`crate::GroupError::TooManyMembers`]).
pub const MAX_GROUP_MEMBERS: usize = 1000;

/// The most devices one group message goes to: [`MAX_RECIPIENTS`], so that
/// one upload carries it. Sending to a group whose members' device lists
/// name more is refused ([`crate::GroupError::TooManyDevices`]).
pub const MAX_GROUP_DEVICES: usize = MAX_RECIPIENTS;

/// The most message keys one group message may make the receiver skip in
/// a sender's chain: `MAX_SENDER_KEY_SKIP` skipped messages are accepted,
/// one more fails with
/// [`DecryptError::TooManySkipped`](crate::DecryptError::TooManySkipped).
/// Each skipped key costs one chain step (two HMAC-SHA256).
pub const MAX_SENDER_KEY_SKIP: u32 = 1000;

/// The most skipped message keys a device keeps for one sender device in
/// one group, over all of that sender's chains (36 bytes each, about
/// 72 KB when full). Past this many the oldest are dropped, and a message
/// whose key was dropped gets
/// [`DecryptError::KeyDropped`](crate::DecryptError::KeyDropped).
pub const MAX_SENDER_KEY_SKIPPED_KEYS: usize = 2000;

/// The most chains a device keeps for one sender device in one group: the
/// current one and those it replaced (a rotation each), so that messages
/// sent just before a rotation still open. Past this many the oldest is
/// forgotten, and a message on it gets
/// [`crate::GroupError::NoSenderKey`].
pub const MAX_SENDER_KEY_CHAINS: usize = 5;

/// The most ids of chains a device remembers having forgotten, for one
/// sender device in one group (4 bytes each): a sender key for one of them,
/// handed out again (by a sender restored from an older backup), is
/// refused, so that the chain cannot start over and open again messages
/// this device had read.
pub const MAX_SENDER_KEY_RETIRED_CHAINS: usize = 32;

/// The most ranges of dropped message numbers a device records for one
/// sender device in one group (8 bytes each), to tell a replay from a
/// message whose key was dropped, as [`MAX_DROPPED_RANGES`] does for
/// sessions.
pub const MAX_SENDER_KEY_DROPPED_RANGES: usize = 64;

// A single message may add MAX_SKIP keys for the end of the old chain and
// MAX_SKIP for the new one; the store must hold them all, or a message
// could evict keys it had itself just stored.
const _: () = assert!(MAX_SKIPPED_KEYS >= 2 * MAX_SKIP as usize);
const _: () = assert!(MAX_RECEIVING_CHAINS >= 2);
const _: () = assert!(MAX_CHAIN_HISTORY >= MAX_RECEIVING_CHAINS);
const _: () = assert!(MAX_DROPPED_RANGES >= 1);
// The fan-out bound admits at least one largest envelope.
const _: () = assert!(MAX_FANOUT_BYTES >= MAX_ENVELOPE_LEN as u64);
const _: () = assert!(MAX_FANOUT_BYTES >= MAX_RECIPIENTS as u64 * (1 << 20));
const _: () = assert!(MAX_ARCHIVED_SESSIONS <= u8::MAX as usize);
const _: () = assert!(MAX_DEVICES_PER_USER * 2 <= MAX_RECIPIENTS);
const _: () = assert!(ONE_TIME_PREKEY_REPLENISH_BELOW < ONE_TIME_PREKEY_BATCH);
const _: () = assert!(MAX_ONE_TIME_PREKEYS >= ONE_TIME_PREKEY_BATCH);
const _: () = assert!(MAX_SIGNED_PREKEYS == 6);
const _: () = assert!(MAX_SENDER_KEY_SKIPPED_KEYS >= MAX_SENDER_KEY_SKIP as usize);
const _: () = assert!(MAX_SENDER_KEY_CHAINS >= 2);
const _: () = assert!(MAX_SENDER_KEY_DROPPED_RANGES >= 1);
const _: () = assert!(MAX_GROUP_DEVICES <= MAX_RECIPIENTS);
const _: () = assert!(MAX_CACHED_PEERS >= MAX_GROUP_DEVICES);
