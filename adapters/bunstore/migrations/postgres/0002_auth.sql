-- Schema 2 (PostgreSQL): the authenticator's records (oauth2.AuthStore):
-- OAuth2 clients, authorization codes, device codes, refresh-token rotation
-- families and tenant authenticator configurations.
--
-- Conventions of 0001_init.sql, plus:
--   * durations are BIGINT nanoseconds (time.Duration as is);
--   * maps (MFA, custom IdP) and the grant type list are JSON text, NULL for
--     a nil map or list, so that nil and empty read back as they were put;
--   * tenant_id comes first in every key and index but the expiry index
--     that PurgeAuthCodes uses across tenants.

CREATE TABLE oauth2_clients (
	tenant_id    TEXT COLLATE "C" NOT NULL,
	client_id    TEXT COLLATE "C" NOT NULL,
	key_hash     BYTEA,
	owner        TEXT COLLATE "C" NOT NULL DEFAULT '',
	callback_url TEXT        NOT NULL DEFAULT '',
	display_name TEXT        NOT NULL DEFAULT '',
	description  TEXT        NOT NULL DEFAULT '',
	active       BOOLEAN     NOT NULL DEFAULT FALSE,
	created      TIMESTAMPTZ NOT NULL,
	updated      TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, client_id)
);

CREATE INDEX oauth2_clients_owner_idx ON oauth2_clients (tenant_id, owner, client_id);

CREATE TABLE oauth2_auth_codes (
	tenant_id             TEXT COLLATE "C" NOT NULL,
	code_hash             TEXT COLLATE "C" NOT NULL,
	client_id             TEXT        NOT NULL DEFAULT '',
	username              TEXT        NOT NULL DEFAULT '',
	redirect_uri          TEXT        NOT NULL DEFAULT '',
	code_challenge        TEXT        NOT NULL DEFAULT '',
	code_challenge_method TEXT        NOT NULL DEFAULT '',
	created               TIMESTAMPTZ NOT NULL,
	expires               TIMESTAMPTZ NOT NULL,
	redeemed_at           TIMESTAMPTZ,
	access_jti            TEXT        NOT NULL DEFAULT '',
	access_exp            TIMESTAMPTZ,
	refresh_family        TEXT        NOT NULL DEFAULT '',
	reuse_seen_at         TIMESTAMPTZ,
	PRIMARY KEY (tenant_id, code_hash)
);

CREATE INDEX oauth2_auth_codes_expires_idx ON oauth2_auth_codes (expires);

CREATE TABLE oauth2_device_codes (
	tenant_id        TEXT COLLATE "C" NOT NULL,
	code_hash        TEXT COLLATE "C" NOT NULL,
	user_code        TEXT COLLATE "C" NOT NULL,
	client_id        TEXT        NOT NULL DEFAULT '',
	status           TEXT        NOT NULL,
	username         TEXT        NOT NULL DEFAULT '',
	access_ttl_ns    BIGINT      NOT NULL DEFAULT 0,
	poll_interval_ns BIGINT      NOT NULL DEFAULT 0,
	last_poll        TIMESTAMPTZ,
	created          TIMESTAMPTZ NOT NULL,
	expires          TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, code_hash)
);

CREATE UNIQUE INDEX oauth2_device_codes_user_code_key ON oauth2_device_codes (tenant_id, user_code);

CREATE TABLE oauth2_refresh_tokens (
	tenant_id  TEXT COLLATE "C" NOT NULL,
	jti        TEXT COLLATE "C" NOT NULL,
	family_id  TEXT COLLATE "C" NOT NULL,
	client_id  TEXT        NOT NULL DEFAULT '',
	username   TEXT        NOT NULL DEFAULT '',
	expires    TIMESTAMPTZ NOT NULL,
	access_jti TEXT        NOT NULL DEFAULT '',
	access_exp TIMESTAMPTZ,
	used_at    TIMESTAMPTZ,
	created    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, jti)
);

CREATE INDEX oauth2_refresh_tokens_family_idx ON oauth2_refresh_tokens (tenant_id, family_id, created, jti);

CREATE TABLE oauth2_refresh_family_revocations (
	tenant_id  TEXT COLLATE "C" NOT NULL,
	family_id  TEXT COLLATE "C" NOT NULL,
	revoked_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, family_id)
);

CREATE TABLE oauth2_tenant_configs (
	tenant_id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	allowable_grant_types    TEXT,
	use_ldap                 BOOLEAN     NOT NULL DEFAULT FALSE,
	use_token_webapp         BOOLEAN     NOT NULL DEFAULT FALSE,
	mfa_config               TEXT,
	default_access_ttl_ns    BIGINT      NOT NULL DEFAULT 0,
	default_refresh_ttl_ns   BIGINT      NOT NULL DEFAULT 0,
	max_access_ttl_ns        BIGINT      NOT NULL DEFAULT 0,
	max_refresh_ttl_ns       BIGINT      NOT NULL DEFAULT 0,
	custom_idp_configuration TEXT,
	token_url                TEXT        NOT NULL DEFAULT '',
	impers_oauth_client_id   TEXT        NOT NULL DEFAULT '',
	impersadmin_username     TEXT        NOT NULL DEFAULT '',
	sealed_secrets           BYTEA,
	updated                  TIMESTAMPTZ NOT NULL
);
