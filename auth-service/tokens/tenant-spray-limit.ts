import { recordTenantFailure as countTenantFailure, tenantFailureWindow } from '../../directory/tenant-sign-in-failures.js';
import { accountNamed } from '../../directory/users.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Queryable } from '../../platform/postgres-transaction.js';

export interface TenantSprayLimit {
  /** Failed password sign-ins per organization per window; 0 turns the limit off. */
  readonly maxFailures: number;
  readonly windowSeconds: number;
}

export const defaultTenantSprayLimit: TenantSprayLimit = { maxFailures: 200, windowSeconds: 60 };

/** The organization of a username (usernames are unique across organizations); undefined for a name that is no account. */
export async function organizationOfUsername(database: Queryable, usernameCanonical: string): Promise<string | undefined> {
  return (await accountNamed(database, usernameCanonical))?.tenantId;
}

/**
 * Refuses password sign-ins into an organization whose accounts failed `maxFailures` times in the current window
 * (spraying many accounts, from one address or many): RATE_LIMITED (429) with
 * `Retry-After` until the window ends, before any password is checked. The per-account lockout and the
 * per-address limit still apply beside it.
 */
export async function assertTenantNotSprayed(database: Queryable, tenantId: string, nowMs: number, limit: TenantSprayLimit): Promise<void> {
  if (limit.maxFailures <= 0) return;
  const window = await tenantFailureWindow(database, tenantId, limit.windowSeconds);
  if (window && window.endsAtMs > nowMs && window.failures >= limit.maxFailures) {
    const retryAfter = Math.max(1, Math.ceil((window.endsAtMs - nowMs) / 1000));
    throw new ServiceError('RATE_LIMITED', { detail: 'organization sign-in failure limit', headers: { 'Retry-After': String(retryAfter) } });
  }
}

/** Counts one failed password sign-in of the organization, atomically; a window that has ended starts again at 1. */
export async function recordTenantFailure(database: Queryable, tenantId: string, nowMs: number, limit: TenantSprayLimit): Promise<number> {
  if (limit.maxFailures <= 0) return 0;
  return countTenantFailure(database, tenantId, nowMs, limit.windowSeconds);
}
