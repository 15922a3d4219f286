//! The SQLite store's errors.

use alloc::boxed::Box;
use core::fmt;

use crate::error::{Action, DecodeError};
use crate::store::StoreError;

/// What SQLite or the operating system reported, kept as the error's
/// source (so that the store's public API does not name the crates it is
/// built on).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the SQLite store failed. A failed call changed nothing.
#[derive(Debug)]
#[non_exhaustive]
pub enum SqliteStoreError {
    /// The database was made under another storage key. Nothing was read
    /// or changed; open it with the key it was made under.
    WrongKey,
    /// [`super::SqliteStore::open_existing`] found no database at the
    /// path. If the app has a storage key, its store was lost (deleted,
    /// or not restored with the app's data): that is a reinstall for
    /// every peer.
    NoDatabase,
    /// The database was written by a newer version of sealwire (schema
    /// `found`; this build reads up to `supported`). Nothing was changed.
    NewerSchema {
        /// The database's schema version.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// A record of `table` does not decode, or the file is not a sealwire
    /// store (`table` is `"(file)"`, or the table whose structure is
    /// damaged). Other records are usable.
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
    Random(Cause),
    /// SQLite failed: an I/O error, a full disk, a file that cannot be
    /// opened.
    Sqlite(Cause),
}

impl From<rusqlite::Error> for SqliteStoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        let damaged = Self::Corrupt { table: "(file)", error: DecodeError::InvalidValue };
        match &e {
            // A column of the wrong type or range, a row or table missing:
            // the file's structure was changed.
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::QueryReturnedNoRows => damaged,
            _ => match e.sqlite_error_code() {
                Some(C::DatabaseBusy | C::DatabaseLocked) => Self::Busy,
                Some(
                    C::NotADatabase
                    | C::DatabaseCorrupt
                    | C::Unknown
                    | C::ConstraintViolation
                    | C::TypeMismatch,
                ) => damaged,
                _ => Self::Sqlite(Box::new(e)),
            },
        }
    }
}

/// What to do: try again later after `Busy`, a failure of SQLite (a full
/// disk, an I/O error) or of the RNG; raise an alarm for a wrong key, a
/// newer schema, a corrupt or tampered record: those do not pass by
/// themselves (docs/store.md §7). `NoDatabase`: the call was wrong, or
/// the store is lost.
impl StoreError for SqliteStoreError {
    fn action(&self) -> Action {
        match self {
            Self::Busy | Self::Sqlite(_) | Self::Random(_) => Action::KeepForLater,
            Self::WrongKey
            | Self::NewerSchema { .. }
            | Self::Corrupt { .. }
            | Self::Tampered { .. } => Action::Alarm,
            Self::NoDatabase => Action::FixRequest,
        }
    }
}

impl fmt::Display for SqliteStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongKey => f.write_str("the database was made under another storage key"),
            Self::NoDatabase => f.write_str("no database at this path"),
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
            Self::Sqlite(e) | Self::Random(e) => Some(&**e),
            _ => None,
        }
    }
}
