-- Up Migration
-- The decision log: every authorize decision, written off the hot path in batches by Auth. Partitioned by day (UTC)
-- so retention drops whole partitions instead of deleting rows; Auth creates the partitions ahead of time and drops
-- those past DECISION_LOG_RETENTION_DAYS. No foreign keys: recording a decision must never fail on the identity
-- tables (an organization deleted while its decisions are in the queue).
CREATE TABLE decision_log (
  id bigserial NOT NULL,
  at timestamptz NOT NULL,
  org_id text NOT NULL,
  subject text NOT NULL,
  resource text NOT NULL,
  action text NOT NULL,
  product text,
  allowed boolean NOT NULL,
  reason text NOT NULL,
  revision bigint NOT NULL,
  rule text,
  request_id text,
  client_ip text,
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);

-- The Identity API reads newest first per organization, optionally for one subject, with an (at, id) cursor.
CREATE INDEX decision_log_org_at ON decision_log (org_id, at DESC, id DESC);
CREATE INDEX decision_log_org_subject_at ON decision_log (org_id, subject, at DESC, id DESC);

-- Day partitions are made and dropped only through these two functions, so the service never builds DDL text and
-- two replicas doing it at once take turns (the advisory lock) instead of colliding on a name.
CREATE FUNCTION decision_log_ensure_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d date := first_day;
  made integer := 0;
  part text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('decision_log_partitions'));
  WHILE d <= last_day LOOP
    part := 'decision_log_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF decision_log FOR VALUES FROM (%L) TO (%L)',
        part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      made := made + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN made;
END
$$;

CREATE FUNCTION decision_log_drop_partitions_before(first_kept date) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  part record;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('decision_log_partitions'));
  FOR part IN
    SELECT n.nspname AS schema_name, c.relname AS table_name
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE i.inhparent = 'decision_log'::regclass AND c.relname ~ '^decision_log_p[0-9]{8}$'
    ORDER BY c.relname
  LOOP
    IF to_date(substr(part.table_name, 15), 'YYYYMMDD') < first_kept THEN
      EXECUTE format('DROP TABLE %I.%I', part.schema_name, part.table_name);
      RETURN NEXT part.table_name;
    END IF;
  END LOOP;
END
$$;

-- Down Migration
DROP FUNCTION decision_log_drop_partitions_before(date);
DROP FUNCTION decision_log_ensure_partitions(date, date);
DROP TABLE decision_log;
