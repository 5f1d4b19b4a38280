-- Schema 4 (SQLite): the credential vault (credentials.Vault), pinned SSH
-- host keys (hostcheck.HostKeys) and the audit of secret reads and writes.
--
-- Conventions of 0001_init.sql, plus:
--   * sealed is the seal package's AES-256-GCM envelope of the credential's
--     secret fields (a random data key per record, wrapped by the KEK whose
--     id is kek_id; associated data binds it to tenant, system and user):
--     no secret is ever stored in the clear;
--   * kek_id duplicates the KEK id inside sealed, so that KEK rotation finds
--     the records to re-wrap without opening every one;
--   * credential_audit never holds a secret: who, on behalf of whom, which
--     credential, what and the result.

CREATE TABLE credentials (
	tenant_id TEXT NOT NULL,
	system_id TEXT NOT NULL,
	user_name TEXT NOT NULL,
	sealed    BLOB NOT NULL,
	kek_id    TEXT NOT NULL,
	updated   TEXT,
	PRIMARY KEY (tenant_id, system_id, user_name)
) STRICT;

CREATE INDEX credentials_kek_idx ON credentials (kek_id);

CREATE TABLE host_keys (
	tenant_id TEXT NOT NULL,
	system_id TEXT NOT NULL,
	host_key  TEXT NOT NULL,
	created   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, system_id)
) STRICT;

CREATE TABLE credential_audit (
	seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	at          TEXT    NOT NULL,
	tenant_id   TEXT    NOT NULL,
	jwt_tenant  TEXT    NOT NULL DEFAULT '',
	jwt_user    TEXT    NOT NULL DEFAULT '',
	obo_user    TEXT    NOT NULL DEFAULT '',
	system_id   TEXT    NOT NULL DEFAULT '',
	target_user TEXT    NOT NULL DEFAULT '',
	action      TEXT    NOT NULL,
	result      TEXT    NOT NULL
) STRICT;

CREATE INDEX credential_audit_tenant_idx ON credential_audit (tenant_id, seq);
