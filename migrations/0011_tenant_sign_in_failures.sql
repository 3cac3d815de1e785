-- Up Migration
-- Failed password sign-ins per organization in a fixed window: one address spraying many
-- accounts of a tenant, or many addresses doing it together, trip the tenant's limit.
CREATE TABLE tenant_sign_in_failures (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  failures integer NOT NULL,
  window_started_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE tenant_sign_in_failures;
