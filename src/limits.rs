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
/// At 36 bytes each (number and key), a full store is about 72 KB.
pub const MAX_SKIPPED_KEYS: usize = 2000;

/// The most receiving chains a session remembers: the current one and the
/// earlier ones that still hold skipped keys. When a new chain would make
/// one more, the oldest earlier chain is forgotten with all its keys.
pub const MAX_RECEIVING_CHAINS: usize = 5;

/// The longest plaintext one message may carry: 1 MiB. Larger payloads
/// belong in an attachment encrypted under a key sent in a message.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 20;

/// The longest encoded message any decoder accepts: the longest plaintext,
/// its 16-byte tag and room for every header. Longer input is refused
/// before it is parsed.
pub const MAX_MESSAGE_LEN: usize = MAX_PLAINTEXT_LEN + 256;

/// The longest sealed envelope for one recipient: 4 MiB. It holds the
/// largest message with room to spare; multi-recipient envelopes carry one
/// entry per recipient in a payload of at most this size less the
/// envelope's own 119 bytes.
pub const MAX_ENVELOPE_LEN: usize = 1 << 22;

/// The smallest size bucket of padded envelopes: 512 bytes. Padded
/// envelopes take the next power of two from here up to
/// [`MAX_ENVELOPE_LEN`].
pub const MIN_PADDED_ENVELOPE_LEN: usize = 512;

/// The most recipients of one multi-recipient envelope.
pub const MAX_RECIPIENTS: usize = 4096;

/// The most recipients whose authentication keys a [`crate::Sealer`]
/// caches (about 100 bytes each). Sealing to more distinct recipients
/// recomputes the oldest keys, one X25519 each.
pub const MAX_CACHED_PEERS: usize = 1024;

/// The longest app id in a certificate, in bytes.
pub const MAX_APP_ID_LEN: usize = 64;

/// The longest user id in a certificate, in bytes.
pub const MAX_USER_ID_LEN: usize = 64;

// A single message may add MAX_SKIP keys for the end of the old chain and
// MAX_SKIP for the new one; the store must hold them all, or a message
// could evict keys it had itself just stored.
const _: () = assert!(MAX_SKIPPED_KEYS >= 2 * MAX_SKIP as usize);
const _: () = assert!(MAX_RECEIVING_CHAINS >= 2);
