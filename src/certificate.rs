//! Certificates that let a recipient on one app check who wrote to it from
//! another.
//!
//! Each app has a long-term **trust root**, an Ed25519 key kept offline. It
//! signs **issuer certificates** for the app's servers (key id, issuer key,
//! app id, validity window). An issuer signs short-lived **sender
//! certificates** for the app's users' devices (app id, user id, device id,
//! identity key, expiry), each carrying the issuer certificate that vouches
//! for it. A recipient keeps a [`TrustStore`]: one trust root per app it
//! accepts mail from, the issuers it revoked (by key id, or by key with
//! every encoding of it), and the sender devices it denied (by identity
//! key, or one certificate).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::VerifyingKey;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::codec::{Codec, Reader, Writer, decode_all};
use crate::error::{CertificateError, DecodeError};
use crate::identity::IdentityKey;
use crate::labels::{
    ISSUER_CERTIFICATE_SIGNATURE, KEY_CERTIFICATE, SENDER_CERTIFICATE_SIGNATURE,
    V_CERTIFICATE_KEY_PAIR, V_ISSUER_CERTIFICATE, V_SENDER_CERTIFICATE, V_TRUST_ROOT,
};
use crate::limits::{MAX_APP_ID_LEN, MAX_USER_ID_LEN};
use crate::primitives::ed25519::{self, Ed25519Secret};

/// A time in whole seconds since the Unix epoch, supplied by the caller:
/// sealwire never reads a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

/// The id of an app (for example `"chat.example-a"`): 1 to
/// [`MAX_APP_ID_LEN`] bytes, each a lower-case ASCII letter, a digit, `.`,
/// `-` or `_`. The narrow alphabet keeps ids printable, rules out
/// characters of other scripts that look like ASCII letters, and rules
/// out ids that differ only in case. It does not rule out what a font may
/// confuse within ASCII (`0` and `o`, `1` and `l`): apps show an id from a
/// certificate, they do not compare it by eye.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AppId(Vec<u8>);

impl AppId {
    /// Checks and wraps an app id.
    ///
    /// # Errors
    /// [`DecodeError::InvalidValue`] for an empty id or another character
    /// (an upper-case letter included), [`DecodeError::TooLong`] above
    /// [`MAX_APP_ID_LEN`].
    pub fn new(id: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(id.as_bytes())
    }

    fn from_bytes(id: &[u8]) -> Result<Self, DecodeError> {
        if id.len() > MAX_APP_ID_LEN {
            return Err(DecodeError::TooLong);
        }
        let allowed = |b: &u8| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        };
        if id.is_empty() || !id.iter().all(allowed) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self(id.to_vec()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is admitted, so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes_u32(&self.0);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::from_bytes(r.bytes_u32(MAX_APP_ID_LEN)?)
    }
}

impl fmt::Debug for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppId({:?})", self.as_str())
    }
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id of a user within an app: 1 to [`MAX_USER_ID_LEN`] bytes, whose
/// meaning the app decides (a UUID, an account number, a handle).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(Vec<u8>);

impl UserId {
    /// Checks and wraps a user id.
    ///
    /// # Errors
    /// [`DecodeError::InvalidValue`] for an empty id,
    /// [`DecodeError::TooLong`] above [`MAX_USER_ID_LEN`].
    pub fn new(id: &[u8]) -> Result<Self, DecodeError> {
        if id.len() > MAX_USER_ID_LEN {
            return Err(DecodeError::TooLong);
        }
        if id.is_empty() {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self(id.to_vec()))
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn encode(&self, w: &mut Writer<'_>) {
        w.bytes_u32(&self.0);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::new(r.bytes_u32(MAX_USER_ID_LEN)?)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(&self.0) {
            Ok(text) => write!(f, "UserId({text:?})"),
            Err(_) => {
                f.write_str("UserId(0x")?;
                crate::hex::write(f, &self.0)?;
                f.write_str(")")
            }
        }
    }
}

/// The id of one of a user's devices, chosen by the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub u32);

/// The public half of a certificate-signing key (a trust root's or an
/// issuer's). Encoded as `0x04` then the 32-byte Ed25519 public key;
/// decoding refuses non-canonical and small-order keys. The key is kept
/// decompressed, so verifying a certificate does not decompress it again.
#[derive(Clone, Copy)]
pub struct CertificateKey {
    bytes: [u8; 32],
    key: VerifyingKey,
}

impl PartialEq for CertificateKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for CertificateKey {}

impl core::hash::Hash for CertificateKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl PartialOrd for CertificateKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By the encoding's bytes.
impl Ord for CertificateKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

/// The first 8 bytes in hex; `{:#}` shows all 32.
impl fmt::Display for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::hex::write_short(f, &self.bytes)
    }
}

impl CertificateKey {
    /// Length of the encoding.
    pub const ENCODED_LEN: usize = 33;

    /// The encoding.
    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        let (tag, key) = out.split_at_mut(1);
        tag.copy_from_slice(&[KEY_CERTIFICATE]);
        key.copy_from_slice(&self.bytes);
        out
    }

    /// Decodes the encoding, all of `bytes`.
    ///
    /// # Errors
    /// A [`DecodeError`] for a wrong length or tag or an unusable key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::ENCODED_LEN)
    }

    fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        ed25519::verify_with(&self.key, message, signature)
    }

    /// What every key the same secret can sign for has in common: the
    /// `y` of `[8]A`. The holder of `A`'s secret also signs for `-A`
    /// (negate the scalar) and, one nonce in eight, for `A + T` with `T`
    /// of small order; all of them give the same `[8]A` up to sign. Costs
    /// a decompression and three doublings.
    fn canonical(&self) -> [u8; 32] {
        let mut y = CompressedEdwardsY(self.bytes)
            .decompress()
            .map_or(self.bytes, |p| p.mul_by_cofactor().compress().to_bytes());
        if let Some(last) = y.last_mut() {
            *last &= 0x7f;
        }
        y
    }
}

impl Codec for CertificateKey {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(KEY_CERTIFICATE);
        w.bytes(&self.bytes);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            KEY_CERTIFICATE => {}
            other => return Err(DecodeError::UnexpectedKeyType(other)),
        }
        let bytes = r.array()?;
        let key = ed25519::decode_public(&bytes)?;
        Ok(Self { bytes, key })
    }
}

impl fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertificateKey(")?;
        crate::hex::write(f, &self.bytes)?;
        f.write_str(")")
    }
}

/// A certificate-signing key pair: an app's trust root, or one of its
/// issuers. Stored as `0xF1` then the 32-byte Ed25519 seed (secret).
pub struct CertificateKeyPair(Ed25519Secret);

impl CertificateKeyPair {
    /// Length of the stored encoding.
    pub const ENCODED_LEN: usize = 33;

    /// A fresh key pair from the caller's RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(Ed25519Secret::generate(rng))
    }

    /// The public key.
    pub fn public(&self) -> CertificateKey {
        let key = self.0.verifying_key();
        CertificateKey { bytes: key.to_bytes(), key }
    }

    /// The stored encoding. Secret.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        let mut w = Writer::new(&mut out);
        w.u8(V_CERTIFICATE_KEY_PAIR);
        w.bytes(self.0.seed());
        out
    }

    /// Decodes the stored encoding.
    ///
    /// # Errors
    /// A [`DecodeError`] for a wrong length or version tag.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let seed = decode_all(bytes, Self::ENCODED_LEN, |r| {
            r.version(V_CERTIFICATE_KEY_PAIR)?;
            Ok(Zeroizing::new(r.array::<32>()?))
        })?;
        Ok(Self(Ed25519Secret::from_seed(&seed)))
    }
}

impl zeroize::ZeroizeOnDrop for CertificateKeyPair {}

impl fmt::Debug for CertificateKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateKeyPair")
            .field("public", &self.public())
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// An app's trust root as recipients hold it: the app id and its root key.
/// Encoding: `0xE2`, `Encode(root key)`, then the app id (u32 length).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TrustRoot {
    app_id: AppId,
    key: CertificateKey,
}

impl TrustRoot {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 1 + CertificateKey::ENCODED_LEN + 4 + MAX_APP_ID_LEN;

    /// The trust root of `app_id` with root key `key`.
    pub const fn new(app_id: AppId, key: CertificateKey) -> Self {
        Self { app_id, key }
    }

    /// The app.
    pub const fn app_id(&self) -> &AppId {
        &self.app_id
    }

    /// The root key.
    pub const fn key(&self) -> &CertificateKey {
        &self.key
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a trust root.
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::MAX_ENCODED_LEN)
    }
}

impl Codec for TrustRoot {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_TRUST_ROOT);
        self.key.encode(w);
        self.app_id.encode(w);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_TRUST_ROOT)?;
        let key = CertificateKey::read(r)?;
        let app_id = AppId::read(r)?;
        Ok(Self { app_id, key })
    }
}

/// A trust root's certificate for one of its app's issuers (servers).
///
/// Encoding (version 2): `0xA2`, then the signed fields (u32 key id,
/// `Encode(issuer key)`, app id, u64 not-before, u64 not-after), then the
/// root's 64-byte signature over
/// `"sealwire/issuer-certificate/v1" || signed fields`.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuerCertificate {
    key_id: u32,
    key: CertificateKey,
    app_id: AppId,
    not_before: Timestamp,
    not_after: Timestamp,
    signature: [u8; 64],
}

impl IssuerCertificate {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize =
        1 + 4 + CertificateKey::ENCODED_LEN + 4 + MAX_APP_ID_LEN + 8 + 8 + 64;

    /// Certifies `key` as issuer `key_id` of `app_id`, valid from
    /// `not_before` to `not_after` inclusive, signed by the app's `root`.
    ///
    /// # Errors
    /// [`CertificateError::InvalidValidity`] if `not_before` is after
    /// `not_after`.
    pub fn issue(
        root: &CertificateKeyPair,
        app_id: &AppId,
        key_id: u32,
        key: &CertificateKey,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Result<Self, CertificateError> {
        if not_before > not_after {
            return Err(CertificateError::InvalidValidity);
        }
        let mut cert = Self {
            key_id,
            key: *key,
            app_id: app_id.clone(),
            not_before,
            not_after,
            signature: [0; 64],
        };
        cert.signature = root.0.sign(&cert.signed_message());
        Ok(cert)
    }

    /// The issuer's key id, unique within its app; revocation names it.
    pub const fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The issuer's public key.
    pub const fn key(&self) -> &CertificateKey {
        &self.key
    }

    /// The app the issuer serves.
    pub const fn app_id(&self) -> &AppId {
        &self.app_id
    }

    /// The first second the certificate is valid.
    pub const fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// The last second the certificate is valid.
    pub const fn not_after(&self) -> Timestamp {
        self.not_after
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a certificate (its signature is checked on validation).
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::MAX_ENCODED_LEN)
    }

    fn encode_signed_fields(&self, w: &mut Writer<'_>) {
        w.u32(self.key_id);
        self.key.encode(w);
        self.app_id.encode(w);
        w.u64(self.not_before.0);
        w.u64(self.not_after.0);
    }

    fn signed_message(&self) -> Vec<u8> {
        let mut message =
            Vec::with_capacity(ISSUER_CERTIFICATE_SIGNATURE.len() + Self::MAX_ENCODED_LEN);
        let mut w = Writer::new(&mut message);
        w.bytes(ISSUER_CERTIFICATE_SIGNATURE);
        self.encode_signed_fields(&mut w);
        message
    }
}

impl Codec for IssuerCertificate {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_ISSUER_CERTIFICATE);
        self.encode_signed_fields(w);
        w.bytes(&self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_ISSUER_CERTIFICATE)?;
        let key_id = r.u32()?;
        let key = CertificateKey::read(r)?;
        let app_id = AppId::read(r)?;
        let not_before = Timestamp(r.u64()?);
        let not_after = Timestamp(r.u64()?);
        // Checked once both are read, before the signature (§9.3).
        if not_before > not_after {
            return Err(DecodeError::InconsistentState);
        }
        let signature = r.array()?;
        Ok(Self { key_id, key, app_id, not_before, not_after, signature })
    }
}

impl fmt::Debug for IssuerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerCertificate")
            .field("app_id", &self.app_id)
            .field("key_id", &self.key_id)
            .field("key", &self.key)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// An issuer's certificate for one device of a user: who the device is
/// (app, user, device) and which identity key it seals with, until when.
///
/// Encoding (version 2): `0xB2`, then the signed fields (app id, user id,
/// u32 device id, `Encode(IK)`, u64 expiry, and the issuer certificate with
/// a u32 length), then the issuer's 64-byte signature over
/// `"sealwire/sender-certificate/v1" || signed fields`.
#[derive(Clone, PartialEq, Eq)]
pub struct SenderCertificate {
    app_id: AppId,
    user_id: UserId,
    device_id: DeviceId,
    identity: IdentityKey,
    expires: Timestamp,
    issuer: IssuerCertificate,
    signature: [u8; 64],
}

impl SenderCertificate {
    /// The longest encoding.
    pub const MAX_ENCODED_LEN: usize = 1
        + 4
        + MAX_APP_ID_LEN
        + 4
        + MAX_USER_ID_LEN
        + 4
        + IdentityKey::ENCODED_LEN
        + 8
        + 4
        + IssuerCertificate::MAX_ENCODED_LEN
        + 64;

    /// Certifies that device `device_id` of user `user_id` of the issuer's
    /// app seals with `identity`, until `expires` inclusive. `issuer_key`
    /// must be the key `issuer` certifies.
    ///
    /// # Errors
    /// [`CertificateError::KeyMismatch`] if `issuer_key` is not the key in
    /// `issuer`.
    pub fn issue(
        issuer_key: &CertificateKeyPair,
        issuer: &IssuerCertificate,
        user_id: UserId,
        device_id: DeviceId,
        identity: &IdentityKey,
        expires: Timestamp,
    ) -> Result<Self, CertificateError> {
        if issuer_key.public() != issuer.key {
            return Err(CertificateError::KeyMismatch);
        }
        let mut cert = Self {
            app_id: issuer.app_id.clone(),
            user_id,
            device_id,
            identity: *identity,
            expires,
            issuer: issuer.clone(),
            signature: [0; 64],
        };
        cert.signature = issuer_key.0.sign(&cert.signed_message());
        Ok(cert)
    }

    /// The sender's app.
    pub const fn app_id(&self) -> &AppId {
        &self.app_id
    }

    /// The sender's user id within the app.
    pub const fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The sender's device.
    pub const fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The identity key the device seals with.
    pub const fn identity_key(&self) -> &IdentityKey {
        &self.identity
    }

    /// The last second the certificate is valid.
    pub const fn expires(&self) -> Timestamp {
        self.expires
    }

    /// The certificate of the issuer that signed this one.
    pub const fn issuer(&self) -> &IssuerCertificate {
        &self.issuer
    }

    /// The encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// Decodes a certificate (signatures are checked on validation).
    ///
    /// # Errors
    /// A [`DecodeError`] for malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_exact(bytes, Self::MAX_ENCODED_LEN)
    }

    fn encode_signed_fields(&self, w: &mut Writer<'_>) {
        self.app_id.encode(w);
        self.user_id.encode(w);
        w.u32(self.device_id.0);
        self.identity.encode(w);
        w.u64(self.expires.0);
        w.bytes_u32(&self.issuer.to_vec());
    }

    fn signed_message(&self) -> Vec<u8> {
        let mut message =
            Vec::with_capacity(SENDER_CERTIFICATE_SIGNATURE.len() + Self::MAX_ENCODED_LEN);
        let mut w = Writer::new(&mut message);
        w.bytes(SENDER_CERTIFICATE_SIGNATURE);
        self.encode_signed_fields(&mut w);
        message
    }
}

impl Codec for SenderCertificate {
    fn encode(&self, w: &mut Writer<'_>) {
        w.u8(V_SENDER_CERTIFICATE);
        self.encode_signed_fields(w);
        w.bytes(&self.signature);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.version(V_SENDER_CERTIFICATE)?;
        let app_id = AppId::read(r)?;
        let user_id = UserId::read(r)?;
        let device_id = DeviceId(r.u32()?);
        let identity = IdentityKey::read(r)?;
        let expires = Timestamp(r.u64()?);
        let issuer = IssuerCertificate::decode_exact(
            r.bytes_u32(IssuerCertificate::MAX_ENCODED_LEN)?,
            IssuerCertificate::MAX_ENCODED_LEN,
        )?;
        let signature = r.array()?;
        Ok(Self { app_id, user_id, device_id, identity, expires, issuer, signature })
    }
}

impl fmt::Debug for SenderCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderCertificate")
            .field("app_id", &self.app_id)
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("identity", &self.identity)
            .field("expires", &self.expires)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// What a recipient trusts: one root key per app it accepts mail from, the
/// issuers it has revoked (by key id or by key), and the sender devices it
/// has denied (by identity key or by certificate).
#[derive(Clone, Default)]
pub struct TrustStore {
    roots: BTreeMap<AppId, CertificateKey>,
    revoked: BTreeSet<(AppId, u32)>,
    /// [`CertificateKey::canonical`] of each revoked key.
    revoked_keys: BTreeSet<[u8; 32]>,
    denied_identities: BTreeSet<IdentityKey>,
    denied_certificates: BTreeSet<[u8; 32]>,
}

impl TrustStore {
    /// A store that trusts nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts `root` for its app, replacing any root held for that app.
    pub fn add_root(&mut self, root: &TrustRoot) {
        self.roots.insert(root.app_id.clone(), root.key);
    }

    /// Stops trusting an app.
    pub fn remove_root(&mut self, app_id: &AppId) {
        self.roots.remove(app_id);
    }

    /// Revokes issuer `key_id` of `app_id`: certificates it signed are
    /// refused from now on.
    pub fn revoke(&mut self, app_id: &AppId, key_id: u32) {
        self.revoked.insert((app_id.clone(), key_id));
    }

    /// Revokes an issuer key itself, under whatever key id and in whatever
    /// app it was certified: use this when the key leaked. Revoking only
    /// its key id would leave another certificate for the same key valid.
    /// It covers every encoding the same secret signs for: the negated key
    /// and the key plus a point of small order.
    pub fn revoke_issuer_key(&mut self, key: &CertificateKey) {
        self.revoked_keys.insert(key.canonical());
    }

    /// Denies one sender device by its identity key: every certificate for
    /// that key is refused from now on, before it expires. For a device
    /// reported lost or compromised.
    pub fn deny_identity(&mut self, identity: &IdentityKey) {
        self.denied_identities.insert(*identity);
    }

    /// Denies one sender certificate (by the SHA-256 of its encoding),
    /// leaving the device's other certificates valid.
    pub fn deny_certificate(&mut self, certificate: &SenderCertificate) {
        self.denied_certificates.insert(certificate_fingerprint(certificate));
    }

    /// Whether `identity` is denied ([`TrustStore::deny_identity`]). The
    /// device layer sends nothing to a denied key and starts no session
    /// with one.
    pub fn is_denied(&self, identity: &IdentityKey) -> bool {
        self.denied_identities.contains(identity)
    }

    /// Lifts a denial made with [`TrustStore::deny_identity`].
    pub fn allow_identity(&mut self, identity: &IdentityKey) {
        self.denied_identities.remove(identity);
    }

    /// Checks the whole chain of `certificate` at time `now`, in this
    /// order: the app is trusted; the issuer certificate is signed by that
    /// app's root and names the same app; the issuer is not revoked (by
    /// key id or by key) and is valid at `now`; the sender certificate is
    /// signed by the issuer and has not expired; neither its identity key
    /// nor the certificate itself is denied. Costs two Ed25519
    /// verifications (and a SHA-256 of the certificate if any certificate
    /// is denied).
    ///
    /// `now` must come from this device's own clock, never from the relay
    /// or the message: whoever picks the time decides whether an expired
    /// certificate passes.
    ///
    /// That the certificate's identity key is the one that sealed an
    /// envelope is checked by [`crate::unseal`], not here.
    ///
    /// # Errors
    /// The first [`CertificateError`] found, in the order above.
    pub fn validate(
        &self,
        certificate: &SenderCertificate,
        now: Timestamp,
    ) -> Result<(), CertificateError> {
        let root = self.roots.get(&certificate.app_id).ok_or(CertificateError::UntrustedApp)?;
        let issuer = &certificate.issuer;
        if !root.verify(&issuer.signed_message(), &issuer.signature)
            || issuer.app_id != certificate.app_id
        {
            return Err(CertificateError::BrokenChain);
        }
        if self.revoked.contains(&(issuer.app_id.clone(), issuer.key_id))
            || (!self.revoked_keys.is_empty()
                && self.revoked_keys.contains(&issuer.key.canonical()))
        {
            return Err(CertificateError::Revoked);
        }
        if now < issuer.not_before {
            return Err(CertificateError::NotYetValid);
        }
        if now > issuer.not_after {
            return Err(CertificateError::Expired);
        }
        if !issuer.key.verify(&certificate.signed_message(), &certificate.signature) {
            return Err(CertificateError::BrokenChain);
        }
        if now > certificate.expires {
            return Err(CertificateError::Expired);
        }
        if self.denied_identities.contains(&certificate.identity)
            || (!self.denied_certificates.is_empty()
                && self.denied_certificates.contains(&certificate_fingerprint(certificate)))
        {
            return Err(CertificateError::Denied);
        }
        Ok(())
    }
}

/// SHA-256 of a certificate's encoding: how the deny list names it.
fn certificate_fingerprint(certificate: &SenderCertificate) -> [u8; 32] {
    Sha256::digest(certificate.to_vec()).into()
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStore")
            .field("apps", &self.roots.keys().collect::<Vec<_>>())
            .field("revoked", &self.revoked)
            .field("revoked_keys", &self.revoked_keys.len())
            .field("denied_identities", &self.denied_identities)
            .field("denied_certificates", &self.denied_certificates.len())
            .finish()
    }
}
