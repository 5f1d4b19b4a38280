-- Schema 2 (SQLite): the authenticator's records (oauth2.AuthStore): OAuth2
-- clients, authorization codes, device codes, refresh-token rotation
-- families and tenant authenticator configurations.
--
-- Conventions of 0001_init.sql, plus:
--   * durations are INTEGER nanoseconds (time.Duration as is);
--   * maps (MFA, custom IdP) and the grant type list are JSON text, NULL for
--     a nil map or list, so that nil and empty read back as they were put;
--   * tenant_id comes first in every key and index but the expiry index
--     that PurgeAuthCodes uses across tenants.

CREATE TABLE oauth2_clients (
	tenant_id    TEXT    NOT NULL,
	client_id    TEXT    NOT NULL,
	key_hash     BLOB,
	owner        TEXT    NOT NULL DEFAULT '',
	callback_url TEXT    NOT NULL DEFAULT '',
	display_name TEXT    NOT NULL DEFAULT '',
	description  TEXT    NOT NULL DEFAULT '',
	active       INTEGER NOT NULL DEFAULT 0,
	created      TEXT    NOT NULL,
	updated      TEXT    NOT NULL,
	PRIMARY KEY (tenant_id, client_id)
) STRICT;

CREATE INDEX oauth2_clients_owner_idx ON oauth2_clients (tenant_id, owner, client_id);

CREATE TABLE oauth2_auth_codes (
	tenant_id             TEXT NOT NULL,
	code_hash             TEXT NOT NULL,
	client_id             TEXT NOT NULL DEFAULT '',
	username              TEXT NOT NULL DEFAULT '',
	redirect_uri          TEXT NOT NULL DEFAULT '',
	code_challenge        TEXT NOT NULL DEFAULT '',
	code_challenge_method TEXT NOT NULL DEFAULT '',
	created               TEXT NOT NULL,
	expires               TEXT NOT NULL,
	redeemed_at           TEXT,
	access_jti            TEXT NOT NULL DEFAULT '',
	access_exp            TEXT,
	refresh_family        TEXT NOT NULL DEFAULT '',
	reuse_seen_at         TEXT,
	PRIMARY KEY (tenant_id, code_hash)
) STRICT;

CREATE INDEX oauth2_auth_codes_expires_idx ON oauth2_auth_codes (expires);

CREATE TABLE oauth2_device_codes (
	tenant_id        TEXT    NOT NULL,
	code_hash        TEXT    NOT NULL,
	user_code        TEXT    NOT NULL,
	client_id        TEXT    NOT NULL DEFAULT '',
	status           TEXT    NOT NULL,
	username         TEXT    NOT NULL DEFAULT '',
	access_ttl_ns    INTEGER NOT NULL DEFAULT 0,
	poll_interval_ns INTEGER NOT NULL DEFAULT 0,
	last_poll        TEXT,
	created          TEXT    NOT NULL,
	expires          TEXT    NOT NULL,
	PRIMARY KEY (tenant_id, code_hash)
) STRICT;

CREATE UNIQUE INDEX oauth2_device_codes_user_code_key ON oauth2_device_codes (tenant_id, user_code);

CREATE TABLE oauth2_refresh_tokens (
	tenant_id  TEXT NOT NULL,
	jti        TEXT NOT NULL,
	family_id  TEXT NOT NULL,
	client_id  TEXT NOT NULL DEFAULT '',
	username   TEXT NOT NULL DEFAULT '',
	expires    TEXT NOT NULL,
	access_jti TEXT NOT NULL DEFAULT '',
	access_exp TEXT,
	used_at    TEXT,
	created    TEXT NOT NULL,
	PRIMARY KEY (tenant_id, jti)
) STRICT;

CREATE INDEX oauth2_refresh_tokens_family_idx ON oauth2_refresh_tokens (tenant_id, family_id, created, jti);

CREATE TABLE oauth2_refresh_family_revocations (
	tenant_id  TEXT NOT NULL,
	family_id  TEXT NOT NULL,
	revoked_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, family_id)
) STRICT;

CREATE TABLE oauth2_tenant_configs (
	tenant_id                TEXT    NOT NULL PRIMARY KEY,
	allowable_grant_types    TEXT,
	use_ldap                 INTEGER NOT NULL DEFAULT 0,
	use_token_webapp         INTEGER NOT NULL DEFAULT 0,
	mfa_config               TEXT,
	default_access_ttl_ns    INTEGER NOT NULL DEFAULT 0,
	default_refresh_ttl_ns   INTEGER NOT NULL DEFAULT 0,
	max_access_ttl_ns        INTEGER NOT NULL DEFAULT 0,
	max_refresh_ttl_ns       INTEGER NOT NULL DEFAULT 0,
	custom_idp_configuration TEXT,
	token_url                TEXT    NOT NULL DEFAULT '',
	impers_oauth_client_id   TEXT    NOT NULL DEFAULT '',
	impersadmin_username     TEXT    NOT NULL DEFAULT '',
	sealed_secrets           BLOB,
	updated                  TEXT    NOT NULL
) STRICT;
