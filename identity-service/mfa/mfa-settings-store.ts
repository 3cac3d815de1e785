import type pg from 'pg';
import { mfaMethods, type MfaMethod } from '../../directory/mfa-factors.js';
import { query } from '../../platform/postgres-transaction.js';

/** An organization's MFA settings as stored. */
export interface MfaSettings {
  readonly tenantId: string;
  readonly required: boolean;
  readonly allowedMethods: MfaMethod[];
  readonly codeTtlSeconds: number;
  readonly maxAttempts: number;
  readonly maxResends: number;
  readonly rememberDeviceDays: number;
  readonly version: number;
  readonly updatedAt: Date;
}

export type MfaSettingsChange = Pick<MfaSettings, 'required' | 'allowedMethods' | 'codeTtlSeconds' | 'maxAttempts' | 'maxResends' | 'rememberDeviceDays'>;

/** The table's defaults, for an organization that never changed its settings (the contract's defaults). */
export const defaultMfaSettings: Readonly<MfaSettingsChange> = Object.freeze({
  required: false,
  allowedMethods: [...mfaMethods],
  codeTtlSeconds: 300,
  maxAttempts: 5,
  maxResends: 3,
  rememberDeviceDays: 30,
});

const settingsColumns = `org_id AS "tenantId", required, allowed_methods AS "allowedMethods", code_ttl_seconds AS "codeTtlSeconds",
  max_attempts AS "maxAttempts", max_resends AS "maxResends", remember_device_days AS "rememberDeviceDays", version, updated_at AS "updatedAt"`;

/** The organization's settings; the defaults (version 1, as the row would be created) when it has none yet. */
export async function findMfaSettings(db: pg.Pool | pg.ClientBase, tenantId: string): Promise<MfaSettings> {
  const { rows } = await query<MfaSettings>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1`, [tenantId]);
  return rows[0] ?? { tenantId, ...defaultMfaSettings, allowedMethods: [...defaultMfaSettings.allowedMethods], version: 1, updatedAt: new Date(0) };
}

/** Creates the default row if missing, then locks it: concurrent updates serialise on it. */
export async function lockMfaSettings(db: pg.ClientBase, tenantId: string): Promise<MfaSettings> {
  await query(db, 'INSERT INTO organization_mfa_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING', [tenantId]);
  const { rows } = await query<MfaSettings>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1 FOR UPDATE`, [tenantId]);
  return rows[0] as MfaSettings;
}

export async function updateMfaSettings(db: pg.ClientBase, tenantId: string, change: MfaSettingsChange): Promise<MfaSettings> {
  const { rows } = await query<MfaSettings>(
    db,
    `UPDATE organization_mfa_settings
        SET required = $2, allowed_methods = $3, code_ttl_seconds = $4, max_attempts = $5, max_resends = $6, remember_device_days = $7,
            version = version + 1, updated_at = now()
      WHERE org_id = $1 RETURNING ${settingsColumns}`,
    [tenantId, change.required, change.allowedMethods, change.codeTtlSeconds, change.maxAttempts, change.maxResends, change.rememberDeviceDays],
  );
  return rows[0] as MfaSettings;
}
