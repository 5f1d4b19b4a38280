-- Schema 10 (SQLite): what the processes sharing this file coordinate
-- through it (package cluster).
--   * change_log: one row per change notification (kind, tenant, key), in
--     publication order; every process polls it for rows after the last one
--     it read, and drops what it caches of them. AUTOINCREMENT: numbers are
--     never reused, even after housekeeping purged every row.
--   * kek_canary: one value sealed with the key-encryption key, which every
--     process opens before it serves to prove that its KEK opens this
--     file's sealed data.

CREATE TABLE change_log (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	kind    TEXT NOT NULL,
	tenant  TEXT NOT NULL,
	key     TEXT NOT NULL,
	created TEXT NOT NULL
) STRICT;

CREATE INDEX change_log_created_idx ON change_log (created);

CREATE TABLE kek_canary (
	id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	sealed  BLOB    NOT NULL,
	updated TEXT    NOT NULL
) STRICT;
