import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
import { createPgPool } from './postgres-pool.js';

let schema: TestSchema;
const pools: pg.Pool[] = [];

function pool(options: Omit<Parameters<typeof createPgPool>[0], 'url'> = {}): pg.Pool {
  const created = createPgPool({ url: schema.url, ...options });
  pools.push(created);
  return created;
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  schema = await createTestSchema('postgres_pool');
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await schema.drop();
});

describe('createPgPool', () => {
  it('with every connection held, a query fails after about connectionTimeoutMs instead of waiting forever', async () => {
    const small = pool({ maxConnections: 2, connectionTimeoutMs: 300 });
    const held = await Promise.all([small.connect(), small.connect()]);
    try {
      const started = performance.now();
      await expect(small.query('SELECT 1')).rejects.toThrow(/timeout exceeded when trying to connect/);
      const elapsedMs = performance.now() - started;
      expect(elapsedMs).toBeGreaterThanOrEqual(250);
      expect(elapsedMs).toBeLessThan(1_500);
    } finally {
      for (const client of held) client.release();
    }
    await expect(small.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('statement_timeout cancels select pg_sleep(10) (SQLSTATE 57014)', async () => {
    const quick = pool({ statementTimeoutMs: 200 });
    const started = performance.now();

    await expect(quick.query('SELECT pg_sleep(10)')).rejects.toMatchObject({ code: '57014' });

    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('every session gets the statement, lock and idle-in-transaction timeouts, its application name and the URL search_path', async () => {
    const configured = pool({
      statementTimeoutMs: 1_234,
      lockTimeoutMs: 567,
      idleInTransactionTimeoutMs: 8_900,
      applicationName: 'pool-test',
    });

    const { rows } = await configured.query<Record<string, string>>(
      `SELECT current_setting('statement_timeout') AS statement_timeout,
              current_setting('lock_timeout') AS lock_timeout,
              current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction,
              current_setting('application_name') AS application_name,
              current_schema() AS schema`,
    );

    expect(rows[0]).toEqual({
      statement_timeout: '1234ms',
      lock_timeout: '567ms',
      idle_in_transaction: '8900ms',
      application_name: 'pool-test',
      schema: schema.schema,
    });
  });

  it('defaults bound every wait: 2 s to connect, 5 s per statement, 3 s per lock', async () => {
    const defaults = pool();

    const { rows } = await defaults.query<Record<string, string>>(
      `SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('lock_timeout') AS lock_timeout`,
    );

    expect(rows[0]).toEqual({ statement_timeout: '5s', lock_timeout: '3s' });
    expect(defaults.options.connectionTimeoutMillis).toBe(2_000);
  });

  it('an idle connection killed by the server is reported, does not crash the process, and the pool recovers', async () => {
    const errors: Error[] = [];
    const watched = pool({ maxConnections: 1, onIdleClientError: (error) => errors.push(error) });
    const client = await watched.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    client.release();

    await schema.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await waitFor(() => errors.length > 0, 5_000);

    expect(errors[0]?.message).toMatch(/terminat/i);
    await expect(watched.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });
});
