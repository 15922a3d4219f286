//! Result codes: 0 for success, 1–99 for the boundary itself, and every
//! other code the library's own (`docs/protocol.md` §14,
//! `docs/sessions.md` §9), plus 910–919 for the SQLite store. Codes are
//! stable: never renumbered, never reused.

use std::cell::RefCell;
use std::ffi::{CStr, c_char};

#[cfg(test)]
use sealwire::Action;
use sealwire::sqlite::SqliteStoreError;
use sealwire::{DecodeError, DeviceError, Error};

use crate::store::AnyStoreError;

/// Success.
pub const SEALWIRE_OK: i32 = 0;
/// A pointer argument that must not be NULL was NULL (an input with a
/// non-zero length, an output, a handle).
pub const SEALWIRE_ERROR_NULL_POINTER: i32 = 1;
/// A handle that is not live or not of the expected type: freed already,
/// never made by this library, or a handle of another type.
pub const SEALWIRE_ERROR_INVALID_HANDLE: i32 = 2;
/// Another thread is using the handle; nothing was done. Retry, or give
/// each thread its own handle.
pub const SEALWIRE_ERROR_BUSY: i32 = 3;
/// The library panicked (a bug); nothing crossed the boundary, and the
/// handle's state is what the last completed call left.
pub const SEALWIRE_ERROR_PANIC: i32 = 4;
/// An argument is out of its range: text that is not UTF-8, an index past
/// the end, an enumeration value that does not exist.
pub const SEALWIRE_ERROR_INVALID_ARGUMENT: i32 = 5;
/// The operating system's random number generator failed.
pub const SEALWIRE_ERROR_RANDOM: i32 = 6;

/// The SQLite store: the database was made under another storage key.
pub const SEALWIRE_ERROR_STORE_WRONG_KEY: i32 = 910;
/// The SQLite store: no database at the path (opening an existing one).
pub const SEALWIRE_ERROR_STORE_NO_DATABASE: i32 = 911;
/// The SQLite store: the database is of a newer schema.
pub const SEALWIRE_ERROR_STORE_NEWER_SCHEMA: i32 = 912;
/// The SQLite store: a record does not decode.
pub const SEALWIRE_ERROR_STORE_CORRUPT: i32 = 913;
/// The SQLite store: a record was changed or moved.
pub const SEALWIRE_ERROR_STORE_TAMPERED: i32 = 914;
/// The SQLite store: the database stayed locked by another handle.
pub const SEALWIRE_ERROR_STORE_BUSY: i32 = 915;
/// The SQLite store: the random number generator failed.
pub const SEALWIRE_ERROR_STORE_RANDOM: i32 = 916;
/// The SQLite store: SQLite failed (I/O, a full disk).
pub const SEALWIRE_ERROR_STORE_SQLITE: i32 = 917;
/// The memory store holds a record that does not decode (a bug).
pub const SEALWIRE_ERROR_STORE_MEMORY: i32 = 918;

/// No action: the call succeeded.
pub const SEALWIRE_ACTION_NONE: i32 = 0;
/// Discard the input and carry on; nothing changed.
pub const SEALWIRE_ACTION_DROP: i32 = 1;
/// Keep the input and try again later.
pub const SEALWIRE_ACTION_KEEP_FOR_LATER: i32 = 2;
/// The session cannot continue: start a new one.
pub const SEALWIRE_ACTION_RESET_SESSION: i32 = 3;
/// Someone misused a valid credential, or the store was tampered with:
/// tell the user or the app's operators.
pub const SEALWIRE_ACTION_ALARM: i32 = 4;
/// The call was wrong; change it.
pub const SEALWIRE_ACTION_FIX_REQUEST: i32 = 5;
/// A peer's identity key needs the user's approval.
pub const SEALWIRE_ACTION_ASK_USER: i32 = 6;

/// The code of a library action (the table is checked against it).
#[cfg(test)]
pub(crate) fn action_code(action: Action) -> i32 {
    match action {
        Action::Drop => SEALWIRE_ACTION_DROP,
        Action::KeepForLater => SEALWIRE_ACTION_KEEP_FOR_LATER,
        Action::ResetSession => SEALWIRE_ACTION_RESET_SESSION,
        Action::Alarm => SEALWIRE_ACTION_ALARM,
        Action::FixRequest => SEALWIRE_ACTION_FIX_REQUEST,
        Action::AskUser => SEALWIRE_ACTION_ASK_USER,
        // A future action: the safe default.
        _ => SEALWIRE_ACTION_DROP,
    }
}

/// Every code, its text and its action. The library's codes take their
/// action from the library (checked by a test against representatives of
/// every error).
pub(crate) const TABLE: &[(i32, &CStr, i32)] = &[
    (0, c"ok", SEALWIRE_ACTION_NONE),
    (1, c"a pointer argument is NULL", SEALWIRE_ACTION_FIX_REQUEST),
    (2, c"not a live handle of the expected type", SEALWIRE_ACTION_FIX_REQUEST),
    (3, c"the handle is in use by another thread", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (4, c"internal error (a panic was caught)", SEALWIRE_ACTION_ALARM),
    (5, c"an argument is out of its range", SEALWIRE_ACTION_FIX_REQUEST),
    (6, c"the operating system's random number generator failed", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (101, c"decode: input ends early", SEALWIRE_ACTION_DROP),
    (102, c"decode: bytes after the end", SEALWIRE_ACTION_DROP),
    (103, c"decode: unknown version", SEALWIRE_ACTION_DROP),
    (104, c"decode: unexpected key type", SEALWIRE_ACTION_DROP),
    (105, c"decode: invalid key", SEALWIRE_ACTION_DROP),
    (106, c"decode: too long", SEALWIRE_ACTION_DROP),
    (107, c"decode: invalid value", SEALWIRE_ACTION_DROP),
    (108, c"decode: unsupported", SEALWIRE_ACTION_DROP),
    (109, c"decode: inconsistent state", SEALWIRE_ACTION_DROP),
    (201, c"agreement: signed prekey signature does not verify", SEALWIRE_ACTION_DROP),
    (202, c"agreement: unknown signed prekey", SEALWIRE_ACTION_DROP),
    (203, c"agreement: unknown one-time prekey", SEALWIRE_ACTION_DROP),
    (204, c"agreement: non-contributory key", SEALWIRE_ACTION_DROP),
    (205, c"agreement: KEM prekey signature does not verify", SEALWIRE_ACTION_DROP),
    (206, c"agreement: unknown KEM prekey", SEALWIRE_ACTION_DROP),
    (207, c"agreement: the post-quantum agreement is required", SEALWIRE_ACTION_DROP),
    (301, c"decrypt: malformed message", SEALWIRE_ACTION_DROP),
    (302, c"decrypt: authentication failed", SEALWIRE_ACTION_DROP),
    (303, c"decrypt: stale message", SEALWIRE_ACTION_DROP),
    (304, c"decrypt: too many skipped messages", SEALWIRE_ACTION_DROP),
    (305, c"decrypt: message of another session", SEALWIRE_ACTION_DROP),
    (306, c"decrypt: duplicate (a replay)", SEALWIRE_ACTION_DROP),
    (307, c"decrypt: the message's key was dropped", SEALWIRE_ACTION_DROP),
    (401, c"encrypt: plaintext too long", SEALWIRE_ACTION_FIX_REQUEST),
    (402, c"encrypt: chain exhausted", SEALWIRE_ACTION_RESET_SESSION),
    (403, c"encrypt: non-contributory key", SEALWIRE_ACTION_RESET_SESSION),
    (501, c"certificate: untrusted app", SEALWIRE_ACTION_DROP),
    (502, c"certificate: broken chain", SEALWIRE_ACTION_DROP),
    (503, c"certificate: revoked", SEALWIRE_ACTION_DROP),
    (504, c"certificate: not yet valid", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (505, c"certificate: expired", SEALWIRE_ACTION_DROP),
    (506, c"certificate: key mismatch", SEALWIRE_ACTION_FIX_REQUEST),
    (507, c"certificate: invalid validity", SEALWIRE_ACTION_FIX_REQUEST),
    (508, c"certificate: denied", SEALWIRE_ACTION_DROP),
    (509, c"certificate: missing", SEALWIRE_ACTION_DROP),
    (510, c"certificate: certifies another identity key", SEALWIRE_ACTION_DROP),
    (511, c"certificate: certifies another device", SEALWIRE_ACTION_DROP),
    (601, c"unseal: malformed envelope", SEALWIRE_ACTION_DROP),
    (602, c"unseal: not for this recipient", SEALWIRE_ACTION_DROP),
    (603, c"unseal: failed", SEALWIRE_ACTION_DROP),
    (604, c"unseal: not sealed by the certificate's identity", SEALWIRE_ACTION_DROP),
    (605, c"unseal: initial message of another identity", SEALWIRE_ACTION_ALARM),
    (606, c"unseal: wrong session", SEALWIRE_ACTION_FIX_REQUEST),
    (701, c"seal: identity is not the certificate's", SEALWIRE_ACTION_FIX_REQUEST),
    (702, c"seal: no recipients", SEALWIRE_ACTION_FIX_REQUEST),
    (703, c"seal: too many recipients", SEALWIRE_ACTION_FIX_REQUEST),
    (704, c"seal: duplicate recipient", SEALWIRE_ACTION_FIX_REQUEST),
    (705, c"seal: not a sealwire message", SEALWIRE_ACTION_FIX_REQUEST),
    (706, c"seal: too long", SEALWIRE_ACTION_FIX_REQUEST),
    (707, c"seal: non-contributory key", SEALWIRE_ACTION_FIX_REQUEST),
    (708, c"seal: initial message of another identity", SEALWIRE_ACTION_FIX_REQUEST),
    (801, c"device: the store holds no account", SEALWIRE_ACTION_FIX_REQUEST),
    (802, c"device: the store holds an account already", SEALWIRE_ACTION_FIX_REQUEST),
    (803, c"device: no sender certificate", SEALWIRE_ACTION_FIX_REQUEST),
    (804, c"device: this device cannot be its own peer", SEALWIRE_ACTION_FIX_REQUEST),
    (805, c"device: an envelope certified as this very device", SEALWIRE_ACTION_ALARM),
    (806, c"device: no session; a new one is needed", SEALWIRE_ACTION_RESET_SESSION),
    (807, c"device: no device to send to has a session", SEALWIRE_ACTION_FIX_REQUEST),
    (808, c"device: not in its user's device list", SEALWIRE_ACTION_FIX_REQUEST),
    (809, c"device: too many devices for one user", SEALWIRE_ACTION_FIX_REQUEST),
    (810, c"device: a new identity needs approval", SEALWIRE_ACTION_ASK_USER),
    (811, c"device: a changed identity needs approval", SEALWIRE_ACTION_ASK_USER),
    (812, c"device: no identity stored", SEALWIRE_ACTION_FIX_REQUEST),
    (813, c"device: prekey ids exhausted", SEALWIRE_ACTION_FIX_REQUEST),
    (814, c"device: under a key the peer replaced", SEALWIRE_ACTION_DROP),
    (815, c"device: not the current safety number", SEALWIRE_ACTION_ASK_USER),
    (816, c"device: a value of another device", SEALWIRE_ACTION_FIX_REQUEST),
    (817, c"device: too many received messages unacknowledged", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (818, c"device: too many sent messages unacknowledged", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (901, c"store: the store failed", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (902, c"store: the records kept changing", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (910, c"store: another storage key", SEALWIRE_ACTION_ALARM),
    (911, c"store: no database at the path", SEALWIRE_ACTION_FIX_REQUEST),
    (912, c"store: the database is of a newer schema", SEALWIRE_ACTION_ALARM),
    (913, c"store: a record does not decode", SEALWIRE_ACTION_ALARM),
    (914, c"store: a record was changed or moved", SEALWIRE_ACTION_ALARM),
    (915, c"store: the database stayed locked", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (916, c"store: the random number generator failed", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (917, c"store: SQLite failed", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (918, c"store: a record in memory does not decode", SEALWIRE_ACTION_ALARM),
    (1001, c"group: no sender key opens the message", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (1002, c"group: signature does not verify", SEALWIRE_ACTION_DROP),
    (1003, c"group: the sender is not a member", SEALWIRE_ACTION_DROP),
    (1004, c"group: no group of that id", SEALWIRE_ACTION_KEEP_FOR_LATER),
    (1005, c"group: the group exists already", SEALWIRE_ACTION_FIX_REQUEST),
    (1006, c"group: too many members", SEALWIRE_ACTION_FIX_REQUEST),
    (1007, c"group: too many devices", SEALWIRE_ACTION_FIX_REQUEST),
    (1008, c"group: too many senders in one group", SEALWIRE_ACTION_DROP),
];

/// The code of a store error.
pub(crate) fn store_code(e: &AnyStoreError) -> i32 {
    match e {
        AnyStoreError::Memory(_) => SEALWIRE_ERROR_STORE_MEMORY,
        AnyStoreError::Sqlite(e) => match e {
            SqliteStoreError::WrongKey => SEALWIRE_ERROR_STORE_WRONG_KEY,
            SqliteStoreError::NoDatabase => SEALWIRE_ERROR_STORE_NO_DATABASE,
            SqliteStoreError::NewerSchema { .. } => SEALWIRE_ERROR_STORE_NEWER_SCHEMA,
            SqliteStoreError::Corrupt { .. } => SEALWIRE_ERROR_STORE_CORRUPT,
            SqliteStoreError::Tampered { .. } => SEALWIRE_ERROR_STORE_TAMPERED,
            SqliteStoreError::Busy => SEALWIRE_ERROR_STORE_BUSY,
            SqliteStoreError::Random(_) => SEALWIRE_ERROR_STORE_RANDOM,
            SqliteStoreError::Sqlite(_) => SEALWIRE_ERROR_STORE_SQLITE,
            _ => 901,
        },
    }
}

thread_local! {
    /// The text of the last error on this thread, with its details.
    static LAST: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the detailed text of an error for `sealwire_last_error_message`.
pub(crate) fn remember(text: String) {
    LAST.with(|last| *last.borrow_mut() = text);
}

pub(crate) fn last() -> String {
    LAST.with(|last| last.borrow().clone())
}

/// Conversion of every error the boundary meets into its code, keeping its
/// text for `sealwire_last_error_message`.
pub(crate) trait Code {
    fn code(self) -> i32;
}

impl Code for DeviceError<AnyStoreError> {
    fn code(self) -> i32 {
        remember(self.to_string());
        match &self {
            DeviceError::Store(e) => store_code(e),
            other => i32::from(other.code()),
        }
    }
}

impl Code for Error {
    fn code(self) -> i32 {
        remember(self.to_string());
        i32::from(Error::code(&self))
    }
}

impl Code for DecodeError {
    fn code(self) -> i32 {
        Error::Decode(self).code()
    }
}

impl Code for sealwire::DecryptError {
    fn code(self) -> i32 {
        Error::Decrypt(self).code()
    }
}

impl Code for sealwire::EncryptError {
    fn code(self) -> i32 {
        Error::Encrypt(self).code()
    }
}

impl Code for sealwire::AgreementError {
    fn code(self) -> i32 {
        Error::Agreement(self).code()
    }
}

impl Code for sealwire::CertificateError {
    fn code(self) -> i32 {
        Error::Certificate(self).code()
    }
}

impl Code for sealwire::SealError {
    fn code(self) -> i32 {
        Error::Seal(self).code()
    }
}

impl Code for sealwire::UnsealError {
    fn code(self) -> i32 {
        Error::Unseal(self).code()
    }
}

impl Code for AnyStoreError {
    fn code(self) -> i32 {
        remember(self.to_string());
        store_code(&self)
    }
}

/// `Result<T, E>` to `Result<T, i32>`.
pub(crate) fn coded<T, E: Code>(result: Result<T, E>) -> Result<T, i32> {
    result.map_err(Code::code)
}

/// The text of a code: a NUL-terminated string in static storage, never
/// NULL (an unknown code gives "unknown error code").
#[unsafe(no_mangle)]
pub extern "C" fn sealwire_error_text(code: i32) -> *const c_char {
    TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(c"unknown error code", |(_, text, _)| text)
        .as_ptr()
}

/// The action a code calls for (`SEALWIRE_ACTION_*`): `SEALWIRE_ACTION_NONE`
/// for `SEALWIRE_OK`, `SEALWIRE_ACTION_FIX_REQUEST` for an unknown code.
#[unsafe(no_mangle)]
pub extern "C" fn sealwire_error_action(code: i32) -> i32 {
    TABLE
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(SEALWIRE_ACTION_FIX_REQUEST, |(_, _, action)| *action)
}

/// The detailed text of the last error on the calling thread (with the
/// peer's address, say), as new bytes (UTF-8, no NUL): empty if the last
/// call on this thread succeeded. Reading it changes nothing.
///
/// # Safety
/// `out` must point to a writable `sealwire_bytes`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sealwire_last_error_message(out: *mut crate::sealwire_bytes) -> i32 {
    // Not through `boundary`, which would clear the text it is asked for.
    let text = last();
    std::panic::catch_unwind(|| crate::handle::give_bytes(out, text.into_bytes()))
        .map_or(SEALWIRE_ERROR_PANIC, |r| r.err().unwrap_or(SEALWIRE_OK))
}

#[cfg(test)]
mod tests {
    use sealwire::{
        AgreementError, CertificateError, DecryptError, EncryptError, GroupError, PreKeyId,
        SealError, UnsealError,
    };

    use super::*;

    /// Every code in the table is distinct, and every library error's code
    /// is in it with the action the library gives that error.
    #[test]
    fn the_table_agrees_with_the_library() {
        let mut codes: Vec<i32> = TABLE.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len());
        let a = sealwire::Address::new(
            sealwire::AppId::new("a").unwrap_or_else(|_| unreachable!()),
            sealwire::UserId::new(b"u").unwrap_or_else(|_| unreachable!()),
            sealwire::DeviceId(1),
        );
        let decode = [
            DecodeError::Truncated,
            DecodeError::TrailingBytes,
            DecodeError::UnknownVersion(0),
            DecodeError::UnexpectedKeyType(0),
            DecodeError::InvalidKey,
            DecodeError::TooLong,
            DecodeError::InvalidValue,
            DecodeError::Unsupported,
            DecodeError::InconsistentState,
        ];
        let mut all: Vec<Error> = decode.iter().map(|e| Error::Decode(*e)).collect();
        all.extend(
            [
                AgreementError::InvalidSignature,
                AgreementError::UnknownSignedPreKey(PreKeyId(1)),
                AgreementError::UnknownOneTimePreKey(PreKeyId(1)),
                AgreementError::NonContributory,
                AgreementError::InvalidKemSignature,
                AgreementError::UnknownKemPreKey(PreKeyId(1)),
                AgreementError::PostQuantumRequired,
            ]
            .map(Error::Agreement),
        );
        all.extend(
            [
                DecryptError::Malformed(DecodeError::Truncated),
                DecryptError::Failed,
                DecryptError::StaleMessage,
                DecryptError::TooManySkipped,
                DecryptError::OtherSession,
                DecryptError::Duplicate,
                DecryptError::KeyDropped,
            ]
            .map(Error::Decrypt),
        );
        all.extend(
            [
                EncryptError::PlaintextTooLong,
                EncryptError::ChainExhausted,
                EncryptError::NonContributory,
            ]
            .map(Error::Encrypt),
        );
        all.extend(
            [
                CertificateError::UntrustedApp,
                CertificateError::BrokenChain,
                CertificateError::Revoked,
                CertificateError::NotYetValid,
                CertificateError::Expired,
                CertificateError::KeyMismatch,
                CertificateError::InvalidValidity,
                CertificateError::Denied,
                CertificateError::Missing,
                CertificateError::IdentityMismatch,
                CertificateError::AddressMismatch,
            ]
            .map(Error::Certificate),
        );
        all.extend(
            [
                UnsealError::Malformed(DecodeError::Truncated),
                UnsealError::NotForRecipient,
                UnsealError::Failed,
                UnsealError::SenderMismatch,
                UnsealError::ForeignInitialMessage,
                UnsealError::WrongSession,
            ]
            .map(Error::Unseal),
        );
        all.extend(
            [
                SealError::CertificateMismatch,
                SealError::NoRecipients,
                SealError::TooManyRecipients,
                SealError::DuplicateRecipient,
                SealError::InvalidMessage(DecodeError::Truncated),
                SealError::TooLong,
                SealError::NonContributory,
                SealError::ForeignInitialMessage,
            ]
            .map(Error::Seal),
        );
        all.extend(
            [
                GroupError::NoSenderKey,
                GroupError::InvalidSignature,
                GroupError::NotAMember,
                GroupError::UnknownGroup,
                GroupError::GroupExists,
                GroupError::TooManyMembers,
                GroupError::TooManyDevices,
                GroupError::TooManySenders,
            ]
            .map(Error::Group),
        );
        // (810, 811 and 814 carry an `IdentityQuestion`, which only the
        // library makes; the device tests check their actions.)
        let mut pairs: Vec<(i32, Action)> =
            all.iter().map(|e| (i32::from(e.code()), e.action())).collect();
        let device: Vec<DeviceError<AnyStoreError>> = vec![
            DeviceError::NoAccount,
            DeviceError::AccountExists,
            DeviceError::NoCertificate,
            DeviceError::OwnAddress,
            DeviceError::FromSelf,
            DeviceError::NoSession(a.clone()),
            DeviceError::NoRecipients { missing: Vec::new() },
            DeviceError::UnknownDevice(a.clone()),
            DeviceError::TooManyDevices,
            DeviceError::NoIdentity(a.clone()),
            DeviceError::PreKeyIdsExhausted,
            DeviceError::SafetyNumberMismatch(a.clone()),
            DeviceError::NotThisDevice,
            DeviceError::InboxFull,
            DeviceError::OutboxFull,
            DeviceError::Conflict,
        ];
        pairs.extend(device.iter().map(|e| (i32::from(e.code()), e.action())));
        for (code, action) in pairs {
            let row = TABLE.iter().find(|(c, _, _)| *c == code);
            assert!(row.is_some(), "code {code} is missing from the table");
            assert_eq!(
                row.map(|(_, _, a)| *a),
                Some(action_code(action)),
                "code {code}: the table's action is not the library's"
            );
        }
    }
}
