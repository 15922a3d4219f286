//! The prekey bundle: what a server hands to someone who wants to start a
//! session with a device.

use alloc::vec::Vec;

use crate::address::Address;
use crate::certificate::{SenderCertificate, Timestamp, TrustStore};
use crate::codec::{Codec, Reader, Writer};
use crate::error::{CertificateError, DecodeError};
use crate::identity::IdentityKey;
#[cfg(feature = "pq")]
use crate::kem_prekey::{KEM_PREKEY_FIELDS_LEN, KemPreKey};
use crate::labels::V_BUNDLE;
use crate::prekey::{
    ONE_TIME_PREKEY_FIELDS_LEN, OneTimePreKey, SIGNED_PREKEY_FIELDS_LEN, SignedPreKey,
};

/// A device's identity key, its current signed prekey, while the server
/// has any left one of its one-time prekeys, a signed KEM prekey (a
/// one-time one while any are left, else the last-resort one), and the
/// device's sender certificate from its own app, which vouches for the
/// identity key.
///
/// Encoding (version 3): `0x13`, `Encode(IK)`, the signed prekey's id, key
/// and signature, a flag and the one-time prekey's id and key if present,
/// a flag and the KEM prekey's id, kind, `Encode(PQPK)` and signature if
/// present, and a flag and the sender certificate if present. Without the
/// `pq` feature a bundle with a KEM prekey is refused as unsupported.
///
/// Decoding checks structure only. [`crate::Session::initiate`] checks the
/// signature before any key in the bundle is used;
/// [`PreKeyBundle::check_certificate`] checks that the device's own app
/// vouches for the bundle, which the device layer requires by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreKeyBundle {
    identity: IdentityKey,
    signed_prekey: SignedPreKey,
    one_time_prekey: Option<OneTimePreKey>,
    #[cfg(feature = "pq")]
    kem_prekey: Option<KemPreKey>,
    certificate: Option<SenderCertificate>,
}

impl PreKeyBundle {
    /// The longest encoding: with a one-time prekey, a KEM prekey and
    /// the longest certificate.
    pub const MAX_ENCODED_LEN: usize = 1
        + IdentityKey::ENCODED_LEN
        + SIGNED_PREKEY_FIELDS_LEN
        + 1
        + ONE_TIME_PREKEY_FIELDS_LEN
        + 1
        + KEM_FIELDS_MAX
        + 1
        + SenderCertificate::MAX_ENCODED_LEN;

    /// Assembles a bundle without a certificate (on the server, or in
    /// tests).
    pub const fn new(
        identity: IdentityKey,
        signed_prekey: SignedPreKey,
        one_time_prekey: Option<OneTimePreKey>,
    ) -> Self {
        Self {
            identity,
            signed_prekey,
            one_time_prekey,
            #[cfg(feature = "pq")]
            kem_prekey: None,
            certificate: None,
        }
    }

    /// The same bundle carrying a signed KEM prekey, for the post-quantum
    /// agreement: an initiator that gets it must use it.
    #[cfg(feature = "pq")]
    #[must_use]
    pub fn with_kem_prekey(mut self, kem_prekey: KemPreKey) -> Self {
        self.kem_prekey = Some(kem_prekey);
        self
    }

    /// The KEM prekey, if the bundle carries one.
    #[cfg(feature = "pq")]
    pub const fn kem_prekey(&self) -> Option<&KemPreKey> {
        self.kem_prekey.as_ref()
    }

    /// The same bundle without its KEM prekey (what a server that strips
    /// it hands out; for tests of the downgrade refusal).
    #[cfg(feature = "pq")]
    #[must_use]
    pub fn without_kem_prekey(mut self) -> Self {
        self.kem_prekey = None;
        self
    }

    /// The same bundle carrying the device's sender certificate.
    #[must_use]
    pub fn with_certificate(mut self, certificate: SenderCertificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// The device's sender certificate, if the bundle carries one.
    pub const fn certificate(&self) -> Option<&SenderCertificate> {
        self.certificate.as_ref()
    }

    /// Checks that the device's own app vouches for this bundle as the
    /// device at `address`: the bundle carries a certificate, its chain
    /// validates against `trust` at `now` (this device's clock), its
    /// identity key is the bundle's, and it certifies `address`.
    ///
    /// Without this check, whoever hands out bundles (the relay) can hand
    /// out its own identity key on first contact and read what the
    /// initiator sends. Costs two Ed25519 verifications.
    ///
    /// # Errors
    /// [`CertificateError::Missing`] for a bundle without a certificate;
    /// the chain's [`CertificateError`] from [`TrustStore::validate`];
    /// [`CertificateError::IdentityMismatch`] if it certifies another
    /// identity key; [`CertificateError::AddressMismatch`] if it certifies
    /// another device.
    pub fn check_certificate(
        &self,
        trust: &TrustStore,
        address: &Address,
        now: Timestamp,
    ) -> Result<&SenderCertificate, CertificateError> {
        let certificate = self.certificate.as_ref().ok_or(CertificateError::Missing)?;
        trust.validate(certificate, now)?;
        if certificate.identity_key() != &self.identity {
            return Err(CertificateError::IdentityMismatch);
        }
        if Address::of_certificate(certificate) != *address {
            return Err(CertificateError::AddressMismatch);
        }
        Ok(certificate)
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
    /// A [`DecodeError`] for any malformed input (a malformed certificate
    /// or KEM key included); [`DecodeError::Unsupported`] if it carries a
    /// KEM prekey and the `pq` feature is off.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::MAX_ENCODED_LEN)
    }
}

/// The most a KEM prekey adds to a bundle.
#[cfg(feature = "pq")]
const KEM_FIELDS_MAX: usize = KEM_PREKEY_FIELDS_LEN;
#[cfg(not(feature = "pq"))]
const KEM_FIELDS_MAX: usize = 0;

impl Codec for PreKeyBundle {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_BUNDLE);
        self.identity.encode(w);
        self.signed_prekey.encode_fields(w);
        w.flag(self.one_time_prekey.is_some());
        if let Some(opk) = &self.one_time_prekey {
            opk.encode_fields(w);
        }
        #[cfg(feature = "pq")]
        {
            w.flag(self.kem_prekey.is_some());
            if let Some(kem) = &self.kem_prekey {
                kem.encode_fields(w);
            }
        }
        #[cfg(not(feature = "pq"))]
        w.flag(false);
        w.flag(self.certificate.is_some());
        if let Some(certificate) = &self.certificate {
            certificate.encode(w);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_BUNDLE)?;
        let identity = IdentityKey::read(r)?;
        let signed_prekey = SignedPreKey::read_fields(r)?;
        let one_time_prekey = if r.flag()? { Some(OneTimePreKey::read_fields(r)?) } else { None };
        #[cfg(feature = "pq")]
        let kem_prekey = if r.flag()? { Some(KemPreKey::read_fields(r)?) } else { None };
        #[cfg(not(feature = "pq"))]
        if r.flag()? {
            return Err(DecodeError::Unsupported);
        }
        let certificate = if r.flag()? { Some(SenderCertificate::read(r)?) } else { None };
        Ok(Self {
            identity,
            signed_prekey,
            one_time_prekey,
            #[cfg(feature = "pq")]
            kem_prekey,
            certificate,
        })
    }
}
