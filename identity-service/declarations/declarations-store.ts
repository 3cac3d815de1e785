import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';
import type { Effect } from '../../domain/policy-lines.js';

export interface DeclarationRow {
  readonly slug: string;
  readonly applicationId: string;
  readonly version: string;
  readonly manifestHash: string;
  /** The canonical manifest this declaration last applied (what the next one is compared with). */
  readonly manifest: unknown;
}

export interface NamedRow {
  readonly id: string;
  readonly name: string;
}

export interface RoleRow extends NamedRow {
  readonly builtin: boolean;
  /** The application whose declaration created the role; null for every other role. */
  readonly declaredBy: string | null;
}

export interface RolePermissionRow {
  readonly roleId: string;
  readonly resource: string;
  readonly action: string;
  readonly effect: Effect;
}

export interface GroupRoleRow {
  readonly groupId: string;
  readonly roleId: string;
}

export async function findDeclaration(db: pg.ClientBase, tenantId: string, slug: string): Promise<DeclarationRow | undefined> {
  const { rows } = await query<DeclarationRow>(
    db,
    'SELECT slug, application_id AS "applicationId", version, manifest_hash AS "manifestHash", manifest FROM declarations WHERE org_id = $1 AND slug = $2 FOR UPDATE',
    [tenantId, slug],
  );
  return rows[0];
}

export async function saveDeclaration(
  db: pg.ClientBase,
  tenantId: string,
  declaration: { slug: string; applicationId: string; service: string; version: string; manifestHash: string; manifest: unknown },
): Promise<void> {
  await query(
    db,
    `INSERT INTO declarations (org_id, slug, application_id, service, version, manifest_hash, manifest)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
     ON CONFLICT (org_id, slug) DO UPDATE SET service = excluded.service,
       version = excluded.version, manifest_hash = excluded.manifest_hash, manifest = excluded.manifest, updated_at = now()`,
    [tenantId, declaration.slug, declaration.applicationId, declaration.service, declaration.version, declaration.manifestHash, JSON.stringify(declaration.manifest)],
  );
}

export async function findGroupsByName(db: pg.ClientBase, tenantId: string, names: readonly string[]): Promise<NamedRow[]> {
  if (names.length === 0) return [];
  const { rows } = await query<NamedRow>(db, 'SELECT id, name FROM groups WHERE org_id = $1 AND name = ANY($2::text[])', [tenantId, names]);
  return rows;
}

/**
 * The tenant's roles whose name has one of `canonicalNames` as its canonical form (NFKC, case-folded: the form
 * `/v1/roles` keeps unique), locked so that a concurrent change of one of them waits for this declaration. Call
 * after `lockRoleNames`, so no role of such a name can be created or renamed behind it.
 */
export async function findRolesByCanonicalName(db: pg.ClientBase, tenantId: string, canonicalNames: readonly string[]): Promise<RoleRow[]> {
  if (canonicalNames.length === 0) return [];
  const { rows } = await query<RoleRow>(
    db,
    `SELECT id, name, builtin, declared_by::text AS "declaredBy" FROM roles
      WHERE org_id = $1 AND lower(normalize(name, NFKC)) = ANY($2::text[]) ORDER BY id FOR UPDATE`,
    [tenantId, canonicalNames],
  );
  return rows;
}

/** A role created by a declaration: owned by `applicationId`, described for people as declared by the product. */
export async function insertRole(db: pg.ClientBase, tenantId: string, name: string, description: string, applicationId: string): Promise<RoleRow> {
  const { rows } = await query<RoleRow>(
    db,
    'INSERT INTO roles (org_id, name, description, declared_by) VALUES ($1, $2, $3, $4) RETURNING id, name, builtin, declared_by::text AS "declaredBy"',
    [tenantId, name, description, applicationId],
  );
  return rows[0] as RoleRow;
}

/** Inserts what is missing; returns the ids of the roles that gained a row. */
export async function insertRolePermissions(db: pg.ClientBase, tenantId: string, permissions: readonly RolePermissionRow[]): Promise<string[]> {
  if (permissions.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    `INSERT INTO role_permissions (org_id, role_id, resource, action, effect)
     SELECT $1, r.role_id, r.resource, r.action, r.effect FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS r(role_id, resource, action, effect)
     ON CONFLICT DO NOTHING RETURNING role_id`,
    [tenantId, permissions.map((p) => p.roleId), permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
  return rows.map((r) => r.role_id);
}

/** Deletes exactly these rows; returns the ids of the roles that lost one. */
export async function deleteRolePermissions(db: pg.ClientBase, tenantId: string, permissions: readonly RolePermissionRow[]): Promise<string[]> {
  if (permissions.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    `DELETE FROM role_permissions p USING unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS r(role_id, resource, action, effect)
      WHERE p.org_id = $1 AND p.role_id = r.role_id AND p.resource = r.resource AND p.action = r.action AND p.effect = r.effect
      RETURNING p.role_id`,
    [tenantId, permissions.map((p) => p.roleId), permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)],
  );
  return rows.map((r) => r.role_id);
}

export async function insertGroupRoles(db: pg.ClientBase, tenantId: string, grants: readonly GroupRoleRow[]): Promise<GroupRoleRow[]> {
  if (grants.length === 0) return [];
  const { rows } = await query<{ group_id: string; role_id: string }>(
    db,
    `INSERT INTO group_roles (org_id, group_id, role_id)
     SELECT $1, r.group_id, r.role_id FROM unnest($2::uuid[], $3::uuid[]) AS r(group_id, role_id)
     ON CONFLICT DO NOTHING RETURNING group_id, role_id`,
    [tenantId, grants.map((g) => g.groupId), grants.map((g) => g.roleId)],
  );
  return rows.map((r) => ({ groupId: r.group_id, roleId: r.role_id }));
}

export async function deleteGroupRoles(db: pg.ClientBase, tenantId: string, grants: readonly GroupRoleRow[]): Promise<GroupRoleRow[]> {
  if (grants.length === 0) return [];
  const { rows } = await query<{ group_id: string; role_id: string }>(
    db,
    `DELETE FROM group_roles g USING unnest($2::uuid[], $3::uuid[]) AS r(group_id, role_id)
      WHERE g.org_id = $1 AND g.group_id = r.group_id AND g.role_id = r.role_id RETURNING g.group_id, g.role_id`,
    [tenantId, grants.map((g) => g.groupId), grants.map((g) => g.roleId)],
  );
  return rows.map((r) => ({ groupId: r.group_id, roleId: r.role_id }));
}

/** A new version (ETag) for records whose permissions or grants a declaration changed. */
export async function touchRecords(db: pg.ClientBase, table: 'roles' | 'groups', tenantId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const statement =
    table === 'roles'
      ? 'UPDATE roles SET version = version + 1, updated_at = now() WHERE org_id = $1 AND id = ANY($2::uuid[])'
      : 'UPDATE groups SET version = version + 1, updated_at = now() WHERE org_id = $1 AND id = ANY($2::uuid[])';
  await query(db, statement, [tenantId, [...new Set(ids)]]);
}
