-- Up Migration

-- The tenant of a line as the policy store reads it (field 1 of a `p*` line, field 2 of a `g*` line), indexed as
-- one expression with the line's id: a tenant's whole policy is one range of this index, so loading one tenant on
-- first use is one indexed read in the store's order. Lines written by any tool (casbin-pg-adapter, seed SQL)
-- are covered without a column to fill.
CREATE INDEX idx_casbin_tenant ON casbin (
  (CASE WHEN starts_with(ptype, 'p') THEN rule->>1 WHEN starts_with(ptype, 'g') THEN rule->>2 END),
  id
);

-- Down Migration

DROP INDEX idx_casbin_tenant;
