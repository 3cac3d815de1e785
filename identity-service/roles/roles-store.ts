import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { Permission } from '../../domain/policy-lines.js';
import type { PageStart } from '../../directory/page-start.js';

export interface RoleRow {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly builtin: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One permission of a role: the engine line `p, role:<id>, <tenant>, <resource>, <action>, <effect>`. */
export type PermissionRow = Permission;

// Every statement names the tenant: a role id of another organization matches nothing.
const columns = 'id, org_id AS "tenantId", name, description, builtin, version, created_at AS "createdAt", updated_at AS "updatedAt"';

/** One role of `tenantId`; `forUpdate` locks its row for the rest of the transaction (writers of one role queue). */
export async function findRole(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<RoleRow | undefined> {
  const { rows } = await query<RoleRow>(db, `SELECT ${columns} FROM roles WHERE org_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0];
}

/** A page of the tenant's roles by name; `after` continues a keyset page. */
export async function listRoles(db: Queryable, tenantId: string, page: PageStart): Promise<{ rows: RoleRow[]; total: number }> {
  const [items, count] = await Promise.all([
    page.after
      ? query<RoleRow>(db, `SELECT ${columns} FROM roles WHERE org_id = $1 AND (name, id) > ($2, $3::uuid) ORDER BY name, id LIMIT $4`, [
          tenantId,
          page.after.sortValue,
          page.after.id,
          page.limit,
        ])
      : query<RoleRow>(db, `SELECT ${columns} FROM roles WHERE org_id = $1 ORDER BY name, id LIMIT $2 OFFSET $3`, [tenantId, page.limit, page.offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM roles WHERE org_id = $1', [tenantId]),
  ]);
  return { rows: items.rows, total: Number(count.rows[0]?.total ?? 0) };
}

/** The permissions of some roles of the tenant, by role id, each list in (resource, action, effect) order. */
export async function permissionsOfRoles(db: Queryable, tenantId: string, roleIds: readonly string[]): Promise<Map<string, PermissionRow[]>> {
  const byRole = new Map<string, PermissionRow[]>(roleIds.map((id) => [id, []]));
  if (roleIds.length === 0) return byRole;
  const { rows } = await query<PermissionRow & { role_id: string }>(
    db,
    `SELECT role_id::text, resource, action, effect FROM role_permissions
      WHERE org_id = $1 AND role_id = ANY($2::uuid[]) ORDER BY role_id, resource COLLATE "C", action COLLATE "C", effect`,
    [tenantId, roleIds],
  );
  for (const { role_id, ...permission } of rows) byRole.get(role_id)?.push(permission);
  return byRole;
}

/**
 * Whether another role of the tenant already has this name in canonical form (NFKC, case-folded), so two
 * roles cannot differ only by case or width. Call after `lockRoleNames`.
 */
export async function isRoleNameTaken(db: Queryable, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  const { rows } = await query(
    db,
    `SELECT 1 FROM roles WHERE org_id = $1 AND lower(normalize(name, NFKC)) = lower(normalize($2, NFKC)) AND ($3::uuid IS NULL OR id <> $3::uuid) LIMIT 1`,
    [tenantId, name, exceptId ?? null],
  );
  return rows.length > 0;
}

/** Serialises the tenant's role creations and renames until commit: the canonical-name check is then race-free. */
export async function lockRoleNames(db: Queryable, tenantId: string): Promise<void> {
  await query(db, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`roles.name:${tenantId}`]);
}

/**
 * The ids among `ids` that are roles of the tenant, share-locked until commit: a concurrent delete of one of
 * them waits, then finds the new link and removes its `g` line too.
 */
export async function lockExistingRoles(db: Queryable, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await query<{ id: string }>(db, 'SELECT id::text FROM roles WHERE org_id = $1 AND id = ANY($2::uuid[]) FOR KEY SHARE', [tenantId, ids]);
  return new Set(rows.map((row) => row.id));
}

export async function insertRole(db: Queryable, tenantId: string, name: string, description: string): Promise<RoleRow> {
  const { rows } = await query<RoleRow>(db, `INSERT INTO roles (org_id, name, description) VALUES ($1, $2, $3) RETURNING ${columns}`, [tenantId, name, description]);
  return rows[0] as RoleRow;
}

/** Changes the role's own fields (those given) and bumps its version; with no fields it only bumps the version. */
export async function updateRole(
  db: Queryable,
  tenantId: string,
  id: string,
  changes: { name?: string | undefined; description?: string | undefined },
): Promise<RoleRow> {
  const { rows } = await query<RoleRow>(
    db,
    `UPDATE roles SET name = coalesce($3, name), description = coalesce($4, description), version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2 RETURNING ${columns}`,
    [tenantId, id, changes.name ?? null, changes.description ?? null],
  );
  return rows[0] as RoleRow;
}

/** Deletes a role; its permissions and group links go with it (ON DELETE CASCADE). */
export async function deleteRole(db: Queryable, tenantId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM roles WHERE org_id = $1 AND id = $2', [tenantId, id]);
}

export async function insertPermissions(db: Queryable, tenantId: string, roleId: string, permissions: readonly PermissionRow[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `INSERT INTO role_permissions (org_id, role_id, resource, action, effect)
     SELECT $1, $2, p.resource, p.action, p.effect FROM unnest($3::text[], $4::text[], $5::text[]) AS p (resource, action, effect)`,
    [tenantId, roleId, ...columnsOf(permissions)],
  );
}

export async function deletePermissions(db: Queryable, tenantId: string, roleId: string, permissions: readonly PermissionRow[]): Promise<void> {
  if (permissions.length === 0) return;
  await query(
    db,
    `DELETE FROM role_permissions WHERE org_id = $1 AND role_id = $2
        AND (resource, action, effect) IN (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]))`,
    [tenantId, roleId, ...columnsOf(permissions)],
  );
}

function columnsOf(permissions: readonly PermissionRow[]): [string[], string[], string[]] {
  return [permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)];
}
