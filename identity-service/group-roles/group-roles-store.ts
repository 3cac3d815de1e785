import { query, type Queryable } from '../../platform/postgres-transaction.js';

// The links between groups and roles (group_roles): groups make and remove them, and a role being deleted asks
// which groups hold it. Kept apart from both folders so that roles/ reads the links without importing groups/.

/** Links roles to a group; answers the role ids that were not linked before. */
export async function addGroupRoles(db: Queryable, tenantId: string, groupId: string, roleIds: readonly string[]): Promise<string[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    `INSERT INTO group_roles (org_id, group_id, role_id) SELECT $1, $2, unnest($3::uuid[])
     ON CONFLICT DO NOTHING RETURNING role_id::text`,
    [tenantId, groupId, roleIds],
  );
  return rows.map((row) => row.role_id);
}

/** Unlinks roles from a group; answers the role ids that were linked. */
export async function removeGroupRoles(db: Queryable, tenantId: string, groupId: string, roleIds: readonly string[]): Promise<string[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    'DELETE FROM group_roles WHERE org_id = $1 AND group_id = $2 AND role_id = ANY($3::uuid[]) RETURNING role_id::text',
    [tenantId, groupId, roleIds],
  );
  return rows.map((row) => row.role_id);
}

/** Ids of the tenant's groups that hold a role (their `g, group, role` lines go when the role goes). */
export async function groupsHoldingRole(db: Queryable, tenantId: string, roleId: string): Promise<string[]> {
  const { rows } = await query<{ group_id: string }>(db, 'SELECT group_id::text FROM group_roles WHERE org_id = $1 AND role_id = $2 ORDER BY group_id', [tenantId, roleId]);
  return rows.map((row) => row.group_id);
}
