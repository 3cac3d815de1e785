import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { Permission } from '../../domain/policy-lines.js';

/** One line of an application's permission set: `p, pset:<id>, <tenant>, <resource>, <action>, <effect>`. */
export type ApplicationPermission = Permission;

export async function listApplicationPermissions(db: Queryable, tenantId: string, id: string): Promise<ApplicationPermission[]> {
  const { rows } = await query<ApplicationPermission>(
    db,
    `SELECT resource, action, effect FROM application_permissions WHERE org_id = $1 AND application_id = $2
      ORDER BY resource COLLATE "C", action COLLATE "C", effect`,
    [tenantId, id],
  );
  return rows;
}

export async function insertApplicationPermissions(db: Queryable, tenantId: string, id: string, permissions: readonly ApplicationPermission[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `INSERT INTO application_permissions (org_id, application_id, resource, action, effect)
     SELECT $1, $2, r.resource, r.action, r.effect FROM unnest($3::text[], $4::text[], $5::text[]) AS r(resource, action, effect)
     ON CONFLICT DO NOTHING`,
    [tenantId, id, permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
}

export async function deleteApplicationPermissions(db: Queryable, tenantId: string, id: string, permissions: readonly ApplicationPermission[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `DELETE FROM application_permissions a USING unnest($3::text[], $4::text[], $5::text[]) AS r(resource, action, effect)
      WHERE a.org_id = $1 AND a.application_id = $2 AND a.resource = r.resource AND a.action = r.action AND a.effect = r.effect`,
    [tenantId, id, permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
}
