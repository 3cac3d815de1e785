-- Up Migration
-- In `oidc` identity-provider mode each of our sessions keeps the external provider's grant beside it: its access
-- token (userinfo) and refresh token (forwarded at our refresh, revoked at logout), sealed with the SecretBox
-- (AES-256-GCM, the session id bound as associated data), never in clear. `provider_subject` is the provider's
-- `sub`, which its userinfo answer must match.
CREATE TABLE oidc_sessions (
  session_id uuid PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  provider_subject text NOT NULL,
  access_token_sealed text NOT NULL,
  access_expires_at timestamptz,
  refresh_token_sealed text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE oidc_sessions;
