-- Schema 12 (SQLite): an associate site's copy of the primary site's
-- registry (tenancy.SnapshotStore), one row replaced whole at every sync,
-- so that a restarted associate serves it while the primary is down. The
-- body is the JSON of a tenancy.Snapshot: sites, tenants, owners and LDAP
-- objects, all public through the primary's Tenants API.

CREATE TABLE registry_mirror (
	id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	fetched TEXT    NOT NULL,
	source  TEXT    NOT NULL,
	body    TEXT    NOT NULL
) STRICT;
