// SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many connections, disk full),
// 57 operator intervention (query canceled incl. statement timeout 57014, admin shutdown), 58 system error.
const unavailableSqlStateClasses: ReadonlySet<string> = new Set(['08', '53', '57', '58']);

const socketErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

// pg and pg-pool report these without a code.
const connectionMessages =
  /timeout exceeded when trying to connect|connection terminated|not queryable|cannot use a pool after calling end/i;

/**
 * Whether `error` means PostgreSQL could not be reached or dropped the session (refused, timed out, terminated,
 * out of connections, statement timeout), as opposed to a query being wrong. Such a client must not be reused.
 *
 * @example
 * try {
 *   await client.query('SELECT 1');
 * } catch (error) {
 *   if (isPgConnectionError(error)) client.release(true); // a broken session never goes back to the pool
 * }
 */
export function isPgConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && socketErrorCodes.has(code)) return true;
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined) return unavailableSqlStateClasses.has(sqlState.slice(0, 2));
  return connectionMessages.test(error.message);
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !socketErrorCodes.has(code) ? code : undefined;
}
