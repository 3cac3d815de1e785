import { query, type Queryable } from '../platform/postgres-transaction.js';
import type { PageStart } from './page-start.js';

/** A user as the API may show it: the password hash is never among these fields (see `passwordHashOf`). */
export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly username: string;
  readonly usernameCanonical: string;
  readonly email: string;
  /** E.164, for codes sent by SMS; null when the user has none. */
  readonly phoneNumber: string | null;
  readonly firstName: string;
  readonly lastName: string;
  readonly status: 'active' | 'disabled';
  readonly builtin: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewUser {
  readonly username: string;
  readonly usernameCanonical: string;
  readonly email: string;
  readonly emailCanonical: string;
  readonly phoneNumber?: string | null | undefined;
  readonly firstName: string;
  readonly lastName: string;
  readonly passwordHash: string;
}

export interface UserChanges {
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly email?: { readonly value: string; readonly canonical: string } | undefined;
  /** A new number, or null to remove it (undefined: kept). */
  readonly phoneNumber?: string | null | undefined;
}

export interface UserFilter {
  /** Canonical username prefix; matched literally (LIKE wildcards escaped). */
  readonly usernamePrefix?: string | undefined;
  readonly emailCanonical?: string | undefined;
  readonly groupId?: string | undefined;
}

/** Who an MFA code is sent to: the user's id and its contact, in its tenant only. */
export interface UserContact {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly phoneNumber: string | null;
}

/** The constraints whose violation means "taken" (names from 0002_identity.sql). */
export const userConstraints = {
  username: 'users_username_canonical_key',
  email: 'users_org_id_email_canonical_key',
} as const;

const columns = `u.id, u.org_id AS "tenantId", u.username, u.username_canonical AS "usernameCanonical", u.email, u.phone_number AS "phoneNumber",
  u.first_name AS "firstName", u.last_name AS "lastName", u.status, u.builtin, u.version,
  u.created_at AS "createdAt", u.updated_at AS "updatedAt"`;

/** `forUpdate` locks the row for the caller's transaction: every write to a user starts with it. */
export async function findUser(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<User | undefined> {
  const { rows } = await query<User>(db, `SELECT ${columns} FROM users u WHERE u.org_id = $1 AND u.id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return rows[0];
}

/** The user's id, username and e-mail (`userId` already validated as a UUID); another tenant's id is not found. */
export async function findUserContact(db: Queryable, tenantId: string, userId: string): Promise<UserContact | undefined> {
  const { rows } = await query<UserContact>(db, 'SELECT id, username, email, phone_number AS "phoneNumber" FROM users WHERE org_id = $1 AND id = $2::uuid', [tenantId, userId]);
  return rows[0];
}

/** The stored argon2id hash, read only to verify a password; never returned or audited. */
export async function passwordHashOf(db: Queryable, tenantId: string, id: string): Promise<string | undefined> {
  const { rows } = await query<{ password_hash: string }>(db, 'SELECT password_hash FROM users WHERE org_id = $1 AND id = $2', [tenantId, id]);
  return rows[0]?.password_hash;
}

/** `LIKE` pattern matching `prefix` literally. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * One page of a tenant's users ordered by `(username_canonical, id)`: exactly the `users_org_username` index
 * (org_id leads the ORDER BY so the planner never prefers the global username index), so a keyset page
 * (`page.after` is a canonical username and id) is an index range scan however deep it is; also the number of
 * users matching the filter. One row more than the page is read, so `hasMore` says whether another follows.
 */
export async function listUsers(db: Queryable, tenantId: string, filter: UserFilter, page: PageStart): Promise<{ rows: User[]; total: number; hasMore: boolean }> {
  const where = ['u.org_id = $1'];
  const values: unknown[] = [tenantId];
  const add = (condition: (n: number) => string, value: unknown) => {
    values.push(value);
    where.push(condition(values.length));
  };
  if (filter.usernamePrefix !== undefined) add((n) => `u.username_canonical LIKE $${n} ESCAPE '\\'`, likePrefix(filter.usernamePrefix));
  if (filter.emailCanonical !== undefined) add((n) => `u.email_canonical = $${n}`, filter.emailCanonical);
  if (filter.groupId !== undefined) {
    add((n) => `EXISTS (SELECT 1 FROM group_members m WHERE m.org_id = u.org_id AND m.user_id = u.id AND m.group_id = $${n})`, filter.groupId);
  }
  // Unfiltered, the trigger-kept count answers at once (migration 0004); a filter counts its matches.
  const countText =
    where.length === 1
      ? 'SELECT coalesce((SELECT users FROM organization_user_counts WHERE org_id = $1), 0)::text AS total'
      : `SELECT count(*)::text AS total FROM users u WHERE ${where.join(' AND ')}`;
  const countValues = [...values];
  if (page.after) {
    values.push(page.after.sortValue, page.after.id);
    where.push(`(u.username_canonical, u.id) > ($${values.length - 1}, $${values.length}::uuid)`);
  }
  values.push(page.limit + 1, page.offset);
  const pageText = `SELECT ${columns} FROM users u WHERE ${where.join(' AND ')}
    ORDER BY u.org_id, u.username_canonical, u.id LIMIT $${values.length - 1} OFFSET $${values.length}`;
  const [rows, count] = await Promise.all([query<User>(db, pageText, values), query<{ total: string }>(db, countText, countValues)]);
  return { rows: rows.rows.slice(0, page.limit), total: Number(count.rows[0]?.total ?? 0), hasMore: rows.rows.length > page.limit };
}

/** How many users the whole installation holds (the license's `users` limit), from the trigger-kept counts. */
export async function countUsers(db: Queryable): Promise<number> {
  const { rows } = await query<{ n: number }>(db, 'SELECT coalesce(sum(users), 0)::float8 AS n FROM organization_user_counts');
  return Number(rows[0]?.n ?? 0);
}

export async function insertUser(db: Queryable, tenantId: string, user: NewUser): Promise<User> {
  const { rows } = await query<User>(
    db,
    `INSERT INTO users AS u (org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash, phone_number)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${columns}`,
    [tenantId, user.username, user.usernameCanonical, user.email, user.emailCanonical, user.firstName, user.lastName, user.passwordHash, user.phoneNumber ?? null],
  );
  return rows[0] as User;
}

/** Changes the profile (absent fields kept) and bumps the version: a membership change is a change of the user too. */
export async function updateUser(db: Queryable, tenantId: string, id: string, changes: UserChanges): Promise<User> {
  const { rows } = await query<User>(
    db,
    `UPDATE users u SET first_name = coalesce($3, first_name), last_name = coalesce($4, last_name),
            email = coalesce($5, email), email_canonical = coalesce($6, email_canonical),
            phone_number = CASE WHEN $7::boolean THEN $8 ELSE phone_number END,
            version = version + 1, updated_at = now()
      WHERE u.org_id = $1 AND u.id = $2 RETURNING ${columns}`,
    [tenantId, id, changes.firstName ?? null, changes.lastName ?? null, changes.email?.value ?? null, changes.email?.canonical ?? null, changes.phoneNumber !== undefined, changes.phoneNumber ?? null],
  );
  return rows[0] as User;
}

/** Sets the status only: a disable's caller also ends the user's sessions (endSessions), so an enable revives none. */
export async function setUserStatus(db: Queryable, tenantId: string, id: string, status: User['status']): Promise<User> {
  const { rows } = await query<User>(
    db,
    `UPDATE users u SET status = $3, version = version + 1, updated_at = now()
      WHERE u.org_id = $1 AND u.id = $2 RETURNING ${columns}`,
    [tenantId, id, status],
  );
  return rows[0] as User;
}

/** Stores a new hash; its caller also ends the user's sessions (endSessions) in the same transaction. */
export async function setPasswordHash(db: Queryable, tenantId: string, id: string, passwordHash: string): Promise<User> {
  const { rows } = await query<User>(
    db,
    `UPDATE users u SET password_hash = $3, version = version + 1, updated_at = now()
      WHERE u.org_id = $1 AND u.id = $2 RETURNING ${columns}`,
    [tenantId, id, passwordHash],
  );
  return rows[0] as User;
}

export async function deleteUser(db: Queryable, tenantId: string, id: string): Promise<void> {
  await query(db, 'DELETE FROM users WHERE org_id = $1 AND id = $2', [tenantId, id]);
}

// Built-in users (the first administrator) are the bootstrap reconciler's: it alone sets their id and `builtin`.

/** The tenant's first built-in user (the administrator the bootstrap created), if there is one. */
export async function findFirstBuiltinUser(db: Queryable, tenantId: string): Promise<{ id: string; username: string } | undefined> {
  const { rows } = await query<{ id: string; username: string }>(db, 'SELECT id::text, username FROM users WHERE org_id = $1 AND builtin ORDER BY created_at LIMIT 1', [tenantId]);
  return rows[0];
}

/** Whether the username (canonical, unique across organizations) or the e-mail (canonical, per organization) is in use. */
export async function isUserTaken(db: Queryable, tenantId: string, usernameCanonical: string, emailCanonical: string): Promise<{ username: boolean; email: boolean }> {
  const { rows } = await query<{ username: boolean; email: boolean }>(
    db,
    `SELECT EXISTS (SELECT 1 FROM users WHERE username_canonical = $2) AS username,
            EXISTS (SELECT 1 FROM users WHERE org_id = $1 AND email_canonical = $3) AS email`,
    [tenantId, usernameCanonical, emailCanonical],
  );
  return rows[0] ?? { username: false, email: false };
}

export async function insertBuiltinUser(db: Queryable, tenantId: string, user: NewUser & { readonly id: string }): Promise<void> {
  await query(
    db,
    `INSERT INTO users (id, org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash, builtin)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true)`,
    [user.id, tenantId, user.username, user.usernameCanonical, user.email, user.emailCanonical, user.firstName, user.lastName, user.passwordHash],
  );
}

/**
 * A user of the tenant who may become (or stop being) a group member, share-locked so that deleting the user
 * waits for the caller's transaction and then sees the membership (its `g` line goes with it).
 */
export async function lockMemberCandidate(db: Queryable, tenantId: string, userId: string): Promise<{ id: string; username: string } | undefined> {
  const { rows } = await query<{ id: string; username: string }>(db, 'SELECT id::text, username FROM users WHERE org_id = $1 AND id = $2 FOR KEY SHARE', [tenantId, userId]);
  return rows[0];
}

/** The usernames of each group's members, in canonical order, in one query (not one per group). */
export async function memberUsernamesOfGroups(db: Queryable, tenantId: string, groupIds: readonly string[]): Promise<Map<string, string[]>> {
  const byGroup = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return byGroup;
  const { rows } = await query<{ group_id: string; username: string }>(
    db,
    `SELECT m.group_id::text, u.username FROM group_members m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
      WHERE m.org_id = $1 AND m.group_id = ANY($2::uuid[]) ORDER BY u.username_canonical, u.id`,
    [tenantId, groupIds],
  );
  for (const row of rows) byGroup.get(row.group_id)?.push(row.username);
  return byGroup;
}

/** A member of a group as its list shows it. */
export interface GroupMember {
  readonly id: string;
  readonly username: string;
  readonly usernameCanonical: string;
  readonly addedAt: Date;
}

/** A page of a group's members by canonical username; `after` continues a keyset page. */
export async function listGroupMembers(db: Queryable, tenantId: string, groupId: string, page: PageStart): Promise<{ rows: GroupMember[]; total: number }> {
  const select = `SELECT u.id::text, u.username, u.username_canonical AS "usernameCanonical", m.created_at AS "addedAt"
      FROM group_members m JOIN users u ON u.org_id = m.org_id AND u.id = m.user_id
     WHERE m.org_id = $1 AND m.group_id = $2`;
  const [items, count] = await Promise.all([
    page.after
      ? query<GroupMember>(db, `${select} AND (u.username_canonical, u.id) > ($3, $4::uuid) ORDER BY u.username_canonical, u.id LIMIT $5`, [
          tenantId,
          groupId,
          page.after.sortValue,
          page.after.id,
          page.limit,
        ])
      : query<GroupMember>(db, `${select} ORDER BY u.username_canonical, u.id LIMIT $3 OFFSET $4`, [tenantId, groupId, page.limit, page.offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM group_members WHERE org_id = $1 AND group_id = $2', [tenantId, groupId]),
  ]);
  return { rows: items.rows, total: Number(count.rows[0]?.total ?? 0) };
}

/**
 * Adds `count` users named `user0000001`, `user0000002`, … to the tenant in one statement, all with one password
 * hash, and refreshes the planner's statistics of the table: what the user-list benchmark seeds.
 */
export async function insertNumberedUsers(db: Queryable, tenantId: string, count: number, passwordHash: string): Promise<void> {
  await query(
    db,
    `INSERT INTO users (org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
     SELECT $1, 'user' || lpad(i::text, 7, '0'), 'user' || lpad(i::text, 7, '0'), 'user' || i || '@bench.test', 'user' || i || '@bench.test', 'Bench', 'User', $2
       FROM generate_series(1, $3) AS i`,
    [tenantId, passwordHash, count],
  );
  await query(db, 'ANALYZE users');
}

/** The account a sign-in names by its canonical username (unique across organizations), when there is one. */
export async function accountNamed(db: Queryable, usernameCanonical: string): Promise<{ id: string; tenantId: string } | undefined> {
  const { rows } = await query<{ id: string; org_id: string }>(db, 'SELECT id, org_id FROM users WHERE username_canonical = $1', [usernameCanonical]);
  const row = rows[0];
  return row ? { id: row.id, tenantId: row.org_id } : undefined;
}

/** Stores a password's new hash, only while the stored one is still `previousHash` (a change meanwhile wins). */
export async function replacePasswordHash(db: Queryable, tenantId: string, id: string, previousHash: string, passwordHash: string): Promise<void> {
  await query(db, 'UPDATE users SET password_hash = $1 WHERE id = $2 AND org_id = $3 AND password_hash = $4', [passwordHash, id, tenantId, previousHash]);
}
