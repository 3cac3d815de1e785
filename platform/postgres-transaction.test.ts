// A connection that dies inside a transaction (the server stopped or restarted) is a 503 for that request, not an
// unhandled 'error' event that ends the process: on the real PostgreSQL, the session is terminated from another one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyStore, MemoryChangeBus } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, type PolicyChange } from '../engine/index.js';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
import { runMigrations } from './migrations.js';
import { withTransaction } from './postgres-transaction.js';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('pg_transaction');
  await schema.pool.query('CREATE TABLE items (id int PRIMARY KEY)');
});
afterAll(async () => schema.drop());

describe('withTransaction when the connection dies', () => {
  it('answers SERVICE_UNAVAILABLE, writes nothing, and the process keeps running', async () => {
    const pool = schema.newPool({ max: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = withTransaction(pool, async (client) => {
        await client.query('INSERT INTO items (id) VALUES (1)');
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await schema.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        // Between statements, as when the work awaits something else: the client sees the connection end.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await client.query('INSERT INTO items (id) VALUES (2)');
      });
      await expect(outcome).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(uncaught).toEqual([]);
      expect((await schema.pool.query('SELECT count(*)::int AS n FROM items')).rows[0]).toEqual({ n: 0 });
      // The dead connection was discarded: the pool still serves.
      await expect(withTransaction(pool, (client) => client.query('INSERT INTO items (id) VALUES (3)'))).resolves.toBeDefined();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('withTransaction and policy written through it', () => {
  let policySchema: TestSchema;
  let engine: PolicyEngine;
  let bus: MemoryChangeBus;
  const grant = (tenantId: string, resource: string): PolicyChange => ({ op: 'add', rule: { ptype: 'p', values: ['role:a', tenantId, resource, 'get', 'allow'] } });
  const committedRevision = async (tenantId: string) =>
    Number((await policySchema.pool.query<{ revision: string }>('SELECT revision FROM policy_revision WHERE tenant_id = $1', [tenantId])).rows[0]?.revision ?? 0);

  beforeAll(async () => {
    policySchema = await createTestSchema('pg_transaction_policy');
    await runMigrations({ databaseUrl: policySchema.url, log: () => undefined });
    await policySchema.pool.query(`CREATE FUNCTION fail_serialization() RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`);
    bus = new MemoryChangeBus();
    const model = await loadModelFile();
    engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool: policySchema.pool, model }), feed: bus.feed(), resyncIntervalMs: 0 });
  });
  afterAll(async () => {
    engine.stop();
    await policySchema.drop();
  });

  it('a write is applied here and announced after the commit, before withTransaction resolves, never before', async () => {
    const published = bus.published;
    const result = await withTransaction(policySchema.pool, async (_client, policy) => {
      const written = await engine.writeWithin(policy, 'tx-commit', [grant('tx-commit', 'ledgers')]);
      // Written, not committed: nobody, this engine included, may act on it yet.
      expect(engine.revisionOf('tx-commit')).toBe(0);
      expect(bus.published).toBe(published);
      return written;
    });
    expect(result).toEqual({ tenantId: 'tx-commit', revision: 1, changed: true });
    expect(engine.revisionOf('tx-commit')).toBe(1);
    expect(bus.published).toBe(published + 1);
    expect(engine.decideSync({ sub: 'role:a', dom: 'tx-commit', obj: 'ledgers', act: 'get' }).allowed).toBe(true);
  });

  it('a transaction that rolls back writes, applies and announces nothing', async () => {
    const published = bus.published;
    const refused = withTransaction(policySchema.pool, async (_client, policy) => {
      await engine.writeWithin(policy, 'tx-rollback', [grant('tx-rollback', 'ledgers')]);
      throw new Error('the entity write failed');
    });
    await expect(refused).rejects.toThrow('the entity write failed');
    expect(await committedRevision('tx-rollback')).toBe(0);
    expect(engine.revisionOf('tx-rollback')).toBe(0);
    expect(bus.published).toBe(published);
  });

  it('an attempt retried after a serialization failure announces only the attempt that committed', async () => {
    const published = bus.published;
    let attempts = 0;
    const result = await withTransaction(policySchema.pool, async (client, policy) => {
      attempts += 1;
      const written = await engine.writeWithin(policy, 'tx-retry', [grant('tx-retry', `attempt-${attempts}`)]);
      if (attempts === 1) await client.query('SELECT fail_serialization()');
      return written;
    });
    expect(attempts).toBe(2);
    expect(result.revision).toBe(1);
    expect(bus.published).toBe(published + 1);
    expect(engine.revisionOf('tx-retry')).toBe(1);
    expect(engine.decideSync({ sub: 'role:a', dom: 'tx-retry', obj: 'attempt-1', act: 'get' }).allowed).toBe(false);
    expect(engine.decideSync({ sub: 'role:a', dom: 'tx-retry', obj: 'attempt-2', act: 'get' }).allowed).toBe(true);
  });
});
