import { query, uniqueViolation, type Queryable } from '../platform/postgres-transaction.js';

// The users and applications as the identity providers read them at sign-in and refresh: one query shape each,
// so the builtin and oidc providers agree on who is active and what a subject carries.

/** A user as a sign-in reads it, with its credentials. */
export interface SignInUser {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  readonly passwordHash: string;
  /** The user and its organization are both active. */
  readonly active: boolean;
  /** The external provider account the user is linked to in oidc mode (both or neither). */
  readonly oidcIssuer: string | null;
  readonly oidcSubject: string | null;
  /** The subject's cut-off (`tokens_valid_after`, PostgreSQL's text form), read with its credentials. */
  readonly validAfter: string;
}

/** An application as a client authentication reads it, with its credentials. */
export interface SignInApplication {
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly name: string;
  readonly clientId: string;
  /** Null for a public client (no secret: PKCE only), which client authentication never accepts. */
  readonly clientSecretHash: string | null;
  /** Its organization is active. */
  readonly active: boolean;
  readonly validAfter: string;
}

const userSelect = `SELECT u.id, u.org_id AS "tenantId", o.slug AS "tenantSlug", u.username, u.first_name AS "firstName",
       u.last_name AS "lastName", u.email, u.password_hash AS "passwordHash", (u.status = 'active' AND o.status = 'active') AS active,
       u.oidc_issuer AS "oidcIssuer", u.oidc_subject AS "oidcSubject", u.tokens_valid_after::text AS "validAfter"
  FROM users u JOIN organizations o ON o.id = u.org_id`;
const applicationSelect = `SELECT a.id, a.org_id AS "tenantId", o.slug AS "tenantSlug", a.name, a.client_id AS "clientId",
       a.client_secret_hash AS "clientSecretHash", (o.status = 'active') AS active, a.tokens_valid_after::text AS "validAfter"
  FROM applications a JOIN organizations o ON o.id = a.org_id`;

/** The user of a canonical username (unique across organizations), active or not. */
export async function signInUserNamed(db: Queryable, usernameCanonical: string): Promise<SignInUser | undefined> {
  return (await query<SignInUser>(db, `${userSelect} WHERE u.username_canonical = $1`, [usernameCanonical])).rows[0];
}

/** A user of `tenantId` by id, active or not. */
export async function signInUser(db: Queryable, tenantId: string, id: string): Promise<SignInUser | undefined> {
  return (await query<SignInUser>(db, `${userSelect} WHERE u.id = $1 AND u.org_id = $2`, [id, tenantId])).rows[0];
}

/** The users linked to an external provider's account (at most one per organization), active or not. */
export async function signInUsersLinkedTo(db: Queryable, issuer: string, subject: string): Promise<SignInUser[]> {
  return (await query<SignInUser>(db, `${userSelect} WHERE u.oidc_issuer = $1 AND u.oidc_subject = $2 ORDER BY u.org_id`, [issuer, subject])).rows;
}

/**
 * Links a user to an external provider's account, only if it has no link yet: false when another sign-in linked
 * it first, or when its organization already has a user linked to that account.
 */
export async function linkUserToProviderAccount(db: Queryable, userId: string, issuer: string, subject: string): Promise<boolean> {
  try {
    const result = await query(
      db,
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
export async function signInApplicationOfClient(db: Queryable, clientId: string): Promise<SignInApplication | undefined> {
  return (await query<SignInApplication>(db, `${applicationSelect} WHERE a.client_id = $1`, [clientId])).rows[0];
}

/** An application of `tenantId` by id, active or not. */
export async function signInApplication(db: Queryable, tenantId: string, id: string): Promise<SignInApplication | undefined> {
  return (await query<SignInApplication>(db, `${applicationSelect} WHERE a.id = $1 AND a.org_id = $2`, [id, tenantId])).rows[0];
}
