import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';

export interface OrganizationRow {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: 'active' | 'disabled';
  readonly version: number;
  readonly created_at: Date;
  readonly updated_at: Date;
}

const columns = 'id, slug, name, status, version, created_at, updated_at';

export async function findOrganization(db: pg.Pool | pg.ClientBase, id: string, forUpdate = false): Promise<OrganizationRow | undefined> {
  const { rows } = await query<OrganizationRow>(db, `SELECT ${columns} FROM organizations WHERE id::text = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0];
}

export async function listOrganizations(db: pg.Pool, limit: number, offset: number): Promise<{ rows: OrganizationRow[]; total: number }> {
  const [page, count] = await Promise.all([
    query<OrganizationRow>(db, `SELECT ${columns} FROM organizations ORDER BY created_at, id LIMIT $1 OFFSET $2`, [limit, offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM organizations'),
  ]);
  return { rows: page.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function insertOrganization(db: pg.ClientBase, slug: string, name: string): Promise<OrganizationRow> {
  const { rows } = await query<OrganizationRow>(db, `INSERT INTO organizations (slug, name) VALUES ($1, $2) RETURNING ${columns}`, [slug, name]);
  return rows[0] as OrganizationRow;
}

export async function updateOrganization(
  db: pg.ClientBase,
  id: string,
  changes: { name?: string | undefined; status?: 'active' | 'disabled' | undefined },
): Promise<OrganizationRow> {
  const { rows } = await query<OrganizationRow>(
    db,
    `UPDATE organizations SET name = coalesce($2, name), status = coalesce($3, status), version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${columns}`,
    [id, changes.name ?? null, changes.status ?? null],
  );
  return rows[0] as OrganizationRow;
}
