-- Up Migration
-- Auth's security events (sign-ins, lockouts, refresh-token reuse, logouts, MFA failures)
-- join Identity's audit trail. They carry their outcome and the client address. A sign-in attempt on a name that
-- is no account belongs to no organization, so such an event has no org_id (Identity's listing never shows it).
ALTER TABLE audit_events
  ALTER COLUMN org_id DROP NOT NULL,
  ADD COLUMN outcome text CHECK (outcome IN ('success', 'failure')),
  ADD COLUMN client_ip text CHECK (length(client_ip) <= 64);

-- Auth's sweep removes sign-in failure rows whose window has passed (and whose lock, if any, has ended).
CREATE INDEX sign_in_failures_window ON sign_in_failures (window_started_at);

-- Down Migration
DROP INDEX sign_in_failures_window;
DELETE FROM audit_events WHERE org_id IS NULL;
ALTER TABLE audit_events DROP COLUMN client_ip, DROP COLUMN outcome, ALTER COLUMN org_id SET NOT NULL;
