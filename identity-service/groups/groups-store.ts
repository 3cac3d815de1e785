import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { PageStart } from '../../directory/page-start.js';

/** A group without its members (the directory names them: `memberUsernamesOfGroups`). */
export interface GroupRow {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly description: string;
  readonly builtin: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Ids of the roles the group holds. */
  readonly roles: string[];
}

// Every statement names the tenant: a group id of another organization matches nothing.
const columns = `g.id, g.org_id AS "tenantId", g.name, g.description, g.builtin, g.version, g.created_at AS "createdAt", g.updated_at AS "updatedAt",
  ARRAY(SELECT gr.role_id::text FROM group_roles gr WHERE gr.org_id = g.org_id AND gr.group_id = g.id ORDER BY gr.role_id) AS roles`;

/** One group of `tenantId`; `forUpdate` locks its row for the rest of the transaction (writers of one group queue). */
export async function findGroup(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<GroupRow | undefined> {
  const { rows } = await query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 AND g.id = $2${forUpdate ? ' FOR UPDATE OF g' : ''}`, [tenantId, id]);
  return rows[0];
}

/** A page of the tenant's groups by name; `after` continues a keyset page (stable and fast however deep). */
export async function listGroups(db: Queryable, tenantId: string, page: PageStart): Promise<{ rows: GroupRow[]; total: number }> {
  const [items, count] = await Promise.all(
    page.after
      ? [
          query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 AND (g.name, g.id) > ($2, $3::uuid) ORDER BY g.name, g.id LIMIT $4`, [
            tenantId,
            page.after.sortValue,
            page.after.id,
            page.limit,
          ]),
          countGroups(db, tenantId),
        ]
      : [query<GroupRow>(db, `SELECT ${columns} FROM groups g WHERE g.org_id = $1 ORDER BY g.name, g.id LIMIT $2 OFFSET $3`, [tenantId, page.limit, page.offset]), countGroups(db, tenantId)],
  );
  return { rows: items.rows, total: count };
}

async function countGroups(db: Queryable, tenantId: string): Promise<number> {
  const { rows } = await query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM groups WHERE org_id = $1', [tenantId]);
  return Number(rows[0]?.total ?? 0);
}

/**
 * Whether another group of the tenant already has this name in canonical form (NFKC, case-folded), so
 * `Admins` and `ａｄｍｉｎｓ` cannot both exist . Call after `lockGroupNames`.
 */
export async function isGroupNameTaken(db: Queryable, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  const { rows } = await query(
    db,
    `SELECT 1 FROM groups WHERE org_id = $1 AND lower(normalize(name, NFKC)) = lower(normalize($2, NFKC)) AND ($3::uuid IS NULL OR id <> $3::uuid) LIMIT 1`,
    [tenantId, name, exceptId ?? null],
  );
  return rows.length > 0;
}

/** Serialises the tenant's group creations and renames until commit: the canonical-name check is then race-free. */
export async function lockGroupNames(db: Queryable, tenantId: string): Promise<void> {
  await query(db, 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`groups.name:${tenantId}`]);
}

export async function insertGroup(db: Queryable, tenantId: string, name: string, description: string): Promise<GroupRow> {
  const { rows } = await query<GroupRow>(
    db,
    `INSERT INTO groups (org_id, name, description) VALUES ($1, $2, $3)
     RETURNING id, org_id AS "tenantId", name, description, builtin, version, created_at AS "createdAt", updated_at AS "updatedAt", ARRAY[]::text[] AS roles`,
    [tenantId, name, description],
  );
  return rows[0] as GroupRow;
}

/** Changes the group's own fields (those given) and bumps its version; with no fields it only bumps the version. */
export async function updateGroup(db: Queryable, tenantId: string, id: string, changes: { name?: string | undefined; description?: string | undefined }): Promise<void> {
  await query(
    db,
    `UPDATE groups SET name = coalesce($3, name), description = coalesce($4, description), version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2`,
    [tenantId, id, changes.name ?? null, changes.description ?? null],
  );
}

export async function deleteGroup(db: Queryable, tenantId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM groups WHERE org_id = $1 AND id = $2', [tenantId, id]);
}

export async function hasMembers(db: Queryable, tenantId: string, groupId: string): Promise<boolean> {
  const { rows } = await query(db, 'SELECT 1 FROM group_members WHERE org_id = $1 AND group_id = $2 LIMIT 1', [tenantId, groupId]);
  return rows.length > 0;
}

/** Adds a member; answers the membership and whether it is new (adding an existing member changes nothing). */
export async function addMember(db: Queryable, tenantId: string, groupId: string, userId: string): Promise<{ addedAt: Date; created: boolean }> {
  const inserted = await query<{ created_at: Date }>(
    db,
    'INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING created_at',
    [tenantId, groupId, userId],
  );
  if (inserted.rows[0]) return { addedAt: inserted.rows[0].created_at, created: true };
  const existing = await query<{ created_at: Date }>(db, 'SELECT created_at FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3', [tenantId, groupId, userId]);
  return { addedAt: (existing.rows[0] as { created_at: Date }).created_at, created: false };
}

/** Removes a member; answers whether the user was one. */
export async function removeMember(db: Queryable, tenantId: string, groupId: string, userId: string): Promise<boolean> {
  const { rowCount } = await query(db, 'DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3', [tenantId, groupId, userId]);
  return (rowCount ?? 0) > 0;
}
