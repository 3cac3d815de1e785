// The rules of `npm run bench -- --scale`, seeded once and kept: a schema per shape in a database of its own,
// migrated like production, filled by set-based SQL (one INSERT … SELECT generate_series per chunk of tenants,
// the casbin table's secondary indexes dropped first and rebuilt from their own definitions after), marked with
// what it holds. A later run with the same shape and seed finds the marker and seeds nothing; newer migrations run
// over the kept rules, as they would over a deployment's.
import { readdir } from 'node:fs/promises';
import pg from 'pg';
import { migrationsDir, runMigrations } from '../platform/migrations.js';
import { withClient } from './policy-schema.js';
import { resourcePatterns, ruleActions, rulesPerGroup, usersPerGroup } from './policy-generator.js';
import { planTenantSizes, type ScaleShape } from './scale-plan.js';

/** Rules per INSERT statement (whole tenants): progress between statements, each a few seconds. */
const rulesPerStatement = 1_000_000;

/** Bumped when the SQL below makes different rules for the same shape, so kept schemas are reseeded. */
const generatorVersion = 1;

// Tenant t's k-th rule: group k / 25; its first line links the group to its role, the next 5 link users to the
// group, the other 19 give the role distinct (resource, action) pairs (a step of 7 is coprime to the 100 pairs),
// one in twenty of them a deny.
const insertRules = `
  INSERT INTO casbin (ptype, rule)
  SELECT CASE WHEN r.j <= $7 THEN 'g' ELSE 'p' END,
    CASE
      WHEN r.j = 0 THEN jsonb_build_array('group:' || r.g, 'role:' || r.g, r.tenant)
      WHEN r.j <= $7 THEN jsonb_build_array('user:' || r.g || '-' || (r.j - 1), 'group:' || r.g, r.tenant)
      ELSE jsonb_build_array('role:' || r.g, r.tenant,
        ($4::text[])[r.pair / cardinality($5::text[]) + 1], ($5::text[])[r.pair % cardinality($5::text[]) + 1],
        CASE WHEN (r.t * 7 + r.g * 13 + r.j * 3 + $3) % 20 = 0 THEN 'deny' ELSE 'allow' END)
    END
  FROM (
    SELECT t.t, 'tenant-' || lpad(t.t::text, 6, '0') AS tenant, k / $6 AS g, k % $6 AS j,
      (($3 + t.t * 31 + (k / $6) * 17) % 100 + greatest(k % $6 - $7 - 1, 0) * 7) % 100 AS pair
    FROM unnest($1::int[]) WITH ORDINALITY AS s(size, n)
    CROSS JOIN LATERAL (SELECT $2::bigint + s.n - 1 AS t) AS t
    CROSS JOIN LATERAL generate_series(0, s.size - 1) AS k
  ) AS r`;
const insertRevisions = `
  INSERT INTO policy_revision (tenant_id, revision)
  SELECT 'tenant-' || lpad(t::text, 6, '0'), 1 FROM generate_series(0, $1::int - 1) AS t`;

/** What a seeded schema holds; stored as the schema's comment, written in the seeding transaction. */
export interface ScaleMarker {
  readonly rules: number;
  readonly tenants: number;
  readonly seed: number;
  readonly generator: number;
  /** The last migration applied when it was seeded. */
  readonly migration: string;
  readonly seedMs: number;
}

export interface ScaleSchema {
  readonly schema: string;
  /** A connection string whose sessions use the schema. */
  readonly url: string;
  /** True when this call seeded it; false when the marker said it already held the shape. */
  readonly seededNow: boolean;
  /** Migrations newer than the marker's were applied over the kept rules by this call. */
  readonly migratedNow: boolean;
  readonly marker: ScaleMarker;
}

export interface EnsureScaleSchemaOptions {
  /** The database (created when absent, through this URL's server). */
  readonly databaseUrl: string;
  readonly schema: string;
  readonly shape: ScaleShape;
  /** Varies which pairs each role gets and which lines deny. */
  readonly seed: number;
  readonly onStep?: (what: string) => void;
}

/** The schema name a shape is kept under. */
export function scaleSchemaName(shape: ScaleShape): string {
  return `scale_${shape.rules}_${shape.tenants}`;
}

export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Creates the database of `databaseUrl` when absent, connecting to the server's `postgres` database to do it. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  await withClient(url.toString(), async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount !== 0) return;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // Another run created it meanwhile.
      if ((error as { code?: string }).code !== '42P04') throw error;
    }
  });
}

/**
 * The schema holding `shape`: kept when its marker matches the shape, the seed and the generator (newer migrations
 * then run over it and the marker records them); otherwise dropped, migrated afresh and seeded.
 */
export async function ensureScaleSchema(options: EnsureScaleSchemaOptions): Promise<ScaleSchema> {
  const { databaseUrl, schema, shape, seed } = options;
  const step = options.onStep ?? (() => undefined);
  const sizes = planTenantSizes(shape);
  if (shape.tenants > 999_999) throw new RangeError('at most 999,999 tenants (six-digit tenant names)');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new RangeError(`schema must be a lower-case SQL identifier; got ${JSON.stringify(schema)}`);
  await ensureDatabase(databaseUrl);
  const url = withSearchPath(databaseUrl, schema);
  const migration = await latestMigration();
  const wanted = { rules: shape.rules, tenants: shape.tenants, seed, generator: generatorVersion, migration };

  const kept = await withClient(databaseUrl, (client) => readMarker(client, schema));
  if (kept && isSameSeed(kept, wanted)) {
    if (kept.migration === migration) return { schema, url, seededNow: false, migratedNow: false, marker: kept };
    step(`${schema}: applying the migrations after ${kept.migration} over the kept rules`);
    await runMigrations({ databaseUrl: url, schema });
    const marker: ScaleMarker = { ...kept, migration };
    await withClient(databaseUrl, (client) => writeMarker(client, schema, marker));
    return { schema, url, seededNow: false, migratedNow: true, marker };
  }

  step(`${schema}: dropping what it held, migrating afresh`);
  await withClient(databaseUrl, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
    await client.query(`CREATE SCHEMA ${client.escapeIdentifier(schema)}`);
  });
  await runMigrations({ databaseUrl: url, schema });

  const startedAt = performance.now();
  const marker = await withClient(url, async (client) => {
    await client.query("SET maintenance_work_mem = '512MB'");
    await client.query('SET synchronous_commit = off');
    await client.query('BEGIN');
    const indexesBefore = await casbinIndexes(client);
    const rebuild = await dropSecondaryIndexes(client);
    let seeded = 0;
    for (let first = 0; first < sizes.length; ) {
      let last = first;
      let rules = 0;
      while (last < sizes.length && (rules === 0 || rules + (sizes[last] as number) <= rulesPerStatement)) rules += sizes[last++] as number;
      step(`${schema}: inserting rules ${(seeded + 1).toLocaleString('en-US')}-${(seeded + rules).toLocaleString('en-US')} of ${shape.rules.toLocaleString('en-US')}`);
      await client.query(insertRules, [
        Array.from(sizes.subarray(first, last)),
        first,
        seed,
        resourcePatterns,
        ruleActions,
        rulesPerGroup,
        usersPerGroup,
      ]);
      seeded += rules;
      first = last;
    }
    await client.query(insertRevisions, [shape.tenants]);
    for (const [i, statement] of rebuild.entries()) {
      step(`${schema}: rebuilding the casbin table's index ${i + 1} of ${rebuild.length}`);
      await client.query(statement);
    }
    const indexesAfter = await casbinIndexes(client);
    if (indexesAfter.join('\n') !== indexesBefore.join('\n')) {
      throw new Error(`the rebuilt indexes differ from the migrations':\n${indexesAfter.join('\n')}\nwanted\n${indexesBefore.join('\n')}`);
    }
    step(`${schema}: analysing`);
    await client.query('ANALYZE casbin');
    await client.query('ANALYZE policy_revision');
    const made: ScaleMarker = { ...wanted, seedMs: Math.round(performance.now() - startedAt) };
    await writeMarker(client, schema, made);
    await client.query('COMMIT');
    return made;
  });
  return { schema, url, seededNow: true, migratedNow: false, marker };
}

function isSameSeed(kept: ScaleMarker, wanted: Omit<ScaleMarker, 'seedMs'>): boolean {
  return kept.rules === wanted.rules && kept.tenants === wanted.tenants && kept.seed === wanted.seed && kept.generator === wanted.generator;
}

async function writeMarker(client: pg.Client, schema: string, marker: ScaleMarker): Promise<void> {
  await client.query(`COMMENT ON SCHEMA ${client.escapeIdentifier(schema)} IS ${client.escapeLiteral(JSON.stringify(marker))}`);
}

async function latestMigration(): Promise<string> {
  const names = (await readdir(migrationsDir)).filter((name) => name.endsWith('.sql')).sort();
  return names.at(-1)?.slice(0, -'.sql'.length) ?? 'none';
}

async function readMarker(client: pg.Client, schema: string): Promise<ScaleMarker | undefined> {
  const { rows } = await client.query<{ marker: string | null }>(
    'SELECT obj_description(oid, $2) AS marker FROM pg_namespace WHERE nspname = $1',
    [schema, 'pg_namespace'],
  );
  const text = rows[0]?.marker;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as ScaleMarker;
  } catch {
    return undefined;
  }
}

/** Every index of the casbin table as PostgreSQL prints it (constraints' included), sorted. */
async function casbinIndexes(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ definition: string }>(
    `SELECT pg_get_indexdef(indexrelid) AS definition FROM pg_index WHERE indrelid = 'casbin'::regclass ORDER BY 1`,
  );
  return rows.map((row) => row.definition);
}

/**
 * Drops the casbin table's unique constraints and plain indexes (the primary key stays: ids arrive in order) and
 * returns the statements that put each back as the migrations made it.
 */
async function dropSecondaryIndexes(client: pg.Client): Promise<string[]> {
  const { rows: constraints } = await client.query<{ name: string; definition: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE conrelid = 'casbin'::regclass AND contype = 'u' ORDER BY conname`,
  );
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'casbin'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
     ORDER BY c.relname`,
  );
  const rebuild: string[] = [];
  for (const { name, definition } of constraints) {
    await client.query(`ALTER TABLE casbin DROP CONSTRAINT ${client.escapeIdentifier(name)}`);
    rebuild.push(`ALTER TABLE casbin ADD CONSTRAINT ${client.escapeIdentifier(name)} ${definition}`);
  }
  for (const { name, definition } of indexes) {
    await client.query(`DROP INDEX ${client.escapeIdentifier(name)}`);
    rebuild.push(definition);
  }
  return rebuild;
}
