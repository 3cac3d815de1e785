import type pg from 'pg';
import { listBuiltinApplications } from '../directory/applications.js';
import { findOrganization } from '../directory/organizations.js';
import { findFirstBuiltinUser } from '../directory/users.js';
import type { Permission } from '../domain/policy-lines.js';
import { query } from '../platform/postgres-transaction.js';

// The SQL of built-in groups, roles, their permissions, memberships and tenant rules (the organization, its
// applications and its administrator are the directory's: directory/*.ts). Identity's stores cannot write them
// (they never set an id or `builtin`), and every statement here that changes a row names `builtin` (or a ledger
// only the reconciler writes), so no statement of this file can change or delete a record an administrator created.

export interface LiveOrganization {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly builtin: boolean;
}

export interface LiveRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
}

export interface LiveRole extends LiveRecord {
  readonly permissions: Permission[];
}

export interface LiveGroup extends LiveRecord {
  /** Every role the group holds, built-in or not. */
  readonly roleIds: string[];
  readonly members: number;
}

export interface LiveApplication extends LiveRecord {
  readonly permissions: Permission[];
  readonly redirectUris: string[];
}

export interface LiveState {
  readonly organization: LiveOrganization | undefined;
  readonly roles: ReadonlyMap<string, LiveRole>;
  readonly groups: ReadonlyMap<string, LiveGroup>;
  readonly applications: ReadonlyMap<string, LiveApplication>;
  readonly tenantRules: readonly Permission[];
  /** A built-in user of the organization (the first administrator), if one was ever created. */
  readonly admin: { readonly id: string; readonly username: string } | undefined;
}

const permissionOrder = 'resource COLLATE "C", action COLLATE "C", effect';

/** The organization's built-in records as they are now (administrators' records are not read). */
export async function readLiveState(db: pg.ClientBase, tenantId: string): Promise<LiveState> {
  const org = await findOrganization(db, tenantId);
  const roles = await query<LiveRecord>(db, 'SELECT id::text, name, description FROM roles WHERE org_id = $1 AND builtin ORDER BY name', [tenantId]);
  const rolePermissions = await query<Permission & { role_id: string }>(
    db,
    `SELECT p.role_id::text, p.resource, p.action, p.effect FROM role_permissions p JOIN roles r ON r.org_id = p.org_id AND r.id = p.role_id
      WHERE p.org_id = $1 AND r.builtin ORDER BY ${permissionOrder}`,
    [tenantId],
  );
  const groups = await query<LiveRecord & { role_ids: string[]; members: number }>(
    db,
    `SELECT g.id::text, g.name, g.description,
            ARRAY(SELECT gr.role_id::text FROM group_roles gr WHERE gr.org_id = g.org_id AND gr.group_id = g.id ORDER BY gr.role_id) AS role_ids,
            (SELECT count(*)::int FROM group_members m WHERE m.org_id = g.org_id AND m.group_id = g.id) AS members
       FROM groups g WHERE g.org_id = $1 AND g.builtin ORDER BY g.name`,
    [tenantId],
  );
  const applications = await listBuiltinApplications(db, tenantId);
  const applicationPermissions = await query<Permission & { application_id: string }>(
    db,
    `SELECT p.application_id::text, p.resource, p.action, p.effect FROM application_permissions p
      WHERE p.org_id = $1 AND p.application_id = ANY($2::uuid[]) ORDER BY ${permissionOrder}`,
    [tenantId, applications.map((a) => a.id)],
  );
  const tenantRules = await query<Permission>(db, `SELECT resource, action, effect FROM builtin_tenant_rules WHERE org_id = $1 ORDER BY ${permissionOrder}`, [tenantId]);
  const admin = await findFirstBuiltinUser(db, tenantId);

  const permissionsOf = <R extends Permission>(rows: readonly R[], idOf: (row: R) => string, id: string): Permission[] =>
    rows.filter((row) => idOf(row) === id).map((row) => ({ resource: row.resource, action: row.action, effect: row.effect }));
  return {
    organization: org && { id: org.id, slug: org.slug, name: org.name, builtin: org.builtin },
    roles: new Map(roles.rows.map((r) => [r.id, { ...r, permissions: permissionsOf(rolePermissions.rows, (p) => p.role_id, r.id) }])),
    groups: new Map(groups.rows.map((g) => [g.id, { id: g.id, name: g.name, description: g.description, roleIds: g.role_ids, members: g.members }])),
    applications: new Map(
      applications.map((a) => [
        a.id,
        { id: a.id, name: a.name, description: a.description, redirectUris: a.redirectUris, permissions: permissionsOf(applicationPermissions.rows, (p) => p.application_id, a.id) },
      ]),
    ),
    tenantRules: tenantRules.rows,
    admin,
  };
}

export type NamedTable = 'groups' | 'roles';

/**
 * Records of `table` in the organization whose name equals one of `names` in canonical form (NFKC, case-folded,
 * as Identity compares them) but that are not the built-in wanted under that name: each stands in the way.
 */
export async function blockingNames(db: pg.ClientBase, tenantId: string, table: NamedTable, wanted: readonly { id: string; name: string }[]): Promise<{ name: string; builtin: boolean }[]> {
  if (wanted.length === 0) return [];
  const { rows } = await query<{ name: string; builtin: boolean }>(
    db,
    `SELECT t.name, t.builtin FROM ${table} t JOIN unnest($2::uuid[], $3::text[]) AS w(id, name)
        ON lower(normalize(t.name, NFKC)) = lower(normalize(w.name, NFKC)) AND t.id <> w.id
      WHERE t.org_id = $1 ORDER BY t.name`,
    [tenantId, wanted.map((w) => w.id), wanted.map((w) => w.name)],
  );
  return rows;
}

/** Records an administrator made that link to the built-in roles `roleIds`: non-built-in groups holding one. */
export async function administratorGroupsHolding(db: pg.ClientBase, tenantId: string, roleIds: readonly string[]): Promise<{ roleId: string; group: string }[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await query<{ role_id: string; name: string }>(
    db,
    `SELECT gr.role_id::text, g.name FROM group_roles gr JOIN groups g ON g.org_id = gr.org_id AND g.id = gr.group_id
      WHERE gr.org_id = $1 AND gr.role_id = ANY($2::uuid[]) AND NOT g.builtin ORDER BY g.name`,
    [tenantId, roleIds],
  );
  return rows.map((row) => ({ roleId: row.role_id, group: row.name }));
}

export async function insertRecord(db: pg.ClientBase, table: 'groups' | 'roles', tenantId: string, record: LiveRecord): Promise<void> {
  await query(db, `INSERT INTO ${table} (id, org_id, name, description, builtin) VALUES ($1, $2, $3, $4, true)`, [record.id, tenantId, record.name, record.description]);
}

/** Bumps the version too: a change of a built-in's permissions or roles is a new version of it (its ETag). */
export async function updateRecord(db: pg.ClientBase, table: NamedTable, tenantId: string, id: string, description: string): Promise<void> {
  await query(db, `UPDATE ${table} SET description = $3, version = version + 1, updated_at = now() WHERE org_id = $1 AND id = $2 AND builtin`, [tenantId, id, description]);
}

/** Deletes a built-in; its permissions, links and memberships go with it (ON DELETE CASCADE). */
export async function deleteRecord(db: pg.ClientBase, table: NamedTable, tenantId: string, id: string): Promise<void> {
  await query(db, `DELETE FROM ${table} WHERE org_id = $1 AND id = $2 AND builtin`, [tenantId, id]);
}

const permissionTables = {
  role: { table: 'role_permissions', owner: 'role_id' },
  application: { table: 'application_permissions', owner: 'application_id' },
} as const;

export async function insertPermissions(db: pg.ClientBase, kind: keyof typeof permissionTables, tenantId: string, ownerId: string, permissions: readonly Permission[]): Promise<void> {
  if (permissions.length === 0) return;
  const { table, owner } = permissionTables[kind];
  await query(
    db,
    `INSERT INTO ${table} (org_id, ${owner}, resource, action, effect)
     SELECT $1, $2, p.resource, p.action, p.effect FROM unnest($3::text[], $4::text[], $5::text[]) AS p (resource, action, effect)
     ON CONFLICT DO NOTHING`,
    [tenantId, ownerId, ...permissionColumns(permissions)],
  );
}

export async function deletePermissions(db: pg.ClientBase, kind: keyof typeof permissionTables, tenantId: string, ownerId: string, permissions: readonly Permission[]): Promise<void> {
  if (permissions.length === 0) return;
  const { table, owner } = permissionTables[kind];
  await query(
    db,
    `DELETE FROM ${table} t USING unnest($3::text[], $4::text[], $5::text[]) AS p (resource, action, effect)
      WHERE t.org_id = $1 AND t.${owner} = $2 AND t.resource = p.resource AND t.action = p.action AND t.effect = p.effect`,
    [tenantId, ownerId, ...permissionColumns(permissions)],
  );
}

export async function addGroupRoles(db: pg.ClientBase, tenantId: string, groupId: string, roleIds: readonly string[]): Promise<void> {
  if (roleIds.length === 0) return;
  await query(db, 'INSERT INTO group_roles (org_id, group_id, role_id) SELECT $1, $2, unnest($3::uuid[]) ON CONFLICT DO NOTHING', [tenantId, groupId, roleIds]);
}

export async function removeGroupRoles(db: pg.ClientBase, tenantId: string, groupId: string, roleIds: readonly string[]): Promise<void> {
  if (roleIds.length === 0) return;
  await query(db, 'DELETE FROM group_roles WHERE org_id = $1 AND group_id = $2 AND role_id = ANY($3::uuid[])', [tenantId, groupId, roleIds]);
}

export async function addTenantRules(db: pg.ClientBase, tenantId: string, rules: readonly Permission[]): Promise<void> {
  if (rules.length === 0) return;
  await query(
    db,
    `INSERT INTO builtin_tenant_rules (org_id, resource, action, effect)
     SELECT $1, p.resource, p.action, p.effect FROM unnest($2::text[], $3::text[], $4::text[]) AS p (resource, action, effect) ON CONFLICT DO NOTHING`,
    [tenantId, ...permissionColumns(rules)],
  );
}

export async function removeTenantRules(db: pg.ClientBase, tenantId: string, rules: readonly Permission[]): Promise<void> {
  if (rules.length === 0) return;
  await query(
    db,
    `DELETE FROM builtin_tenant_rules t USING unnest($2::text[], $3::text[], $4::text[]) AS p (resource, action, effect)
      WHERE t.org_id = $1 AND t.resource = p.resource AND t.action = p.action AND t.effect = p.effect`,
    [tenantId, ...permissionColumns(rules)],
  );
}

/** Makes the bootstrap's administrator a member of its built-in group. */
export async function addBuiltinMembership(db: pg.ClientBase, tenantId: string, groupId: string, userId: string): Promise<void> {
  await query(db, 'INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3)', [tenantId, groupId, userId]);
}

/** One audit event per change, as Identity writes them, with the reconciler as actor. */
export async function insertAudit(
  db: pg.ClientBase,
  tenantId: string,
  events: readonly { action: string; targetType: string; targetId: string; before?: unknown; after?: unknown }[],
): Promise<void> {
  if (events.length === 0) return;
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  await query(
    db,
    `INSERT INTO audit_events (org_id, actor, action, target_type, target_id, before, after)
     SELECT $1, 'bootstrap', e.action, e.target_type, e.target_id, e.before::jsonb, e.after::jsonb
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(action, target_type, target_id, before, after, n) ORDER BY n`,
    [tenantId, events.map((e) => e.action), events.map((e) => e.targetType), events.map((e) => e.targetId), events.map((e) => json(e.before)), events.map((e) => json(e.after))],
  );
}

function permissionColumns(permissions: readonly Permission[]): [string[], string[], string[]] {
  return [permissions.map((p) => p.resource), permissions.map((p) => p.action), permissions.map((p) => p.effect)];
}
