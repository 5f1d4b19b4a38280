-- Schema 6 (PostgreSQL): login-user mappings of systems with a dynamic
-- effectiveUserId (systems.AccessStore SetLoginUser/LoginUser).

CREATE TABLE system_login_users (
	tenant     TEXT COLLATE "C" NOT NULL,
	system_id  TEXT COLLATE "C" NOT NULL,
	tapis_user TEXT COLLATE "C" NOT NULL,
	login_user TEXT NOT NULL,
	PRIMARY KEY (tenant, system_id, tapis_user)
);
