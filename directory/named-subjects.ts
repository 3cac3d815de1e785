import { query, type Queryable } from '../platform/postgres-transaction.js';

/** A user or an application of a tenant, found by the name another subject gave it. */
export interface NamedSubjectRow {
  readonly kind: 'user' | 'application';
  readonly id: string;
  readonly active: boolean;
}

/**
 * The users and applications of the tenant whose organization's slug is `ownerSlug` (any case) and that `name`
 * names: a user by id or canonical username, an application by id or name. At most two rows: two mean the name
 * is ambiguous.
 */
export async function subjectsNamed(db: Queryable, tenantId: string, ownerSlug: string, name: string, nameCanonical: string): Promise<NamedSubjectRow[]> {
  const { rows } = await query<{ kind: 'user' | 'application'; id: string; status: string }>(
    db,
    `SELECT 'user' AS kind, u.id, u.status FROM users u JOIN organizations o ON o.id = u.org_id
       WHERE u.org_id = $1::uuid AND lower(o.slug) = lower($2) AND (u.id::text = $3 OR u.username_canonical = $4)
     UNION ALL
     SELECT 'application' AS kind, a.id, 'active' AS status FROM applications a JOIN organizations o ON o.id = a.org_id
       WHERE a.org_id = $1::uuid AND lower(o.slug) = lower($2) AND (a.id::text = $3 OR a.name = $3)
     LIMIT 2`,
    [tenantId, ownerSlug, name, nameCanonical],
  );
  return rows.map((row) => ({ kind: row.kind, id: row.id, active: row.status === 'active' }));
}
