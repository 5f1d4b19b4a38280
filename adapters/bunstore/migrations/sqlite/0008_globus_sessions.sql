-- Schema 8 (SQLite): started Globus authorizations
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
	tenant_id  TEXT NOT NULL,
	id         TEXT NOT NULL,
	system_id  TEXT NOT NULL,
	user_name  TEXT NOT NULL,
	collection TEXT NOT NULL,
	sealed     BLOB NOT NULL,
	kek_id     TEXT NOT NULL,
	created    TEXT NOT NULL,
	expires    TEXT NOT NULL,
	PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE INDEX globus_sessions_expires_idx ON globus_sessions (expires);
