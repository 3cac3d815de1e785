import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';
import type { MfaMethod } from '../mfa/index.js';

/** How long a sign-in may stay on the hosted page before it must start again from the application. */
export const authorizationRequestTtlSeconds = 600;

/** The checked authorization request a sign-in page works for. */
export interface AuthorizationRequest {
  readonly id: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly scope: string | undefined;
  /** Set while the page waits for the second factor. */
  readonly mfa: PendingMfa | undefined;
}

/** The second factor a page waits for: the challenge's signed token, the methods it offers, the preferred one. */
export interface PendingMfa {
  readonly token: string;
  readonly methods: readonly MfaMethod[];
  readonly preferred: MfaMethod;
}

interface Row {
  readonly id: string;
  readonly org_id: string;
  readonly client_id: string;
  readonly redirect_uri: string;
  readonly state: string | null;
  readonly nonce: string | null;
  readonly code_challenge: string;
  readonly scope: string | null;
  readonly mfa_token: string | null;
  readonly mfa_methods: MfaMethod[];
  readonly mfa_preferred: MfaMethod | null;
}

const columns = 'id, org_id, client_id, redirect_uri, state, nonce, code_challenge, scope, mfa_token, mfa_methods, mfa_preferred';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function digestOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toRequest(row: Row): AuthorizationRequest {
  return {
    id: row.id,
    tenantId: row.org_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    state: row.state ?? undefined,
    nonce: row.nonce ?? undefined,
    codeChallenge: row.code_challenge,
    scope: row.scope ?? undefined,
    mfa: row.mfa_token === null ? undefined : { token: row.mfa_token, methods: row.mfa_methods, preferred: row.mfa_preferred ?? row.mfa_methods[0] ?? 'app' },
  };
}

export type NewAuthorizationRequest = Omit<AuthorizationRequest, 'id' | 'mfa'>;

/**
 * Keeps a checked authorization request for the page, bound to the browser (`browserSecret`, its cookie) and
 * answers the first form token. Requests long expired are swept on the way.
 */
export async function createAuthorizationRequest(
  pool: pg.Pool,
  request: NewAuthorizationRequest,
  browserSecret: string,
  nowMs: number,
): Promise<{ request: AuthorizationRequest; formToken: string }> {
  const formToken = newSecret();
  await query(pool, 'DELETE FROM authorization_requests WHERE expires_at < to_timestamp($1::float8 / 1000)', [nowMs - 3_600_000]);
  const { rows } = await query<Row>(
    pool,
    `INSERT INTO authorization_requests (org_id, client_id, redirect_uri, state, nonce, code_challenge, scope, browser_hash, form_token_hash, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_timestamp($10::float8 / 1000)) RETURNING ${columns}`,
    [
      request.tenantId,
      request.clientId,
      request.redirectUri,
      request.state ?? null,
      request.nonce ?? null,
      request.codeChallenge,
      request.scope ?? null,
      digestOf(browserSecret),
      digestOf(formToken),
      nowMs + authorizationRequestTtlSeconds * 1000,
    ],
  );
  return { request: toRequest(rows[0] as Row), formToken };
}

/**
 * Spends the page's form token: answers the request and the next form token only when the request is live, the
 * browser is the one it was started in and the token is the latest one issued; at most one of two concurrent
 * posts of the same token gets through (the row is updated only while it still holds that token's digest).
 */
export async function takeAuthorizationRequest(
  pool: pg.Pool,
  input: { id: string; browserSecret: string; formToken: string; nowMs: number },
): Promise<{ request: AuthorizationRequest; formToken: string } | undefined> {
  const formToken = newSecret();
  const { rows } = await query<Row>(
    pool,
    `UPDATE authorization_requests SET form_token_hash = $4
      WHERE id = $1 AND browser_hash = $2 AND form_token_hash = $3 AND expires_at > to_timestamp($5::float8 / 1000)
      RETURNING ${columns}`,
    [input.id, digestOf(input.browserSecret), digestOf(input.formToken), digestOf(formToken), input.nowMs],
  );
  const row = rows[0];
  return row ? { request: toRequest(row), formToken } : undefined;
}

/** Records (or clears) the MFA challenge the page waits on. */
export async function setRequestMfa(pool: pg.Pool, id: string, mfa: PendingMfa | undefined): Promise<void> {
  await query(pool, 'UPDATE authorization_requests SET mfa_token = $2, mfa_methods = $3, mfa_preferred = $4 WHERE id = $1', [
    id,
    mfa?.token ?? null,
    mfa ? [...mfa.methods] : [],
    mfa?.preferred ?? null,
  ]);
}

/** The sign-in is over (a code was issued, or it was abandoned): its page can post nothing more. */
export async function endAuthorizationRequest(pool: pg.Pool, id: string): Promise<void> {
  await query(pool, 'DELETE FROM authorization_requests WHERE id = $1', [id]);
}
