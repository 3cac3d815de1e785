-- Up Migration
-- The tenant-wide policy lines (subject `*`) the bootstrap reconciler owns. They belong to no record, so this
-- ledger is how the reconciler tells its own lines from an administrator's: it removes a line it once wrote
-- when the seed drops it, and never one it did not write.
CREATE TABLE builtin_tenant_rules (
  org_id uuid NOT NULL REFERENCES organizations (id),
  resource text NOT NULL,
  action text NOT NULL,
  effect text NOT NULL CHECK (effect IN ('allow', 'deny')),
  PRIMARY KEY (org_id, resource, action, effect)
);

-- Down Migration
DROP TABLE builtin_tenant_rules;
