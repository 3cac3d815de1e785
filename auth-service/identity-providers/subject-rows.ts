// Identity's users and applications as the identity providers read them: one query shape and one mapping, so the
// builtin and oidc providers agree on who is active and what a subject carries.
import type pg from 'pg';
import { query, uniqueViolation } from '../../platform/postgres-transaction.js';
import type { AuthenticatedApp, AuthenticatedSubject, AuthenticatedUser } from './identity-provider.js';

export interface UserRow {
  readonly id: string;
  readonly org_id: string;
  readonly org_slug: string;
  readonly username: string;
  readonly first_name: string;
  readonly last_name: string;
  readonly email: string;
  readonly password_hash: string;
  /** The user and its organization are both active. */
  readonly active: boolean;
  /** The external provider account the user is linked to in oidc mode (both or neither): see oidc-user-link.ts. */
  readonly oidc_issuer: string | null;
  readonly oidc_subject: string | null;
  readonly valid_after: string;
}

export interface AppRow {
  readonly id: string;
  readonly org_id: string;
  readonly org_slug: string;
  readonly name: string;
  readonly client_id: string;
  /** Null for a public client (no secret: PKCE only), which client authentication never accepts. */
  readonly client_secret_hash: string | null;
  /** Its organization is active. */
  readonly active: boolean;
  readonly valid_after: string;
}

const userSelect = `SELECT u.id, u.org_id, o.slug AS org_slug, u.username, u.first_name, u.last_name, u.email, u.password_hash,
       (u.status = 'active' AND o.status = 'active') AS active, u.oidc_issuer, u.oidc_subject, u.tokens_valid_after::text AS valid_after
  FROM users u JOIN organizations o ON o.id = u.org_id`;
const appSelect = `SELECT a.id, a.org_id, o.slug AS org_slug, a.name, a.client_id, a.client_secret_hash, (o.status = 'active') AS active,
       a.tokens_valid_after::text AS valid_after
  FROM applications a JOIN organizations o ON o.id = a.org_id`;

/** The user of a canonical username (unique across organizations), active or not. */
export async function userByUsername(pool: pg.Pool, usernameCanonical: string): Promise<UserRow | undefined> {
  return (await query<UserRow>(pool, `${userSelect} WHERE u.username_canonical = $1`, [usernameCanonical])).rows[0];
}

/** The users linked to an external provider's account (at most one per organization), active or not. */
export async function usersLinkedTo(pool: pg.Pool, issuer: string, subject: string): Promise<UserRow[]> {
  return (await query<UserRow>(pool, `${userSelect} WHERE u.oidc_issuer = $1 AND u.oidc_subject = $2 ORDER BY u.org_id`, [issuer, subject])).rows;
}

/**
 * Links a user to an external provider's account, only if it has no link yet: false when another sign-in linked
 * it first, or when its organization already has a user linked to that account.
 */
export async function pinProviderLink(pool: pg.Pool, userId: string, issuer: string, subject: string): Promise<boolean> {
  try {
    const result = await query(
      pool,
      'UPDATE users SET oidc_issuer = $2, oidc_subject = $3 WHERE id = $1 AND oidc_issuer IS NULL AND oidc_subject IS NULL',
      [userId, issuer, subject],
    );
    return result.rowCount === 1;
  } catch (error) {
    if (uniqueViolation(error)) return false;
    throw error;
  }
}

/** The application of a client id, active or not. */
export async function appByClientId(pool: pg.Pool, clientId: string): Promise<AppRow | undefined> {
  return (await query<AppRow>(pool, `${appSelect} WHERE a.client_id = $1`, [clientId])).rows[0];
}

/** An active subject of `orgId` by id (refresh rereads it): undefined when gone, disabled or in a disabled organization. */
export async function activeSubject(pool: pg.Pool, kind: AuthenticatedSubject['kind'], orgId: string, id: string): Promise<AuthenticatedSubject | undefined> {
  if (kind === 'user') {
    const row = (await query<UserRow>(pool, `${userSelect} WHERE u.id = $1 AND u.org_id = $2`, [id, orgId])).rows[0];
    return row?.active ? toUser(row) : undefined;
  }
  const row = (await query<AppRow>(pool, `${appSelect} WHERE a.id = $1 AND a.org_id = $2`, [id, orgId])).rows[0];
  return row?.active ? toApp(row) : undefined;
}

export function toUser(row: UserRow): AuthenticatedUser {
  const displayName = `${row.first_name} ${row.last_name}`.trim() || row.username;
  return { kind: 'user', id: row.id, orgId: row.org_id, orgSlug: row.org_slug, username: row.username, displayName, email: row.email, validAfter: row.valid_after };
}

export function toApp(row: AppRow): AuthenticatedApp {
  return { kind: 'application', id: row.id, orgId: row.org_id, orgSlug: row.org_slug, name: row.name, clientId: row.client_id, validAfter: row.valid_after };
}
