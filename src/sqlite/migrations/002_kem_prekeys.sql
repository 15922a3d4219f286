-- Schema version 2 of sealwire's SQLite store (docs/store.md): the KEM
-- prekeys of the post-quantum agreement, sealed like the other prekeys.
CREATE TABLE kem_prekeys (
    id INTEGER PRIMARY KEY,
    record BLOB NOT NULL
);
