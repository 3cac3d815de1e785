import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { EngineError } from '../errors.js';
import { isPgConnectionError, sqlStateOf } from './pg-connection-error.js';

let schema: TestSchema;

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  schema = await createTestSchema('pg_connection_error');
});

afterAll(async () => {
  await schema.drop();
});

describe('isPgConnectionError', () => {
  it('a refused connection is a connection error', async () => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });

    const error = await rejectionOf(client.connect());

    expect(isPgConnectionError(error)).toBe(true);
  });

  it('a pool connect timeout (no code, only a message) is a connection error', async () => {
    const pool = schema.newPool({ max: 1, connectionTimeoutMillis: 100 });
    const held = await pool.connect();
    try {
      const error = await rejectionOf(pool.query('SELECT 1'));

      expect(isPgConnectionError(error)).toBe(true);
    } finally {
      held.release();
    }
  });

  it('a statement timeout (SQLSTATE 57014) is a connection error', async () => {
    const pool = schema.newPool({ statement_timeout: 50 });

    const error = await rejectionOf(pool.query('SELECT pg_sleep(5)'));

    expect(sqlStateOf(error)).toBe('57014');
    expect(isPgConnectionError(error)).toBe(true);
  });

  it('a backend terminated mid-query, and the next query on that client, are connection errors', async () => {
    const victim = await schema.pool.connect();
    victim.on('error', () => undefined);
    try {
      const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const sleeping = rejectionOf(victim.query('SELECT pg_sleep(5)'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      await schema.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);

      const duringQuery = await sleeping;
      const afterwards = await rejectionOf(victim.query('SELECT 1'));

      expect(isPgConnectionError(duringQuery)).toBe(true);
      expect(isPgConnectionError(afterwards)).toBe(true);
    } finally {
      victim.release(true);
    }
  });

  it('a wrong query (syntax error, unique violation) is not a connection error', async () => {
    const syntax = await rejectionOf(schema.pool.query('SELEKT 1'));
    await schema.pool.query('CREATE TABLE uniq (v int PRIMARY KEY)');
    await schema.pool.query('INSERT INTO uniq VALUES (1)');
    const duplicate = await rejectionOf(schema.pool.query('INSERT INTO uniq VALUES (1)'));

    expect([sqlStateOf(syntax), sqlStateOf(duplicate)]).toEqual(['42601', '23505']);
    expect(isPgConnectionError(syntax)).toBe(false);
    expect(isPgConnectionError(duplicate)).toBe(false);
  });

  it('values that are not pg errors are not connection errors', () => {
    expect(isPgConnectionError('ECONNREFUSED')).toBe(false);
    expect(isPgConnectionError(undefined)).toBe(false);
    expect(isPgConnectionError(new EngineError('INVALID_RULE', 'x'))).toBe(false);
    expect(sqlStateOf(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }))).toBeUndefined();
  });
});
