import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { ProviderCategory, ProviderType } from '../../messaging/index.js';

/** A provider without its sealed secret: only whether one is stored. */
export interface ProviderRow {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly category: ProviderCategory;
  readonly type: ProviderType;
  readonly settings: Record<string, unknown>;
  readonly hasSecret: boolean;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** How an update treats the sealed secret: keep it, replace it, or remove it. */
export type SecretChange = { readonly kind: 'keep' } | { readonly kind: 'set'; readonly ciphertext: string } | { readonly kind: 'clear' };

const columns = `id, org_id AS "tenantId", name, category, type, settings, secret_ciphertext IS NOT NULL AS "hasSecret", version,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function findProvider(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<ProviderRow | undefined> {
  const { rows } = await query<ProviderRow>(
    db,
    `SELECT ${columns} FROM providers WHERE org_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

/** The sealed secret of a provider, read only where a message is about to be sent. */
export async function findProviderCiphertext(db: Queryable, tenantId: string, id: string): Promise<string | undefined> {
  const { rows } = await query<{ secret_ciphertext: string | null }>(db, 'SELECT secret_ciphertext FROM providers WHERE org_id = $1 AND id = $2', [tenantId, id]);
  return rows[0]?.secret_ciphertext ?? undefined;
}

/** A page of a tenant's providers by name; `afterName` continues a keyset page (names are unique per tenant). */
export async function listProviders(
  db: Queryable,
  tenantId: string,
  page: { limit: number; offset: number; afterName?: string | undefined },
): Promise<{ rows: ProviderRow[]; total: number }> {
  const [found, count] = await Promise.all([
    query<ProviderRow>(
      db,
      `SELECT ${columns} FROM providers WHERE org_id = $1 AND ($2::text IS NULL OR name > $2)
        ORDER BY name, id LIMIT $3 OFFSET $4`,
      [tenantId, page.afterName ?? null, page.limit, page.afterName === undefined ? page.offset : 0],
    ),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM providers WHERE org_id = $1', [tenantId]),
  ]);
  return { rows: found.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function insertProvider(
  db: Queryable,
  provider: {
    id: string;
    tenantId: string;
    name: string;
    category: ProviderCategory;
    type: ProviderType;
    settings: Record<string, unknown>;
    secretCiphertext: string | null;
  },
): Promise<ProviderRow> {
  const { rows } = await query<ProviderRow>(
    db,
    `INSERT INTO providers (id, org_id, name, category, type, settings, secret_ciphertext)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING ${columns}`,
    [provider.id, provider.tenantId, provider.name, provider.category, provider.type, JSON.stringify(provider.settings), provider.secretCiphertext],
  );
  return rows[0] as ProviderRow;
}

/** Replaces name and settings as given (category and type never change) and applies the secret change. */
export async function updateProvider(
  db: Queryable,
  tenantId: string,
  id: string,
  changes: { name: string; settings: Record<string, unknown>; secret: SecretChange },
): Promise<ProviderRow> {
  const { rows } = await query<ProviderRow>(
    db,
    `UPDATE providers
        SET name = $3, settings = $4::jsonb,
            secret_ciphertext = CASE WHEN $5::boolean THEN secret_ciphertext ELSE $6::text END,
            version = version + 1, updated_at = now()
      WHERE org_id = $1 AND id = $2
      RETURNING ${columns}`,
    [tenantId, id, changes.name, JSON.stringify(changes.settings), changes.secret.kind === 'keep', changes.secret.kind === 'set' ? changes.secret.ciphertext : null],
  );
  return rows[0] as ProviderRow;
}

/** Deletes a provider (its application links go with it). */
export async function deleteProvider(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await query(db, 'DELETE FROM providers WHERE org_id = $1 AND id = $2', [tenantId, id]);
  return (rowCount ?? 0) > 0;
}
