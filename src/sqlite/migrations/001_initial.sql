-- Schema version 1 of sealwire's SQLite store (docs/store.md).
-- Every `record` is sealed under the storage key (docs/store.md §3); every
-- `lookup` is a keyed hash of what the row is about, so no address, user
-- id or base key is stored in the clear.
CREATE TABLE schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL,
    record BLOB NOT NULL
);
CREATE TABLE sessions (
    lookup BLOB PRIMARY KEY,
    revision INTEGER NOT NULL,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE identities (
    lookup BLOB PRIMARY KEY,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE device_lists (
    lookup BLOB PRIMARY KEY,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE signed_prekeys (
    id INTEGER PRIMARY KEY,
    record BLOB NOT NULL
);
CREATE TABLE one_time_prekeys (
    id INTEGER PRIMARY KEY,
    record BLOB NOT NULL
);
CREATE TABLE base_keys (
    signed_prekey_id INTEGER NOT NULL,
    lookup BLOB NOT NULL,
    PRIMARY KEY (signed_prekey_id, lookup)
) WITHOUT ROWID;
CREATE TABLE received (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    record BLOB NOT NULL
);
CREATE TABLE sent (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    record BLOB NOT NULL
);
