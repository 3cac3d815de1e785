import type pg from 'pg';
import { query, type Queryable } from '../platform/postgres-transaction.js';

/**
 * Why sessions end. `logout`, `token_revoked` (RFC 7009 revocation of its refresh token) and `provider_refused` end one sign-in in the ordinary way; every other reason means
 * the subject's credentials, factors or standing changed (or a refresh token was stolen), so the user's
 * remembered devices go too and the next sign-in asks for every factor again.
 */
export type SessionEndReason =
  | 'logout'
  | 'token_revoked'
  | 'provider_refused'
  | 'refresh_reuse'
  | 'code_reuse'
  | 'password_change'
  | 'password_reset'
  | 'user_disabled'
  | 'user_deleted'
  | 'mfa_disabled'
  | 'mfa_reset'
  | 'mfa_reenrolled'
  | 'organization_disabled'
  | 'secret_rotated'
  | 'application_deleted';

/** Which sessions end: one sign-in, every sign-in of a user or an application, or every sign-in of an organization. */
export type SessionsToEnd =
  | { readonly kind: 'session'; readonly tenantId: string; readonly sessionId: string; readonly subjectId?: string }
  | { readonly kind: 'user'; readonly tenantId: string; readonly userId: string }
  | { readonly kind: 'application'; readonly tenantId: string; readonly applicationId: string }
  | { readonly kind: 'organization'; readonly tenantId: string };

export interface EndedSession {
  readonly sessionId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
}

const ordinaryEnds: ReadonlySet<SessionEndReason> = new Set(['logout', 'token_revoked', 'provider_refused']);

/**
 * SQL that is true when the session row `session` has ended: revoked, or started before its subject's cut-off
 * (`cutoff`, an SQL expression for the subject's `tokens_valid_after`). Both instants are PostgreSQL's `now()` at
 * the time of writing, so no host clock takes part. The one definition the token check and the refresh grant share.
 */
export function sessionEndedSql(session: string, cutoff: string): string {
  return `(${session}.revoked_at IS NOT NULL OR ${session}.created_at < ${cutoff})`;
}

/** SQL for the cut-off of the session row `session`'s subject; `infinity` (every session ended) when the subject is gone. */
export function sessionSubjectCutoffSql(session: string): string {
  return `coalesce(
    CASE ${session}.subject_kind
      WHEN 'user' THEN (SELECT u.tokens_valid_after FROM users u WHERE u.id = ${session}.subject_id AND u.org_id = ${session}.org_id)
      ELSE (SELECT a.tokens_valid_after FROM applications a WHERE a.id = ${session}.subject_id AND a.org_id = ${session}.org_id)
    END, 'infinity'::timestamptz)`;
}

/**
 * Ends sessions inside the caller's transaction, so they end exactly when the change that causes it commits (a
 * password change, a disable, a logout), and never without it. Every ended session's refresh tokens are refused
 * from then on, and so is every access token carrying its `sid` (within the token check's staleness bound on
 * other replicas; at once on the replica that calls `forget...` after the commit).
 *
 * For a user or an application it also moves the subject's cut-off (`tokens_valid_after`) to the transaction's
 * `now()`: a session started before it counts as ended even if it was being written while this ran, and taking
 * the subject's row lock here serialises with a sign-in that share-locks it. Unless the reason is an ordinary end
 * (`logout`, `provider_refused`), the user's remembered devices are deleted as well. Ended sessions are kept (with
 * `revoked_at` and `revoked_reason`) as the record of why; a later enable does not revive them.
 *
 * @example
 * await withTransaction(pool, async (tx) => {
 *   await setPasswordHash(tx, tenantId, userId, hash);
 *   await endSessions(tx, { kind: 'user', tenantId, userId }, 'password_reset');
 * });
 */
export async function endSessions(db: pg.ClientBase, which: SessionsToEnd, reason: SessionEndReason): Promise<EndedSession[]> {
  const revokeDevices = !ordinaryEnds.has(reason);
  let ended: pg.QueryResult<{ id: string; subject_kind: 'user' | 'application'; subject_id: string }>;
  const returning = 'RETURNING id, subject_kind, subject_id';
  switch (which.kind) {
    case 'session':
      ended = await query(
        db,
        `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
          WHERE id = $1::uuid AND org_id = $2::uuid AND ($4::uuid IS NULL OR subject_id = $4::uuid) AND revoked_at IS NULL ${returning}`,
        [which.sessionId, which.tenantId, reason, which.subjectId ?? null],
      );
      if (revokeDevices) {
        for (const session of ended.rows) {
          if (session.subject_kind === 'user') await deleteRememberedDevices(db, which.tenantId, session.subject_id);
        }
      }
      break;
    case 'user':
      await query(db, 'UPDATE users SET tokens_valid_after = greatest(tokens_valid_after, now()) WHERE org_id = $1::uuid AND id = $2::uuid', [which.tenantId, which.userId]);
      ended = await query(
        db,
        `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
          WHERE org_id = $1::uuid AND subject_id = $2::uuid AND subject_kind = 'user' AND revoked_at IS NULL ${returning}`,
        [which.tenantId, which.userId, reason],
      );
      if (revokeDevices) await deleteRememberedDevices(db, which.tenantId, which.userId);
      break;
    case 'application':
      await query(db, 'UPDATE applications SET tokens_valid_after = greatest(tokens_valid_after, now()) WHERE org_id = $1::uuid AND id = $2::uuid', [
        which.tenantId,
        which.applicationId,
      ]);
      ended = await query(
        db,
        `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
          WHERE org_id = $1::uuid AND subject_id = $2::uuid AND subject_kind = 'application' AND revoked_at IS NULL ${returning}`,
        [which.tenantId, which.applicationId, reason],
      );
      break;
    case 'organization':
      ended = await query(db, `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE org_id = $1::uuid AND revoked_at IS NULL ${returning}`, [
        which.tenantId,
        reason,
      ]);
      if (revokeDevices) await query(db, 'DELETE FROM remembered_devices WHERE org_id = $1::uuid', [which.tenantId]);
      break;
  }
  return ended.rows.map((row) => ({ sessionId: row.id, subjectKind: row.subject_kind, subjectId: row.subject_id }));
}

async function deleteRememberedDevices(db: pg.ClientBase, tenantId: string, userId: string): Promise<void> {
  await query(db, 'DELETE FROM remembered_devices WHERE org_id = $1::uuid AND user_id = $2::uuid', [tenantId, userId]);
}

/** The kind of subject a session of this tenant and subject belongs to; undefined when there is no such session. */
export async function sessionSubjectKind(db: Queryable, session: { readonly sessionId: string; readonly tenantId: string; readonly subjectId: string }): Promise<'user' | 'application' | undefined> {
  const { rows } = await db.query<{ subject_kind: 'user' | 'application' }>(
    'SELECT subject_kind FROM sessions WHERE id = $1::uuid AND org_id = $2::uuid AND subject_id = $3::uuid',
    [session.sessionId, session.tenantId, session.subjectId],
  );
  return rows[0]?.subject_kind;
}
