-- Schema 7 (SQLite): indexes matching the searches (issue 16).
--
-- Every listing is scoped by tenant, hides deleted systems unless asked,
-- and is ordered by id after any orderBy; OWNED listings name the owner.
-- Each index below puts the equality columns a search names first and id
-- last, so that a page is read in order and stops at its limit instead of
-- sorting every match. The primary key (tenant, id) serves id prefixes
-- (GLOB 'x*' is a range on a BINARY column) and listings by id alone.
--
-- Tags are a JSON array in one column: SQLite cannot index membership in
-- it without a table of its own, so a tags condition is checked on the rows
-- the other predicates (at least tenant, and owner for OWNED) select.

-- OWNED listings (the default): after id, the owner index carries the
-- type, enabled and host columns, which SQLite checks in the index before
-- it reads a row, so a search of an owner's systems reads only the rows it
-- returns (half the time of the narrow index for the issue's search).
DROP INDEX systems_owner_idx;
CREATE INDEX systems_owner_idx ON systems (tenant, owner, deleted, id, system_type, enabled, host);

DROP INDEX systems_host_idx;
CREATE INDEX systems_host_idx ON systems (tenant, host, deleted, id);

CREATE INDEX systems_type_idx ON systems (tenant, system_type, enabled, deleted, id);

-- orderBy=created / updated (with or without desc) read in index order.
CREATE INDEX systems_created_idx ON systems (tenant, created);
CREATE INDEX systems_updated_idx ON systems (tenant, updated);
