//! The functions of the C ABI, by area: trust and certificates, keys and
//! low-level sessions, devices, groups, and the relay's split.
//!
//! Every `unsafe extern "C"` function here has the same safety contract,
//! stated once: each pointer argument is NULL or valid for what its
//! documentation says (inputs readable for their length, outputs writable,
//! handles made by this library); inputs do not change during the call.
//! The library checks NULLs and handles; it cannot check the rest.

use sealwire::rand_core::UnwrapErr;
use sealwire::sqlite::{SqliteStore, StorageKey};
use sealwire::{
    Address, AppId, CertificateKey, CertificateKeyPair, Decision, Device, DeviceId, GroupId,
    GroupSent, IdentityEvent, IdentityKey, IdentityKeyPair, InitialMessage, IssuerCertificate,
    MessageId, MultiRecipientEnvelope, OneTimePreKeyPair, PreKeyBundle, PreKeyId, Publication,
    Received, ReceivedKind, SenderCertificate, Sent, Session, SignedPreKeyPair, Timestamp,
    TrustRoot, TrustStore, UserAddress, UserId,
};
use zeroize::Zeroize;

use crate::boundary;
use crate::error::{SEALWIRE_ERROR_INVALID_ARGUMENT, SEALWIRE_ERROR_RANDOM, coded};
use crate::handle::{
    Kind, check_out, free_handle, give_bytes, input, put, put_handle, sealwire_bytes, with,
};
use crate::store::{AnyStore, AnyStoreError};

/// A set of trust roots: the apps whose senders a device accepts.
pub struct sealwire_trust_store {
    _private: [u8; 0],
}

/// One device of one user, with its store (in memory or SQLite).
pub struct sealwire_device {
    _private: [u8; 0],
}

/// What a device publishes: its identity, prekeys and certificate.
pub struct sealwire_publication {
    _private: [u8; 0],
}

/// An upload made by `sealwire_device_send`.
pub struct sealwire_sent {
    _private: [u8; 0],
}

/// The uploads made by `sealwire_device_send_to_group`.
pub struct sealwire_group_sent {
    _private: [u8; 0],
}

/// A message `sealwire_device_receive` opened.
pub struct sealwire_received {
    _private: [u8; 0],
}

/// A low-level session between two devices (X3DH and the Double Ratchet).
pub struct sealwire_session {
    _private: [u8; 0],
}

/// A user: app id and user id, both UTF-8 bytes (the app id in lower
/// case).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sealwire_user {
    /// The app id's bytes.
    pub app: *const u8,
    /// Their length.
    pub app_len: usize,
    /// The user id's bytes.
    pub user: *const u8,
    /// Their length.
    pub user_len: usize,
}

/// One device of one user.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct sealwire_address {
    /// The user.
    pub user: sealwire_user,
    /// The device id.
    pub device: u32,
}

type Dev = Device<AnyStore>;
type Rng = UnwrapErr<getrandom::SysRng>;

/// The operating system's RNG, checked once per process so that one that
/// does not work gives `SEALWIRE_ERROR_RANDOM` rather than a panic. (One
/// that fails later, which the operating systems sealwire runs on do not
/// do once they have given bytes, panics inside the library and gives
/// `SEALWIRE_ERROR_PANIC`.)
fn rng() -> Result<Rng, i32> {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let works = *WORKS.get_or_init(|| getrandom::fill(&mut [0u8; 1]).is_ok());
    if works { Ok(UnwrapErr(getrandom::SysRng)) } else { Err(SEALWIRE_ERROR_RANDOM) }
}

fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, i32> {
    std::str::from_utf8(input(ptr, len)?).map_err(|_| SEALWIRE_ERROR_INVALID_ARGUMENT)
}

fn user_of(user: *const sealwire_user) -> Result<UserAddress, i32> {
    if user.is_null() {
        return Err(crate::error::SEALWIRE_ERROR_NULL_POINTER);
    }
    // SAFETY: not null; the caller promises a readable `sealwire_user`
    // (not necessarily aligned).
    let user = unsafe { user.read_unaligned() };
    let app = coded(AppId::new(text(user.app, user.app_len)?))?;
    let id = coded(UserId::new(input(user.user, user.user_len)?))?;
    Ok(UserAddress::new(app, id))
}

fn users_of(users: *const sealwire_user, count: usize) -> Result<Vec<UserAddress>, i32> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if users.is_null() {
        return Err(crate::error::SEALWIRE_ERROR_NULL_POINTER);
    }
    if count > sealwire::limits::MAX_GROUP_MEMBERS * 2 {
        return Err(SEALWIRE_ERROR_INVALID_ARGUMENT);
    }
    (0..count)
        .map(|i| {
            // SAFETY: not null; the caller promises `count` readable
            // entries, not necessarily aligned (read one by one).
            let user = unsafe { users.add(i).read_unaligned() };
            user_of(&user)
        })
        .collect()
}

fn address_of(address: *const sealwire_address) -> Result<Address, i32> {
    if address.is_null() {
        return Err(crate::error::SEALWIRE_ERROR_NULL_POINTER);
    }
    // SAFETY: not null; the caller promises a readable `sealwire_address`
    // (not necessarily aligned).
    let address = unsafe { address.read_unaligned() };
    Ok(user_of(&address.user)?.device(DeviceId(address.device)))
}

fn group_of(ptr: *const u8, len: usize) -> Result<GroupId, i32> {
    coded(GroupId::new(input(ptr, len)?))
}

fn identity_key(ptr: *const u8, len: usize) -> Result<IdentityKey, i32> {
    coded(IdentityKey::from_bytes(input(ptr, len)?))
}

fn identity_pair(ptr: *const u8, len: usize) -> Result<IdentityKeyPair, i32> {
    coded(IdentityKeyPair::from_bytes(input(ptr, len)?))
}

fn message_id(ptr: *const u8, len: usize) -> Result<MessageId, i32> {
    let bytes: [u8; 16] =
        input(ptr, len)?.try_into().map_err(|_| SEALWIRE_ERROR_INVALID_ARGUMENT)?;
    Ok(MessageId(bytes))
}

// ---- trust and certificates ------------------------------------------------------------

/// Makes an empty trust store.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_trust_store_new(out: *mut *mut sealwire_trust_store) -> i32 {
    boundary(|| put_handle(out, Kind::TrustStore, TrustStore::new()))
}

/// Adds a trust root (its encoding, `0xE2`, from `sealwire_trust_root_new`
/// or the app's distribution).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_trust_store_add_root(
    store: *mut sealwire_trust_store,
    root: *const u8,
    root_len: usize,
) -> i32 {
    boundary(|| {
        let root = coded(TrustRoot::from_bytes(input(root, root_len)?))?;
        with(store, Kind::TrustStore, |s: &mut TrustStore| {
            s.add_root(&root);
            Ok(())
        })
    })
}

/// Frees a trust store (devices made from it keep their own copy).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_trust_store_free(store: *mut sealwire_trust_store) -> i32 {
    boundary(|| match free_handle::<TrustStore, _>(store, Kind::TrustStore) {
        0 => Ok(()),
        code => Err(code),
    })
}

/// Generates a certificate-signing key pair (an app's root or issuer
/// key): its secret encoding (keep it secret) and its public encoding.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_certificate_key_generate(
    out_secret: *mut sealwire_bytes,
    out_public: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out_secret)?;
        check_out(out_public)?;
        let pair = CertificateKeyPair::generate(&mut rng()?);
        give_bytes(out_secret, pair.to_bytes().to_vec())?;
        give_bytes(out_public, pair.public().to_bytes().to_vec())
    })
}

/// The trust root of app `app` with root key `root_public`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_trust_root_new(
    app: *const u8,
    app_len: usize,
    root_public: *const u8,
    root_public_len: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let app = coded(AppId::new(text(app, app_len)?))?;
        let key = coded(CertificateKey::from_bytes(input(root_public, root_public_len)?))?;
        give_bytes(out, TrustRoot::new(app, key).to_bytes())
    })
}

/// Issues an issuer certificate: the root (secret encoding) certifies
/// `issuer_public` for app `app` from `not_before` to `not_after`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sealwire_issuer_certificate_issue(
    root_secret: *const u8,
    root_secret_len: usize,
    app: *const u8,
    app_len: usize,
    key_id: u32,
    issuer_public: *const u8,
    issuer_public_len: usize,
    not_before: u64,
    not_after: u64,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let root = coded(CertificateKeyPair::from_bytes(input(root_secret, root_secret_len)?))?;
        let app = coded(AppId::new(text(app, app_len)?))?;
        let key = coded(CertificateKey::from_bytes(input(issuer_public, issuer_public_len)?))?;
        let cert = coded(IssuerCertificate::issue(
            &root,
            &app,
            key_id,
            &key,
            Timestamp(not_before),
            Timestamp(not_after),
        ))?;
        give_bytes(out, cert.to_bytes())
    })
}

/// Issues a sender certificate for device `device` of user `user`, whose
/// identity key is `identity` (33 bytes), valid until `expires`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sealwire_sender_certificate_issue(
    issuer_secret: *const u8,
    issuer_secret_len: usize,
    issuer_certificate: *const u8,
    issuer_certificate_len: usize,
    user: *const u8,
    user_len: usize,
    device: u32,
    identity: *const u8,
    identity_len: usize,
    expires: u64,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let key = coded(CertificateKeyPair::from_bytes(input(issuer_secret, issuer_secret_len)?))?;
        let issuer = coded(IssuerCertificate::from_bytes(input(
            issuer_certificate,
            issuer_certificate_len,
        )?))?;
        let user = coded(UserId::new(input(user, user_len)?))?;
        let identity = identity_key(identity, identity_len)?;
        let cert = coded(SenderCertificate::issue(
            &key,
            &issuer,
            user,
            DeviceId(device),
            &identity,
            Timestamp(expires),
        ))?;
        give_bytes(out, cert.to_bytes())
    })
}

// ---- keys and low-level sessions -------------------------------------------------------

/// Generates an identity key pair: its secret encoding and its public
/// key (33 bytes).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_identity_generate(
    out_secret: *mut sealwire_bytes,
    out_public: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out_secret)?;
        check_out(out_public)?;
        let pair = IdentityKeyPair::generate(&mut rng()?);
        give_bytes(out_secret, pair.to_bytes().to_vec())?;
        give_bytes(out_public, pair.public().to_bytes().to_vec())
    })
}

/// Generates a signed prekey pair with id `id`, signed by the identity
/// (secret encoding): the pair's secret encoding.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_signed_prekey_generate(
    identity_secret: *const u8,
    identity_secret_len: usize,
    id: u32,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let identity = identity_pair(identity_secret, identity_secret_len)?;
        check_out(out)?;
        let pair = SignedPreKeyPair::generate(&mut rng()?, &identity, PreKeyId(id));
        give_bytes(out, pair.to_bytes().to_vec())
    })
}

/// Generates a one-time prekey pair with id `id`: its secret encoding.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_one_time_prekey_generate(
    id: u32,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let pair = OneTimePreKeyPair::generate(&mut rng()?, PreKeyId(id));
        give_bytes(out, pair.to_bytes().to_vec())
    })
}

/// A (classic) prekey bundle: the identity's public key (33 bytes), the
/// public halves of a signed prekey pair and, unless `one_time_len` is 0,
/// of a one-time prekey pair (both given as their secret encodings).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_bundle_new(
    identity: *const u8,
    identity_len: usize,
    signed_pair: *const u8,
    signed_pair_len: usize,
    one_time_pair: *const u8,
    one_time_pair_len: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let identity = identity_key(identity, identity_len)?;
        let signed = coded(SignedPreKeyPair::from_bytes(input(signed_pair, signed_pair_len)?))?;
        let one_time = match one_time_pair_len {
            0 => None,
            n => Some(coded(OneTimePreKeyPair::from_bytes(input(one_time_pair, n)?))?.public()),
        };
        give_bytes(out, PreKeyBundle::new(identity, signed.public(), one_time).to_bytes())
    })
}

/// Starts a session with the owner of `bundle`, as the X3DH initiator.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_initiate(
    identity_secret: *const u8,
    identity_secret_len: usize,
    bundle: *const u8,
    bundle_len: usize,
    out: *mut *mut sealwire_session,
) -> i32 {
    boundary(|| {
        let identity = identity_pair(identity_secret, identity_secret_len)?;
        let bundle = coded(PreKeyBundle::from_bytes(input(bundle, bundle_len)?))?;
        check_out(out)?;
        let session = coded(Session::initiate(&mut rng()?, &identity, &bundle))?;
        put_handle(out, Kind::Session, session)
    })
}

/// Accepts a session from an initial message, with the prekeys it names
/// (`one_time_len` 0 when it names none), and gives the first plaintext.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sealwire_session_accept(
    identity_secret: *const u8,
    identity_secret_len: usize,
    signed_pair: *const u8,
    signed_pair_len: usize,
    one_time_pair: *const u8,
    one_time_pair_len: usize,
    message: *const u8,
    message_len: usize,
    out: *mut *mut sealwire_session,
    out_plaintext: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let identity = identity_pair(identity_secret, identity_secret_len)?;
        let signed = coded(SignedPreKeyPair::from_bytes(input(signed_pair, signed_pair_len)?))?;
        let one_time = match one_time_pair_len {
            0 => None,
            n => Some(coded(OneTimePreKeyPair::from_bytes(input(one_time_pair, n)?))?),
        };
        let initial = coded(InitialMessage::parse(input(message, message_len)?))?;
        check_out(out)?;
        check_out(out_plaintext)?;
        let (session, plaintext) =
            coded(Session::accept(&identity, &signed, one_time.as_ref(), &initial))?;
        give_bytes(out_plaintext, plaintext)?;
        put_handle(out, Kind::Session, session)
    })
}

/// Encrypts `plaintext` on the session.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_encrypt(
    session: *mut sealwire_session,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let plaintext = input(plaintext, plaintext_len)?;
        check_out(out)?;
        let mut rng = rng()?;
        let message =
            with(session, Kind::Session, |s: &mut Session| coded(s.encrypt(&mut rng, plaintext)))?;
        give_bytes(out, message)
    })
}

/// Decrypts `message` on the session. A message that fails leaves the
/// session as it was.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_decrypt(
    session: *mut sealwire_session,
    message: *const u8,
    message_len: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let message = input(message, message_len)?;
        check_out(out)?;
        let plaintext = with(session, Kind::Session, |s: &mut Session| coded(s.decrypt(message)))?;
        give_bytes(out, plaintext)
    })
}

/// The session's stored form (secret).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_to_bytes(
    session: *mut sealwire_session,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let bytes = with(session, Kind::Session, |s: &mut Session| Ok(s.to_bytes().to_vec()))?;
        give_bytes(out, bytes)
    })
}

/// A session from its stored form.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut sealwire_session,
) -> i32 {
    boundary(|| {
        let session = coded(Session::from_bytes(input(bytes, len)?))?;
        put_handle(out, Kind::Session, session)
    })
}

/// Frees a session.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_session_free(session: *mut sealwire_session) -> i32 {
    boundary(|| match free_handle::<Session, _>(session, Kind::Session) {
        0 => Ok(()),
        code => Err(code),
    })
}

// ---- devices ---------------------------------------------------------------------------

fn trust_of(trust: *const sealwire_trust_store) -> Result<TrustStore, i32> {
    with(trust, Kind::TrustStore, |t: &mut TrustStore| Ok(t.clone()))
}

fn store_of(
    path: *const u8,
    path_len: usize,
    key: *const u8,
    key_len: usize,
    existing: bool,
) -> Result<AnyStore, i32> {
    if path_len == 0 {
        // A key without a path is a mistake (the store would be in memory).
        if key_len != 0 {
            return Err(SEALWIRE_ERROR_INVALID_ARGUMENT);
        }
        return Ok(AnyStore::Memory(Box::default()));
    }
    let path = text(path, path_len)?;
    let key: [u8; 32] =
        input(key, key_len)?.try_into().map_err(|_| SEALWIRE_ERROR_INVALID_ARGUMENT)?;
    let key = StorageKey::from_bytes(key);
    let store = if existing {
        SqliteStore::open_existing(path, &key)
    } else {
        SqliteStore::open(path, &key)
    };
    Ok(AnyStore::Sqlite(Box::new(
        store.map_err(|e| crate::error::Code::code(AnyStoreError::Sqlite(e)))?,
    )))
}

/// Creates a new device: a new identity and prekeys, in a new store. With
/// `path_len` 0 the store is in memory; otherwise it is the SQLite
/// database at `path` (UTF-8), created if missing, encrypted under the
/// 32-byte storage `key` (keep it in the OS keystore).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sealwire_device_create(
    address: *const sealwire_address,
    trust: *const sealwire_trust_store,
    now: u64,
    path: *const u8,
    path_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut *mut sealwire_device,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        let trust = trust_of(trust)?;
        check_out(out)?;
        let store = store_of(path, path_len, key, key_len, false)?;
        let device = coded(Device::create(&mut rng()?, store, address, trust, Timestamp(now)))?;
        put_handle(out, Kind::Device, device)
    })
}

/// Opens the device kept in the SQLite database at `path` under `key`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_open(
    path: *const u8,
    path_len: usize,
    key: *const u8,
    key_len: usize,
    trust: *const sealwire_trust_store,
    out: *mut *mut sealwire_device,
) -> i32 {
    boundary(|| {
        if path_len == 0 {
            return Err(SEALWIRE_ERROR_INVALID_ARGUMENT);
        }
        let trust = trust_of(trust)?;
        check_out(out)?;
        let store = store_of(path, path_len, key, key_len, true)?;
        let device = coded(Device::open(store, trust))?;
        put_handle(out, Kind::Device, device)
    })
}

/// Frees a device (its store is closed; everything is saved already).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_free(device: *mut sealwire_device) -> i32 {
    boundary(|| match free_handle::<Dev, _>(device, Kind::Device) {
        0 => Ok(()),
        code => Err(code),
    })
}

/// The device's identity key (33 bytes): the relay routes envelopes to
/// it, and the app's certificate certifies it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_identity(
    device: *mut sealwire_device,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let key = with(device, Kind::Device, |d: &mut Dev| Ok(d.identity().to_bytes()))?;
        give_bytes(out, key.to_vec())
    })
}

/// Stores the device's sender certificate (its encoding, `0xB2`).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_set_certificate(
    device: *mut sealwire_device,
    certificate: *const u8,
    certificate_len: usize,
) -> i32 {
    boundary(|| {
        let certificate =
            coded(SenderCertificate::from_bytes(input(certificate, certificate_len)?))?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.set_certificate(certificate)))
    })
}

/// What the device should publish now (prekeys rotated and topped up as
/// due). `server_count` is how many one-time prekeys the server still
/// holds, or -1 if unknown. Upload it, then `sealwire_device_mark_published`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_publication(
    device: *mut sealwire_device,
    now: u64,
    server_count: i64,
    out: *mut *mut sealwire_publication,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let count = usize::try_from(server_count).ok();
        let mut rng = rng()?;
        let publication = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.publication(&mut rng, Timestamp(now), count))
        })?;
        put_handle(out, Kind::Publication, publication)
    })
}

/// Records that a publication was uploaded.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_mark_published(
    device: *mut sealwire_device,
    publication: *const sealwire_publication,
) -> i32 {
    boundary(|| {
        let publication =
            with(publication, Kind::Publication, |p: &mut Publication| Ok(p.clone()))?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.mark_published(&publication)))
    })
}

/// How many one-time prekeys the publication carries.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_publication_one_time_count(
    publication: *const sealwire_publication,
    out: *mut usize,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let n = with(publication, Kind::Publication, |p: &mut Publication| {
            Ok(p.one_time_prekeys().len())
        })?;
        put(out, n)
    })
}

/// A bundle from the publication, as the server hands one out: with its
/// one-time prekey number `one_time` (and its KEM partner), or none if
/// `one_time` is negative.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_publication_bundle(
    publication: *const sealwire_publication,
    one_time: i64,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let bundle = with(publication, Kind::Publication, |p: &mut Publication| {
            let key = match usize::try_from(one_time) {
                Ok(i) => Some(*p.one_time_prekeys().get(i).ok_or(SEALWIRE_ERROR_INVALID_ARGUMENT)?),
                Err(_) => None,
            };
            Ok(p.bundle(key).to_bytes())
        })?;
        give_bytes(out, bundle)
    })
}

/// Frees a publication.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_publication_free(publication: *mut sealwire_publication) -> i32 {
    boundary(|| match free_handle::<Publication, _>(publication, Kind::Publication) {
        0 => Ok(()),
        code => Err(code),
    })
}

/// Replaces the device list of `user` (from the server).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_set_devices(
    device: *mut sealwire_device,
    user: *const sealwire_user,
    devices: *const u32,
    count: usize,
) -> i32 {
    boundary(|| {
        let user = user_of(user)?;
        let ids: Vec<DeviceId> = if count == 0 {
            Vec::new()
        } else if devices.is_null() {
            return Err(crate::error::SEALWIRE_ERROR_NULL_POINTER);
        } else if count > sealwire::limits::MAX_DEVICES_PER_USER {
            return Err(i32::from(sealwire::DeviceError::<()>::TooManyDevices.code()));
        } else {
            (0..count)
                // SAFETY: not null; the caller promises `count` readable
                // ids, not necessarily aligned (read one by one).
                .map(|i| DeviceId(unsafe { devices.add(i).read_unaligned() }))
                .collect()
        };
        with(device, Kind::Device, |d: &mut Dev| coded(d.set_devices(&user, &ids)).map(drop))
    })
}

/// The devices a message to `user` goes to that have no usable session:
/// for each, fetch a bundle and call `sealwire_device_start_session`. The
/// output lists them as a `u32` count, then per device its app id and user
/// id (each a `u32` length and the bytes) and its `u32` device id, all
/// big-endian.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_missing_sessions(
    device: *mut sealwire_device,
    user: *const sealwire_user,
    now: u64,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let user = user_of(user)?;
        check_out(out)?;
        let missing = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.missing_sessions(&user, Timestamp(now)))
        })?;
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&u32::try_from(missing.len()).unwrap_or(u32::MAX).to_be_bytes());
        for address in &missing {
            for part in [address.app().as_str().as_bytes(), address.user_id().as_bytes()] {
                bytes.extend_from_slice(&u32::try_from(part.len()).unwrap_or(0).to_be_bytes());
                bytes.extend_from_slice(part);
            }
            bytes.extend_from_slice(&address.device().0.to_be_bytes());
        }
        give_bytes(out, bytes)
    })
}

/// Starts a session with `address` from its bundle. `out_event` gets 0
/// (nothing new), 1 (a new contact's key: show it) or 2 (the key changed:
/// the safety number changed).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_start_session(
    device: *mut sealwire_device,
    address: *const sealwire_address,
    bundle: *const u8,
    bundle_len: usize,
    now: u64,
    out_event: *mut i32,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        let bundle = coded(PreKeyBundle::from_bytes(input(bundle, bundle_len)?))?;
        check_out(out_event)?;
        let mut rng = rng()?;
        let event = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.start_session(&mut rng, &address, &bundle, Timestamp(now)))
        })?;
        put(out_event, event_code(event.as_ref()))
    })
}

fn event_code(event: Option<&IdentityEvent>) -> i32 {
    match event {
        None => 0,
        Some(IdentityEvent::New) => 1,
        Some(_) => 2,
    }
}

/// Sends `plaintext` to every device of `user` (and this user's other
/// devices): one upload for the relay.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_send(
    device: *mut sealwire_device,
    user: *const sealwire_user,
    plaintext: *const u8,
    plaintext_len: usize,
    now: u64,
    out: *mut *mut sealwire_sent,
) -> i32 {
    boundary(|| {
        let user = user_of(user)?;
        let plaintext = input(plaintext, plaintext_len)?;
        check_out(out)?;
        let mut rng = rng()?;
        let sent = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.send(&mut rng, &user, plaintext, Timestamp(now)))
        })?;
        put_handle(out, Kind::Sent, sent)
    })
}

/// The upload of a send.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_sent_upload(
    sent: *const sealwire_sent,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let upload = with(sent, Kind::Sent, |s: &mut Sent| Ok(s.envelope.clone()))?;
        give_bytes(out, upload)
    })
}

/// How many listed devices had no usable session and did not get it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_sent_missing_count(
    sent: *const sealwire_sent,
    out: *mut usize,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let n = with(sent, Kind::Sent, |s: &mut Sent| Ok(s.missing.len()))?;
        put(out, n)
    })
}

/// Frees a send's result.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_sent_free(sent: *mut sealwire_sent) -> i32 {
    boundary(|| match free_handle::<Sent, _>(sent, Kind::Sent) {
        0 => Ok(()),
        code => Err(code),
    })
}

/// The 16-byte id of an upload or of a delivered envelope, by which the
/// app acknowledges it (`sealwire_device_acknowledge_sent`,
/// `sealwire_device_acknowledge_received`).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_message_id(
    bytes: *const u8,
    len: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        if len == 0 {
            return Err(SEALWIRE_ERROR_INVALID_ARGUMENT);
        }
        let bytes = input(bytes, len)?;
        give_bytes(out, MessageId::of(bytes).0.to_vec())
    })
}

/// Acknowledges a sent upload: the relay has taken it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_acknowledge_sent(
    device: *mut sealwire_device,
    id: *const u8,
    id_len: usize,
) -> i32 {
    boundary(|| {
        let id = message_id(id, id_len)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.acknowledge_sent(id)))
    })
}

/// Acknowledges a received message: the app has kept it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_acknowledge_received(
    device: *mut sealwire_device,
    id: *const u8,
    id_len: usize,
) -> i32 {
    boundary(|| {
        let id = message_id(id, id_len)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.acknowledge_received(id)))
    })
}

/// Opens an envelope the relay delivered, at `now` (this device's clock).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_receive(
    device: *mut sealwire_device,
    envelope: *const u8,
    envelope_len: usize,
    now: u64,
    out: *mut *mut sealwire_received,
) -> i32 {
    boundary(|| {
        let envelope = input(envelope, envelope_len)?;
        check_out(out)?;
        let received =
            with(device, Kind::Device, |d: &mut Dev| coded(d.receive(envelope, Timestamp(now))))?;
        put_handle(out, Kind::Received, received)
    })
}

/// A received message's plaintext (empty for a sender key).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_plaintext(
    received: *const sealwire_received,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let bytes = with(received, Kind::Received, |r: &mut Received| Ok(r.plaintext.clone()))?;
        give_bytes(out, bytes)
    })
}

/// Who sent a received message, as its certificate from its own app names
/// it: app id and user id (UTF-8 bytes) and device id.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_from(
    received: *const sealwire_received,
    out_app: *mut sealwire_bytes,
    out_user: *mut sealwire_bytes,
    out_device: *mut u32,
) -> i32 {
    boundary(|| {
        check_out(out_app)?;
        check_out(out_user)?;
        check_out(out_device)?;
        let from = with(received, Kind::Received, |r: &mut Received| Ok(r.from.clone()))?;
        give_bytes(out_app, from.app().as_str().as_bytes().to_vec())?;
        give_bytes(out_user, from.user_id().as_bytes().to_vec())?;
        put(out_device, from.device().0)
    })
}

/// What a received message is: 0 a message to this user, 1 a group
/// message, 2 a sender key (nothing to show or acknowledge); and, for 1
/// and 2, the group's id in `out_group` (empty otherwise).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_kind(
    received: *const sealwire_received,
    out_kind: *mut i32,
    out_group: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out_kind)?;
        check_out(out_group)?;
        let (kind, group) = with(received, Kind::Received, |r: &mut Received| {
            Ok(match &r.kind {
                ReceivedKind::GroupMessage(g) => (1, g.as_bytes().to_vec()),
                ReceivedKind::SenderKey(g) => (2, g.as_bytes().to_vec()),
                _ => (0, Vec::new()),
            })
        })?;
        give_bytes(out_group, group)?;
        put(out_kind, kind)
    })
}

/// What changed about the sender's identity key: 0 nothing, 1 a new
/// contact, 2 a changed key (show it to the user).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_identity_event(
    received: *const sealwire_received,
    out: *mut i32,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let event = with(received, Kind::Received, |r: &mut Received| {
            Ok(event_code(r.identity_event.as_ref()))
        })?;
        put(out, event)
    })
}

/// The received message's 16-byte id, to acknowledge it with.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_id(
    received: *const sealwire_received,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let id = with(received, Kind::Received, |r: &mut Received| Ok(r.id.0))?;
        give_bytes(out, id.to_vec())
    })
}

/// Frees a received message (its plaintext is wiped).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_received_free(received: *mut sealwire_received) -> i32 {
    if received.is_null() {
        return crate::error::SEALWIRE_OK;
    }
    boundary(|| {
        // Wipe the plaintext first (a call on another thread holding the
        // handle gives BUSY: free it once that call returned).
        with(received, Kind::Received, |r: &mut Received| {
            r.plaintext.zeroize();
            Ok(())
        })?;
        match free_handle::<Received, _>(received, Kind::Received) {
            0 => Ok(()),
            code => Err(code),
        }
    })
}

/// The safety number of this device and `address`: 60 digits in 12
/// groups of 5, as UTF-8 text.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_safety_number(
    device: *mut sealwire_device,
    address: *const sealwire_address,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        check_out(out)?;
        let number = with(device, Kind::Device, |d: &mut Dev| coded(d.safety_number(&address)))?;
        give_bytes(out, number.to_string().into_bytes())
    })
}

/// Approves `identity` (33 bytes) for `address` after the user was asked
/// (errors 810, 811, 814).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_approve_identity(
    device: *mut sealwire_device,
    address: *const sealwire_address,
    identity: *const u8,
    identity_len: usize,
    now: u64,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        let identity = identity_key(identity, identity_len)?;
        with(device, Kind::Device, |d: &mut Dev| {
            coded(d.approve_identity(&address, &identity, Timestamp(now)))
        })
    })
}

/// Sets the trust policy for identity keys: `first_contact` and
/// `on_change` each 0 (accept and report, the default) or 1 (ask the
/// user: such keys are refused with 810 or 811 until
/// `sealwire_device_approve_identity`). Not stored: set it after every
/// create or open.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_set_trust_policy(
    device: *mut sealwire_device,
    first_contact: i32,
    on_change: i32,
) -> i32 {
    boundary(|| {
        let decision = |d: i32| match d {
            0 => Ok(Decision::Accept),
            1 => Ok(Decision::AskUser),
            _ => Err(SEALWIRE_ERROR_INVALID_ARGUMENT),
        };
        let (first_contact, on_change) = (decision(first_contact)?, decision(on_change)?);
        with(device, Kind::Device, |d: &mut Dev| {
            let mut policy = *d.policy();
            policy.first_contact = first_contact;
            policy.on_change = on_change;
            d.set_policy(policy);
            Ok(())
        })
    })
}

/// Marks the key of `address` verified, once the user compared `number`
/// (the text `sealwire_device_safety_number` gave) with the peer's. A
/// number that is not the current one gives 815 and marks nothing.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_mark_verified(
    device: *mut sealwire_device,
    address: *const sealwire_address,
    number: *const u8,
    number_len: usize,
    now: u64,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        let number = input(number, number_len)?;
        with(device, Kind::Device, |d: &mut Dev| {
            let current = coded(d.safety_number(&address))?;
            if current.to_string().as_bytes() != number {
                return Err(i32::from(
                    sealwire::DeviceError::<()>::SafetyNumberMismatch(address).code(),
                ));
            }
            coded(d.mark_verified(&address, &current, Timestamp(now)))
        })
    })
}

/// Tells the device its store was restored from a backup.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_after_restore(device: *mut sealwire_device) -> i32 {
    boundary(|| with(device, Kind::Device, |d: &mut Dev| coded(d.after_restore())))
}

/// How many received messages and sent uploads the device keeps until
/// the app acknowledges them (after a crash: what it had not kept or
/// uploaded).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_pending_counts(
    device: *mut sealwire_device,
    out_received: *mut usize,
    out_sent: *mut usize,
) -> i32 {
    boundary(|| {
        check_out(out_received)?;
        check_out(out_sent)?;
        let (received, sent) = with(device, Kind::Device, |d: &mut Dev| {
            Ok((coded(d.pending_received())?.len(), coded(d.pending_sent())?.len()))
        })?;
        put(out_received, received)?;
        put(out_sent, sent)
    })
}

/// Kept received message number `index` (oldest first), as a received
/// message handle: show it, then acknowledge it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_pending_received(
    device: *mut sealwire_device,
    index: usize,
    out: *mut *mut sealwire_received,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let received = with(device, Kind::Device, |d: &mut Dev| {
            let mut all = coded(d.pending_received())?;
            if index >= all.len() {
                return Err(SEALWIRE_ERROR_INVALID_ARGUMENT);
            }
            Ok(all.swap_remove(index))
        })?;
        put_handle(out, Kind::Received, received)
    })
}

/// Kept sent upload number `index` (oldest first): upload it again (its
/// recipients refuse a second copy as a duplicate), then acknowledge it.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_pending_sent(
    device: *mut sealwire_device,
    index: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let upload = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.pending_sent())?
                .into_iter()
                .nth(index)
                .map(|s| s.envelope)
                .ok_or(SEALWIRE_ERROR_INVALID_ARGUMENT)
        })?;
        give_bytes(out, upload)
    })
}

/// Stops sending on the current session with `address`, so that the next
/// message starts a new one (what `SEALWIRE_ACTION_RESET_SESSION` asks
/// for): fetch a bundle and `sealwire_device_start_session` before sending.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_reset_session(
    device: *mut sealwire_device,
    address: *const sealwire_address,
) -> i32 {
    boundary(|| {
        let address = address_of(address)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.reset_session(&address)))
    })
}

/// How many handles and buffers the library has given out and not had
/// freed: 0 once a program has freed everything (a leak check for tests;
/// valgrind cannot see leaked handles, which the library still knows).
#[unsafe(no_mangle)]
pub extern "C" fn sealwire_live_count() -> usize {
    crate::handle::live_count()
}

// ---- groups ----------------------------------------------------------------------------

/// Creates the group `group` with `members` (from the app's server).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_create_group(
    device: *mut sealwire_device,
    group: *const u8,
    group_len: usize,
    members: *const sealwire_user,
    count: usize,
) -> i32 {
    boundary(|| {
        let group = group_of(group, group_len)?;
        let members = users_of(members, count)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.create_group(&group, &members)))
    })
}

/// Adds `users` to `group`.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_add_group_members(
    device: *mut sealwire_device,
    group: *const u8,
    group_len: usize,
    users: *const sealwire_user,
    count: usize,
) -> i32 {
    boundary(|| {
        let group = group_of(group, group_len)?;
        let users = users_of(users, count)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.add_group_members(&group, &users)))
    })
}

/// Removes `users` from `group`: this device's next group message goes
/// out under a new sender key they do not get.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_remove_group_members(
    device: *mut sealwire_device,
    group: *const u8,
    group_len: usize,
    users: *const sealwire_user,
    count: usize,
) -> i32 {
    boundary(|| {
        let group = group_of(group, group_len)?;
        let users = users_of(users, count)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.remove_group_members(&group, &users)))
    })
}

/// Deletes `group` from this device.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_delete_group(
    device: *mut sealwire_device,
    group: *const u8,
    group_len: usize,
) -> i32 {
    boundary(|| {
        let group = group_of(group, group_len)?;
        with(device, Kind::Device, |d: &mut Dev| coded(d.delete_group(&group)))
    })
}

/// Sends `plaintext` to `group`: sender-key uploads for the devices that
/// lack the key (upload them first), then one group upload.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_device_send_to_group(
    device: *mut sealwire_device,
    group: *const u8,
    group_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    now: u64,
    out: *mut *mut sealwire_group_sent,
) -> i32 {
    boundary(|| {
        let group = group_of(group, group_len)?;
        let plaintext = input(plaintext, plaintext_len)?;
        check_out(out)?;
        let mut rng = rng()?;
        let sent = with(device, Kind::Device, |d: &mut Dev| {
            coded(d.send_to_group(&mut rng, &group, plaintext, Timestamp(now)))
        })?;
        put_handle(out, Kind::GroupSent, sent)
    })
}

/// How many uploads a group send made: the sender-key uploads, then the
/// group upload last (at index count − 1).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_group_sent_count(
    sent: *const sealwire_group_sent,
    out: *mut usize,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let n = with(sent, Kind::GroupSent, |s: &mut GroupSent| Ok(s.distributions.len() + 1))?;
        put(out, n)
    })
}

/// Upload number `index` of a group send (see `sealwire_group_sent_count`).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_group_sent_upload(
    sent: *const sealwire_group_sent,
    index: usize,
    out: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out)?;
        let upload = with(sent, Kind::GroupSent, |s: &mut GroupSent| {
            match index.checked_sub(s.distributions.len()) {
                Some(0) => Ok(s.message.envelope.clone()),
                Some(_) => Err(SEALWIRE_ERROR_INVALID_ARGUMENT),
                None => s
                    .distributions
                    .get(index)
                    .map(|d| d.envelope.clone())
                    .ok_or(SEALWIRE_ERROR_INVALID_ARGUMENT),
            }
        })?;
        give_bytes(out, upload)
    })
}

/// Frees a group send's result.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_group_sent_free(sent: *mut sealwire_group_sent) -> i32 {
    boundary(|| match free_handle::<GroupSent, _>(sent, Kind::GroupSent) {
        0 => Ok(()),
        code => Err(code),
    })
}

// ---- the relay -------------------------------------------------------------------------

/// How many recipients an upload has (checking it as the relay must).
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_upload_count(
    upload: *const u8,
    upload_len: usize,
    out: *mut usize,
) -> i32 {
    boundary(|| {
        let parsed = coded(MultiRecipientEnvelope::parse(input(upload, upload_len)?))?;
        put(out, parsed.recipient_count())
    })
}

/// Recipient number `index` of an upload: its identity key (33 bytes, the
/// relay delivers to the device that registered it) and its sealed
/// envelope. A relay for large groups keeps the upload once and writes
/// each recipient's 151-byte prefix before the shared payload instead;
/// this copies, for simplicity.
///
/// # Safety
/// See the module's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_upload_part(
    upload: *const u8,
    upload_len: usize,
    index: usize,
    out_recipient: *mut sealwire_bytes,
    out_envelope: *mut sealwire_bytes,
) -> i32 {
    boundary(|| {
        check_out(out_recipient)?;
        check_out(out_envelope)?;
        let parsed = coded(MultiRecipientEnvelope::parse(input(upload, upload_len)?))?;
        let share = parsed.recipients().nth(index).ok_or(SEALWIRE_ERROR_INVALID_ARGUMENT)?;
        give_bytes(out_recipient, share.recipient().to_vec())?;
        give_bytes(out_envelope, share.to_envelope())
    })
}
