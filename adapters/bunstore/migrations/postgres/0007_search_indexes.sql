-- Schema 7 (PostgreSQL): indexes matching the searches (issue 16).
--
-- Every listing is scoped by tenant, hides deleted systems unless asked,
-- and is ordered by id after any orderBy; OWNED listings name the owner.
-- Each index below puts the equality columns a search names first and id
-- last, so that a page can be read in order and stop at its limit. The
-- text columns are COLLATE "C" (0003), so these btrees also serve LIKE
-- prefixes and byte-order sorting. The primary key (tenant, id) serves id
-- prefixes and listings by id alone.

DROP INDEX systems_owner_idx;
CREATE INDEX systems_owner_idx ON systems (tenant, owner, deleted, id);

DROP INDEX systems_host_idx;
CREATE INDEX systems_host_idx ON systems (tenant, host, deleted, id);

CREATE INDEX systems_type_idx ON systems (tenant, system_type, enabled, deleted, id);

-- orderBy=created / updated (with or without desc) read in index order.
CREATE INDEX systems_created_idx ON systems (tenant, created);
CREATE INDEX systems_updated_idx ON systems (tenant, updated);

-- Tags are a JSON array in a text column: search.ToSQL tests each value
-- by jsonb containment (CAST(tags AS jsonb) @> '["v"]'), which this index
-- serves.
CREATE INDEX systems_tags_idx ON systems USING gin ((CAST(tags AS jsonb)) jsonb_path_ops);
