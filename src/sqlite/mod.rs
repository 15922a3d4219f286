//! A persistent, encrypted, crash-safe [`Store`] on SQLite (feature
//! `sqlite`), specified in `docs/store.md`.
//!
//! - **Encrypted at rest**: every record is sealed with XChaCha20-Poly1305
//!   under a key derived from the application's [`StorageKey`], with the
//!   table, the row's lookup key and its revision as associated data, so a
//!   row cannot be read from a copied file, changed, or moved to another
//!   row. Rows are found by keyed hashes: no address, user id or base key
//!   is stored in the clear.
//! - **Crash-safe**: every [`Store::commit`] is one `BEGIN IMMEDIATE`
//!   transaction in WAL mode with `synchronous = FULL`, so a process killed
//!   at any instruction, or a machine that loses power, leaves the state
//!   before the commit or the state after it.
//! - **Concurrent**: several handles (threads with one each, or processes)
//!   may open one file. Writers wait for each other up to
//!   [`BUSY_TIMEOUT`]; the compare-and-swap of [`Store::commit`] keeps any
//!   from overwriting another's change.
//! - **Versioned**: a schema version table, migrations in order, and a
//!   database of a newer version refused.

use std::path::Path;
use std::time::Duration;
use std::vec::Vec;

use rand_core::CryptoRng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::address::{Address, UserAddress};
use crate::certificate::DeviceId;
use crate::device::{Received, Sent};
use crate::device_list::DeviceList;
use crate::error::DecodeError;
use crate::group::{GroupId, GroupRecord, SenderKeyRecord};
use crate::prekey::{OneTimePreKeyPair, PreKeyId, SignedPreKeyPair};
use crate::primitives::aead::{TAG_LEN, XNONCE_LEN, open_random_nonce, seal_random_nonce};
use crate::primitives::kdf::{HmacSha256, hkdf_sha256};
use crate::primitives::x25519::X25519PublicKey;
use crate::session_record::SessionRecord;
use crate::store::{
    AccountStore, BaseKeyStore, Changes, CommitError, GroupStore, IdentityStore, PendingStore,
    PreKeyStore, SessionStore, Storage, Store,
};
use crate::trust::RemoteIdentity;

mod error;

pub use error::{Cause, SqliteStoreError};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 3;

/// How long a handle waits for another to finish writing before a commit
/// fails with [`SqliteStoreError::Busy`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The size the write-ahead log is cut back to after a checkpoint, in
/// bytes: SQLite's checkpoint interval (1000 pages of 4 KiB).
const WAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// How many prepared statements a handle keeps: every statement the store
/// runs, so none is parsed twice.
const STATEMENT_CACHE: usize = 64;

/// The migrations, in order: the first creates version 1.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_kem_prekeys.sql"),
    include_str!("migrations/003_groups.sql"),
];

/// Version byte of a sealed record.
const SEALED_V1: u8 = 0x01;

/// The plaintext of the key check, sealed once when the database is made.
const KEY_CHECK: &[u8] = b"sealwire/store/v1/key-check";

/// HKDF info of the key records are sealed under.
const RECORD_KEY_INFO: &[u8] = b"sealwire/store/v1/record";

/// HKDF info of the key lookup columns are hashed under.
const LOOKUP_KEY_INFO: &[u8] = b"sealwire/store/v1/lookup";

/// Prefix of every record's associated data.
const RECORD_AD: &[u8] = b"sealwire/store/v1";

/// The key a database is encrypted under, from the application: kept in
/// the operating system's keystore (the Android Keystore, the iOS
/// Keychain), never beside the database (`docs/store.md` §4).
pub struct StorageKey(Box<Zeroizing<[u8; 32]>>);

impl StorageKey {
    /// A storage key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Box::new(Zeroizing::new(bytes)))
    }

    /// A fresh storage key from the caller's RNG: 32 bytes.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = Box::new(Zeroizing::new([0u8; 32]));
        rng.fill_bytes(key.as_mut_slice());
        Self(key)
    }

    /// The key's bytes, to keep in the keystore.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey([redacted])")
    }
}

/// The keys derived from the storage key for one database.
struct Keys {
    record: Zeroizing<[u8; 32]>,
    lookup: Zeroizing<[u8; 32]>,
}

/// A [`Store`] in a SQLite database file.
pub struct SqliteStore {
    conn: Connection,
    keys: Box<Keys>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.conn.path()).finish_non_exhaustive()
    }
}

type Result<T> = core::result::Result<T, SqliteStoreError>;

impl SqliteStore {
    /// Opens the database at `path` under `key`, creating it (and its
    /// schema) if the file does not exist. An app that has a storage key
    /// in its keystore already should call [`SqliteStore::open_existing`]:
    /// a missing database then is a lost store, not a first start.
    ///
    /// # Errors
    /// [`SqliteStoreError::WrongKey`] if the database was made under
    /// another key; [`SqliteStoreError::NewerSchema`] for a database of a
    /// newer version of sealwire; [`SqliteStoreError::Corrupt`] for a file
    /// that is not such a database; [`SqliteStoreError::Busy`],
    /// [`SqliteStoreError::Sqlite`]. None of them wrote to the file.
    pub fn open(path: impl AsRef<Path>, key: &StorageKey) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::with_connection(conn, key)
    }

    /// Opens the database at `path` under `key`, which must exist.
    ///
    /// # Errors
    /// [`SqliteStoreError::NoDatabase`] if there is no file at `path`;
    /// otherwise those of [`SqliteStore::open`].
    pub fn open_existing(path: impl AsRef<Path>, key: &StorageKey) -> Result<Self> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_URI
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::CannotOpen) => SqliteStoreError::NoDatabase,
                _ => e.into(),
            })?;
        Self::with_connection(conn, key)
    }

    fn with_connection(mut conn: Connection, key: &StorageKey) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // A newer database is refused before anything is written to it.
        let version = schema_version(&conn)?;
        if version > SCHEMA_VERSION {
            return Err(SqliteStoreError::NewerSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        configure(&conn)?;
        if version < SCHEMA_VERSION {
            Self::migrate(&mut conn, key)?;
        }
        let salt: Vec<u8> = meta(&conn, "salt")?;
        if salt.len() != SALT_LEN {
            return Err(SqliteStoreError::Corrupt {
                table: "meta",
                error: DecodeError::InvalidValue,
            });
        }
        let mut record = Zeroizing::new([0u8; 32]);
        let mut lookup = Zeroizing::new([0u8; 32]);
        hkdf_sha256(&salt, &[key.as_bytes()], &[RECORD_KEY_INFO], &mut record);
        hkdf_sha256(&salt, &[key.as_bytes()], &[LOOKUP_KEY_INFO], &mut lookup);
        let store = Self { conn, keys: Box::new(Keys { record, lookup }) };
        let check: Vec<u8> = meta(&store.conn, "key_check")?;
        match store.keys.unseal("meta", b"key_check", 0, &check) {
            Ok(plain) if bool::from(plain.as_slice().ct_eq(KEY_CHECK)) => Ok(store),
            Err(SqliteStoreError::Corrupt { .. }) => {
                Err(SqliteStoreError::Corrupt { table: "meta", error: DecodeError::InvalidValue })
            }
            _ => Err(SqliteStoreError::WrongKey),
        }
    }

    /// Brings the schema to [`SCHEMA_VERSION`], each migration in its own
    /// immediate transaction with its version (a new database gets its
    /// salt and key check with the first).
    fn migrate(conn: &mut Connection, key: &StorageKey) -> Result<()> {
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Read again under the lock: another handle may have migrated.
            let version = schema_version(&tx)?;
            if version > SCHEMA_VERSION {
                return Err(SqliteStoreError::NewerSchema {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            if version == SCHEMA_VERSION {
                return Ok(());
            }
            if version == 0 {
                // A new database: the version table, the first schema, its
                // salt and the key check.
                tx.execute_batch(MIGRATIONS.first().ok_or(corrupt("schema_version"))?)?;
                let mut salt = [0u8; SALT_LEN];
                getrandom::fill(&mut salt).map_err(random)?;
                let mut record = Zeroizing::new([0u8; 32]);
                hkdf_sha256(&salt, &[key.as_bytes()], &[RECORD_KEY_INFO], &mut record);
                let check = seal_with(&record, "meta", b"key_check", 0, KEY_CHECK)?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('salt', ?1)",
                    params![&salt[..]],
                )?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('key_check', ?1)",
                    params![check],
                )?;
                tx.execute("INSERT INTO schema_version (version) VALUES (1)", [])?;
            } else {
                let migration = usize::try_from(version)
                    .ok()
                    .and_then(|v| MIGRATIONS.get(v))
                    .ok_or(corrupt("schema_version"))?;
                tx.execute_batch(migration)?;
                tx.execute("UPDATE schema_version SET version = ?1", params![version + 1])?;
            }
            tx.commit()?;
        }
    }

    /// The path of the database file.
    pub fn path(&self) -> Option<&str> {
        self.conn.path()
    }

    /// Deletes every kept message (received or sent) that does not open
    /// or decode, and returns how many. [`PendingStore::pending_received`]
    /// and [`PendingStore::pending_sent`] answer `Corrupt` or `Tampered`
    /// while one is left, since a kept message cannot be skipped silently;
    /// this is the way out once the app has raised the alarm. What was in
    /// such a message is lost.
    ///
    /// # Errors
    /// [`SqliteStoreError::Busy`], [`SqliteStoreError::Sqlite`].
    pub fn discard_unreadable_messages(&mut self) -> Result<usize> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut discarded = 0;
        for table in ["received", "sent"] {
            let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = {
                let mut stmt = tx.prepare(&format!("SELECT seq, id, record FROM {table}"))?;
                let rows = stmt.query_map([], |r| {
                    // A value of the wrong type reads as empty: unreadable.
                    let bytes = |i| r.get::<_, Vec<u8>>(i).unwrap_or_default();
                    Ok((r.get(0)?, bytes(1), bytes(2)))
                })?;
                rows.collect::<core::result::Result<_, _>>()?
            };
            for (seq, id, sealed) in rows {
                let readable = match table {
                    "received" => self
                        .keys
                        .unseal("received", &id, 0, &sealed)
                        .is_ok_and(|p| Received::from_bytes(&p).is_ok()),
                    _ => self
                        .keys
                        .unseal("sent", &id, 0, &sealed)
                        .is_ok_and(|p| Sent::from_bytes(&p).is_ok()),
                };
                if !readable {
                    tx.execute(&format!("DELETE FROM {table} WHERE seq = ?1"), [seq])?;
                    discarded += 1;
                }
            }
        }
        tx.commit()?;
        Ok(discarded)
    }
}

/// Length of a database's salt.
const SALT_LEN: usize = 32;

fn corrupt(table: &'static str) -> SqliteStoreError {
    SqliteStoreError::Corrupt { table, error: DecodeError::InvalidValue }
}

fn random(e: getrandom::Error) -> SqliteStoreError {
    SqliteStoreError::Random(Box::new(e))
}

/// The schema version of the database: 0 for an empty file (no table at
/// all). A file with tables but no version, or several versions, or one
/// that is not a number, is not a sealwire store.
fn schema_version(conn: &Connection) -> Result<u32> {
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if tables == 0 {
        return Ok(0);
    }
    let versions: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT version FROM schema_version")
            .map_err(|_| corrupt("schema_version"))?;
        let rows =
            stmt.query_map([], |r| r.get::<_, i64>(0)).map_err(|_| corrupt("schema_version"))?;
        rows.collect::<core::result::Result<_, _>>().map_err(|_| corrupt("schema_version"))?
    };
    match versions[..] {
        [version] => u32::try_from(version).map_err(|_| corrupt("schema_version")),
        _ => Err(corrupt("schema_version")),
    }
}

/// The settings of every handle (docs/store.md §1, §5, §7).
fn configure(conn: &Connection) -> Result<()> {
    // WAL: readers do not block the writer. Setting it on a new file
    // takes a lock that the busy timeout does not cover, so a handle
    // opening a new file beside another tries again.
    let started = std::time::Instant::now();
    loop {
        let mode: core::result::Result<String, _> =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => break,
            Ok(_) => return Err(corrupt("(file)")),
            Err(e) if started.elapsed() < BUSY_TIMEOUT && is_busy(&e) => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // FULL: a commit is on disk (the log synced) before it returns;
    // fullfsync: on Apple systems, through the drive's cache too (no
    // effect elsewhere).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "fullfsync", "ON")?;
    conn.pragma_update(None, "checkpoint_fullfsync", "ON")?;
    // Deleted records (older session states) are overwritten, not left in
    // free pages; the log is cut back after a checkpoint.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A value of `meta`.
fn meta(conn: &Connection, name: &str) -> Result<Vec<u8>> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
        .optional()
        .map_err(|_| corrupt("meta"))?
        .ok_or(corrupt("meta"))
}

impl Keys {
    /// The keyed hash a row of `table` about `key` is found by.
    fn lookup(&self, table: &str, key: &[u8]) -> [u8; 32] {
        let mut mac = Vec::with_capacity(table.len() + 1 + key.len());
        mac.extend_from_slice(table.as_bytes());
        mac.push(0);
        mac.extend_from_slice(key);
        HmacSha256::new(&self.lookup).tag(&mac)
    }

    fn address_lookup(&self, table: &str, address: &Address) -> [u8; 32] {
        self.lookup(table, &address.to_bytes())
    }

    fn user_lookup(&self, user: &UserAddress) -> [u8; 32] {
        // The address encoding without its device id (docs/store.md §2).
        let mut bytes = user.device(DeviceId(0)).to_bytes();
        bytes.truncate(bytes.len().saturating_sub(4));
        self.lookup("device_lists", &bytes)
    }

    fn group_lookup(&self, group: &GroupId) -> [u8; 32] {
        self.lookup("groups", group.as_bytes())
    }

    /// `u32(len(group id)) || group id || Encode(address)`.
    fn sender_key_lookup(&self, group: &GroupId, sender: &Address) -> [u8; 32] {
        let mut key = Vec::with_capacity(4 + group.as_bytes().len() + Address::MAX_ENCODED_LEN);
        key.extend_from_slice(&u32::try_from(group.as_bytes().len()).unwrap_or(0).to_be_bytes());
        key.extend_from_slice(group.as_bytes());
        key.extend_from_slice(&sender.to_bytes());
        self.lookup("sender_keys", &key)
    }

    /// Whether a record of `revision` may replace the row of `table` at
    /// `lookup`: the stored revision is one less (none stored counts as 0).
    fn next_revision(
        &self,
        tx: &Connection,
        table: &'static str,
        lookup: &[u8; 32],
        revision: u64,
    ) -> Result<bool> {
        let stored: Option<i64> = tx
            .prepare_cached(&format!("SELECT revision FROM {table} WHERE lookup = ?1"))?
            .query_row(params![&lookup[..]], |r| r.get(0))
            .optional()?;
        let stored = stored.map_or(Ok(0), |r| u64::try_from(r).map_err(|_| corrupt(table)))?;
        Ok(Some(revision) == stored.checked_add(1))
    }

    /// Writes a record with a revision.
    fn put_revisioned(
        &self,
        tx: &Connection,
        table: &'static str,
        lookup: &[u8; 32],
        revision: u64,
        bytes: &[u8],
    ) -> Result<()> {
        let stored = i64::try_from(revision).map_err(|_| overflow(table))?;
        let sealed = self.seal(table, lookup, revision, bytes)?;
        tx.prepare_cached(&format!(
            "INSERT OR REPLACE INTO {table} (lookup, revision, record) VALUES (?1, ?2, ?3)"
        ))?
        .execute(params![&lookup[..], stored, sealed])?;
        Ok(())
    }

    fn base_key_lookup(&self, signed_prekey: PreKeyId, base_key: &X25519PublicKey) -> [u8; 32] {
        let mut bytes = Vec::with_capacity(4 + 33);
        bytes.extend_from_slice(&signed_prekey.0.to_be_bytes());
        bytes.extend_from_slice(&base_key.to_bytes());
        self.lookup("base_keys", &bytes)
    }

    fn seal(&self, table: &str, lookup: &[u8], revision: u64, plaintext: &[u8]) -> Result<Vec<u8>> {
        seal_with(&self.record, table, lookup, revision, plaintext)
    }

    /// Opens a sealed record of `table` found by `lookup`.
    fn unseal(
        &self,
        table: &'static str,
        lookup: &[u8],
        revision: u64,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let corrupt = |error| SqliteStoreError::Corrupt { table, error };
        let (version, rest) = sealed.split_first().ok_or(corrupt(DecodeError::Truncated))?;
        if *version != SEALED_V1 {
            return Err(corrupt(DecodeError::UnknownVersion(*version)));
        }
        let (nonce, rest) =
            rest.split_first_chunk::<XNONCE_LEN>().ok_or(corrupt(DecodeError::Truncated))?;
        let (body, tag) =
            rest.split_last_chunk::<TAG_LEN>().ok_or(corrupt(DecodeError::Truncated))?;
        let mut plaintext = Zeroizing::new(body.to_vec());
        let ad = associated_data(table, lookup, revision);
        open_random_nonce(&self.record, nonce, &ad, &mut plaintext, tag)
            .map_err(|()| SqliteStoreError::Tampered { table })?;
        Ok(plaintext)
    }

    /// Reads and opens one record of `table`.
    fn read<T, P: rusqlite::Params>(
        &self,
        conn: &Connection,
        table: &'static str,
        sql: &str,
        params: P,
        lookup: &[u8],
        decode: impl FnOnce(&[u8]) -> core::result::Result<T, DecodeError>,
    ) -> Result<Option<T>> {
        let row: Option<(Vec<u8>, i64)> = conn
            .prepare_cached(sql)?
            .query_row(params, |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((sealed, revision)) = row else { return Ok(None) };
        let revision = u64::try_from(revision).map_err(|_| corrupt(table))?;
        let plain = self.unseal(table, lookup, revision, &sealed)?;
        decode(&plain).map(Some).map_err(|error| SqliteStoreError::Corrupt { table, error })
    }

    /// Runs the checks of [`Store::commit`] inside `tx`: `true` if the
    /// changes may be applied.
    fn may_apply(&self, tx: &Connection, changes: &Changes) -> Result<bool> {
        let stored_account: Option<i64> = tx
            .prepare_cached("SELECT revision FROM account WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        let stored_account =
            stored_account.map_or(Ok(0), |r| u64::try_from(r).map_err(|_| corrupt("account")))?;
        if changes.account().is_some_and(|a| Some(a.revision()) != stored_account.checked_add(1))
            || changes.expected_account_revision().is_some_and(|r| r != stored_account)
        {
            return Ok(false);
        }
        let mut seen = Vec::new();
        for (address, record) in changes.sessions() {
            let lookup = self.address_lookup("sessions", address);
            if seen.contains(&lookup) {
                return Ok(false);
            }
            seen.push(lookup);
            let stored: Option<i64> = tx
                .prepare_cached("SELECT revision FROM sessions WHERE lookup = ?1")?
                .query_row(params![&lookup[..]], |r| r.get(0))
                .optional()?;
            let stored =
                stored.map_or(Ok(0), |r| u64::try_from(r).map_err(|_| corrupt("sessions")))?;
            if Some(record.revision()) != stored.checked_add(1) {
                return Ok(false);
            }
        }
        let mut seen = Vec::new();
        for record in changes.groups() {
            let lookup = self.group_lookup(record.id());
            if seen.contains(&lookup)
                || !self.next_revision(tx, "groups", &lookup, record.revision())?
            {
                return Ok(false);
            }
            seen.push(lookup);
        }
        for (group, sender, record) in changes.sender_keys() {
            let lookup = self.sender_key_lookup(group, sender);
            if seen.contains(&lookup)
                || !self.next_revision(tx, "sender_keys", &lookup, record.revision())?
            {
                return Ok(false);
            }
            seen.push(lookup);
        }
        for change in changes.identities() {
            let lookup = self.address_lookup("identities", &change.address);
            let stored = self.read(
                tx,
                "identities",
                "SELECT record, 0 FROM identities WHERE lookup = ?1",
                [&lookup[..]],
                &lookup,
                RemoteIdentity::from_bytes,
            )?;
            if stored != change.previous {
                return Ok(false);
            }
        }
        for change in changes.device_lists() {
            let lookup = self.user_lookup(&change.user);
            let stored = self.read(
                tx,
                "device_lists",
                "SELECT record, 0 FROM device_lists WHERE lookup = ?1",
                [&lookup[..]],
                &lookup,
                DeviceList::from_bytes,
            )?;
            if stored != change.previous {
                return Ok(false);
            }
        }
        for id in changes.consumed_one_time_prekeys() {
            let n: i64 = tx
                .prepare_cached("SELECT count(*) FROM one_time_prekeys WHERE id = ?1")?
                .query_row(params![id.0], |r| r.get(0))?;
            if n == 0 {
                return Ok(false);
            }
        }
        #[cfg(feature = "pq")]
        for id in changes.consumed_kem_prekeys() {
            let n: i64 = tx
                .prepare_cached("SELECT count(*) FROM kem_prekeys WHERE id = ?1")?
                .query_row(params![id.0], |r| r.get(0))?;
            if n == 0 {
                return Ok(false);
            }
        }
        for (signed, base_key) in changes.accepted_base_keys() {
            let lookup = self.base_key_lookup(*signed, base_key);
            let n: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM base_keys WHERE signed_prekey_id = ?1 AND lookup = ?2",
                )?
                .query_row(params![signed.0, &lookup[..]], |r| r.get(0))?;
            if n != 0 {
                return Ok(false);
            }
        }
        for (table, ids) in [
            ("received", changes.received().iter().map(|m| m.id).collect::<Vec<_>>()),
            ("sent", changes.sent().iter().map(|m| m.id).collect::<Vec<_>>()),
        ] {
            for id in ids {
                let n: i64 = tx
                    .prepare_cached(&format!("SELECT count(*) FROM {table} WHERE id = ?1"))?
                    .query_row(params![&id.0[..]], |r| r.get(0))?;
                if n != 0 {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Writes `changes` inside `tx` (checked already).
    fn apply(&self, tx: &Connection, changes: &Changes) -> Result<()> {
        if let Some(account) = changes.account() {
            let revision = i64::try_from(account.revision()).map_err(|_| overflow("account"))?;
            let sealed = self.seal("account", b"", account.revision(), &account.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO account (id, revision, record) VALUES (1, ?1, ?2)",
            )?
            .execute(params![revision, sealed])?;
        }
        for (address, record) in changes.sessions() {
            let lookup = self.address_lookup("sessions", address);
            let revision = i64::try_from(record.revision()).map_err(|_| overflow("sessions"))?;
            let sealed = self.seal("sessions", &lookup, record.revision(), &record.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO sessions (lookup, revision, record) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![&lookup[..], revision, sealed])?;
        }
        for change in changes.identities() {
            let lookup = self.address_lookup("identities", &change.address);
            let sealed = self.seal("identities", &lookup, 0, &change.identity.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO identities (lookup, record) VALUES (?1, ?2)",
            )?
            .execute(params![&lookup[..], sealed])?;
        }
        for change in changes.device_lists() {
            let lookup = self.user_lookup(&change.user);
            let sealed = self.seal("device_lists", &lookup, 0, &change.list.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO device_lists (lookup, record) VALUES (?1, ?2)",
            )?
            .execute(params![&lookup[..], sealed])?;
        }
        for pair in changes.new_signed_prekeys() {
            let id = pair.id().0;
            let sealed = self.seal("signed_prekeys", &id.to_be_bytes(), 0, &pair.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO signed_prekeys (id, record) VALUES (?1, ?2)",
            )?
            .execute(params![id, sealed])?;
        }
        for id in changes.deleted_signed_prekeys() {
            tx.prepare_cached("DELETE FROM signed_prekeys WHERE id = ?1")?
                .execute(params![id.0])?;
            tx.prepare_cached("DELETE FROM base_keys WHERE signed_prekey_id = ?1")?
                .execute(params![id.0])?;
        }
        for pair in changes.new_one_time_prekeys() {
            let id = pair.id().0;
            let sealed = self.seal("one_time_prekeys", &id.to_be_bytes(), 0, &pair.to_bytes())?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO one_time_prekeys (id, record) VALUES (?1, ?2)",
            )?
            .execute(params![id, sealed])?;
        }
        for id in
            changes.consumed_one_time_prekeys().iter().chain(changes.deleted_one_time_prekeys())
        {
            tx.prepare_cached("DELETE FROM one_time_prekeys WHERE id = ?1")?
                .execute(params![id.0])?;
        }
        #[cfg(feature = "pq")]
        {
            for pair in changes.new_kem_prekeys() {
                let id = pair.id().0;
                let sealed = self.seal("kem_prekeys", &id.to_be_bytes(), 0, &pair.to_bytes())?;
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO kem_prekeys (id, record) VALUES (?1, ?2)",
                )?
                .execute(params![id, sealed])?;
            }
            for id in changes.consumed_kem_prekeys().iter().chain(changes.deleted_kem_prekeys()) {
                tx.prepare_cached("DELETE FROM kem_prekeys WHERE id = ?1")?
                    .execute(params![id.0])?;
            }
        }
        for (signed, base_key) in changes.accepted_base_keys() {
            let lookup = self.base_key_lookup(*signed, base_key);
            tx.prepare_cached("INSERT INTO base_keys (signed_prekey_id, lookup) VALUES (?1, ?2)")?
                .execute(params![signed.0, &lookup[..]])?;
        }
        for group in changes.deleted_groups() {
            let lookup = self.group_lookup(group);
            tx.prepare_cached("DELETE FROM groups WHERE lookup = ?1")?
                .execute(params![&lookup[..]])?;
        }
        for record in changes.groups() {
            let lookup = self.group_lookup(record.id());
            self.put_revisioned(tx, "groups", &lookup, record.revision(), &record.to_bytes())?;
        }
        for (group, sender) in changes.deleted_sender_keys() {
            let lookup = self.sender_key_lookup(group, sender);
            tx.prepare_cached("DELETE FROM sender_keys WHERE lookup = ?1")?
                .execute(params![&lookup[..]])?;
        }
        for (group, sender, record) in changes.sender_keys() {
            let lookup = self.sender_key_lookup(group, sender);
            self.put_revisioned(tx, "sender_keys", &lookup, record.revision(), &record.to_bytes())?;
        }
        for m in changes.received() {
            // The encoding holds the plaintext.
            let bytes = Zeroizing::new(m.to_bytes());
            let sealed = self.seal("received", &m.id.0, 0, &bytes)?;
            tx.prepare_cached("INSERT INTO received (id, record) VALUES (?1, ?2)")?
                .execute(params![&m.id.0[..], sealed])?;
        }
        for m in changes.sent() {
            let sealed = self.seal("sent", &m.id.0, 0, &m.to_bytes())?;
            tx.prepare_cached("INSERT INTO sent (id, record) VALUES (?1, ?2)")?
                .execute(params![&m.id.0[..], sealed])?;
        }
        for id in changes.acknowledged_received() {
            tx.prepare_cached("DELETE FROM received WHERE id = ?1")?.execute(params![&id.0[..]])?;
        }
        for id in changes.acknowledged_sent() {
            tx.prepare_cached("DELETE FROM sent WHERE id = ?1")?.execute(params![&id.0[..]])?;
        }
        Ok(())
    }

    /// The kept messages of `table`, oldest first.
    fn pending<T>(
        &self,
        conn: &Connection,
        table: &'static str,
        decode: impl Fn(&[u8]) -> core::result::Result<T, DecodeError>,
    ) -> Result<Vec<T>> {
        let mut stmt =
            conn.prepare_cached(&format!("SELECT id, record FROM {table} ORDER BY seq"))?;
        let rows =
            stmt.query_map([], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sealed) = row?;
            let plain = self.unseal(table, &id, 0, &sealed)?;
            let value =
                decode(&plain).map_err(|error| SqliteStoreError::Corrupt { table, error })?;
            out.push(value);
        }
        Ok(out)
    }
}

fn overflow(table: &'static str) -> SqliteStoreError {
    SqliteStoreError::Corrupt { table, error: DecodeError::InvalidValue }
}

/// `"sealwire/store/v1" || u8(len(table)) || table || u32(len(lookup)) ||
/// lookup || u64(revision)`.
fn associated_data(table: &str, lookup: &[u8], revision: u64) -> Vec<u8> {
    let mut ad = Vec::with_capacity(RECORD_AD.len() + 1 + table.len() + 4 + lookup.len() + 8);
    ad.extend_from_slice(RECORD_AD);
    ad.push(u8::try_from(table.len()).unwrap_or(u8::MAX));
    ad.extend_from_slice(table.as_bytes());
    ad.extend_from_slice(&u32::try_from(lookup.len()).unwrap_or(u32::MAX).to_be_bytes());
    ad.extend_from_slice(lookup);
    ad.extend_from_slice(&revision.to_be_bytes());
    ad
}

/// `0x01 || nonce (24) || ciphertext || tag (16)`, the nonce from the
/// operating system's RNG.
fn seal_with(
    key: &[u8; 32],
    table: &str,
    lookup: &[u8],
    revision: u64,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; XNONCE_LEN];
    getrandom::fill(&mut nonce).map_err(random)?;
    let mut body = Zeroizing::new(plaintext.to_vec());
    let ad = associated_data(table, lookup, revision);
    // Refuses only plaintexts over 256 GiB; records are a few MiB at most.
    let tag = seal_random_nonce(key, &nonce, &ad, &mut body).map_err(|()| overflow("record"))?;
    let mut out = Vec::with_capacity(1 + XNONCE_LEN + body.len() + TAG_LEN);
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    Ok(out)
}

impl Storage for SqliteStore {
    type Error = SqliteStoreError;
}

impl AccountStore for SqliteStore {
    fn load_account(&self) -> Result<Option<Account>> {
        self.keys.read(
            &self.conn,
            "account",
            "SELECT record, revision FROM account WHERE id = 1",
            [],
            b"",
            Account::from_bytes,
        )
    }
}

impl IdentityStore for SqliteStore {
    fn load_identity(&self, address: &Address) -> Result<Option<RemoteIdentity>> {
        let lookup = self.keys.address_lookup("identities", address);
        self.keys.read(
            &self.conn,
            "identities",
            "SELECT record, 0 FROM identities WHERE lookup = ?1",
            [&lookup[..]],
            &lookup,
            RemoteIdentity::from_bytes,
        )
    }
}

impl PreKeyStore for SqliteStore {
    fn load_signed_prekey(&self, id: PreKeyId) -> Result<Option<SignedPreKeyPair>> {
        self.keys.read(
            &self.conn,
            "signed_prekeys",
            "SELECT record, 0 FROM signed_prekeys WHERE id = ?1",
            [id.0],
            &id.0.to_be_bytes(),
            SignedPreKeyPair::from_bytes,
        )
    }

    fn load_one_time_prekey(&self, id: PreKeyId) -> Result<Option<OneTimePreKeyPair>> {
        self.keys.read(
            &self.conn,
            "one_time_prekeys",
            "SELECT record, 0 FROM one_time_prekeys WHERE id = ?1",
            [id.0],
            &id.0.to_be_bytes(),
            OneTimePreKeyPair::from_bytes,
        )
    }

    #[cfg(feature = "pq")]
    fn load_kem_prekey(&self, id: PreKeyId) -> Result<Option<crate::kem_prekey::KemPreKeyPair>> {
        self.keys.read(
            &self.conn,
            "kem_prekeys",
            "SELECT record, 0 FROM kem_prekeys WHERE id = ?1",
            [id.0],
            &id.0.to_be_bytes(),
            crate::kem_prekey::KemPreKeyPair::from_bytes,
        )
    }

    #[cfg(feature = "pq")]
    fn kem_prekey_ids(&self) -> Result<Vec<PreKeyId>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM kem_prekeys ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get::<_, u32>(0))?;
        let mut out = Vec::new();
        for id in ids {
            out.push(PreKeyId(id?));
        }
        Ok(out)
    }

    fn one_time_prekey_ids(&self) -> Result<Vec<PreKeyId>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM one_time_prekeys ORDER BY id")?;
        let ids = stmt.query_map([], |r| r.get::<_, u32>(0))?;
        let mut out = Vec::new();
        for id in ids {
            out.push(PreKeyId(id?));
        }
        Ok(out)
    }
}

impl SessionStore for SqliteStore {
    fn load_session(&self, address: &Address) -> Result<Option<SessionRecord>> {
        let lookup = self.keys.address_lookup("sessions", address);
        self.keys.read(
            &self.conn,
            "sessions",
            "SELECT record, revision FROM sessions WHERE lookup = ?1",
            [&lookup[..]],
            &lookup,
            SessionRecord::from_bytes,
        )
    }

    fn load_device_list(&self, user: &UserAddress) -> Result<Option<DeviceList>> {
        let lookup = self.keys.user_lookup(user);
        self.keys.read(
            &self.conn,
            "device_lists",
            "SELECT record, 0 FROM device_lists WHERE lookup = ?1",
            [&lookup[..]],
            &lookup,
            DeviceList::from_bytes,
        )
    }
}

impl GroupStore for SqliteStore {
    fn load_group(&self, group: &GroupId) -> Result<Option<GroupRecord>> {
        let lookup = self.keys.group_lookup(group);
        let record = self.keys.read(
            &self.conn,
            "groups",
            "SELECT record, revision FROM groups WHERE lookup = ?1",
            [&lookup[..]],
            &lookup,
            GroupRecord::from_bytes,
        )?;
        // The lookup binds the id; a record naming another group was moved.
        match record {
            Some(r) if r.id() != group => Err(SqliteStoreError::Tampered { table: "groups" }),
            other => Ok(other),
        }
    }

    fn load_sender_key(
        &self,
        group: &GroupId,
        sender: &Address,
    ) -> Result<Option<SenderKeyRecord>> {
        let lookup = self.keys.sender_key_lookup(group, sender);
        self.keys.read(
            &self.conn,
            "sender_keys",
            "SELECT record, revision FROM sender_keys WHERE lookup = ?1",
            [&lookup[..]],
            &lookup,
            SenderKeyRecord::from_bytes,
        )
    }
}

impl BaseKeyStore for SqliteStore {
    fn is_base_key_accepted(
        &self,
        signed_prekey: PreKeyId,
        base_key: &X25519PublicKey,
    ) -> Result<bool> {
        let lookup = self.keys.base_key_lookup(signed_prekey, base_key);
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM base_keys WHERE signed_prekey_id = ?1 AND lookup = ?2",
            )?
            .query_row(params![signed_prekey.0, &lookup[..]], |r| r.get(0))?;
        Ok(n != 0)
    }
}

impl PendingStore for SqliteStore {
    fn pending_received(&self) -> Result<Vec<Received>> {
        self.keys.pending(&self.conn, "received", Received::from_bytes)
    }

    fn pending_sent(&self) -> Result<Vec<Sent>> {
        self.keys.pending(&self.conn, "sent", Sent::from_bytes)
    }

    fn pending_counts(&self) -> Result<(usize, usize)> {
        let count = |table: &str| -> Result<usize> {
            let n: i64 = self
                .conn
                .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
                .query_row([], |r| r.get(0))?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        };
        Ok((count("received")?, count("sent")?))
    }
}

impl Store for SqliteStore {
    fn commit(
        &mut self,
        changes: Changes,
    ) -> core::result::Result<(), CommitError<SqliteStoreError>> {
        let backend = CommitError::Backend;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend(e.into()))?;
        if !self.keys.may_apply(&tx, &changes).map_err(backend)? {
            // Dropping the transaction rolls it back.
            return Err(CommitError::Conflict);
        }
        self.keys.apply(&tx, &changes).map_err(backend)?;
        tx.commit().map_err(|e| backend(e.into()))
    }
}
