import { query, type Queryable } from '../../platform/postgres-transaction.js';
import type { ProviderCategory, ProviderType } from '../../messaging/index.js';

/** A link between an application and a provider, with the provider's name, category and type. */
export interface ApplicationProviderRow {
  readonly applicationId: string;
  readonly providerId: string;
  readonly providerName: string;
  readonly category: ProviderCategory;
  readonly type: ProviderType;
  readonly canSignIn: boolean;
  readonly canSignUp: boolean;
  readonly canUnlink: boolean;
  readonly prompted: boolean;
  readonly alertType: string | null;
  readonly rule: string | null;
  readonly isDefault: boolean;
  readonly version: number;
  readonly createdAt: Date;
}

export interface LinkFlags {
  readonly canSignIn: boolean;
  readonly canSignUp: boolean;
  readonly canUnlink: boolean;
  readonly prompted: boolean;
  readonly alertType: string | null;
  readonly rule: string | null;
}

const linkColumns = `ap.application_id AS "applicationId", ap.provider_id AS "providerId", p.name AS "providerName", p.category, p.type,
  ap.can_sign_in AS "canSignIn", ap.can_sign_up AS "canSignUp", ap.can_unlink AS "canUnlink", ap.prompted, ap.alert_type AS "alertType", ap.rule,
  ap.is_default AS "isDefault", ap.version, ap.created_at AS "createdAt"`;
const linkSource = 'application_providers ap JOIN providers p ON p.org_id = ap.org_id AND p.id = ap.provider_id';

export async function listApplicationProviders(
  db: Queryable,
  tenantId: string,
  applicationId: string,
  page: { limit: number; offset: number; afterName?: string | undefined },
): Promise<{ rows: ApplicationProviderRow[]; total: number }> {
  const [found, count] = await Promise.all([
    query<ApplicationProviderRow>(
      db,
      `SELECT ${linkColumns} FROM ${linkSource}
        WHERE ap.org_id = $1 AND ap.application_id = $2 AND ($3::text IS NULL OR p.name > $3)
        ORDER BY p.name, p.id LIMIT $4 OFFSET $5`,
      [tenantId, applicationId, page.afterName ?? null, page.limit, page.afterName === undefined ? page.offset : 0],
    ),
    query<{ total: string }>(db, 'SELECT count(*)::text AS total FROM application_providers WHERE org_id = $1 AND application_id = $2', [tenantId, applicationId]),
  ]);
  return { rows: found.rows, total: Number(count.rows[0]?.total ?? 0) };
}

export async function findApplicationProvider(
  db: Queryable,
  tenantId: string,
  applicationId: string,
  providerId: string,
  forUpdate = false,
): Promise<ApplicationProviderRow | undefined> {
  const { rows } = await query<ApplicationProviderRow>(
    db,
    `SELECT ${linkColumns} FROM ${linkSource}
      WHERE ap.org_id = $1 AND ap.application_id = $2 AND ap.provider_id = $3${forUpdate ? ' FOR UPDATE OF ap' : ''}`,
    [tenantId, applicationId, providerId],
  );
  return rows[0];
}

export async function insertApplicationProvider(db: Queryable, tenantId: string, applicationId: string, providerId: string, flags: LinkFlags): Promise<ApplicationProviderRow> {
  await query(
    db,
    `INSERT INTO application_providers (org_id, application_id, provider_id, can_sign_in, can_sign_up, can_unlink, prompted, alert_type, rule)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [tenantId, applicationId, providerId, flags.canSignIn, flags.canSignUp, flags.canUnlink, flags.prompted, flags.alertType, flags.rule],
  );
  return (await findApplicationProvider(db, tenantId, applicationId, providerId)) as ApplicationProviderRow;
}

export async function updateApplicationProvider(db: Queryable, tenantId: string, applicationId: string, providerId: string, flags: LinkFlags): Promise<ApplicationProviderRow> {
  await query(
    db,
    `UPDATE application_providers
        SET can_sign_in = $4, can_sign_up = $5, can_unlink = $6, prompted = $7, alert_type = $8, rule = $9, version = version + 1
      WHERE org_id = $1 AND application_id = $2 AND provider_id = $3`,
    [tenantId, applicationId, providerId, flags.canSignIn, flags.canSignUp, flags.canUnlink, flags.prompted, flags.alertType, flags.rule],
  );
  return (await findApplicationProvider(db, tenantId, applicationId, providerId)) as ApplicationProviderRow;
}

export async function deleteApplicationProvider(db: Queryable, tenantId: string, applicationId: string, providerId: string): Promise<boolean> {
  const { rowCount } = await query(
    db,
    'DELETE FROM application_providers WHERE org_id = $1 AND application_id = $2 AND provider_id = $3',
    [tenantId, applicationId, providerId],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Makes one link the application's default for its category and clears every other default of that
 * application and category. The category's links are locked first in one order (provider id), so two
 * concurrent switches queue instead of deadlocking, and the last one to commit wins: at most one default.
 */
export async function setDefaultProvider(db: Queryable, tenantId: string, applicationId: string, providerId: string, category: ProviderCategory): Promise<ApplicationProviderRow> {
  await query(
    db,
    `SELECT ap.provider_id FROM ${linkSource}
      WHERE ap.org_id = $1 AND ap.application_id = $2 AND p.category = $3
      ORDER BY ap.provider_id FOR UPDATE OF ap`,
    [tenantId, applicationId, category],
  );
  await query(
    db,
    `UPDATE application_providers ap
        SET is_default = (ap.provider_id = $3::uuid), version = ap.version + 1
       FROM providers p
      WHERE p.org_id = ap.org_id AND p.id = ap.provider_id AND p.category = $4
        AND ap.org_id = $1 AND ap.application_id = $2
        AND ap.is_default IS DISTINCT FROM (ap.provider_id = $3::uuid)`,
    [tenantId, applicationId, providerId, category],
  );
  return (await findApplicationProvider(db, tenantId, applicationId, providerId)) as ApplicationProviderRow;
}
