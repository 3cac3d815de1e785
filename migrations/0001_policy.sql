-- Up Migration

-- The table casbin-pg-adapter 1.4 reads and writes (its own migrations never run: `migrate: false`).
-- Unlike the adapter's unique (rule), uniqueness is per (ptype, rule): a `g2` line may repeat a `g` line's values.
CREATE TABLE casbin (
  id serial PRIMARY KEY,
  ptype text NOT NULL,
  rule jsonb NOT NULL,
  CONSTRAINT casbin_uniq_ptype_rule UNIQUE (ptype, rule)
);
CREATE INDEX idx_casbin_ptype ON casbin USING btree (ptype);
CREATE INDEX idx_casbin_rule_v0 ON casbin USING btree ((rule->>0));
CREATE INDEX idx_casbin_rule_v1 ON casbin USING btree ((rule->>1));
CREATE INDEX idx_casbin_rule_v2 ON casbin USING btree ((rule->>2));
CREATE INDEX idx_casbin_rule_v3 ON casbin USING btree ((rule->>3));
CREATE INDEX idx_casbin_rule_v4 ON casbin USING btree ((rule->>4));
CREATE INDEX idx_casbin_rule_v5 ON casbin USING btree ((rule->>5));

-- One row per tenant, bumped in the same transaction as every rule change; its row lock serialises a tenant's writes.
CREATE TABLE policy_revision (
  tenant_id text PRIMARY KEY,
  revision bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The effective changes behind each revision, so other replicas catch up incrementally; pruned per tenant.
CREATE TABLE policy_change (
  tenant_id text NOT NULL,
  revision bigint NOT NULL,
  changes jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, revision)
);

-- Down Migration

DROP TABLE policy_change;
DROP TABLE policy_revision;
DROP TABLE casbin;
