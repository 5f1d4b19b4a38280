-- Schema 8 (PostgreSQL): started Globus authorizations
-- (systems.GlobusSessionStore), so that any instance can finish a flow
-- another began.
--
-- Conventions of 0001_init.sql and 0004_credentials.sql, plus:
--   * sealed is the seal package's envelope of the session's PKCE verifier
--     (associated data binds it to tenant, id, system, user and
--     collection): the verifier is never stored in the clear;
--   * a session is taken (deleted) once, by the user who started it for
--     that system; expired sessions are purged by expires.

CREATE TABLE globus_sessions (
	tenant_id  TEXT COLLATE "C" NOT NULL,
	id         TEXT COLLATE "C" NOT NULL,
	system_id  TEXT COLLATE "C" NOT NULL,
	user_name  TEXT COLLATE "C" NOT NULL,
	collection TEXT        NOT NULL,
	sealed     BYTEA       NOT NULL,
	kek_id     TEXT COLLATE "C" NOT NULL,
	created    TIMESTAMPTZ NOT NULL,
	expires    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant_id, id)
);

CREATE INDEX globus_sessions_expires_idx ON globus_sessions (expires);
