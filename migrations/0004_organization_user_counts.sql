-- Up Migration
-- An exact count of each organization's users, kept by trigger in the same transaction as the insert or
-- delete: an unfiltered user list answers `total` without counting 100,000 rows per page.
CREATE TABLE organization_user_counts (
  org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  users bigint NOT NULL DEFAULT 0 CHECK (users >= 0)
);

INSERT INTO organization_user_counts (org_id, users)
SELECT o.id, (SELECT count(*) FROM users u WHERE u.org_id = o.id) FROM organizations o;

CREATE FUNCTION count_organization_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO organization_user_counts AS c (org_id, users)
    SELECT org_id, count(*) FROM new_rows GROUP BY org_id
    ON CONFLICT (org_id) DO UPDATE SET users = c.users + EXCLUDED.users;
  ELSE
    UPDATE organization_user_counts c SET users = c.users - d.n
      FROM (SELECT org_id, count(*) AS n FROM old_rows GROUP BY org_id) d
     WHERE c.org_id = d.org_id;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER users_counted_on_insert AFTER INSERT ON users
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_organization_users();
CREATE TRIGGER users_counted_on_delete AFTER DELETE ON users
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_organization_users();

-- Down Migration
DROP TRIGGER users_counted_on_delete ON users;
DROP TRIGGER users_counted_on_insert ON users;
DROP FUNCTION count_organization_users();
DROP TABLE organization_user_counts;
