-- Up Migration
-- The user list filters on a username prefix (LIKE 'abc%'): a pattern-ops index makes that a range scan.
CREATE INDEX users_org_username_prefix ON users (org_id, username_canonical text_pattern_ops);

-- Down Migration
DROP INDEX users_org_username_prefix;
