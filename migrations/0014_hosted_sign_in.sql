-- Up Migration
-- Hosted sign-in (the authorization code flow). An application lists the exact redirect URIs a code may be sent
-- to; an application without a client secret is a public client (a browser app: it proves itself with PKCE only,
-- and the client_credentials grant never succeeds for it).
ALTER TABLE applications ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}';
ALTER TABLE applications ALTER COLUMN client_secret_hash DROP NOT NULL;

-- A sign-in in progress on the hosted page: the checked authorization request, the browser it is bound to (a
-- cookie's digest) and the one form token the page may post next (its digest; replaced at every post).
CREATE TABLE authorization_requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  state text,
  nonce text,
  code_challenge text NOT NULL,
  scope text,
  browser_hash text NOT NULL,
  form_token_hash text NOT NULL,
  -- Set once the password is right and a second factor is asked: the signed MFA challenge token, the methods it
  -- offers and the preferred one.
  mfa_token text,
  mfa_methods text[] NOT NULL DEFAULT '{}',
  mfa_preferred text,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorization_requests_expires ON authorization_requests (expires_at);

-- An issued authorization code (only its SHA-256), bound to the client, the redirect URI and the PKCE challenge.
-- `used_at` makes it single use; `session_id` is the session its exchange started, ended if the code comes back.
CREATE TABLE authorization_codes (
  code_hash text PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  nonce text,
  scope text,
  user_id uuid NOT NULL,
  -- The person as the sign-in found them (names, the credential cut-off read with the password).
  subject jsonb NOT NULL,
  amr text[] NOT NULL DEFAULT '{}',
  auth_time timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  session_id uuid REFERENCES sessions (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

-- Down Migration
DROP TABLE authorization_codes, authorization_requests;
ALTER TABLE applications DROP COLUMN redirect_uris;
