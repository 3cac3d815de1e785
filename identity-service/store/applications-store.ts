import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';
import type { PageStart } from '../list-query.js';
import type { Permission } from '../../domain/policy-lines.js';

/** An application without its secret hash: no read path here ever selects `client_secret_hash`. */
export interface ApplicationRow {
  readonly id: string;
  readonly org_id: string;
  readonly name: string;
  readonly description: string;
  readonly client_id: string;
  readonly builtin: boolean;
  /** Where the hosted sign-in may send this application's authorization codes (exact strings). */
  readonly redirect_uris: string[];
  /** No client secret: a browser or native app that proves itself with PKCE alone. */
  readonly public_client: boolean;
  readonly version: number;
  readonly created_at: Date;
  readonly updated_at: Date;
}

/** One line of an application's permission set: `p, pset:<id>, <tenant>, <resource>, <action>, <effect>`. */
export type ApplicationPermission = Permission;

const columns = 'id, org_id, name, description, client_id, builtin, redirect_uris, (client_secret_hash IS NULL) AS public_client, version, created_at, updated_at';

export async function findApplication(db: pg.Pool | pg.ClientBase, orgId: string, id: string, forUpdate = false): Promise<ApplicationRow | undefined> {
  const { rows } = await query<ApplicationRow>(
    db,
    `SELECT ${columns} FROM applications WHERE org_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [orgId, id],
  );
  return rows[0];
}

/** A page of the tenant's applications by name: unique per organization, so the last name alone is an exact keyset position. */
export async function listApplications(db: pg.Pool, orgId: string, page: PageStart): Promise<{ rows: ApplicationRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    page.after
      ? query<ApplicationRow>(db, `SELECT ${columns} FROM applications WHERE org_id = $1 AND name > $2 ORDER BY name LIMIT $3`, [orgId, page.after.sortValue, page.limit])
      : query<ApplicationRow>(db, `SELECT ${columns} FROM applications WHERE org_id = $1 ORDER BY name LIMIT $2 OFFSET $3`, [orgId, page.limit, page.offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM applications WHERE org_id = $1', [orgId]),
  ]);
  return { rows: rows.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function insertApplication(
  db: pg.ClientBase,
  orgId: string,
  fields: { name: string; description: string; clientId: string; clientSecretHash: string | null; redirectUris: readonly string[] },
): Promise<ApplicationRow> {
  const { rows } = await query<ApplicationRow>(
    db,
    `INSERT INTO applications (org_id, name, description, client_id, client_secret_hash, redirect_uris) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${columns}`,
    [orgId, fields.name, fields.description, fields.clientId, fields.clientSecretHash, [...fields.redirectUris]],
  );
  return rows[0] as ApplicationRow;
}

export async function updateApplication(
  db: pg.ClientBase,
  orgId: string,
  id: string,
  changes: { description?: string | undefined; redirectUris?: readonly string[] | undefined },
): Promise<ApplicationRow> {
  const { rows } = await query<ApplicationRow>(
    db,
    `UPDATE applications SET description = coalesce($3, description), redirect_uris = coalesce($4, redirect_uris), version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2 RETURNING ${columns}`,
    [orgId, id, changes.description ?? null, changes.redirectUris ? [...changes.redirectUris] : null],
  );
  return rows[0] as ApplicationRow;
}

/** Replaces the secret hash; its caller also ends the application's sessions (endSessions), the old secret's tokens with them. */
export async function replaceClientSecret(db: pg.ClientBase, orgId: string, id: string, clientSecretHash: string): Promise<ApplicationRow> {
  const { rows } = await query<ApplicationRow>(
    db,
    `UPDATE applications SET client_secret_hash = $3, version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2 RETURNING ${columns}`,
    [orgId, id, clientSecretHash],
  );
  return rows[0] as ApplicationRow;
}

/** Marks a change of the permission set as a new version of the application (its ETag). */
export async function touchApplication(db: pg.ClientBase, orgId: string, id: string): Promise<ApplicationRow> {
  const { rows } = await query<ApplicationRow>(
    db,
    `UPDATE applications SET version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2 RETURNING ${columns}`,
    [orgId, id],
  );
  return rows[0] as ApplicationRow;
}

/** Deletes the application; its permission rows, declarations and provider links go with it (ON DELETE CASCADE). */
export async function deleteApplication(db: pg.ClientBase, orgId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM applications WHERE org_id = $1 AND id = $2', [orgId, id]);
}

export async function listApplicationPermissions(db: pg.Pool | pg.ClientBase, orgId: string, id: string): Promise<ApplicationPermission[]> {
  const { rows } = await query<ApplicationPermission>(
    db,
    `SELECT resource, action, effect FROM application_permissions WHERE org_id = $1 AND application_id = $2
      ORDER BY resource COLLATE "C", action COLLATE "C", effect`,
    [orgId, id],
  );
  return rows;
}

export async function insertApplicationPermissions(db: pg.ClientBase, orgId: string, id: string, permissions: readonly ApplicationPermission[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `INSERT INTO application_permissions (org_id, application_id, resource, action, effect)
     SELECT $1, $2, r.resource, r.action, r.effect FROM unnest($3::text[], $4::text[], $5::text[]) AS r(resource, action, effect)
     ON CONFLICT DO NOTHING`,
    [orgId, id, permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
}

export async function deleteApplicationPermissions(db: pg.ClientBase, orgId: string, id: string, permissions: readonly ApplicationPermission[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `DELETE FROM application_permissions a USING unnest($3::text[], $4::text[], $5::text[]) AS r(resource, action, effect)
      WHERE a.org_id = $1 AND a.application_id = $2 AND a.resource = r.resource AND a.action = r.action AND a.effect = r.effect`,
    [orgId, id, permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
}
