import { query, type Queryable } from '../platform/postgres-transaction.js';

/** An external provider's tokens kept beside one of our sessions, sealed by the caller (never stored in clear). */
export interface SealedOidcSession {
  /** The provider's `sub`. */
  readonly providerSubject: string;
  readonly accessTokenSealed: string;
  /** Null when the provider gave no expiry. */
  readonly accessExpiresMs: number | null;
  readonly refreshTokenSealed: string | null;
}

const columns = `provider_subject AS "providerSubject", access_token_sealed AS "accessTokenSealed",
  (extract(epoch FROM access_expires_at) * 1000)::float8 AS "accessExpiresMs", refresh_token_sealed AS "refreshTokenSealed"`;

/** Stores (or replaces, after a provider refresh) the provider's tokens of a session. */
export async function saveOidcSession(db: Queryable, sessionId: string, session: SealedOidcSession): Promise<void> {
  await query(
    db,
    `INSERT INTO oidc_sessions (session_id, provider_subject, access_token_sealed, access_expires_at, refresh_token_sealed, updated_at)
     VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5, now())
     ON CONFLICT (session_id) DO UPDATE SET provider_subject = EXCLUDED.provider_subject, access_token_sealed = EXCLUDED.access_token_sealed,
       access_expires_at = EXCLUDED.access_expires_at, refresh_token_sealed = EXCLUDED.refresh_token_sealed, updated_at = now()`,
    [sessionId, session.providerSubject, session.accessTokenSealed, session.accessExpiresMs, session.refreshTokenSealed],
  );
}

/** The session's provider tokens; with `lock`, the row stays locked until the transaction ends (one provider refresh at a time). */
export async function findOidcSession(db: Queryable, sessionId: string, lock = false): Promise<SealedOidcSession | undefined> {
  const { rows } = await query<SealedOidcSession>(db, `SELECT ${columns} FROM oidc_sessions WHERE session_id = $1${lock ? ' FOR UPDATE' : ''}`, [sessionId]);
  return rows[0];
}

/** Removes the session's provider tokens and returns them. */
export async function takeOidcSession(db: Queryable, sessionId: string): Promise<SealedOidcSession | undefined> {
  const { rows } = await query<SealedOidcSession>(db, `DELETE FROM oidc_sessions WHERE session_id = $1 RETURNING ${columns}`, [sessionId]);
  return rows[0];
}
