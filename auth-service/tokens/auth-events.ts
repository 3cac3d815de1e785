import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type pg from 'pg';
import { ServiceError } from '../../platform/http/service-error.js';
import { query } from '../../platform/postgres-transaction.js';
import { writeSecurityEvent, type SecurityEvent } from '../../platform/security-events.js';
import type { AuthDeps } from '../deps.js';
import { authRuntimeOf } from '../guards.js';

/** Where a request came from, as the security events record it. */
export interface RequestContext {
  readonly requestId: string;
  /** The client address (socket, or X-Forwarded-For through TRUSTED_PROXIES only); undefined when unknown. */
  readonly clientIp: string | undefined;
}

export function requestContextOf(deps: AuthDeps, req: Request, requestId: string): RequestContext {
  return { requestId, clientIp: authRuntimeOf(deps).clientAddress(req) };
}

export type AuthEvent = Omit<SecurityEvent, 'clientIp' | 'requestId' | 'atMs'>;

function complete(deps: AuthDeps, context: RequestContext, event: AuthEvent): SecurityEvent {
  return { ...event, clientIp: context.clientIp, requestId: context.requestId, atMs: deps.nowMs() };
}

/**
 * Records an event that grants access inside the transaction that grants it: no session exists without its
 * event, so a failure to record it fails the sign-in (503), never an unaudited success.
 */
export async function recordGrantWithin(client: pg.ClientBase, deps: AuthDeps, context: RequestContext, event: AuthEvent): Promise<void> {
  try {
    await writeSecurityEvent(client, complete(deps, context, event));
  } catch (error) {
    throw new ServiceError('SERVICE_UNAVAILABLE', { detail: `security event ${event.action} not recorded: ${error instanceof Error ? error.message : String(error)}`, cause: error });
  }
}

/**
 * Records a refusal or a revocation after it was decided. Best effort: a failure to record is reported and
 * swallowed, so it can neither turn a refusal into an allow nor undo a revocation (a logout stays done).
 */
export async function recordSettled(deps: AuthDeps, context: RequestContext, event: AuthEvent): Promise<void> {
  try {
    await writeSecurityEvent(deps.pool, complete(deps, context, event));
  } catch (error) {
    deps.report({
      level: 'warn',
      requestId: context.requestId,
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      detail: `security event ${event.action} (${event.outcome}) not recorded: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** The account a sign-in attempt names, when there is one (usernames are unique across organizations). */
export async function accountNamed(pool: pg.Pool, usernameCanonical: string): Promise<{ id: string; orgId: string } | undefined> {
  const { rows } = await query<{ id: string; org_id: string }>(pool, 'SELECT id, org_id FROM users WHERE username_canonical = $1', [usernameCanonical]);
  const row = rows[0];
  return row ? { id: row.id, orgId: row.org_id } : undefined;
}

/** The application a client id names, when there is one (client ids are unique across organizations). */
export async function applicationWithClientId(pool: pg.Pool, clientId: string): Promise<{ id: string; orgId: string } | undefined> {
  const { rows } = await query<{ id: string; org_id: string }>(pool, 'SELECT id, org_id FROM applications WHERE client_id = $1', [clientId]);
  const row = rows[0];
  return row ? { id: row.id, orgId: row.org_id } : undefined;
}

/**
 * How an event names an attempt on an account or client that does not exist (a username, a client id): a digest,
 * so repeated attempts on one name can be told apart from a spray, without storing what was typed (sometimes a
 * password or a secret in the wrong field).
 */
export function unknownNameTarget(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}
