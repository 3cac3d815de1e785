import type pg from 'pg';
import { ServiceError } from '../../platform/http/service-error.js';
import { query } from '../../platform/postgres-transaction.js';

export interface TenantSprayLimit {
  /** Failed password sign-ins per organization per window; 0 turns the limit off. */
  readonly maxFailures: number;
  readonly windowSeconds: number;
}

export const defaultTenantSprayLimit: TenantSprayLimit = { maxFailures: 200, windowSeconds: 60 };

/** The organization of a username (usernames are unique across organizations); undefined for a name that is no account. */
export async function organizationOfUsername(pool: pg.Pool, usernameCanonical: string): Promise<string | undefined> {
  const { rows } = await query<{ org_id: string }>(pool, 'SELECT org_id FROM users WHERE username_canonical = $1', [usernameCanonical]);
  return rows[0]?.org_id;
}

/**
 * Refuses password sign-ins into an organization whose accounts failed `maxFailures` times in the current window
 * (spraying many accounts, from one address or many): RATE_LIMITED (429) with
 * `Retry-After` until the window ends, before any password is checked. The per-account lockout and the
 * per-address limit still apply beside it.
 */
export async function assertTenantNotSprayed(pool: pg.Pool, orgId: string, nowMs: number, limit: TenantSprayLimit): Promise<void> {
  if (limit.maxFailures <= 0) return;
  const { rows } = await query<{ failures: number; ends_ms: number }>(
    pool,
    `SELECT failures, (extract(epoch FROM window_started_at + make_interval(secs => $2)) * 1000)::float8 AS ends_ms
       FROM tenant_sign_in_failures WHERE org_id = $1`,
    [orgId, limit.windowSeconds],
  );
  const row = rows[0];
  if (row && row.ends_ms > nowMs && row.failures >= limit.maxFailures) {
    const retryAfter = Math.max(1, Math.ceil((row.ends_ms - nowMs) / 1000));
    throw new ServiceError('RATE_LIMITED', { detail: 'organization sign-in failure limit', headers: { 'Retry-After': String(retryAfter) } });
  }
}

/** Counts one failed password sign-in of the organization, atomically; a window that has ended starts again at 1. */
export async function recordTenantFailure(pool: pg.Pool, orgId: string, nowMs: number, limit: TenantSprayLimit): Promise<number> {
  if (limit.maxFailures <= 0) return 0;
  const { rows } = await query<{ failures: number }>(
    pool,
    `INSERT INTO tenant_sign_in_failures AS t (org_id, failures, window_started_at) VALUES ($1, 1, to_timestamp($2::float8 / 1000))
     ON CONFLICT (org_id) DO UPDATE SET
       failures = CASE WHEN t.window_started_at + make_interval(secs => $3) <= to_timestamp($2::float8 / 1000) THEN 1 ELSE t.failures + 1 END,
       window_started_at = CASE WHEN t.window_started_at + make_interval(secs => $3) <= to_timestamp($2::float8 / 1000)
                                THEN to_timestamp($2::float8 / 1000) ELSE t.window_started_at END
     RETURNING t.failures`,
    [orgId, nowMs, limit.windowSeconds],
  );
  return rows[0]?.failures ?? 0;
}
