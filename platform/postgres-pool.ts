import pg from 'pg';

export interface PgPoolOptions {
  readonly url: string;
  /** Default 10. */
  readonly maxConnections?: number;
  /** How long a query may wait for a free or new connection. Default 2000; pg's own default (0) waits forever. */
  readonly connectionTimeoutMs?: number;
  /** Server-side `statement_timeout`. Default 5000. */
  readonly statementTimeoutMs?: number;
  /** Server-side `lock_timeout`, below the statement timeout so lock waits fail first and say so. Default 3000. */
  readonly lockTimeoutMs?: number;
  /** Server-side `idle_in_transaction_session_timeout`: a leaked transaction cannot hold locks for long. Default 10000. */
  readonly idleInTransactionTimeoutMs?: number;
  /** How long an idle pooled connection is kept open. Default 10000. */
  readonly idleTimeoutMs?: number;
  /** Default `access-manager`. */
  readonly applicationName?: string;
  /** Told about errors of idle pooled connections (server restart, network cut); the pool already dropped them. */
  readonly onIdleClientError?: (error: Error) => void;
}

/**
 * A pg pool with bounded waits: connection, statement, lock and idle-in-transaction timeouts are always set, and
 * an idle connection's error is reported instead of crashing the process (an 'error' event without a listener
 * throws).
 *
 * @example
 * const pool = createPgPool({ url: config.DATABASE_URL, statementTimeoutMs: 2_000 });
 */
export function createPgPool(options: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 5_000,
    lock_timeout: options.lockTimeoutMs ?? 3_000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'access-manager',
    keepAlive: true,
  });
  const onIdleClientError = options.onIdleClientError;
  pool.on('error', (error) => onIdleClientError?.(error));
  return pool;
}
