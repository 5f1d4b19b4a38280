-- Schema 5 (PostgreSQL): permissions and sharing of systems
-- (systems.AccessStore).
--
-- Conventions of 0001_init.sql and 0003_systems.sql, plus:
--   * no foreign key to systems: permissions and shares may be granted
--     before the system exists or outlive it; the service purges them when
--     it purges the system;
--   * one row per (tenant, system, user, permission) and per (tenant,
--     system, grantee): grants and shares are idempotent (INSERT ... ON
--     CONFLICT DO NOTHING), so a share keeps its first grantor;
--   * the public grantee is the literal '~public' (systems.PublicGrantee).

CREATE TABLE system_perms (
	tenant    TEXT COLLATE "C" NOT NULL,
	system_id TEXT COLLATE "C" NOT NULL,
	user_name TEXT COLLATE "C" NOT NULL,
	perm      TEXT COLLATE "C" NOT NULL CHECK (perm IN ('READ', 'MODIFY', 'EXECUTE')),
	PRIMARY KEY (tenant, system_id, user_name, perm)
);

-- AccessibleSystems: a user's systems in id order, from the index alone.
CREATE INDEX system_perms_user_idx ON system_perms (tenant, user_name, perm, system_id);

CREATE TABLE system_shares (
	tenant    TEXT COLLATE "C" NOT NULL,
	system_id TEXT COLLATE "C" NOT NULL,
	grantee   TEXT COLLATE "C" NOT NULL,
	grantor   TEXT COLLATE "C" NOT NULL,
	created   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (tenant, system_id, grantee)
);

-- AccessibleSystems and PublicSystems: the systems shared with a grantee in
-- id order, from the index alone.
CREATE INDEX system_shares_grantee_idx ON system_shares (tenant, grantee, system_id);
