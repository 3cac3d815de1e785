-- Up Migration
-- Auth: signing keys, sessions with rotating refresh tokens, revoked access tokens, sign-in lockout,
-- remembered MFA devices.

-- Asymmetric keys Auth signs tokens with. A key is published (JWKS) from created_at, signs from
-- activates_at (after replicas and clients have seen it), stops signing at retires_at, and leaves the JWKS at
-- expires_at, once every token it signed has expired.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_jwk_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  activates_at timestamptz NOT NULL,
  retires_at timestamptz,
  expires_at timestamptz
);

-- One sign-in: the family of refresh tokens that rotate from it (RFC 9700 4.14).
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'application')),
  subject_id uuid NOT NULL,
  client_id text,
  scope text,
  created_at timestamptz NOT NULL DEFAULT now(),
  absolute_expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX sessions_subject ON sessions (org_id, subject_id);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Access tokens ended before their exp (logout): refused until they expire.
CREATE TABLE revoked_access_tokens (
  jti text PRIMARY KEY,
  org_id uuid NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);

-- Failed sign-ins per account (the counter lives on the account, not the client address).
CREATE TABLE sign_in_failures (
  username_canonical text PRIMARY KEY,
  failures integer NOT NULL DEFAULT 0,
  window_started_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz
);

-- "Remember this device" after MFA: a device token bound to the user, stored hashed.
CREATE TABLE remembered_devices (
  token_hash text PRIMARY KEY,
  org_id uuid NOT NULL,
  user_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- Down Migration
DROP TABLE remembered_devices, sign_in_failures, revoked_access_tokens, refresh_tokens, sessions, signing_keys;
