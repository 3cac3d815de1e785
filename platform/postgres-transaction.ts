import type pg from 'pg';
import { openPgPolicyTransaction, type PgPolicyTransaction } from '../engine/adapters/index.js';
import { isPgConnectionError, sqlStateOf } from '../engine/adapters/pg-connection-error.js';
import { isEngineError, type PolicyTransaction } from '../engine/index.js';
import { ServiceError } from './http/service-error.js';

const retryableStates = new Set(['40001', '40P01']); // serialization failure, deadlock
// lock_timeout: the row stayed locked too long. A busy database, not a wrong query.
const lockNotAvailable = '55P03';

/**
 * What a read or a statement needs of PostgreSQL: a pool (each statement on its own) or a transaction's client
 * (a write, or a read under the transaction's locks). Stores take this, never a whole pool.
 */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** The name of the unique constraint a write violated, if that is why it failed. */
export function uniqueViolation(error: unknown): string | undefined {
  if (sqlStateOf(error) !== '23505') return undefined;
  return (error as { constraint?: string }).constraint ?? 'unique';
}

/**
 * Runs `work` in one transaction: commits when it returns, rolls back when it throws. Serialization failures
 * and deadlocks are retried (bounded), then answered 503; a lock wait past `lock_timeout` and a lost or refused
 * connection are a 503, never a 500 with SQL in the body. `policy` is the same
 * transaction for the engine's `writeWithin`: what is written through it is applied and announced after the
 * commit, before this resolves (never after a rollback, nor for an attempt that was retried).
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient, policy: PolicyTransaction) => Promise<T>, attempts = 3): Promise<T> {
  const value = await runTransaction(pool, work, attempts);
  await value.policy.committed();
  return value.value;
}

async function runTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, policy: PolicyTransaction) => Promise<T>,
  attempts: number,
): Promise<{ readonly value: T; readonly policy: PgPolicyTransaction }> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: `database connect: ${(error as Error).message}`, cause: error });
    }
    let broken = false;
    // A checked-out client has no pool listener: without ours, a connection dropped mid-transaction (the server
    // stopped) is an unhandled 'error' event that ends the whole process. The query in flight rejects anyway.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const policy = openPgPolicyTransaction(client);
      const value = await work(client, policy);
      await client.query('COMMIT');
      return { value, policy };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      if (retryableStates.has(sqlStateOf(error) ?? '') && attempt < attempts) continue;
      if (error instanceof ServiceError || (isEngineError(error) && error.code !== 'POLICY_STORE_UNAVAILABLE')) throw error;
      const sqlState = sqlStateOf(error) ?? '';
      if (isPgConnectionError(error) || retryableStates.has(sqlState) || sqlState === lockNotAvailable || (isEngineError(error) && error.code === 'POLICY_STORE_UNAVAILABLE')) {
        broken = broken || isPgConnectionError(error);
        throw new ServiceError('SERVICE_UNAVAILABLE', { detail: (error as Error).message, cause: error });
      }
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken ? true : undefined);
    }
  }
}

/** A read through the pool with connection failures answered 503. */
export async function query<R extends pg.QueryResultRow>(db: Queryable, text: string, values: readonly unknown[] = []): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(text, values as unknown[]);
  } catch (error) {
    if (isPgConnectionError(error) || sqlStateOf(error) === lockNotAvailable) throw new ServiceError('SERVICE_UNAVAILABLE', { detail: (error as Error).message, cause: error });
    throw error;
  }
}
