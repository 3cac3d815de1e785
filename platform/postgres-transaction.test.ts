// A connection that dies inside a transaction (the server stopped or restarted) is a 503 for that request, not an
// unhandled 'error' event that ends the process: on the real PostgreSQL, the session is terminated from another one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
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
