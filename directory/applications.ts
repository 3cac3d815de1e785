import { query, type Queryable } from '../platform/postgres-transaction.js';
import type { PageStart } from './page-start.js';

/** An application without its secret hash: no read path here ever selects `client_secret_hash`. */
export interface Application {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly clientId: string;
  readonly builtin: boolean;
  /** Where the hosted sign-in may send this application's authorization codes (exact strings). */
  readonly redirectUris: string[];
  /** No client secret: a browser or native app that proves itself with PKCE alone. */
  readonly publicClient: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewApplication {
  readonly name: string;
  readonly description: string;
  readonly clientId: string;
  /** Null for a public client. */
  readonly clientSecretHash: string | null;
  readonly redirectUris: readonly string[];
}

const columns = `a.id, a.org_id AS "tenantId", a.name, a.description, a.client_id AS "clientId", a.builtin,
  a.redirect_uris AS "redirectUris", (a.client_secret_hash IS NULL) AS "publicClient", a.version,
  a.created_at AS "createdAt", a.updated_at AS "updatedAt"`;

/** `forUpdate` locks the row for the caller's transaction: every write to an application starts with it. */
export async function findApplication(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<Application | undefined> {
  const { rows } = await query<Application>(db, `SELECT ${columns} FROM applications a WHERE a.org_id = $1 AND a.id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [
    tenantId,
    id,
  ]);
  return rows[0];
}

/** Whether the application is one of the tenant's (another tenant's id is not). */
export async function applicationExists(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rows } = await query(db, 'SELECT 1 FROM applications WHERE org_id = $1 AND id = $2', [tenantId, id]);
  return rows.length > 0;
}

/** A page of the tenant's applications by name: unique per organization, so the last name alone is an exact keyset position. */
export async function listApplications(db: Queryable, tenantId: string, page: PageStart): Promise<{ rows: Application[]; total: number }> {
  const [rows, count] = await Promise.all([
    page.after
      ? query<Application>(db, `SELECT ${columns} FROM applications a WHERE a.org_id = $1 AND a.name > $2 ORDER BY a.name LIMIT $3`, [tenantId, page.after.sortValue, page.limit])
      : query<Application>(db, `SELECT ${columns} FROM applications a WHERE a.org_id = $1 ORDER BY a.name LIMIT $2 OFFSET $3`, [tenantId, page.limit, page.offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM applications WHERE org_id = $1', [tenantId]),
  ]);
  return { rows: rows.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function insertApplication(db: Queryable, tenantId: string, fields: NewApplication): Promise<Application> {
  const { rows } = await query<Application>(
    db,
    `INSERT INTO applications AS a (org_id, name, description, client_id, client_secret_hash, redirect_uris) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${columns}`,
    [tenantId, fields.name, fields.description, fields.clientId, fields.clientSecretHash, [...fields.redirectUris]],
  );
  return rows[0] as Application;
}

export async function updateApplication(
  db: Queryable,
  tenantId: string,
  id: string,
  changes: { description?: string | undefined; redirectUris?: readonly string[] | undefined },
): Promise<Application> {
  const { rows } = await query<Application>(
    db,
    `UPDATE applications a SET description = coalesce($3, description), redirect_uris = coalesce($4, redirect_uris), version = version + 1, updated_at = now()
      WHERE a.org_id = $1 AND a.id = $2 RETURNING ${columns}`,
    [tenantId, id, changes.description ?? null, changes.redirectUris ? [...changes.redirectUris] : null],
  );
  return rows[0] as Application;
}

/** Replaces the secret hash; its caller also ends the application's sessions (endSessions), the old secret's tokens with them. */
export async function replaceClientSecret(db: Queryable, tenantId: string, id: string, clientSecretHash: string): Promise<Application> {
  const { rows } = await query<Application>(
    db,
    `UPDATE applications a SET client_secret_hash = $3, version = version + 1, updated_at = now()
      WHERE a.org_id = $1 AND a.id = $2 RETURNING ${columns}`,
    [tenantId, id, clientSecretHash],
  );
  return rows[0] as Application;
}

/** Marks a change of the permission set as a new version of the application (its ETag). */
export async function touchApplication(db: Queryable, tenantId: string, id: string): Promise<Application> {
  const { rows } = await query<Application>(
    db,
    `UPDATE applications a SET version = version + 1, updated_at = now() WHERE a.org_id = $1 AND a.id = $2 RETURNING ${columns}`,
    [tenantId, id],
  );
  return rows[0] as Application;
}

/** Deletes the application; its permission rows, declarations and provider links go with it (ON DELETE CASCADE). */
export async function deleteApplication(db: Queryable, tenantId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM applications WHERE org_id = $1 AND id = $2', [tenantId, id]);
}

// Built-in applications are the bootstrap reconciler's: it alone sets their id and `builtin`, and every statement
// below that changes a row names `builtin`, so none changes or deletes an application an administrator created.

/** The tenant's built-in applications, by name. */
export async function listBuiltinApplications(db: Queryable, tenantId: string): Promise<Application[]> {
  const { rows } = await query<Application>(db, `SELECT ${columns} FROM applications a WHERE a.org_id = $1 AND a.builtin ORDER BY a.name`, [tenantId]);
  return rows;
}

/**
 * Applications of the tenant whose name equals one of `wanted`'s in canonical form (NFKC, case-folded, as Identity
 * compares names) but that are not the application wanted under that name: each stands in the way.
 */
export async function applicationsHoldingNames(db: Queryable, tenantId: string, wanted: readonly { id: string; name: string }[]): Promise<{ name: string; builtin: boolean }[]> {
  if (wanted.length === 0) return [];
  const { rows } = await query<{ name: string; builtin: boolean }>(
    db,
    `SELECT a.name, a.builtin FROM applications a JOIN unnest($2::uuid[], $3::text[]) AS w(id, name)
        ON lower(normalize(a.name, NFKC)) = lower(normalize(w.name, NFKC)) AND a.id <> w.id
      WHERE a.org_id = $1 ORDER BY a.name`,
    [tenantId, wanted.map((w) => w.id), wanted.map((w) => w.name)],
  );
  return rows;
}

export async function insertBuiltinApplication(db: Queryable, tenantId: string, app: NewApplication & { readonly id: string }): Promise<void> {
  await query(
    db,
    'INSERT INTO applications (id, org_id, name, description, client_id, client_secret_hash, redirect_uris, builtin) VALUES ($1, $2, $3, $4, $5, $6, $7, true)',
    [app.id, tenantId, app.name, app.description, app.clientId, app.clientSecretHash, [...app.redirectUris]],
  );
}

/** Sets the description and bumps the version: a change of a built-in's permissions is a new version of it too (its ETag). */
export async function updateBuiltinApplication(db: Queryable, tenantId: string, id: string, description: string): Promise<void> {
  await query(db, 'UPDATE applications SET description = $3, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2 AND builtin', [tenantId, id, description]);
}

/** Sets a built-in application's redirect URIs (Identity's address moved, or the seed changed them). */
export async function setBuiltinRedirectUris(db: Queryable, tenantId: string, id: string, redirectUris: readonly string[]): Promise<void> {
  await query(db, 'UPDATE applications SET redirect_uris = $3, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2 AND builtin', [
    tenantId,
    id,
    [...redirectUris],
  ]);
}

/** Deletes a built-in application; its permissions and links go with it (ON DELETE CASCADE). */
export async function deleteBuiltinApplication(db: Queryable, tenantId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM applications WHERE org_id = $1 AND id = $2 AND builtin', [tenantId, id]);
}

/** The application a client id names (client ids are unique across organizations), when there is one. */
export async function applicationWithClientId(db: Queryable, clientId: string): Promise<{ id: string; tenantId: string } | undefined> {
  const { rows } = await query<{ id: string; org_id: string }>(db, 'SELECT id, org_id FROM applications WHERE client_id = $1', [clientId]);
  const row = rows[0];
  return row ? { id: row.id, tenantId: row.org_id } : undefined;
}
