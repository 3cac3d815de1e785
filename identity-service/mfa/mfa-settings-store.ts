import type pg from 'pg';
import { mfaMethods, type MfaMethod } from '../../directory/mfa-factors.js';
import { query } from '../../platform/postgres-transaction.js';

export interface MfaSettingsRow {
  readonly org_id: string;
  readonly required: boolean;
  readonly allowed_methods: MfaMethod[];
  readonly code_ttl_seconds: number;
  readonly max_attempts: number;
  readonly max_resends: number;
  readonly remember_device_days: number;
  readonly version: number;
  readonly updated_at: Date;
}

export type MfaSettingsChange = Pick<MfaSettingsRow, 'required' | 'allowed_methods' | 'code_ttl_seconds' | 'max_attempts' | 'max_resends' | 'remember_device_days'>;

/** The table's defaults, for an organization that never changed its settings (the contract's defaults). */
export const defaultMfaSettings: Readonly<MfaSettingsChange> = Object.freeze({
  required: false,
  allowed_methods: [...mfaMethods],
  code_ttl_seconds: 300,
  max_attempts: 5,
  max_resends: 3,
  remember_device_days: 30,
});

const settingsColumns = 'org_id, required, allowed_methods, code_ttl_seconds, max_attempts, max_resends, remember_device_days, version, updated_at';

/** The organization's settings; the defaults (version 1, as the row would be created) when it has none yet. */
export async function findMfaSettings(db: pg.Pool | pg.ClientBase, tenantId: string): Promise<MfaSettingsRow> {
  const { rows } = await query<MfaSettingsRow>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1`, [tenantId]);
  return rows[0] ?? { org_id: tenantId, ...defaultMfaSettings, allowed_methods: [...defaultMfaSettings.allowed_methods], version: 1, updated_at: new Date(0) };
}

/** Creates the default row if missing, then locks it: concurrent updates serialise on it. */
export async function lockMfaSettings(db: pg.ClientBase, tenantId: string): Promise<MfaSettingsRow> {
  await query(db, 'INSERT INTO organization_mfa_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING', [tenantId]);
  const { rows } = await query<MfaSettingsRow>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1 FOR UPDATE`, [tenantId]);
  return rows[0] as MfaSettingsRow;
}

export async function updateMfaSettings(db: pg.ClientBase, tenantId: string, change: MfaSettingsChange): Promise<MfaSettingsRow> {
  const { rows } = await query<MfaSettingsRow>(
    db,
    `UPDATE organization_mfa_settings
        SET required = $2, allowed_methods = $3, code_ttl_seconds = $4, max_attempts = $5, max_resends = $6, remember_device_days = $7,
            version = version + 1, updated_at = now()
      WHERE org_id = $1 RETURNING ${settingsColumns}`,
    [tenantId, change.required, change.allowed_methods, change.code_ttl_seconds, change.max_attempts, change.max_resends, change.remember_device_days],
  );
  return rows[0] as MfaSettingsRow;
}
