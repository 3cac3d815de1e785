import { query, type Queryable } from '../platform/postgres-transaction.js';

/** A communication provider as stored: its settings, and its secret still sealed (by its id). */
export interface StoredCodeProvider {
  readonly id: string;
  readonly type: string;
  readonly category: string;
  readonly settings: unknown;
  readonly secretCiphertext: string | null;
}

/**
 * The provider a one-time code of `tenantId` goes out through, for a category (`Email`, `SMS`): the default
 * provider of the application `clientId` names, else any default of the organization, else its oldest provider of
 * that category; undefined when the organization has none.
 */
export async function codeProviderFor(db: Queryable, tenantId: string, category: string, clientId: string | undefined): Promise<StoredCodeProvider | undefined> {
  const { rows } = await query<StoredCodeProvider>(
    db,
    `SELECT p.id, p.type, p.category, p.settings, p.secret_ciphertext AS "secretCiphertext"
       FROM providers p
       LEFT JOIN application_providers ap ON ap.provider_id = p.id AND ap.org_id = p.org_id AND ap.is_default
       LEFT JOIN applications a ON a.id = ap.application_id AND a.org_id = p.org_id
      WHERE p.org_id = $1::uuid AND p.category = $2
      ORDER BY (a.client_id IS NOT NULL AND a.client_id = $3) DESC, (ap.provider_id IS NOT NULL) DESC, p.created_at, p.id
      LIMIT 1`,
    [tenantId, category, clientId ?? ''],
  );
  return rows[0];
}
