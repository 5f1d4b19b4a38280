-- Schema 6 (SQLite): login-user mappings of systems with a dynamic
-- effectiveUserId (systems.AccessStore SetLoginUser/LoginUser): which host
-- login a Tapis user's credential opens, shown as the system's
-- effectiveUserId to that user.

CREATE TABLE system_login_users (
	tenant     TEXT NOT NULL,
	system_id  TEXT NOT NULL,
	tapis_user TEXT NOT NULL,
	login_user TEXT NOT NULL,
	PRIMARY KEY (tenant, system_id, tapis_user)
) STRICT, WITHOUT ROWID;
