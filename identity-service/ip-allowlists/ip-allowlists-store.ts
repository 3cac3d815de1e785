import { query, type Queryable } from '../../platform/postgres-transaction.js';

export interface IpAllowlistRow {
  readonly tenantId: string;
  readonly surface: string;
  readonly cidrs: string[];
  readonly version: number;
  readonly updatedAt: Date;
}

const columns = 'org_id AS "tenantId", surface, cidrs, version, updated_at AS "updatedAt"';

export async function listIpAllowlists(db: Queryable, tenantId: string, limit: number, offset: number): Promise<{ rows: IpAllowlistRow[]; total: number }> {
  const [page, count] = await Promise.all([
    query<IpAllowlistRow>(db, `SELECT ${columns} FROM ip_allowlists WHERE org_id = $1 ORDER BY surface LIMIT $2 OFFSET $3`, [tenantId, limit, offset]),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM ip_allowlists WHERE org_id = $1', [tenantId]),
  ]);
  return { rows: page.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function findIpAllowlist(db: Queryable, tenantId: string, surface: string, forUpdate = false): Promise<IpAllowlistRow | undefined> {
  const { rows } = await query<IpAllowlistRow>(db, `SELECT ${columns} FROM ip_allowlists WHERE org_id = $1 AND surface = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, surface]);
  return rows[0];
}

/** Creates the surface's list or replaces its ranges (a new version either way). */
export async function putIpAllowlist(db: Queryable, tenantId: string, surface: string, cidrs: readonly string[]): Promise<IpAllowlistRow> {
  const { rows } = await query<IpAllowlistRow>(
    db,
    `INSERT INTO ip_allowlists (org_id, surface, cidrs) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, surface) DO UPDATE SET cidrs = EXCLUDED.cidrs, version = ip_allowlists.version + 1, updated_at = now()
     RETURNING ${columns}`,
    [tenantId, surface, cidrs],
  );
  return rows[0] as IpAllowlistRow;
}

export async function deleteIpAllowlist(db: Queryable, tenantId: string, surface: string): Promise<void> {
  await query(db, 'DELETE FROM ip_allowlists WHERE org_id = $1 AND surface = $2', [tenantId, surface]);
}
