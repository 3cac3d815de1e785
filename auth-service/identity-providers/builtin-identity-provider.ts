import type pg from 'pg';
import { canonicalName } from '../../platform/canonical-name.js';
import type { PasswordHasher } from '../../platform/password-hasher.js';
import { query } from '../../platform/postgres-transaction.js';
import type { AuthenticatedApp, AuthenticatedSubject, AuthenticatedUser, IdentityProvider } from './identity-provider.js';

interface UserRow {
  id: string;
  org_id: string;
  org_slug: string;
  username: string;
  first_name: string;
  last_name: string;
  email: string;
  password_hash: string;
  active: boolean;
}

interface AppRow {
  id: string;
  org_id: string;
  org_slug: string;
  name: string;
  client_id: string;
  client_secret_hash: string;
  active: boolean;
}

const userSelect = `SELECT u.id, u.org_id, o.slug AS org_slug, u.username, u.first_name, u.last_name, u.email, u.password_hash,
       (u.status = 'active' AND o.status = 'active') AS active
  FROM users u JOIN organizations o ON o.id = u.org_id`;
const appSelect = `SELECT a.id, a.org_id, o.slug AS org_slug, a.name, a.client_id, a.client_secret_hash, (o.status = 'active') AS active
  FROM applications a JOIN organizations o ON o.id = a.org_id`;

function toUser(row: UserRow): AuthenticatedUser {
  const displayName = `${row.first_name} ${row.last_name}`.trim() || row.username;
  return { kind: 'user', id: row.id, orgId: row.org_id, orgSlug: row.org_slug, username: row.username, displayName, email: row.email };
}

function toApp(row: AppRow): AuthenticatedApp {
  return { kind: 'application', id: row.id, orgId: row.org_id, orgSlug: row.org_slug, name: row.name, clientId: row.client_id };
}

/**
 * Stores the password again under the current hashing parameters, after it verified against a hash made with
 * older ones (SECURITY-CHECKLIST D9). Only if the stored hash is still the one verified (a password change
 * meanwhile wins); best effort: on failure the old hash stays and still verifies, so the sign-in goes on.
 */
async function rehashPassword(deps: { pool: pg.Pool; passwords: PasswordHasher }, row: UserRow, password: string): Promise<void> {
  try {
    const hash = await deps.passwords.hash(password);
    await deps.pool.query('UPDATE users SET password_hash = $1 WHERE id = $2 AND org_id = $3 AND password_hash = $4', [hash, row.id, row.org_id, row.password_hash]);
  } catch {
    // The sign-in is already proven; the next one tries again.
  }
}

/**
 * The identity provider over Identity's own tables. Usernames are globally unique by their canonical form, so
 * the username alone resolves the tenant. The hash is always verified, against a dummy for an unknown name,
 * so an unknown, disabled or wrong-password sign-in costs the same (SECURITY-CHECKLIST D5).
 */
export function createBuiltinIdentityProvider(deps: { pool: pg.Pool; passwords: PasswordHasher }): IdentityProvider {
  return {
    async authenticatePassword(username, password) {
      const { rows } = await query<UserRow>(deps.pool, `${userSelect} WHERE u.username_canonical = $1`, [canonicalName(username)]);
      const row = rows[0];
      const ok = await deps.passwords.verify(row?.password_hash, password);
      if (!ok || !row?.active) return undefined;
      if (deps.passwords.needsRehash(row.password_hash)) await rehashPassword(deps, row, password);
      return toUser(row);
    },
    async authenticateClient(clientId, clientSecret) {
      const { rows } = await query<AppRow>(deps.pool, `${appSelect} WHERE a.client_id = $1`, [clientId]);
      const row = rows[0];
      const ok = await deps.passwords.verify(row?.client_secret_hash, clientSecret);
      return ok && row?.active ? toApp(row) : undefined;
    },
    async findSubject(kind, orgId, id): Promise<AuthenticatedSubject | undefined> {
      if (kind === 'user') {
        const { rows } = await query<UserRow>(deps.pool, `${userSelect} WHERE u.id = $1 AND u.org_id = $2`, [id, orgId]);
        return rows[0]?.active ? toUser(rows[0]) : undefined;
      }
      const { rows } = await query<AppRow>(deps.pool, `${appSelect} WHERE a.id = $1 AND a.org_id = $2`, [id, orgId]);
      return rows[0]?.active ? toApp(rows[0]) : undefined;
    },
  };
}
