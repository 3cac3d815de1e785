import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { query } from '../platform/postgres-transaction.js';
import { sessionEndedSql, sessionSubjectCutoffSql } from './sessions.js';

/** Refresh tokens are opaque: 32 random bytes, base64url. Only their SHA-256 is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

export interface NewSession {
  readonly tenantId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  readonly clientId: string | undefined;
  readonly scope: string | undefined;
  readonly nowMs: number;
  readonly absoluteTtlSeconds: number;
}

/**
 * Starts a session. Its `created_at` is PostgreSQL's `now()`, never this host's clock: a session counts as ended
 * when it started before its subject's cut-off (also PostgreSQL's `now()`), so host clock skew cannot move a token
 * to the wrong side of a password change. The absolute lifetime is measured on this host's clock, as the refresh
 * grant compares it.
 */
export async function insertSession(db: pg.ClientBase | pg.Pool, session: NewSession): Promise<{ id: string; absoluteExpiresMs: number }> {
  const absoluteExpiresMs = session.nowMs + session.absoluteTtlSeconds * 1000;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sessions (org_id, subject_kind, subject_id, client_id, scope, absolute_expires_at)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000)) RETURNING id`,
    [session.tenantId, session.subjectKind, session.subjectId, session.clientId ?? null, session.scope ?? null, absoluteExpiresMs],
  );
  return { id: rows[0]!.id, absoluteExpiresMs };
}

/**
 * Share-locks a signing-in subject's row and its organization's until the sign-in's transaction ends, and answers
 * whether its session may start: the subject is there and active, in an active organization, with the cut-off read
 * with its credentials (`validAfter`, when the provider gave one). A password change, a disable or an organization
 * disable committed since the credentials were checked refuses the sign-in; one that comes later waits for this
 * transaction and then ends the new session with the others (endSessions). Nothing slips between the two.
 */
export async function holdSubjectForSession(
  db: pg.ClientBase,
  subject: { readonly kind: 'user' | 'application'; readonly tenantId: string; readonly id: string; readonly validAfter?: string | undefined },
): Promise<boolean> {
  const { rows } = await query(
    db,
    subject.kind === 'user'
      ? `SELECT 1 FROM users s JOIN organizations o ON o.id = s.org_id
          WHERE s.id = $1::uuid AND s.org_id = $2::uuid AND s.status = 'active' AND o.status = 'active'
            AND ($3::timestamptz IS NULL OR s.tokens_valid_after = $3::timestamptz)
            FOR SHARE OF s, o`
      : `SELECT 1 FROM applications s JOIN organizations o ON o.id = s.org_id
          WHERE s.id = $1::uuid AND s.org_id = $2::uuid AND o.status = 'active'
            AND ($3::timestamptz IS NULL OR s.tokens_valid_after = $3::timestamptz)
            FOR SHARE OF s, o`,
    [subject.id, subject.tenantId, subject.validAfter ?? null],
  );
  return rows.length > 0;
}

/** Stores a new refresh token of the session; it never outlives the session's absolute lifetime. */
export async function insertRefreshToken(
  db: pg.ClientBase | pg.Pool,
  sessionId: string,
  nowMs: number,
  ttlSeconds: number,
  absoluteExpiresMs: number,
): Promise<string> {
  const token = newRefreshToken();
  await db.query(
    `INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)
     VALUES ($1, $2, to_timestamp($3::float8 / 1000), to_timestamp($4::float8 / 1000))`,
    [refreshTokenHash(token), sessionId, nowMs, Math.min(nowMs + ttlSeconds * 1000, absoluteExpiresMs)],
  );
  return token;
}

export interface LockedRefreshToken {
  readonly sessionId: string;
  readonly used: boolean;
  readonly expiresMs: number;
  readonly tenantId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  readonly clientId: string | null;
  readonly scope: string | null;
  readonly absoluteExpiresMs: number;
  /** The session has ended: revoked, or started before its subject's cut-off (see sessionEndedSql). */
  readonly revoked: boolean;
}

/** Reads a refresh token and its session, locking the token row until the transaction ends. */
export async function lockRefreshToken(client: pg.PoolClient, tokenHash: string): Promise<LockedRefreshToken | undefined> {
  const { rows } = await client.query<{
    session_id: string;
    used: boolean;
    expires_ms: number;
    org_id: string;
    subject_kind: 'user' | 'application';
    subject_id: string;
    client_id: string | null;
    scope: string | null;
    absolute_ms: number;
    revoked: boolean;
  }>(
    `SELECT rt.session_id, rt.used_at IS NOT NULL AS used, (extract(epoch FROM rt.expires_at) * 1000)::float8 AS expires_ms,
            s.org_id, s.subject_kind, s.subject_id, s.client_id, s.scope,
            (extract(epoch FROM s.absolute_expires_at) * 1000)::float8 AS absolute_ms, ${sessionEndedSql('s', sessionSubjectCutoffSql('s'))} AS revoked
       FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
      WHERE rt.token_hash = $1
        FOR UPDATE OF rt`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    sessionId: row.session_id,
    used: row.used,
    expiresMs: row.expires_ms,
    tenantId: row.org_id,
    subjectKind: row.subject_kind,
    subjectId: row.subject_id,
    clientId: row.client_id,
    scope: row.scope,
    absoluteExpiresMs: row.absolute_ms,
    revoked: row.revoked,
  };
}

/** The session a refresh token belongs to, read without a lock (to look its subject up before the rotation). */
export async function findRefreshTokenSession(
  pool: pg.Pool,
  tokenHash: string,
): Promise<{ sessionId: string; tenantId: string; subjectKind: 'user' | 'application'; subjectId: string } | undefined> {
  const { rows } = await query<{ session_id: string; org_id: string; subject_kind: 'user' | 'application'; subject_id: string }>(
    pool,
    `SELECT rt.session_id, s.org_id, s.subject_kind, s.subject_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = $1`,
    [tokenHash],
  );
  const row = rows[0];
  return row ? { sessionId: row.session_id, tenantId: row.org_id, subjectKind: row.subject_kind, subjectId: row.subject_id } : undefined;
}

export async function markRefreshTokenUsed(client: pg.PoolClient, tokenHash: string, nowMs: number): Promise<void> {
  await client.query('UPDATE refresh_tokens SET used_at = to_timestamp($2::float8 / 1000) WHERE token_hash = $1', [tokenHash, nowMs]);
}
