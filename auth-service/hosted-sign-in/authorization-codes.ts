import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';
import type { AuthenticatedUser } from '../identity-providers/identity-provider.js';
import { storedSubject } from '../identity-providers/stored-subject.js';
import { digestOf, newSecret } from './authorization-requests.js';

/** RFC 6749 4.1.2 recommends at most 10 minutes; a browser hands the code over within seconds. */
export const authorizationCodeTtlSeconds = 60;

/** The person a code stands for, as the sign-in found them; the upstream grant (oidc mode) only sealed. */
export type CodeSubject = Omit<AuthenticatedUser, 'upstream'>;

export interface AuthorizationCode {
  readonly codeHash: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly scope: string | undefined;
  readonly subject: CodeSubject;
  readonly amr: readonly string[];
  readonly authTimeMs: number;
  readonly expiresMs: number;
  readonly used: boolean;
  /** The session the code's first exchange started. */
  readonly sessionId: string | undefined;
}

interface Row {
  readonly code_hash: string;
  readonly org_id: string;
  readonly client_id: string;
  readonly redirect_uri: string;
  readonly code_challenge: string;
  readonly nonce: string | null;
  readonly scope: string | null;
  readonly subject: CodeSubject;
  readonly amr: string[];
  readonly auth_time_ms: string;
  readonly expires_ms: string;
  readonly used: boolean;
  readonly session_id: string | null;
}

const columns = `code_hash, org_id, client_id, redirect_uri, code_challenge, nonce, scope, subject, amr,
  (extract(epoch FROM auth_time) * 1000)::bigint::text AS auth_time_ms, (extract(epoch FROM expires_at) * 1000)::bigint::text AS expires_ms,
  (used_at IS NOT NULL) AS used, session_id`;

function toCode(row: Row): AuthorizationCode {
  return {
    codeHash: row.code_hash,
    tenantId: row.org_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    nonce: row.nonce ?? undefined,
    scope: row.scope ?? undefined,
    subject: storedSubject(row.subject),
    amr: row.amr,
    authTimeMs: Number(row.auth_time_ms),
    expiresMs: Number(row.expires_ms),
    used: row.used,
    sessionId: row.session_id ?? undefined,
  };
}

export interface NewAuthorizationCode {
  readonly tenantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly scope: string | undefined;
  readonly subject: CodeSubject;
  readonly amr: readonly string[];
  readonly nowMs: number;
}

export function codeHashOf(code: string): string {
  return digestOf(code);
}

/** Issues a code (32 random bytes, base64url); only its digest is kept. Codes long expired are swept on the way. */
export async function issueAuthorizationCode(pool: pg.Pool, code: NewAuthorizationCode): Promise<string> {
  const value = newSecret();
  await query(pool, 'DELETE FROM authorization_codes WHERE expires_at < to_timestamp($1::float8 / 1000)', [code.nowMs - 86_400_000]);
  await query(
    pool,
    `INSERT INTO authorization_codes (code_hash, org_id, client_id, redirect_uri, code_challenge, nonce, scope, user_id, subject, amr, auth_time, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11::float8 / 1000), to_timestamp($12::float8 / 1000))`,
    [
      codeHashOf(value),
      code.tenantId,
      code.clientId,
      code.redirectUri,
      code.codeChallenge,
      code.nonce ?? null,
      code.scope ?? null,
      code.subject.id,
      JSON.stringify(code.subject),
      [...code.amr],
      code.nowMs,
      code.nowMs + authorizationCodeTtlSeconds * 1000,
    ],
  );
  return value;
}

export async function findAuthorizationCode(db: pg.Pool | pg.ClientBase, codeHash: string, forUpdate = false): Promise<AuthorizationCode | undefined> {
  const { rows } = await query<Row>(db, `SELECT ${columns} FROM authorization_codes WHERE code_hash = $1${forUpdate ? ' FOR UPDATE' : ''}`, [codeHash]);
  const row = rows[0];
  return row ? toCode(row) : undefined;
}

/** Spends the code (inside the exchange's transaction, under its row lock), naming the session it started, if any. */
export async function markAuthorizationCodeUsed(db: pg.ClientBase, codeHash: string, nowMs: number, sessionId: string | undefined): Promise<void> {
  await query(db, 'UPDATE authorization_codes SET used_at = to_timestamp($2::float8 / 1000), session_id = $3 WHERE code_hash = $1', [codeHash, nowMs, sessionId ?? null]);
}
