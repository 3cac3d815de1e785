-- Up Migration
-- A sign-in waiting for its second factor, between the password step and the code: what the password step
-- decided (the user, client, offered methods and limits), the attempt and resend counters, and the HMAC of the
-- code last sent. Kept here rather than in the cache, so an outage of the cache does not stop sign-in; keyed by
-- the SHA-256 of the challenge id, so a read of this table gives nobody a usable mfaToken.
CREATE TABLE mfa_challenges (
  id_hash text PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  state jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  resends integer NOT NULL DEFAULT 0,
  sent_code jsonb,
  expires_at timestamptz NOT NULL
);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);

-- Down Migration
DROP TABLE mfa_challenges;
