-- Up Migration
-- Wrong authenticator (TOTP) codes at Identity's MFA verify and disable are counted per user, under the user_mfa
-- row lock: reaching the organization's max_attempts locks both routes until locked_until.
ALTER TABLE user_mfa
  ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  ADD COLUMN locked_until timestamptz;

-- Down Migration
ALTER TABLE user_mfa DROP COLUMN locked_until, DROP COLUMN failed_attempts;
