-- Schema 1 (SQLite): sites, tenants, owners, LDAP objects, tenant history,
-- signing keys, token revocations, password accounts.
--
-- Conventions shared with migrations/postgres/0001_init.sql:
--   * timestamps are UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]+00:00', written by
--     bun in that one format, so text order is time order;
--   * string lists and history changes are JSON text;
--   * an absent optional reference or time is NULL, an absent string is '';
--   * text keys compare byte-wise (SQLite's default BINARY collation).

CREATE TABLE sites (
	id                       TEXT    NOT NULL PRIMARY KEY,
	base_url                 TEXT    NOT NULL UNIQUE,
	is_primary               INTEGER NOT NULL DEFAULT 0,
	tenant_base_url_template TEXT    NOT NULL DEFAULT '',
	site_admin_tenant_id     TEXT    NOT NULL DEFAULT '',
	services                 TEXT    NOT NULL DEFAULT '[]',
	create_time              TEXT    NOT NULL,
	last_update_time         TEXT    NOT NULL,
	created_by               TEXT    NOT NULL DEFAULT '',
	last_updated_by          TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Only a primary site has a template; templates are unique among those.
CREATE UNIQUE INDEX sites_tenant_base_url_template_key
	ON sites (tenant_base_url_template) WHERE tenant_base_url_template <> '';

CREATE TABLE owners (
	email            TEXT NOT NULL PRIMARY KEY,
	name             TEXT NOT NULL DEFAULT '',
	institution      TEXT NOT NULL DEFAULT '',
	create_time      TEXT NOT NULL,
	last_update_time TEXT NOT NULL
) STRICT;

CREATE TABLE ldap_connections (
	id               TEXT    NOT NULL PRIMARY KEY,
	url              TEXT    NOT NULL DEFAULT '',
	port             INTEGER NOT NULL DEFAULT 0,
	use_ssl          INTEGER NOT NULL DEFAULT 0,
	user_dn          TEXT    NOT NULL DEFAULT '',
	bind_dn          TEXT    NOT NULL DEFAULT '',
	bind_credential  TEXT    NOT NULL DEFAULT '',
	account_type     TEXT    NOT NULL DEFAULT '',
	create_time      TEXT    NOT NULL,
	last_update_time TEXT    NOT NULL
) STRICT;

CREATE TABLE tenants (
	id                         TEXT NOT NULL PRIMARY KEY,
	base_url                   TEXT NOT NULL UNIQUE,
	site_id                    TEXT NOT NULL REFERENCES sites (id),
	token_service              TEXT NOT NULL DEFAULT '',
	security_kernel            TEXT NOT NULL DEFAULT '',
	authenticator              TEXT NOT NULL DEFAULT '',
	owner                      TEXT NOT NULL REFERENCES owners (email),
	admin_user                 TEXT NOT NULL DEFAULT '',
	token_gen_services         TEXT NOT NULL DEFAULT '[]',
	service_ldap_connection_id TEXT REFERENCES ldap_connections (id),
	user_ldap_connection_id    TEXT REFERENCES ldap_connections (id),
	public_key                 TEXT NOT NULL DEFAULT '',
	description                TEXT NOT NULL DEFAULT '',
	status                     TEXT NOT NULL,
	create_time                TEXT NOT NULL,
	last_update_time           TEXT NOT NULL,
	created_by                 TEXT NOT NULL DEFAULT '',
	last_updated_by            TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX tenants_site_id_idx ON tenants (site_id);
CREATE INDEX tenants_owner_idx ON tenants (owner);
CREATE INDEX tenants_service_ldap_idx ON tenants (service_ldap_connection_id);
CREATE INDEX tenants_user_ldap_idx ON tenants (user_ldap_connection_id);

CREATE TABLE tenant_history (
	seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	tenant_id   TEXT    NOT NULL REFERENCES tenants (id),
	update_time TEXT    NOT NULL,
	updated_by  TEXT    NOT NULL DEFAULT '',
	updates     TEXT    NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX tenant_history_tenant_idx ON tenant_history (tenant_id, seq);

-- Tenant-scoped tables carry tenant_id first in their key. They have no
-- foreign key to tenants: the token side's store stands on its own.

CREATE TABLE signing_keys (
	tenant_id          TEXT NOT NULL,
	kid                TEXT NOT NULL,
	public_key_pem     TEXT NOT NULL,
	sealed_private_key BLOB,
	created            TEXT NOT NULL,
	retired_at         TEXT,
	verify_until       TEXT,
	PRIMARY KEY (tenant_id, kid)
) STRICT;

-- At most one current (not retired) key per tenant.
CREATE UNIQUE INDEX signing_keys_current_key
	ON signing_keys (tenant_id) WHERE retired_at IS NULL;
CREATE INDEX signing_keys_tenant_created_idx ON signing_keys (tenant_id, created);

CREATE TABLE token_revocations (
	tenant_id TEXT NOT NULL,
	jti       TEXT NOT NULL,
	expires   TEXT NOT NULL,
	PRIMARY KEY (tenant_id, jti)
) STRICT;

CREATE INDEX token_revocations_expires_idx ON token_revocations (expires);

CREATE TABLE accounts (
	tenant_id     TEXT NOT NULL,
	username      TEXT NOT NULL,
	account_type  TEXT NOT NULL,
	password_hash BLOB,
	created       TEXT NOT NULL,
	PRIMARY KEY (tenant_id, username)
) STRICT;
