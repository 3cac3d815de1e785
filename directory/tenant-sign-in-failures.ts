import { query, type Queryable } from '../platform/postgres-transaction.js';

/** The organization's failed password sign-ins in its current window, and when that window ends. */
export async function tenantFailureWindow(db: Queryable, tenantId: string, windowSeconds: number): Promise<{ failures: number; endsAtMs: number } | undefined> {
  const { rows } = await query<{ failures: number; ends_ms: number }>(
    db,
    `SELECT failures, (extract(epoch FROM window_started_at + make_interval(secs => $2)) * 1000)::float8 AS ends_ms
       FROM tenant_sign_in_failures WHERE org_id = $1`,
    [tenantId, windowSeconds],
  );
  const row = rows[0];
  return row ? { failures: row.failures, endsAtMs: row.ends_ms } : undefined;
}

/** Counts one failed password sign-in of the organization, atomically; a window that has ended starts again at 1. */
export async function recordTenantFailure(db: Queryable, tenantId: string, nowMs: number, windowSeconds: number): Promise<number> {
  const { rows } = await query<{ failures: number }>(
    db,
    `INSERT INTO tenant_sign_in_failures AS t (org_id, failures, window_started_at) VALUES ($1, 1, to_timestamp($2::float8 / 1000))
     ON CONFLICT (org_id) DO UPDATE SET
       failures = CASE WHEN t.window_started_at + make_interval(secs => $3) <= to_timestamp($2::float8 / 1000) THEN 1 ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at + make_interval(secs => $3) <= to_timestamp($2::float8 / 1000)
                                THEN to_timestamp($2::float8 / 1000) ELSE t.window_started_at END
     RETURNING t.failures`,
    [tenantId, nowMs, windowSeconds],
  );
  return rows[0]?.failures ?? 0;
}
