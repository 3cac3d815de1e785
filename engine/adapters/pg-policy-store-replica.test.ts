// Bulk policy loads from a PostgreSQL read replica (DATABASE_READ_URL): the replica serves the loads, and a
// replica that lags the primary never brings back a policy the primary has already changed (a revoked grant stays
// revoked). A second schema with older content stands in for a lagging replica.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEngineConfig } from '../../platform/engine-config.js';
import { startEngineRuntime } from '../../platform/engine-runtime.js';
import { runMigrations } from '../../platform/migrations.js';
import { createPgPool } from '../../platform/postgres-pool.js';
import { createTestSchema, testDatabaseUrl, type TestSchema } from '../../test/support/postgres.js';
import type { EngineError } from '../errors.js';
import { loadModelFile } from '../model-file.js';
import { PolicyEngine } from '../policy-engine.js';
import type { PolicyChange } from '../policy-rule.js';
import { PgPolicyStore } from './pg-policy-store.js';

const schemas: TestSchema[] = [];
let primary: TestSchema;

async function migratedSchema(label: string): Promise<TestSchema> {
  const schema = await createTestSchema(label);
  schemas.push(schema);
  await runMigrations({ databaseUrl: schema.url });
  return schema;
}

/** A pool that counts the connections handed out: which database a read went to. */
function countingPool(schema: TestSchema): { pool: pg.Pool; acquired: () => number } {
  const pool = schema.newPool({ max: 4 });
  let acquired = 0;
  pool.on('acquire', () => acquired++);
  return { pool, acquired: () => acquired };
}

/** Makes `replica` hold exactly what `source` holds now (what a replica that stopped replaying would keep). */
async function copyPolicy(source: TestSchema, replica: TestSchema): Promise<void> {
  await replica.pool.query('TRUNCATE casbin, policy_revision, policy_change');
  for (const table of ['casbin', 'policy_revision', 'policy_change']) {
    await replica.pool.query(`INSERT INTO ${replica.schema}.${table} SELECT * FROM ${source.schema}.${table}`);
  }
}

const p = (tenant: string, sub: string, obj: string, act: string): PolicyChange => ({ op: 'add', rule: { ptype: 'p', values: [sub, tenant, obj, act, 'allow'] } });
const g = (tenant: string, member: string, role: string, op: 'add' | 'remove' = 'add'): PolicyChange => ({ op, rule: { ptype: 'g', values: [member, role, tenant] } });

beforeAll(async () => {
  primary = await migratedSchema('replica_primary');
}, 60_000);

afterAll(async () => {
  for (const schema of schemas) await schema.drop();
});

describe('PgPolicyStore with a read replica', () => {
  it('the same database as its own replica: loads are read from the replica and equal the primary’s; writes, revisions and the change log never touch it', async () => {
    const writer = new PgPolicyStore({ pool: primary.pool });
    await writer.applyChanges('acme', [p('acme', 'role:reader', 'accounts', 'get'), g('acme', 'user:1', 'role:reader')]);
    await writer.applyChanges('globex', [p('globex', 'role:admin', '*', '*')]);
    const replica = countingPool(primary);
    const store = new PgPolicyStore({ pool: primary.pool, readPool: replica.pool });

    expect(await store.loadAll()).toEqual(await writer.loadAll());
    expect(await store.loadTenant('acme')).toEqual(await writer.loadTenant('acme'));
    const afterLoads = replica.acquired();
    expect(afterLoads).toBe(2);

    await store.applyChanges('acme', [g('acme', 'user:2', 'role:reader')]);
    await store.revisions();
    await store.changesSince('acme', 0);
    expect(replica.acquired()).toBe(afterLoads);
  });

  it('a lagging replica cannot re-allow what the primary revoked: the load at start and a tenant reload for minRevision answer at the primary’s revision', async () => {
    const primaryStore = new PgPolicyStore({ pool: primary.pool });
    const tenant = 'initech';
    const read = { sub: 'user:7', dom: tenant, obj: 'ledgers', act: 'get' };
    await primaryStore.applyChanges(tenant, [p(tenant, 'role:viewer', 'ledgers', 'get'), g(tenant, 'user:7', 'role:viewer')]);
    await primaryStore.applyChanges('umbrella', [p('umbrella', 'role:viewer', 'ledgers', 'get')]);
    const lagging = await migratedSchema('replica_lagging');
    await copyPolicy(primary, lagging);
    // Replication stops here; the primary revokes the grant.
    const revoked = await primaryStore.applyChanges(tenant, [g(tenant, 'user:7', 'role:viewer', 'remove')]);

    const replica = countingPool(lagging);
    // Keeps one revision of change log, so a catch-up from further back reloads the tenant.
    const store = new PgPolicyStore({ pool: primary.pool, readPool: replica.pool, changeLogRevisionsKept: 1 });
    expect(await store.loadAll()).toEqual(await primaryStore.loadAll());
    expect(await store.loadTenant(tenant)).toEqual(await primaryStore.loadTenant(tenant));
    expect(replica.acquired()).toBe(2);

    const model = await loadModelFile();
    const engine = await PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
    try {
      expect(engine.revisionOf(tenant)).toBe(revoked.revision);
      expect(engine.decideSync(read)).toMatchObject({ allowed: false, revision: revoked.revision });
      // The up-to-date tenant's lines came from the replica.
      expect(engine.decideSync({ sub: 'role:viewer', dom: 'umbrella', obj: 'ledgers', act: 'get' }).allowed).toBe(true);

      // Granted and revoked again on the primary, unseen by this engine (no feed), its change log pruned.
      await store.applyChanges(tenant, [g(tenant, 'user:7', 'role:viewer')]);
      const again = await store.applyChanges(tenant, [g(tenant, 'user:7', 'role:viewer', 'remove')]);
      const reloadsBefore = engine.health().stats.tenantReloads;
      const replicaReadsBefore = replica.acquired();
      expect(await engine.decide(read, { minRevision: again.revision })).toMatchObject({ allowed: false, revision: again.revision });
      expect(engine.health().stats.tenantReloads).toBe(reloadsBefore + 1);
      expect(replica.acquired()).toBe(replicaReadsBefore + 1);
    } finally {
      engine.stop();
    }
  });

  it('a replica that is down costs nothing but a report: the primary serves the load', async () => {
    const down = createPgPool({ url: testDatabaseUrl.replace(/:\d+\//, ':1/'), connectionTimeoutMs: 500 });
    const reported: EngineError[] = [];
    const store = new PgPolicyStore({ pool: primary.pool, readPool: down, onReadReplicaError: (error) => reported.push(error) });
    try {
      expect(await store.loadAll()).toEqual(await new PgPolicyStore({ pool: primary.pool }).loadAll());
      expect(reported).toHaveLength(1);
      expect(reported[0]?.code).toBe('POLICY_STORE_UNAVAILABLE');
    } finally {
      await down.end();
    }
  });

  it('DATABASE_READ_URL wires the replica into the engine the services start, and needs DATABASE_URL', async () => {
    const runtime = await startEngineRuntime(parseEngineConfig({ DATABASE_URL: primary.url, DATABASE_READ_URL: primary.url, DB_MIGRATE_ON_START: 'false', ENGINE_RESYNC_INTERVAL_MS: '0' }));
    try {
      await runtime.engine.ensureTenant('acme');
      expect(runtime.engine.decideSync({ sub: 'user:1', dom: 'acme', obj: 'accounts', act: 'get' }).allowed).toBe(true);
      const pools = await primary.pool.query<{ application_name: string }>(
        "SELECT DISTINCT application_name FROM pg_stat_activity WHERE application_name LIKE 'access-manager-engine%'",
      );
      expect(pools.rows.map((row) => row.application_name)).toContain('access-manager-engine-read');
    } finally {
      await runtime.close();
    }
    expect(() => parseEngineConfig({ DATABASE_READ_URL: primary.url })).toThrow(/DATABASE_READ_URL: a read replica needs DATABASE_URL/);
  });
});
