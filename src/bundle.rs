//! The prekey bundle: what a server hands to someone who wants to start a
//! session with a device.

use alloc::vec::Vec;

use crate::codec::{Codec, Reader, Writer};
use crate::error::DecodeError;
use crate::identity::IdentityKey;
use crate::labels::V_BUNDLE;
use crate::prekey::{
    ONE_TIME_PREKEY_FIELDS_LEN, OneTimePreKey, SIGNED_PREKEY_FIELDS_LEN, SignedPreKey,
};

/// A device's identity key, its current signed prekey and, while the
/// server has any left, one of its one-time prekeys.
///
/// Encoding (version 1): `0x11`, `Encode(IK)`, the signed prekey's id, key
/// and signature, a flag and the one-time prekey's id and key if present,
/// and a flag for a signed KEM prekey, which must be `0x00` in this
/// version (the post-quantum agreement defines its contents).
///
/// Decoding checks structure only. [`crate::Session::initiate`] checks the
/// signature before any key in the bundle is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    identity: IdentityKey,
    signed_prekey: SignedPreKey,
    one_time_prekey: Option<OneTimePreKey>,
}

impl PreKeyBundle {
    /// The longest encoding: with a one-time prekey.
    pub const MAX_ENCODED_LEN: usize = 1
        + IdentityKey::ENCODED_LEN
        + SIGNED_PREKEY_FIELDS_LEN
        + 1
        + ONE_TIME_PREKEY_FIELDS_LEN
        + 1;

    /// Assembles a bundle (on the server, or in tests).
    pub const fn new(
        identity: IdentityKey,
        signed_prekey: SignedPreKey,
        one_time_prekey: Option<OneTimePreKey>,
    ) -> Self {
        Self { identity, signed_prekey, one_time_prekey }
    }

    /// The device's identity key.
    pub const fn identity(&self) -> &IdentityKey {
        &self.identity
    }

    /// The device's current signed prekey.
    pub const fn signed_prekey(&self) -> &SignedPreKey {
        &self.signed_prekey
    }

    /// The one-time prekey, if the server had one left.
    pub const fn one_time_prekey(&self) -> Option<&OneTimePreKey> {
        self.one_time_prekey.as_ref()
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a bundle.
    ///
    /// # Errors
    /// A [`DecodeError`] for any malformed input; [`DecodeError::Unsupported`]
    /// if it carries a KEM prekey, which this version does not read.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::MAX_ENCODED_LEN)
    }
}

impl Codec for PreKeyBundle {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_BUNDLE);
        self.identity.encode(w);
        self.signed_prekey.encode_fields(w);
        w.flag(self.one_time_prekey.is_some());
        if let Some(opk) = &self.one_time_prekey {
            opk.encode_fields(w);
        }
        // No signed KEM prekey in this version.
        w.flag(false);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_BUNDLE)?;
        let identity = IdentityKey::read(r)?;
        let signed_prekey = SignedPreKey::read_fields(r)?;
        let one_time_prekey = if r.flag()? { Some(OneTimePreKey::read_fields(r)?) } else { None };
        if r.flag()? {
            return Err(DecodeError::Unsupported);
        }
        Ok(Self { identity, signed_prekey, one_time_prekey })
    }
}
