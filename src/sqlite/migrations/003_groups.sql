-- Schema version 3 of sealwire's SQLite store (docs/store.md): groups.
-- A group record per group (members, this device's sender key, who holds
-- it), and the sender keys this device holds of other devices, one row
-- per (group, sender device). Both are sealed and found by keyed hashes,
-- with a revision for the compare-and-swap of Store::commit.
CREATE TABLE groups (
    lookup BLOB PRIMARY KEY,
    revision INTEGER NOT NULL,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE sender_keys (
    lookup BLOB PRIMARY KEY,
    revision INTEGER NOT NULL,
    record BLOB NOT NULL
) WITHOUT ROWID;
