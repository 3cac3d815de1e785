import type pg from 'pg';
import { query } from '../../platform/postgres-transaction.js';

/** The second factors of the contract: an authenticator app (TOTP), an e-mailed code, a text message. */
export const mfaMethods = ['app', 'email', 'sms'] as const;
export type MfaMethod = (typeof mfaMethods)[number];

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
export async function findMfaSettings(db: pg.Pool | pg.ClientBase, orgId: string): Promise<MfaSettingsRow> {
  const { rows } = await query<MfaSettingsRow>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1`, [orgId]);
  return rows[0] ?? { org_id: orgId, ...defaultMfaSettings, allowed_methods: [...defaultMfaSettings.allowed_methods], version: 1, updated_at: new Date(0) };
}

/** Creates the default row if missing, then locks it: concurrent updates serialise on it. */
export async function lockMfaSettings(db: pg.ClientBase, orgId: string): Promise<MfaSettingsRow> {
  await query(db, 'INSERT INTO organization_mfa_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING', [orgId]);
  const { rows } = await query<MfaSettingsRow>(db, `SELECT ${settingsColumns} FROM organization_mfa_settings WHERE org_id = $1 FOR UPDATE`, [orgId]);
  return rows[0] as MfaSettingsRow;
}

export async function updateMfaSettings(db: pg.ClientBase, orgId: string, change: MfaSettingsChange): Promise<MfaSettingsRow> {
  const { rows } = await query<MfaSettingsRow>(
    db,
    `UPDATE organization_mfa_settings
        SET required = $2, allowed_methods = $3, code_ttl_seconds = $4, max_attempts = $5, max_resends = $6, remember_device_days = $7,
            version = version + 1, updated_at = now()
      WHERE org_id = $1 RETURNING ${settingsColumns}`,
    [orgId, change.required, change.allowed_methods, change.code_ttl_seconds, change.max_attempts, change.max_resends, change.remember_device_days],
  );
  return rows[0] as MfaSettingsRow;
}

/** The user an MFA route is about (`userId` already validated as a UUID), in the caller's organization only: another tenant's id is not found. */
export interface MfaUserRow {
  readonly id: string;
  readonly username: string;
  readonly email: string;
}

export async function findMfaUser(db: pg.Pool | pg.ClientBase, orgId: string, userId: string): Promise<MfaUserRow | undefined> {
  const { rows } = await query<MfaUserRow>(db, 'SELECT id, username, email FROM users WHERE org_id = $1 AND id = $2::uuid', [orgId, userId]);
  return rows[0];
}

export interface UserMfaRow {
  readonly org_id: string;
  readonly user_id: string;
  readonly totp_secret_ciphertext: string | null;
  /** The sealed pending state (an enrolment in progress, an e-mailed code): see identity-service/mfa/pending-state.ts. */
  readonly totp_pending_ciphertext: string | null;
  readonly totp_enabled: boolean;
  readonly email_enabled: boolean;
  readonly sms_enabled: boolean;
  readonly preferred_type: MfaMethod | null;
  readonly recovery_code_hashes: string[];
  readonly last_totp_step: number;
  /** Wrong authenticator codes since the last right one or the last lock (migration 0005). */
  readonly failed_attempts: number;
  /** Until when verify and disable are refused after too many wrong authenticator codes. */
  readonly locked_until: Date | null;
  readonly version: number;
  readonly updated_at: Date;
}

export type UserMfaChange = Partial<
  Pick<
    UserMfaRow,
    | 'totp_secret_ciphertext'
    | 'totp_pending_ciphertext'
    | 'totp_enabled'
    | 'email_enabled'
    | 'sms_enabled'
    | 'preferred_type'
    | 'recovery_code_hashes'
    | 'last_totp_step'
    | 'failed_attempts'
    | 'locked_until'
  >
>;

const userMfaColumns =
  'org_id, user_id, totp_secret_ciphertext, totp_pending_ciphertext, totp_enabled, email_enabled, sms_enabled, preferred_type, recovery_code_hashes, last_totp_step::float8 AS last_totp_step, failed_attempts, locked_until, version, updated_at';

/** A user's MFA state as it is when nothing was ever set up. */
export function emptyUserMfa(orgId: string, userId: string): UserMfaRow {
  return {
    org_id: orgId,
    user_id: userId,
    totp_secret_ciphertext: null,
    totp_pending_ciphertext: null,
    totp_enabled: false,
    email_enabled: false,
    sms_enabled: false,
    preferred_type: null,
    recovery_code_hashes: [],
    last_totp_step: 0,
    failed_attempts: 0,
    locked_until: null,
    version: 0,
    updated_at: new Date(0),
  };
}

export async function findUserMfa(db: pg.Pool | pg.ClientBase, orgId: string, userId: string): Promise<UserMfaRow> {
  const { rows } = await query<UserMfaRow>(db, `SELECT ${userMfaColumns} FROM user_mfa WHERE org_id = $1 AND user_id = $2`, [orgId, userId]);
  return rows[0] ?? emptyUserMfa(orgId, userId);
}

/**
 * Creates the user's row if missing, then locks it for the transaction. Everything single-use (TOTP steps,
 * recovery codes, e-mailed codes) is read and consumed under this lock, so concurrent uses serialise and
 * exactly one succeeds.
 */
export async function lockUserMfa(db: pg.ClientBase, orgId: string, userId: string): Promise<UserMfaRow> {
  await query(db, 'INSERT INTO user_mfa (org_id, user_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [orgId, userId]);
  const { rows } = await query<UserMfaRow>(db, `SELECT ${userMfaColumns} FROM user_mfa WHERE org_id = $1 AND user_id = $2 FOR UPDATE`, [orgId, userId]);
  return rows[0] as UserMfaRow;
}

const changeColumns: readonly (keyof UserMfaChange)[] = [
  'totp_secret_ciphertext',
  'totp_pending_ciphertext',
  'totp_enabled',
  'email_enabled',
  'sms_enabled',
  'preferred_type',
  'recovery_code_hashes',
  'last_totp_step',
  'failed_attempts',
  'locked_until',
];

/** Writes the given columns of a locked row (column names come from the fixed list above, values are parameters). */
export async function updateUserMfa(db: pg.ClientBase, orgId: string, userId: string, change: UserMfaChange): Promise<UserMfaRow> {
  const sets: string[] = [];
  const values: unknown[] = [orgId, userId];
  for (const column of changeColumns) {
    if (!(column in change)) continue;
    values.push(change[column]);
    sets.push(`${column} = $${values.length}`);
  }
  const { rows } = await query<UserMfaRow>(
    db,
    `UPDATE user_mfa SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
      WHERE org_id = $1 AND user_id = $2 RETURNING ${userMfaColumns}`,
    values,
  );
  return rows[0] as UserMfaRow;
}

/** Forgets every factor, secret, pending enrolment and recovery code of the user, and lifts a lock (disable, administrator reset). */
export async function clearUserMfa(db: pg.ClientBase, orgId: string, userId: string): Promise<UserMfaRow> {
  return updateUserMfa(db, orgId, userId, {
    totp_secret_ciphertext: null,
    totp_pending_ciphertext: null,
    totp_enabled: false,
    email_enabled: false,
    sms_enabled: false,
    preferred_type: null,
    recovery_code_hashes: [],
    failed_attempts: 0,
    locked_until: null,
  });
}
