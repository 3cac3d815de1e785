import { query, type Queryable } from '../platform/postgres-transaction.js';

/** An organization (a tenant): its `id` is the `tenantId` every other directory row carries. */
export interface Organization {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  /** Created by the bootstrap reconciler, which alone changes it. */
  readonly builtin: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const columns = 'id, slug, name, status, builtin, version, created_at AS "createdAt", updated_at AS "updatedAt"';

/** `forUpdate` locks the row for the caller's transaction (a status change serialises with sign-ins on it). */
export async function findOrganization(db: Queryable, id: string, forUpdate = false): Promise<Organization | undefined> {
  const { rows } = await query<Organization>(db, `SELECT ${columns} FROM organizations WHERE id::text = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function listOrganizations(db: Queryable, limit: number, offset: number): Promise<{ rows: Organization[]; total: number }> {
  const [page, count] = await Promise.all([
    query<Organization>(db, `SELECT ${columns} FROM organizations ORDER BY created_at, id LIMIT $1 OFFSET $2`, [limit, offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM organizations'),
  ]);
  return { rows: page.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function insertOrganization(db: Queryable, slug: string, name: string): Promise<Organization> {
  const { rows } = await query<Organization>(db, `INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING ${columns}`, [slug, name]);
  return rows[0] as Organization;
}

/** Changes the name or status (absent fields kept) and bumps the version. */
export async function updateOrganization(
  db: Queryable,
  id: string,
  changes: { name?: string | undefined; status?: 'active' | 'disabled' | undefined },
): Promise<Organization> {
  const { rows } = await query<Organization>(
    db,
    `UPDATE organizations SET name = coalesce($2, name), status = coalesce($3, status), version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${columns}`,
    [id, changes.name ?? null, changes.status ?? null],
  );
  return rows[0] as Organization;
}

/** How many organizations exist (the license's `organizations` limit). */
export async function countOrganizations(db: Queryable): Promise<number> {
  const { rows } = await query<{ n: number }>(db, 'SELECT count(*)::float8 AS n FROM organizations');
  return Number(rows[0]?.n ?? 0);
}

// Built-in organizations are the bootstrap reconciler's: it alone sets their id and `builtin`, and its updates name
// `builtin`, so they never change an organization an administrator created.

/** Whether an organization other than `exceptId` holds the slug. */
export async function isSlugTaken(db: Queryable, slug: string, exceptId: string): Promise<boolean> {
  const { rows } = await query(db, 'SELECT 1 FROM organizations WHERE slug = $1 AND id <> $2', [slug, exceptId]);
  return rows.length > 0;
}

export async function insertBuiltinOrganization(db: Queryable, id: string, slug: string, name: string): Promise<void> {
  await query(db, 'INSERT INTO organizations (id, slug, name, builtin) VALUES ($1, $2, $3, true)', [id, slug, name]);
}

export async function updateBuiltinOrganization(db: Queryable, id: string, slug: string, name: string): Promise<void> {
  await query(db, 'UPDATE organizations SET slug = $2, name = $3, version = version + 1, updated_at = now() WHERE id = $1 AND builtin', [id, slug, name]);
}
