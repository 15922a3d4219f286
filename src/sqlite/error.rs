//! The SQLite store's errors.

use core::fmt;

use crate::error::{Action, DecodeError};
use crate::store::StoreError;

/// Why the SQLite store failed. A failed call changed nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqliteStoreError {
    /// The database was made under another storage key. Nothing was
    /// read or changed; open it with the key it was made under.
    WrongKey,
    /// The database was written by a newer version of sealwire (schema
    /// `found`; this build reads up to `supported`). Nothing was changed.
    NewerSchema {
        /// The database's schema version.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// A record of `table` does not decode (truncated, or of an unknown
    /// format). The rest of the database is usable.
    Corrupt {
        /// The table the record is in.
        table: &'static str,
        /// What the decoder said.
        error: DecodeError,
    },
    /// A record of `table` does not open under the storage key: it was
    /// changed, or moved from another row or another database.
    Tampered {
        /// The table the record is in.
        table: &'static str,
    },
    /// Another handle kept the database locked past
    /// [`super::BUSY_TIMEOUT`]: try again.
    Busy,
    /// The operating system's RNG failed (a record's nonce, a new
    /// database's salt). Nothing was changed.
    Random(getrandom::Error),
    /// SQLite failed (an I/O error, a full disk, a file that is not a
    /// database).
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for SqliteStoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Self::Corrupt { table: "(file)", error: DecodeError::InvalidValue }
            }
            _ => Self::Sqlite(e),
        }
    }
}

/// What to do: try again later after `Busy`, a failure of SQLite (a full
/// disk, an I/O error) or of the RNG; raise an alarm for a wrong key, a
/// newer schema, a corrupt or tampered record: those do not pass by
/// themselves (docs/store.md §7).
impl StoreError for SqliteStoreError {
    fn action(&self) -> Action {
        match self {
            Self::Busy | Self::Sqlite(_) | Self::Random(_) => Action::KeepForLater,
            Self::WrongKey
            | Self::NewerSchema { .. }
            | Self::Corrupt { .. }
            | Self::Tampered { .. } => Action::Alarm,
        }
    }
}

impl fmt::Display for SqliteStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongKey => f.write_str("the database was made under another storage key"),
            Self::NewerSchema { found, supported } => write!(
                f,
                "the database's schema version {found} is newer than this build's ({supported})"
            ),
            Self::Corrupt { table, error } => write!(f, "a record of {table} is corrupt: {error}"),
            Self::Tampered { table } => {
                write!(f, "a record of {table} does not open under the storage key")
            }
            Self::Busy => f.write_str("the database is locked by another handle"),
            Self::Random(e) => write!(f, "the operating system's RNG failed: {e}"),
            Self::Sqlite(e) => write!(f, "sqlite: {e}"),
        }
    }
}

impl std::error::Error for SqliteStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Sqlite(e) => Some(e),
            _ => None,
        }
    }
}
