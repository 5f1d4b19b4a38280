-- Schema 3 (SQLite): the Systems service (systems.Store): systems, their
-- history and scheduler profiles.
--
-- Conventions of 0001_init.sql, plus:
--   * every table is keyed by tenant first: no query reaches a row without
--     naming its tenant;
--   * attributes that search filters on are scalar columns; lists and
--     objects (runtimes, env variables, queues, capabilities, tags, notes,
--     module loads, hidden options) are JSON text, NOT NULL ('[]' / '{}'
--     for nil, as the original's columns and the wire defaults) except
--     job_runtimes, where NULL keeps "no runtimes" apart from an empty list;
--   * a system's optional strings are '' when absent, as in the domain type;
--   * version counts stored revisions (optimistic concurrency: an update
--     names the version it read and bumps it);
--   * history descriptions are the JSON bytes as given (TEXT, not parsed).

CREATE TABLE systems (
	tenant                      TEXT    NOT NULL,
	id                          TEXT    NOT NULL,
	description                 TEXT    NOT NULL DEFAULT '',
	system_type                 TEXT    NOT NULL,
	owner                       TEXT    NOT NULL DEFAULT '',
	host                        TEXT    NOT NULL DEFAULT '',
	enabled                     INTEGER NOT NULL DEFAULT 1,
	effective_user_id           TEXT    NOT NULL DEFAULT '',
	default_authn_method        TEXT    NOT NULL DEFAULT '',
	bucket_name                 TEXT    NOT NULL DEFAULT '',
	root_dir                    TEXT    NOT NULL DEFAULT '',
	port                        INTEGER NOT NULL DEFAULT -1,
	use_proxy                   INTEGER NOT NULL DEFAULT 0,
	proxy_host                  TEXT    NOT NULL DEFAULT '',
	proxy_port                  INTEGER NOT NULL DEFAULT -1,
	dtn_system_id               TEXT    NOT NULL DEFAULT '',
	can_exec                    INTEGER NOT NULL DEFAULT 0,
	can_run_batch               INTEGER NOT NULL DEFAULT 0,
	enable_cmd_prefix           INTEGER NOT NULL DEFAULT 0,
	mpi_cmd                     TEXT    NOT NULL DEFAULT '',
	job_runtimes                TEXT,
	job_working_dir             TEXT    NOT NULL DEFAULT '',
	job_env_variables           TEXT    NOT NULL DEFAULT '[]',
	job_max_jobs                INTEGER NOT NULL DEFAULT -1,
	job_max_jobs_per_user       INTEGER NOT NULL DEFAULT -1,
	batch_scheduler             TEXT    NOT NULL DEFAULT '',
	batch_logical_queues        TEXT    NOT NULL DEFAULT '[]',
	batch_default_logical_queue TEXT    NOT NULL DEFAULT '',
	batch_scheduler_profile     TEXT    NOT NULL DEFAULT '',
	job_capabilities            TEXT    NOT NULL DEFAULT '[]',
	tags                        TEXT    NOT NULL DEFAULT '[]',
	notes                       TEXT    NOT NULL DEFAULT '{}',
	import_ref_id               TEXT    NOT NULL DEFAULT '',
	uuid                        TEXT    NOT NULL DEFAULT '',
	allow_children              INTEGER NOT NULL DEFAULT 0,
	parent_id                   TEXT    NOT NULL DEFAULT '',
	deleted                     INTEGER NOT NULL DEFAULT 0,
	created                     TEXT    NOT NULL,
	updated                     TEXT    NOT NULL,
	version                     INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
) STRICT;

CREATE INDEX systems_owner_idx ON systems (tenant, owner);
CREATE INDEX systems_parent_idx ON systems (tenant, parent_id);
CREATE INDEX systems_host_idx ON systems (tenant, host);

-- One row per recorded operation; seq gives insertion order. A record
-- belongs to a system of its tenant (the store checks it first; the foreign
-- key backs the check up) and goes with it when the system is purged
-- (systems are otherwise only soft-deleted).
CREATE TABLE system_history (
	seq         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	tenant      TEXT    NOT NULL,
	system_id   TEXT    NOT NULL,
	jwt_tenant  TEXT    NOT NULL DEFAULT '',
	jwt_user    TEXT    NOT NULL DEFAULT '',
	obo_tenant  TEXT    NOT NULL DEFAULT '',
	obo_user    TEXT    NOT NULL DEFAULT '',
	operation   TEXT    NOT NULL,
	description TEXT,
	created     TEXT    NOT NULL,
	FOREIGN KEY (tenant, system_id) REFERENCES systems (tenant, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX system_history_system_idx ON system_history (tenant, system_id, seq);

CREATE TABLE scheduler_profiles (
	tenant         TEXT NOT NULL,
	name           TEXT NOT NULL,
	description    TEXT NOT NULL DEFAULT '',
	owner          TEXT NOT NULL DEFAULT '',
	module_loads   TEXT NOT NULL DEFAULT '[]',
	hidden_options TEXT NOT NULL DEFAULT '[]',
	uuid           TEXT NOT NULL DEFAULT '',
	created        TEXT NOT NULL,
	updated        TEXT NOT NULL,
	PRIMARY KEY (tenant, name)
) STRICT;
