//! Version tags, key type tags and KDF labels: every constant the wire
//! formats and derivations depend on. `docs/protocol.md` has the same
//! table; a change here is a protocol change.

/// Key type tag of an Ed25519 identity key in `Encode(IK)`.
pub(crate) const KEY_IDENTITY: u8 = 0x01;
/// Key type tag of an X25519 public key in `Encode(PK)`.
pub(crate) const KEY_X25519: u8 = 0x02;
/// Key type tag of an Ed25519 certificate-signing key (trust roots and
/// issuers). `0x03` is reserved for ML-KEM public keys.
#[cfg_attr(not(feature = "pq"), allow(dead_code))]
pub(crate) const KEY_ML_KEM: u8 = 0x03;
pub(crate) const KEY_CERTIFICATE: u8 = 0x04;

/// Version tag of a prekey bundle, version 2 (with the device's sender
/// certificate).
pub(crate) const V_BUNDLE: u8 = 0x13;
/// Version tag of an initial (X3DH) message, version 2.
pub(crate) const V_INITIAL_MESSAGE: u8 = 0x23;
/// Version tag of a ratchet message, version 2 (a random nonce per message).
pub(crate) const V_RATCHET_MESSAGE: u8 = 0x32;
/// Version tag of stored session state, version 2.
pub(crate) const V_SESSION: u8 = 0x43;
/// Version tag of a stored identity key pair, version 2 (the seed's key
/// has an even `x`).
pub(crate) const V_IDENTITY_KEY_PAIR: u8 = 0x52;
/// Version tag of a signed prekey's public record, version 1.
pub(crate) const V_SIGNED_PREKEY: u8 = 0x61;
/// Version tag of a stored signed prekey pair, version 1.
pub(crate) const V_SIGNED_PREKEY_PAIR: u8 = 0x71;
/// Version tag of a one-time prekey's public record, version 1.
pub(crate) const V_ONE_TIME_PREKEY: u8 = 0x81;
/// Version tag of a stored one-time prekey pair, version 1.
pub(crate) const V_ONE_TIME_PREKEY_PAIR: u8 = 0x91;
/// Version tag of an issuer (server) certificate, version 2 (app ids in
/// lower case).
pub(crate) const V_ISSUER_CERTIFICATE: u8 = 0xa2;
/// Version tag of a sender certificate, version 2.
pub(crate) const V_SENDER_CERTIFICATE: u8 = 0xb2;
/// Version tag of a sealed envelope for one recipient, version 3 (the
/// payload's layout byte: entries per recipient, or one shared group
/// message).
pub(crate) const V_SEALED_ENVELOPE: u8 = 0xc3;
/// Version tag of a multi-recipient sealed envelope, version 3.
pub(crate) const V_MULTI_ENVELOPE: u8 = 0xd3;
/// Version tag of a trust root (app id and its root key), version 2.
pub(crate) const V_TRUST_ROOT: u8 = 0xe2;
/// Version tag of a stored certificate-signing key pair, version 1.
pub(crate) const V_CERTIFICATE_KEY_PAIR: u8 = 0xf1;

/// The escape that starts the tag of every format added after the single
/// byte tags ran out: `0xFF`, then a second byte whose high nibble names
/// the format and whose low nibble is its version.
pub(crate) const ESCAPE: u8 = 0xff;
/// Second tag byte of an address, version 1.
pub(crate) const X_ADDRESS: u8 = 0x11;
/// Second tag byte of a stored session record, version 1.
pub(crate) const X_SESSION_RECORD: u8 = 0x21;
/// Second tag byte of a stored remote identity (key and trust), version 1.
pub(crate) const X_REMOTE_IDENTITY: u8 = 0x31;
/// Second tag byte of a stored account (this device), version 1.
pub(crate) const X_ACCOUNT: u8 = 0x41;
/// Second tag byte of a stored device list, version 1.
pub(crate) const X_DEVICE_LIST: u8 = 0x51;
/// Second tag byte of a safety number's scannable form, version 1.
pub(crate) const X_SAFETY_NUMBER: u8 = 0x61;
/// Second tag byte of a stored received message (the inbox), version 2
/// (with the message's kind: direct, group message, sender key).
pub(crate) const X_RECEIVED: u8 = 0x72;
/// Second tag byte of a stored received message, version 1 (before
/// groups), still read.
pub(crate) const X_RECEIVED_V1: u8 = 0x71;
/// Second tag byte of a stored sent message (the outbox), version 1.
pub(crate) const X_SENT: u8 = 0x81;
#[cfg_attr(not(feature = "pq"), allow(dead_code))]
pub(crate) const X_KEM_PREKEY: u8 = 0x91;
#[cfg_attr(not(feature = "pq"), allow(dead_code))]
pub(crate) const X_KEM_PREKEY_PAIR: u8 = 0xa1;
/// Second tag byte of a sender key distribution message, version 1.
pub(crate) const X_SENDER_KEY_DISTRIBUTION: u8 = 0xb1;
/// Second tag byte of a group (sender key) message, version 1.
pub(crate) const X_GROUP_MESSAGE: u8 = 0xc1;
/// Second tag byte of a stored sender key record (what this device
/// received of one sender device's sender keys in one group), version 1.
pub(crate) const X_SENDER_KEY_RECORD: u8 = 0xd1;
/// Second tag byte of a stored group record (members, this device's own
/// sender key, who has it), version 1.
pub(crate) const X_GROUP_RECORD: u8 = 0xe1;

/// Prefix of the hash that replaces an identity seed whose public key has
/// an odd `x` (`IdentityKeyPair::generate`).
pub(crate) const IDENTITY_SEED_RETRY: &[u8] = b"sealwire/identity-seed/v1";
/// Prefix of the message an identity key signs to certify a signed prekey.
pub(crate) const SIGNED_PREKEY_SIGNATURE: &[u8] = b"sealwire/signed-prekey/v1";
/// HKDF info of the X3DH key derivation.
pub(crate) const X3DH_INFO: &[u8] = b"sealwire/x3dh/v1";
#[cfg_attr(not(feature = "pq"), allow(dead_code))]
pub(crate) const KEM_PREKEY_SIGNATURE: &[u8] = b"sealwire/kem-prekey/v1";
pub(crate) const PQXDH_INFO: &[u8] = b"sealwire/pqxdh/v1/x25519-sha256-mlkem768";
/// HKDF info of the ratchet's root-chain KDF (`KDF_RK`).
pub(crate) const ROOT_KDF_INFO: &[u8] = b"sealwire/ratchet/root/v1";

/// Prefix of the message a trust root signs to certify an issuer.
pub(crate) const ISSUER_CERTIFICATE_SIGNATURE: &[u8] = b"sealwire/issuer-certificate/v1";
/// Prefix of the message an issuer signs to certify a sender.
pub(crate) const SENDER_CERTIFICATE_SIGNATURE: &[u8] = b"sealwire/sender-certificate/v1";
/// HKDF info prefix of the key that wraps an envelope's payload secret
/// for one recipient.
pub(crate) const SEALED_WRAP_INFO: &[u8] = b"sealwire/sealed/wrap/v1";
/// HKDF info prefix of the key that authenticates an envelope from its
/// sender to one recipient.
pub(crate) const SEALED_AUTH_INFO: &[u8] = b"sealwire/sealed/auth/v1";
/// HKDF info of the key, nonce and commitment of an envelope's payload.
pub(crate) const SEALED_PAYLOAD_INFO: &[u8] = b"sealwire/sealed/payload/v2";

/// HKDF info that expands a group message's key seed into its
/// XChaCha20-Poly1305 key.
pub(crate) const GROUP_MESSAGE_KEY_INFO: &[u8] = b"sealwire/group/message-key/v1";

/// Prefix of the hash that names a received or sent message.
pub(crate) const MESSAGE_ID: &[u8] = b"sealwire/message-id/v1";
/// Prefix of the first hash of one side of a safety number.
pub(crate) const SAFETY_NUMBER: &[u8] = b"sealwire/safety-number/v1";

/// HMAC input that derives a message key from a chain key (`KDF_CK`).
pub(crate) const CHAIN_MESSAGE_KEY_SEED: u8 = 0x01;
/// HMAC input that derives the next chain key from a chain key (`KDF_CK`).
pub(crate) const CHAIN_NEXT_KEY_SEED: u8 = 0x02;
/// The `F` prefix of the X3DH KDF input: 32 bytes of 0xFF for X25519.
pub(crate) const X3DH_PREFIX: [u8; 32] = [0xff; 32];

#[cfg(test)]
mod tests {
    use super::*;

    // docs/protocol.md §15 states each label's length; keep them honest.
    #[test]
    fn label_lengths_match_the_specification() {
        for (label, len) in [
            (SIGNED_PREKEY_SIGNATURE, 25),
            (IDENTITY_SEED_RETRY, 25),
            (X3DH_INFO, 16),
            (KEM_PREKEY_SIGNATURE, 22),
            (PQXDH_INFO, 40),
            (ROOT_KDF_INFO, 24),
            (ISSUER_CERTIFICATE_SIGNATURE, 30),
            (SENDER_CERTIFICATE_SIGNATURE, 30),
            (SEALED_PAYLOAD_INFO, 26),
            (SEALED_WRAP_INFO, 23),
            (SEALED_AUTH_INFO, 23),
            (SAFETY_NUMBER, 25),
            (MESSAGE_ID, 22),
            (GROUP_MESSAGE_KEY_INFO, 29),
        ] {
            assert_eq!(label.len(), len, "{}", core::str::from_utf8(label).unwrap());
            assert!(label.is_ascii());
        }
    }
}
