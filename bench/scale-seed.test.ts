import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFile, PolicyEngine } from '../engine/index.js';
import { createPolicyStore } from '../engine/adapters/index.js';
import { runMigrations } from '../platform/migrations.js';
import { testDatabaseUrl } from '../test/support/postgres.js';
import { linesOfTenant, planTenantSizes, scaleTenantName } from './scale-plan.js';
import { ensureScaleSchema, withSearchPath } from './scale-seed.js';

const suffix = randomBytes(4).toString('hex');
const seededSchema = `scale_test_${suffix}`;
const migratedSchema = `scale_test_plain_${suffix}`;
const shape = { rules: 2_000, tenants: 60 };
const admin = new pg.Pool({ connectionString: testDatabaseUrl, max: 2 });

afterAll(async () => {
  for (const schema of [seededSchema, migratedSchema]) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

async function indexesOf(schema: string): Promise<string[]> {
  const { rows } = await admin.query<{ definition: string }>(
    `SELECT tablename || ': ' || replace(indexdef, $1 || '.', '') AS definition FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`,
    [schema],
  );
  return rows.map((row) => row.definition);
}

describe('bench scale seed', () => {
  it('fills a migrated schema with exactly the planned rules per tenant, a revision per tenant, and the migrations\' indexes', async () => {
    const seeded = await ensureScaleSchema({ databaseUrl: testDatabaseUrl, schema: seededSchema, shape, seed: 3 });
    expect(seeded.seededNow).toBe(true);
    expect(seeded.marker).toMatchObject({ ...shape, seed: 3 });

    const sizes = planTenantSizes(shape);
    const { rows } = await admin.query<{ tenant: string; g: number; p: number; deny: number }>(
      `SELECT CASE WHEN ptype = 'g' THEN rule->>2 ELSE rule->>1 END AS tenant,
              count(*) FILTER (WHERE ptype = 'g')::int AS g, count(*) FILTER (WHERE ptype = 'p')::int AS p,
              count(*) FILTER (WHERE rule->>4 = 'deny')::int AS deny
       FROM ${seededSchema}.casbin GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((row) => row.tenant)).toEqual(Array.from(sizes, (_, t) => scaleTenantName(t)));
    rows.forEach((row, t) => {
      const { g, p } = linesOfTenant(sizes[t] as number);
      expect({ tenant: row.tenant, g: row.g, p: row.p }).toEqual({ tenant: row.tenant, g, p });
    });
    const denies = rows.reduce((sum, row) => sum + row.deny, 0) / rows.reduce((sum, row) => sum + row.p, 0);
    expect(denies).toBeGreaterThan(0.03);
    expect(denies).toBeLessThan(0.07);

    const revisions = await admin.query<{ tenants: number; revisions: string[] }>(
      `SELECT count(*)::int AS tenants, array_agg(DISTINCT revision::text) AS revisions FROM ${seededSchema}.policy_revision`,
    );
    expect(revisions.rows[0]).toEqual({ tenants: shape.tenants, revisions: ['1'] });

    await admin.query(`CREATE SCHEMA ${migratedSchema}`);
    await runMigrations({ databaseUrl: withSearchPath(testDatabaseUrl, migratedSchema), schema: migratedSchema });
    expect(await indexesOf(seededSchema)).toEqual(await indexesOf(migratedSchema));
  });

  it('keeps a schema whose marker matches, migrates it when migrations were added, and reseeds when the seed differs', async () => {
    const before = await admin.query<{ max: number }>(`SELECT max(id) AS max FROM ${seededSchema}.casbin`);
    const kept = await ensureScaleSchema({ databaseUrl: testDatabaseUrl, schema: seededSchema, shape, seed: 3 });
    expect(kept.seededNow).toBe(false);
    expect((await admin.query(`SELECT max(id) AS max FROM ${seededSchema}.casbin`)).rows).toEqual(before.rows);

    // A marker from before the last migration: the migrations run over the kept rules, nothing is seeded again.
    const migration = kept.marker.migration;
    await admin.query(`COMMENT ON SCHEMA ${seededSchema} IS '${JSON.stringify({ ...kept.marker, migration: '0001_policy' })}'`);
    const migrated = await ensureScaleSchema({ databaseUrl: testDatabaseUrl, schema: seededSchema, shape, seed: 3 });
    expect(migrated).toMatchObject({ seededNow: false, migratedNow: true, marker: { migration } });
    expect((await admin.query(`SELECT max(id) AS max FROM ${seededSchema}.casbin`)).rows).toEqual(before.rows);
    expect(await ensureScaleSchema({ databaseUrl: testDatabaseUrl, schema: seededSchema, shape, seed: 3 })).toMatchObject({ migratedNow: false });

    const reseeded = await ensureScaleSchema({ databaseUrl: testDatabaseUrl, schema: seededSchema, shape, seed: 4 });
    expect(reseeded.seededNow).toBe(true);
    expect(reseeded.marker.seed).toBe(4);
    const { rows } = await admin.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${seededSchema}.casbin`);
    expect(rows[0]?.count).toBe(shape.rules);
  });

  it('seeds rules the engine loads on first use: a user of a group whose role holds no deny line is allowed what the role allows', async () => {
    const { rows } = await admin.query<{ role: string; resource: string; action: string }>(
      `SELECT rule->>0 AS role, rule->>2 AS resource, rule->>3 AS action FROM ${seededSchema}.casbin c
       WHERE ptype = 'p' AND rule->>1 = $1 AND NOT EXISTS (
         SELECT 1 FROM ${seededSchema}.casbin d WHERE d.ptype = 'p' AND d.rule->>1 = $1 AND d.rule->>0 = c.rule->>0 AND d.rule->>4 = 'deny')
       ORDER BY id LIMIT 1`,
      [scaleTenantName(0)],
    );
    const line = rows[0];
    if (!line) throw new Error('tenant 0 has no role without a deny line');
    const group = line.role.slice('role:'.length);
    const model = await loadModelFile();
    const pool = new pg.Pool({ connectionString: withSearchPath(testDatabaseUrl, seededSchema), max: 2 });
    const engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), resyncIntervalMs: 0, tenantMemoryBytes: 1024 * 1024 });
    try {
      const request = {
        sub: `user:${group}-0`,
        dom: scaleTenantName(0),
        obj: line.resource.replace(/\*$/, '7'),
        act: line.action === '*' ? 'get' : line.action,
      };
      expect((await engine.decide(request)).allowed).toBe(true);
      expect((await engine.decide({ ...request, sub: `user:unknown-1` })).allowed).toBe(false);
    } finally {
      engine.stop();
      await pool.end();
    }
  });
});
