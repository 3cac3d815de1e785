import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';
import type { PageStart } from '../../directory/page-start.js';

export interface GroupRow {
  readonly id: string;
  readonly org_id: string;
  readonly name: string;
  readonly description: string;
  readonly builtin: boolean;
  readonly version: number;
  readonly created_at: Date;
  readonly updated_at: Date;
  /** Usernames of the members, in canonical order. */
  readonly users: string[];
  /** Ids of the roles the group holds. */
  readonly roles: string[];
}

export interface MemberRow {
  readonly id: string;
  readonly username: string;
  readonly username_canonical: string;
  readonly added_at: Date;
}

// Every statement names the tenant: a group id of another organization matches nothing (SECURITY-CHECKLIST F1, F7).
const columns = `g.id, g.org_id, g.name, g.description, g.builtin, g.version, g.created_at, g.updated_at,
  ARRAY(SELECT u.username FROM group_members m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
         WHERE m.org_id = g.org_id AND m.group_id = g.id ORDER BY u.username_canonical, u.id) AS users,
  ARRAY(SELECT gr.role_id::text FROM group_roles gr WHERE gr.org_id = g.org_id AND gr.group_id = g.id ORDER BY gr.role_id) AS roles`;

/** One group of `orgId`; `forUpdate` locks its row for the rest of the transaction (writers of one group queue). */
export async function findGroup(db: pg.Pool | pg.ClientBase, orgId: string, id: string, forUpdate = false): Promise<GroupRow | undefined> {
  const { rows } = await query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 AND g.id = $2${forUpdate ? ' FOR UPDATE OF g' : ''}`, [orgId, id]);
  return rows[0];
}

/** A page of the tenant's groups by name; `after` continues a keyset page (stable and fast however deep). */
export async function listGroups(db: pg.Pool, orgId: string, page: PageStart): Promise<{ rows: GroupRow[]; total: number }> {
  const [items, count] = await Promise.all(
    page.after
      ? [
          query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 AND (g.name, g.id) > ($2, $3::uuid) ORDER BY g.name, g.id LIMIT $4`, [
            orgId,
            page.after.sortValue,
            page.after.id,
            page.limit,
          ]),
          countGroups(db, orgId),
        ]
      : [query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 ORDER BY g.name, g.id LIMIT $2 OFFSET $3`, [orgId, page.limit, page.offset]), countGroups(db, orgId)],
  );
  return { rows: items.rows, total: count };
}

async function countGroups(db: pg.Pool, orgId: string): Promise<number> {
  const { rows } = await query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM groups WHERE org_id = $1', [orgId]);
  return Number(rows[0]?.total ?? 0);
}

/**
 * Whether another group of the tenant already has this name in canonical form (NFKC, case-folded), so
 * `Admins` and `ａｄｍｉｎｓ` cannot both exist (SECURITY-CHECKLIST H7). Call after `lockGroupNames`.
 */
export async function isGroupNameTaken(db: pg.ClientBase, orgId: string, name: string, exceptId?: string): Promise<boolean> {
  const { rows } = await query(
    db,
    `SELECT 1 FROM groups WHERE org_id = $1 AND lower(normalize(name, NFKC)) = lower(normalize($2, NFKC)) AND ($3::uuid IS NULL OR id <> $3::uuid) LIMIT 1`,
    [orgId, name, exceptId ?? null],
  );
  return rows.length > 0;
}

/** Serialises the tenant's group creations and renames until commit: the canonical-name check is then race-free. */
export async function lockGroupNames(db: pg.ClientBase, orgId: string): Promise<void> {
  await query(db, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`groups.name:${orgId}`]);
}

export async function insertGroup(db: pg.ClientBase, orgId: string, name: string, description: string): Promise<GroupRow> {
  const { rows } = await query<GroupRow>(
    db,
    `INSERT INTO groups (org_id, name, description) VALUES ($1, $2, $3)
     RETURNING id, org_id, name, description, builtin, version, created_at, updated_at, ARRAY[]::text[] AS users, ARRAY[]::text[] AS roles`,
    [orgId, name, description],
  );
  return rows[0] as GroupRow;
}

/** Changes the group's own fields (those given) and bumps its version; with no fields it only bumps the version. */
export async function updateGroup(db: pg.ClientBase, orgId: string, id: string, changes: { name?: string | undefined; description?: string | undefined }): Promise<void> {
  await query(
    db,
    `UPDATE groups SET name = coalesce($3, name), description = coalesce($4, description), version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2`,
    [orgId, id, changes.name ?? null, changes.description ?? null],
  );
}

export async function deleteGroup(db: pg.ClientBase, orgId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM groups WHERE org_id = $1 AND id = $2', [orgId, id]);
}

export async function hasMembers(db: pg.ClientBase, orgId: string, groupId: string): Promise<boolean> {
  const { rows } = await query(db, 'SELECT 1 FROM group_members WHERE org_id = $1 AND group_id = $2 LIMIT 1', [orgId, groupId]);
  return rows.length > 0;
}

/** Links roles to a group; answers the role ids that were not linked before. */
export async function addGroupRoles(db: pg.ClientBase, orgId: string, groupId: string, roleIds: readonly string[]): Promise<string[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    `INSERT INTO group_roles (org_id, group_id, role_id) SELECT $1, $2, unnest($3::uuid[])
     ON CONFLICT DO NOTHING RETURNING role_id::text`,
    [orgId, groupId, roleIds],
  );
  return rows.map((row) => row.role_id);
}

/** Unlinks roles from a group; answers the role ids that were linked. */
export async function removeGroupRoles(db: pg.ClientBase, orgId: string, groupId: string, roleIds: readonly string[]): Promise<string[]> {
  if (roleIds.length === 0) return [];
  const { rows } = await query<{ role_id: string }>(
    db,
    'DELETE FROM group_roles WHERE org_id = $1 AND group_id = $2 AND role_id = ANY($3::uuid[]) RETURNING role_id::text',
    [orgId, groupId, roleIds],
  );
  return rows.map((row) => row.role_id);
}

/** Ids of the tenant's groups that hold a role (their `g, group, role` lines go when the role goes). */
export async function groupsHoldingRole(db: pg.ClientBase, orgId: string, roleId: string): Promise<string[]> {
  const { rows } = await query<{ group_id: string }>(db, 'SELECT group_id::text FROM group_roles WHERE org_id = $1 AND role_id = $2 ORDER BY group_id', [orgId, roleId]);
  return rows.map((row) => row.group_id);
}

/**
 * A user of the tenant who may become (or stop being) a member, share-locked so that deleting the user waits
 * for this transaction and then sees the membership (its `g` line goes with it).
 */
export async function findMemberCandidate(db: pg.ClientBase, orgId: string, userId: string): Promise<{ id: string; username: string } | undefined> {
  const { rows } = await query<{ id: string; username: string }>(db, 'SELECT id::text, username FROM users WHERE org_id = $1 AND id = $2 FOR KEY SHARE', [orgId, userId]);
  return rows[0];
}

/** Adds a member; answers the membership and whether it is new (adding an existing member changes nothing). */
export async function addMember(db: pg.ClientBase, orgId: string, groupId: string, userId: string): Promise<{ addedAt: Date; created: boolean }> {
  const inserted = await query<{ created_at: Date }>(
    db,
    'INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING created_at',
    [orgId, groupId, userId],
  );
  if (inserted.rows[0]) return { addedAt: inserted.rows[0].created_at, created: true };
  const existing = await query<{ created_at: Date }>(db, 'SELECT created_at FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3', [orgId, groupId, userId]);
  return { addedAt: (existing.rows[0] as { created_at: Date }).created_at, created: false };
}

/** Removes a member; answers whether the user was one. */
export async function removeMember(db: pg.ClientBase, orgId: string, groupId: string, userId: string): Promise<boolean> {
  const { rowCount } = await query(db, 'DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3', [orgId, groupId, userId]);
  return (rowCount ?? 0) > 0;
}

/** A page of a group's members by canonical username; `after` continues a keyset page. */
export async function listMembers(db: pg.Pool, orgId: string, groupId: string, page: PageStart): Promise<{ rows: MemberRow[]; total: number }> {
  const select = `SELECT u.id::text, u.username, u.username_canonical, m.created_at AS added_at
      FROM group_members m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
     WHERE m.org_id = $1 AND m.group_id = $2`;
  const [items, count] = await Promise.all([
    page.after
      ? query<MemberRow>(db, `${select} AND (u.username_canonical, u.id) > ($3, $4::uuid) ORDER BY u.username_canonical, u.id LIMIT $5`, [
          orgId,
          groupId,
          page.after.sortValue,
          page.after.id,
          page.limit,
        ])
      : query<MemberRow>(db, `${select} ORDER BY u.username_canonical, u.id LIMIT $3 OFFSET $4`, [orgId, groupId, page.limit, page.offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM group_members WHERE org_id = $1 AND group_id = $2', [orgId, groupId]),
  ]);
  return { rows: items.rows, total: Number(count.rows[0]?.total ?? 0) };
}
