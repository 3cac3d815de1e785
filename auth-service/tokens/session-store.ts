import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';

/** Refresh tokens are opaque: 32 random bytes, base64url. Only their SHA-256 is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

export function refreshTokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

export interface NewSession {
  readonly orgId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  readonly clientId: string | undefined;
  readonly scope: string | undefined;
  readonly nowMs: number;
  readonly absoluteTtlSeconds: number;
}

export async function insertSession(db: pg.ClientBase | pg.Pool, session: NewSession): Promise<{ id: string; absoluteExpiresMs: number }> {
  const absoluteExpiresMs = session.nowMs + session.absoluteTtlSeconds * 1000;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO sessions (org_id, subject_kind, subject_id, client_id, scope, created_at, absolute_expires_at)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1000), to_timestamp($7::float8 / 1000)) RETURNING id`,
    [session.orgId, session.subjectKind, session.subjectId, session.clientId ?? null, session.scope ?? null, session.nowMs, absoluteExpiresMs],
  );
  return { id: rows[0]!.id, absoluteExpiresMs };
}

/** Stores a new refresh token of the session; it never outlives the session's absolute lifetime (C5). */
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
  readonly orgId: string;
  readonly subjectKind: 'user' | 'application';
  readonly subjectId: string;
  readonly clientId: string | null;
  readonly scope: string | null;
  readonly absoluteExpiresMs: number;
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
            (extract(epoch FROM s.absolute_expires_at) * 1000)::float8 AS absolute_ms, s.revoked_at IS NOT NULL AS revoked
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
    orgId: row.org_id,
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
): Promise<{ sessionId: string; orgId: string; subjectKind: 'user' | 'application'; subjectId: string } | undefined> {
  const { rows } = await query<{ session_id: string; org_id: string; subject_kind: 'user' | 'application'; subject_id: string }>(
    pool,
    `SELECT rt.session_id, s.org_id, s.subject_kind, s.subject_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = $1`,
    [tokenHash],
  );
  const row = rows[0];
  return row ? { sessionId: row.session_id, orgId: row.org_id, subjectKind: row.subject_kind, subjectId: row.subject_id } : undefined;
}

export async function markRefreshTokenUsed(client: pg.PoolClient, tokenHash: string, nowMs: number): Promise<void> {
  await client.query('UPDATE refresh_tokens SET used_at = to_timestamp($2::float8 / 1000) WHERE token_hash = $1', [tokenHash, nowMs]);
}

/** Ends a session (and so every refresh and access token of its family). The first reason recorded wins. */
export async function revokeSession(db: pg.ClientBase | pg.Pool, sessionId: string, reason: string, nowMs: number): Promise<void> {
  await db.query(
    `UPDATE sessions SET revoked_at = to_timestamp($3::float8 / 1000), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
    [sessionId, reason, nowMs],
  );
}
