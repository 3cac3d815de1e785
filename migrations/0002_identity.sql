-- Up Migration
-- The identity schema. Every tenant-owned row carries org_id, and references between tenant-owned rows go
-- through (org_id, id) pairs, so the database itself refuses a link across tenants.

CREATE TABLE organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  builtin boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  username text NOT NULL,
  -- Canonical forms (NFKC, lower case) are what uniqueness and log-in compare.
  username_canonical text NOT NULL UNIQUE,
  email text NOT NULL,
  email_canonical text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  password_hash text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  builtin boolean NOT NULL DEFAULT false,
  -- Tokens issued before this instant are refused (password change, disable, MFA reset).
  tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity',
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, email_canonical)
);
CREATE INDEX users_org_username ON users (org_id, username_canonical, id);
CREATE INDEX users_org_created ON users (org_id, created_at, id);

CREATE TABLE groups (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  builtin boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

CREATE TABLE group_members (
  org_id uuid NOT NULL,
  group_id uuid NOT NULL,
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id),
  FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user ON group_members (org_id, user_id);

CREATE TABLE roles (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  builtin boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

CREATE TABLE role_permissions (
  org_id uuid NOT NULL,
  role_id uuid NOT NULL,
  resource text NOT NULL,
  action text NOT NULL,
  effect text NOT NULL CHECK (effect IN ('allow', 'deny')),
  PRIMARY KEY (role_id, resource, action, effect),
  FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);

CREATE TABLE group_roles (
  org_id uuid NOT NULL,
  group_id uuid NOT NULL,
  role_id uuid NOT NULL,
  PRIMARY KEY (group_id, role_id),
  FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE
);

CREATE TABLE applications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  client_id text NOT NULL UNIQUE,
  client_secret_hash text NOT NULL,
  builtin boolean NOT NULL DEFAULT false,
  tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity',
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

-- An application's permission set (engine subject pset:<application id>).
CREATE TABLE application_permissions (
  org_id uuid NOT NULL,
  application_id uuid NOT NULL,
  resource text NOT NULL,
  action text NOT NULL,
  effect text NOT NULL CHECK (effect IN ('allow', 'deny')),
  PRIMARY KEY (application_id, resource, action, effect),
  FOREIGN KEY (org_id, application_id) REFERENCES applications (org_id, id) ON DELETE CASCADE
);

CREATE TABLE declarations (
  org_id uuid NOT NULL REFERENCES organizations (id),
  slug text NOT NULL,
  application_id uuid NOT NULL,
  service text NOT NULL,
  version text NOT NULL,
  manifest_hash text NOT NULL,
  manifest jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, slug),
  FOREIGN KEY (org_id, application_id) REFERENCES applications (org_id, id) ON DELETE CASCADE
);

CREATE TABLE providers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  category text NOT NULL CHECK (category IN ('Email', 'SMS')),
  type text NOT NULL,
  -- Settings that are not secret (host, port, base URL, sender); secrets only encrypted, below.
  settings jsonb NOT NULL DEFAULT '{}',
  secret_ciphertext text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  UNIQUE (org_id, name)
);

CREATE TABLE application_providers (
  org_id uuid NOT NULL,
  application_id uuid NOT NULL,
  provider_id uuid NOT NULL,
  can_sign_in boolean NOT NULL DEFAULT false,
  can_sign_up boolean NOT NULL DEFAULT false,
  can_unlink boolean NOT NULL DEFAULT true,
  prompted boolean NOT NULL DEFAULT false,
  alert_type text,
  rule text,
  is_default boolean NOT NULL DEFAULT false,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (application_id, provider_id),
  FOREIGN KEY (org_id, application_id) REFERENCES applications (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, provider_id) REFERENCES providers (org_id, id) ON DELETE CASCADE
);
-- One default provider per application and category is enforced by the service inside its transaction.

CREATE TABLE organization_mfa_settings (
  org_id uuid PRIMARY KEY REFERENCES organizations (id),
  required boolean NOT NULL DEFAULT false,
  allowed_methods text[] NOT NULL DEFAULT ARRAY['app', 'email', 'sms'],
  code_ttl_seconds integer NOT NULL DEFAULT 300,
  max_attempts integer NOT NULL DEFAULT 5,
  max_resends integer NOT NULL DEFAULT 3,
  remember_device_days integer NOT NULL DEFAULT 30,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_mfa (
  org_id uuid NOT NULL,
  user_id uuid PRIMARY KEY,
  totp_secret_ciphertext text,
  totp_pending_ciphertext text,
  totp_enabled boolean NOT NULL DEFAULT false,
  email_enabled boolean NOT NULL DEFAULT false,
  sms_enabled boolean NOT NULL DEFAULT false,
  preferred_type text CHECK (preferred_type IN ('app', 'email', 'sms')),
  recovery_code_hashes text[] NOT NULL DEFAULT '{}',
  -- Single use of a TOTP code: the last accepted time step (ARCHITECTURE known traps).
  last_totp_step bigint NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE TABLE ip_allowlists (
  org_id uuid NOT NULL REFERENCES organizations (id),
  surface text NOT NULL,
  cidrs text[] NOT NULL,
  version integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, surface)
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  org_id uuid NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  before jsonb,
  after jsonb,
  request_id text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, id DESC);

-- Down Migration
DROP TABLE audit_events, ip_allowlists, user_mfa, organization_mfa_settings, application_providers, providers,
  declarations, application_permissions, applications, group_roles, role_permissions, roles, group_members,
  groups, users, organizations;
