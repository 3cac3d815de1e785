import type { Queryable } from './postgres-transaction.js';

/**
 * One authentication event for the audit trail (ASVS 16.2.1, 16.3.1, 16.3.2): who, in
 * which organization, what, with which outcome, from which address, in which request, when. It shares
 * `audit_events` with Identity's administrative changes, so one trail answers "what happened to this user".
 */
export interface SecurityEvent {
  /** Undefined when the attempt names no account (an unknown username or client): the event has no organization. */
  readonly tenantId: string | undefined;
  /** `user:<id>`, `app:<id>`, or `anonymous` when the caller proved nothing. */
  readonly actor: string;
  /** `auth.sign-in`, `auth.lockout`, `auth.refresh-reuse`, `auth.logout`, `auth.mfa`, `mfa.lock`. */
  readonly action: string;
  readonly outcome: 'success' | 'failure';
  readonly targetType: string;
  readonly targetId: string;
  readonly clientIp: string | undefined;
  readonly requestId: string | undefined;
  readonly atMs: number;
  /**
   * Facts that explain the event (a reason, a method, a lock's end). Never a password, secret, token or code: the
   * type admits only short scalar values, and callers pass enumerated words, ids and times.
   */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

const maxDetailLength = 200;

/**
 * Writes one event with `db`: pass the transaction's client to make the event commit (or roll back) with the
 * change it records, or the pool for an event of its own.
 *
 * @example
 * await writeSecurityEvent(client, { tenantId, actor: `user:${id}`, action: 'auth.sign-in', outcome: 'success',
 *   targetType: 'user', targetId: id, clientIp, requestId, atMs: nowMs(), details: { grant: 'password' } });
 */
export async function writeSecurityEvent(db: Queryable, event: SecurityEvent): Promise<void> {
  const details =
    event.details === undefined
      ? null
      : JSON.stringify(Object.fromEntries(Object.entries(event.details).map(([key, value]) => [key, typeof value === 'string' ? value.slice(0, maxDetailLength) : value])));
  await db.query(
    `INSERT INTO audit_events (org_id, actor, action, target_type, target_id, after, request_id, outcome, client_ip, at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, to_timestamp($10::float8 / 1000))`,
    [
      event.tenantId ?? null,
      event.actor,
      event.action,
      event.targetType,
      event.targetId.slice(0, maxDetailLength),
      details,
      event.requestId ?? null,
      event.outcome,
      event.clientIp ?? null,
      event.atMs,
    ],
  );
}
