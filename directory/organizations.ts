import { query, type Queryable } from '../platform/postgres-transaction.js';

/** An organization (a tenant): its `id` is the `tenantId` every other directory row carries. */
export interface Organization {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

const columns = 'id, slug, name, status, version, created_at AS "createdAt", updated_at AS "updatedAt"';

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
