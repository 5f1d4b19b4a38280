-- Schema 9 (PostgreSQL): the counters of the attempt limiter
-- (oauth2.AttemptStore), shared by every instance on this database so that
-- they count the same failed passwords and client secrets. A key is the
-- limiter's own string (door, tenant, account, address); rows expire and are
-- purged by housekeeping.

CREATE TABLE limiter_attempts (
	key     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	count   INTEGER     NOT NULL,
	last    TIMESTAMPTZ NOT NULL,
	expires TIMESTAMPTZ NOT NULL
);

CREATE INDEX limiter_attempts_expires_idx ON limiter_attempts (expires);
