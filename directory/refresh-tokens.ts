import type { Queryable } from '../platform/postgres-transaction.js';
import { sessionEndedSql, sessionSubjectCutoffSql } from './sessions.js';

/** A refresh token as its session stands now (read without a lock: for introspection and revocation). */
export interface RefreshTokenState {
  readonly sessionId: string;
  readonly tenantId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  /** The client the session was issued to; null for a sign-in without a client. */
  readonly clientId: string | null;
  readonly scope: string | null;
  readonly issuedAtMs: number;
  /** The token's own expiry, never later than the session's absolute lifetime. */
  readonly expiresAtMs: number;
  /** Already exchanged at a refresh (rotation): presenting it again is reuse. */
  readonly used: boolean;
  /** Revoked, or started before its subject's cut-off (sessionEndedSql), on PostgreSQL's clock. */
  readonly sessionEnded: boolean;
  /** Past its own expiry or the session's absolute lifetime, on PostgreSQL's clock. */
  readonly expired: boolean;
}

interface Row {
  session_id: string;
  org_id: string;
  subject_kind: 'user' | 'application';
  subject_id: string;
  client_id: string | null;
  scope: string | null;
  issued_ms: number;
  expires_ms: number;
  used: boolean;
  session_ended: boolean;
  expired: boolean;
}

/** The refresh token whose SHA-256 (hex) is `tokenHash`, with its session; undefined when there is none. */
export async function readRefreshTokenState(db: Queryable, tokenHash: string): Promise<RefreshTokenState | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT rt.session_id, s.org_id, s.subject_kind, s.subject_id, s.client_id, s.scope,
            (extract(epoch FROM rt.issued_at) * 1000)::float8 AS issued_ms,
            (extract(epoch FROM least(rt.expires_at, s.absolute_expires_at)) * 1000)::float8 AS expires_ms,
            rt.used_at IS NOT NULL AS used,
            ${sessionEndedSql('s', sessionSubjectCutoffSql('s'))} AS session_ended,
            least(rt.expires_at, s.absolute_expires_at) <= now() AS expired
       FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
      WHERE rt.token_hash = $1`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    sessionId: row.session_id,
    tenantId: row.org_id,
    subjectKind: row.subject_kind,
    subjectId: row.subject_id,
    clientId: row.client_id,
    scope: row.scope,
    issuedAtMs: Number(row.issued_ms),
    expiresAtMs: Number(row.expires_ms),
    used: row.used,
    sessionEnded: row.session_ended,
    expired: row.expired,
  };
}

/** Expires every refresh token of a session now (a revoked or logged-out session keeps no usable one). */
export async function expireRefreshTokensOfSession(db: Queryable, sessionId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET expires_at = least(expires_at, now()) WHERE session_id = $1::uuid', [sessionId]);
}

/** Expires every refresh token of a session, only if the session is the subject's in that tenant (a logout's hint). */
export async function expireRefreshTokensOfSubjectSession(db: Queryable, session: { readonly sessionId: string; readonly tenantId: string; readonly subjectId: string }): Promise<void> {
  await db.query(
    `UPDATE refresh_tokens rt SET expires_at = least(rt.expires_at, now())
       FROM sessions s WHERE rt.session_id = s.id AND s.id = $1::uuid AND s.org_id = $2::uuid AND s.subject_id = $3::uuid`,
    [session.sessionId, session.tenantId, session.subjectId],
  );
}
