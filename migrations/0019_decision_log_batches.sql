-- Up Migration
-- The decision log as one row per tenant, UTC day and flush instead of one row per decision: a row and its index
-- entries per decision cost PostgreSQL more CPU than the decision itself cost Auth. What repeats within a flush
-- (subject, resource, action, product, outcome, revision, rule, client address: a decision's "fact") is stored
-- once per row; each decision is its time, the index of its fact and its request id, in arrays. A decision's id
-- is the row's id × 10,000 + its position (a row holds at most 10,000). The batch's distinct subjects are an
-- indexed array, so a subject's decisions are found without reading other subjects' rows. A row never spans a
-- UTC day, so it lies in exactly one day partition and retention still drops whole days.
CREATE TABLE decision_log_batches (
  id bigserial NOT NULL,
  org_id text NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  allowed_count integer NOT NULL,
  denied_count integer NOT NULL,
  subjects text[] NOT NULL,
  fact_subject integer[] NOT NULL,
  fact_resource text[] NOT NULL,
  fact_action text[] NOT NULL,
  fact_product text[] NOT NULL,
  fact_allowed boolean[] NOT NULL,
  fact_reason text[] NOT NULL,
  fact_revision bigint[] NOT NULL,
  fact_rule text[] NOT NULL,
  fact_client_ip text[] NOT NULL,
  at_offset_ms integer[] NOT NULL,
  fact integer[] NOT NULL,
  request_id text[] NOT NULL
) PARTITION BY RANGE (first_at);

-- Newest first per organization, with a (last_at, id) keyset; a subject's rows through the GIN index.
CREATE INDEX decision_log_batches_org_last ON decision_log_batches (org_id, last_at DESC, id DESC);
CREATE INDEX decision_log_batches_subjects ON decision_log_batches USING gin (subjects);

DROP FUNCTION decision_log_drop_partitions_before(date);
DROP FUNCTION decision_log_ensure_partitions(date, date);

CREATE FUNCTION decision_log_ensure_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d date := first_day;
  made integer := 0;
  part text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('decision_log_partitions'));
  WHILE d <= last_day LOOP
    part := 'decision_log_batches_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF decision_log_batches FOR VALUES FROM (%L) TO (%L)',
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
    WHERE i.inhparent = 'decision_log_batches'::regclass AND c.relname ~ '^decision_log_batches_p[0-9]{8}$'
    ORDER BY c.relname
  LOOP
    IF to_date(right(part.table_name, 8), 'YYYYMMDD') < first_kept THEN
      EXECUTE format('DROP TABLE %I.%I', part.schema_name, part.table_name);
      RETURN NEXT part.table_name;
    END IF;
  END LOOP;
END
$$;

-- The decisions already logged move over: one fact per decision, rows of at most 1,000 decisions per
-- organization and day, in the order of their time and id.
SELECT decision_log_ensure_partitions(min((at AT TIME ZONE 'UTC')::date), max((at AT TIME ZONE 'UTC')::date))
FROM decision_log HAVING count(*) > 0;

INSERT INTO decision_log_batches (org_id, first_at, last_at, allowed_count, denied_count, subjects, fact_subject,
  fact_resource, fact_action, fact_product, fact_allowed, fact_reason, fact_revision, fact_rule, fact_client_ip,
  at_offset_ms, fact, request_id)
SELECT g.org_id, g.ats[1], g.ats[cardinality(g.ats)], g.allowed_count, g.denied_count, g.subjects,
  ARRAY(SELECT array_position(g.subjects, s.subject) FROM unnest(g.subject_of) WITH ORDINALITY AS s(subject, n) ORDER BY s.n),
  g.resources, g.actions, g.products, g.alloweds, g.reasons, g.revisions, g.rules, g.client_ips,
  ARRAY(SELECT (floor(extract(epoch FROM a.at - g.ats[1]) * 1000))::integer FROM unnest(g.ats) WITH ORDINALITY AS a(at, n) ORDER BY a.n),
  ARRAY(SELECT generate_series(1, cardinality(g.ats))),
  g.request_ids
FROM (
  SELECT org_id,
    array_agg(at ORDER BY at, id) AS ats,
    count(*) FILTER (WHERE allowed)::integer AS allowed_count,
    count(*) FILTER (WHERE NOT allowed)::integer AS denied_count,
    array_agg(DISTINCT subject) AS subjects,
    array_agg(subject ORDER BY at, id) AS subject_of,
    array_agg(resource ORDER BY at, id) AS resources,
    array_agg(action ORDER BY at, id) AS actions,
    array_agg(product ORDER BY at, id) AS products,
    array_agg(allowed ORDER BY at, id) AS alloweds,
    array_agg(reason ORDER BY at, id) AS reasons,
    array_agg(revision ORDER BY at, id) AS revisions,
    array_agg(rule ORDER BY at, id) AS rules,
    array_agg(client_ip ORDER BY at, id) AS client_ips,
    array_agg(request_id ORDER BY at, id) AS request_ids
  FROM (
    SELECT *, (row_number() OVER (PARTITION BY org_id, (at AT TIME ZONE 'UTC')::date ORDER BY at, id) - 1) / 1000 AS chunk
    FROM decision_log
  ) numbered
  GROUP BY org_id, (at AT TIME ZONE 'UTC')::date, chunk
) g;

DROP TABLE decision_log;

-- Down Migration
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
CREATE INDEX decision_log_org_at ON decision_log (org_id, at DESC, id DESC);
CREATE INDEX decision_log_org_subject_at ON decision_log (org_id, subject, at DESC, id DESC);

DROP FUNCTION decision_log_drop_partitions_before(date);
DROP FUNCTION decision_log_ensure_partitions(date, date);

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

-- Decisions written since the upgrade are not moved back: the down migration restores the table, not its rows.
DROP TABLE decision_log_batches;
