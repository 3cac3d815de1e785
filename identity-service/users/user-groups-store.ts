import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';

/** The group ids of each user of a page, in one query (not one per user). */
export async function groupIdsOfUsers(db: pg.Pool | pg.ClientBase, tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const { rows } = await query<{ user_id: string; group_id: string }>(
    db,
    'SELECT user_id, group_id FROM group_members WHERE org_id = $1 AND user_id = ANY($2::uuid[]) ORDER BY user_id, group_id',
    [tenantId, userIds],
  );
  for (const row of rows) byUser.get(row.user_id)?.push(row.group_id);
  return byUser;
}

export async function groupIdsOfUser(db: pg.Pool | pg.ClientBase, tenantId: string, userId: string): Promise<string[]> {
  return (await groupIdsOfUsers(db, tenantId, [userId])).get(userId) ?? [];
}

/**
 * Those of `groupIds` that are groups of `tenantId`, locked against deletion until the transaction ends (a
 * group of another tenant is simply not there).
 */
export async function existingGroupIds(db: pg.ClientBase, tenantId: string, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const { rows } = await query<{ id: string }>(db, 'SELECT id FROM groups WHERE org_id = $1 AND id = ANY($2::uuid[]) FOR KEY SHARE', [tenantId, groupIds]);
  return new Set(rows.map((row) => row.id));
}

export async function addMemberships(db: pg.ClientBase, tenantId: string, userId: string, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await query(
    db,
    `INSERT INTO group_members (org_id, group_id, user_id) SELECT $1, g, $2 FROM unnest($3::uuid[]) AS g
     ON CONFLICT (group_id, user_id) DO NOTHING`,
    [tenantId, userId, groupIds],
  );
}

export async function removeMemberships(db: pg.ClientBase, tenantId: string, userId: string, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  await query(db, 'DELETE FROM group_members WHERE org_id = $1 AND user_id = $2 AND group_id = ANY($3::uuid[])', [tenantId, userId, groupIds]);
}

/** Removes every membership of a user and answers the groups it was in. */
export async function removeAllMemberships(db: pg.ClientBase, tenantId: string, userId: string): Promise<string[]> {
  const { rows } = await query<{ group_id: string }>(db, 'DELETE FROM group_members WHERE org_id = $1 AND user_id = $2 RETURNING group_id', [tenantId, userId]);
  return rows.map((row) => row.group_id).sort();
}
