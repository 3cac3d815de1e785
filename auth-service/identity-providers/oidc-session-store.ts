import type pg from 'pg';
import type { SecretBox } from '../../platform/secret-box.js';
import type { UpstreamTokens } from './identity-provider.js';

interface Row {
  provider_subject: string;
  access_token_sealed: string;
  access_expires_ms: number | null;
  refresh_token_sealed: string | null;
}

// The session id and the token's role are the associated data: a sealed value copied to another row, or from
// the access to the refresh column, does not open.
const accessContext = (sessionId: string) => `oidc-session:${sessionId}:access`;
const refreshContext = (sessionId: string) => `oidc-session:${sessionId}:refresh`;

function open(secrets: SecretBox, sessionId: string, row: Row): UpstreamTokens {
  return {
    providerSubject: row.provider_subject,
    accessToken: secrets.open(row.access_token_sealed, accessContext(sessionId)),
    accessExpiresMs: row.access_expires_ms ?? undefined,
    refreshToken: row.refresh_token_sealed === null ? undefined : secrets.open(row.refresh_token_sealed, refreshContext(sessionId)),
  };
}

const columns = `provider_subject, access_token_sealed, (extract(epoch FROM access_expires_at) * 1000)::float8 AS access_expires_ms, refresh_token_sealed`;

/** Stores (or replaces, after a provider refresh) the provider's tokens of a session. */
export async function saveOidcSession(db: pg.ClientBase | pg.Pool, secrets: SecretBox, sessionId: string, tokens: UpstreamTokens): Promise<void> {
  await db.query(
    `INSERT INTO oidc_sessions (session_id, provider_subject, access_token_sealed, access_expires_at, refresh_token_sealed, updated_at)
     VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), $5, now())
     ON CONFLICT (session_id) DO UPDATE SET provider_subject = EXCLUDED.provider_subject, access_token_sealed = EXCLUDED.access_token_sealed,
       access_expires_at = EXCLUDED.access_expires_at, refresh_token_sealed = EXCLUDED.refresh_token_sealed, updated_at = now()`,
    [
      sessionId,
      tokens.providerSubject,
      secrets.seal(tokens.accessToken, accessContext(sessionId)),
      tokens.accessExpiresMs ?? null,
      tokens.refreshToken === undefined ? null : secrets.seal(tokens.refreshToken, refreshContext(sessionId)),
    ],
  );
}

/** The session's provider tokens; with `lock`, the row stays locked until the transaction ends (one provider refresh at a time). */
export async function findOidcSession(db: pg.ClientBase | pg.Pool, secrets: SecretBox, sessionId: string, lock = false): Promise<UpstreamTokens | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${columns} FROM oidc_sessions WHERE session_id = $1${lock ? ' FOR UPDATE' : ''}`, [sessionId]);
  return rows[0] ? open(secrets, sessionId, rows[0]) : undefined;
}

/** Removes the session's provider tokens and returns them (for revocation at the provider once removed here). */
export async function takeOidcSession(db: pg.ClientBase | pg.Pool, secrets: SecretBox, sessionId: string): Promise<UpstreamTokens | undefined> {
  const { rows } = await db.query<Row>(`DELETE FROM oidc_sessions WHERE session_id = $1 RETURNING ${columns}`, [sessionId]);
  return rows[0] ? open(secrets, sessionId, rows[0]) : undefined;
}
