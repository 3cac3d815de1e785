import { query, type Queryable } from '../platform/postgres-transaction.js';

// The per-account sign-in lockout (`sign_in_failures`, keyed by the canonical username), shared by Auth's
// password sign-in and Identity's password change: a wrong current password at `update-password` is a password
// guess like any other, so both count into one counter and both refuse while it is locked.

/** How many failures lock an account, and for how long (SIGN_IN_MAX_FAILURES, SIGN_IN_LOCK_SECONDS). */
export interface LockoutLimits {
  readonly maxFailures: number;
  readonly lockSeconds: number;
}

/**
 * Whole seconds until the account's lock ends (at least 1), or undefined when it is not locked at `nowMs`: the
 * caller refuses with 429 and this as `Retry-After`. Keyed by the canonical username, so unknown names lock
 * exactly like real ones and the answer tells nothing.
 */
export async function signInLockSecondsLeft(db: Queryable, usernameCanonical: string, nowMs: number): Promise<number | undefined> {
  const { rows } = await query<{ locked_until_ms: number | null }>(
    db,
    'SELECT (extract(epoch FROM locked_until) * 1000)::float8 AS locked_until_ms FROM sign_in_failures WHERE username_canonical = $1',
    [usernameCanonical],
  );
  const lockedUntilMs = rows[0]?.locked_until_ms ?? null;
  return lockedUntilMs !== null && lockedUntilMs > nowMs ? Math.max(1, Math.ceil((lockedUntilMs - nowMs) / 1000)) : undefined;
}

/**
 * Counts one failed sign-in atomically (concurrent failures are never lost). Failures
 * count within a window of `lockSeconds`; reaching `maxFailures` locks the account for `lockSeconds`. A window
 * that has passed, or a lock that has ended, starts the count again. Returns the new count.
 */
export async function recordSignInFailure(db: Queryable, usernameCanonical: string, nowMs: number, settings: LockoutLimits): Promise<number> {
  const { rows } = await query<{ failures: number }>(
    db,
    `WITH args AS (SELECT to_timestamp($2::float8 / 1000) AS now, make_interval(secs => $3) AS lock, $4::int AS max)
     INSERT INTO sign_in_failures AS f (username_canonical, failures, window_started_at, locked_until)
     SELECT $1, 1, args.now, CASE WHEN args.max <= 1 THEN args.now + args.lock END FROM args
     ON CONFLICT (username_canonical) DO UPDATE SET
       failures = CASE WHEN f.window_started_at + (SELECT lock FROM args) <= (SELECT now FROM args)
                         OR f.locked_until <= (SELECT now FROM args) THEN 1 ELSE f.failures + 1 END,
       window_started_at = CASE WHEN f.window_started_at + (SELECT lock FROM args) <= (SELECT now FROM args)
                         OR f.locked_until <= (SELECT now FROM args) THEN (SELECT now FROM args) ELSE f.window_started_at END,
       locked_until = CASE
         WHEN f.window_started_at + (SELECT lock FROM args) <= (SELECT now FROM args) OR f.locked_until <= (SELECT now FROM args)
           THEN CASE WHEN (SELECT max FROM args) <= 1 THEN (SELECT now + lock FROM args) END
         WHEN f.failures + 1 >= (SELECT max FROM args) THEN greatest(f.locked_until, (SELECT now + lock FROM args))
         ELSE f.locked_until END
     RETURNING f.failures`,
    [usernameCanonical, nowMs, settings.lockSeconds, settings.maxFailures],
  );
  // On write: every failure adds at most one row and removes up to a batch of dead ones, so dead rows cannot pile up.
  await purgeExpiredSignInFailures(db, nowMs, settings);
  return rows[0]?.failures ?? 0;
}

/**
 * Removes up to `batch` rows that count nothing any more: their window has passed and their lock, if any, has
 * ended (the next failure of such a name would start from 1 anyway). Returns how many were removed.
 */
export async function purgeExpiredSignInFailures(db: Queryable, nowMs: number, settings: Pick<LockoutLimits, 'lockSeconds'>, batch = 100): Promise<number> {
  // The condition is repeated on the outer DELETE: a row a concurrent failure has just restarted is re-checked
  // against its new version (READ COMMITTED) and kept.
  const result = await query(
    db,
    `WITH args AS (SELECT to_timestamp($1::float8 / 1000) AS now, to_timestamp($1::float8 / 1000) - make_interval(secs => $2) AS window_cutoff)
     DELETE FROM sign_in_failures f USING args
      WHERE f.username_canonical IN (
              SELECT d.username_canonical FROM sign_in_failures d, args a
               WHERE d.window_started_at <= a.window_cutoff AND (d.locked_until IS NULL OR d.locked_until <= a.now) LIMIT $3)
        AND f.window_started_at <= args.window_cutoff AND (f.locked_until IS NULL OR f.locked_until <= args.now)`,
    [nowMs, settings.lockSeconds, batch],
  );
  return result.rowCount ?? 0;
}

/** A successful sign-in (or a password change that proved the current one) clears the account's failures. */
export async function clearSignInFailures(db: Queryable, usernameCanonical: string): Promise<void> {
  await query(db, 'DELETE FROM sign_in_failures WHERE username_canonical = $1', [usernameCanonical]);
}
