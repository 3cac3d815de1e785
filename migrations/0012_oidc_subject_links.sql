-- Up Migration
-- oidc mode: a user is linked to the external provider's account by the provider's issuer and `sub`, pinned at the
-- first sign-in that links it; `preferred_username` is neither unique nor stable (OIDC Core 5.7), so it only
-- names the row to link the first time. Both columns or neither; `sub` is at most 255 ASCII characters (OIDC
-- Core 2). One link per (issuer, sub) in an organization; the column order serves the lookup by (issuer, sub).
ALTER TABLE users
  ADD COLUMN oidc_issuer text CHECK (length(oidc_issuer) <= 2048),
  ADD COLUMN oidc_subject text CHECK (length(oidc_subject) <= 255),
  ADD CONSTRAINT users_oidc_link_whole CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL)),
  ADD CONSTRAINT users_oidc_link_unique UNIQUE (oidc_issuer, oidc_subject, org_id);

-- Down Migration
ALTER TABLE users DROP CONSTRAINT users_oidc_link_unique, DROP CONSTRAINT users_oidc_link_whole, DROP COLUMN oidc_subject, DROP COLUMN oidc_issuer;
