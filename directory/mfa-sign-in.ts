import type pg from 'pg';
import { query } from '../platform/postgres-transaction.js';
import type { MfaAttemptChange, MfaAttemptState } from '../domain/mfa-attempts.js';
import { mfaMethods, type MfaMethod } from './mfa-factors.js';

// Auth's reads and writes of the MFA tables Identity owns (organization_mfa_settings, user_mfa) and of its
// own remembered_devices. Identity enrols; Auth only checks and consumes.

/** What decides whether a sign-in needs a second factor, and its limits (table defaults when no row exists). */
export interface MfaProfile {
  readonly required: boolean;
  readonly allowedMethods: readonly MfaMethod[];
  readonly codeTtlSeconds: number;
  readonly maxAttempts: number;
  readonly maxResends: number;
  readonly rememberDeviceDays: number;
  readonly enabled: Readonly<Record<MfaMethod, boolean>>;
  readonly preferredType: MfaMethod | null;
  /** Where codes sent by SMS go (E.164); null: SMS cannot be used. */
  readonly phoneNumber: string | null;
}

interface ProfileRow {
  required: boolean | null;
  allowed_methods: string[] | null;
  code_ttl_seconds: number | null;
  max_attempts: number | null;
  max_resends: number | null;
  remember_device_days: number | null;
  totp_enabled: boolean | null;
  has_totp_secret: boolean | null;
  email_enabled: boolean | null;
  sms_enabled: boolean | null;
  preferred_type: string | null;
  phone_number: string | null;
}

const isMethod = (value: string | null): value is MfaMethod => value !== null && (mfaMethods as readonly string[]).includes(value);

export async function findMfaProfile(db: pg.Pool | pg.ClientBase, tenantId: string, userId: string): Promise<MfaProfile> {
  const { rows } = await query<ProfileRow>(
    db,
    `SELECT s.required, s.allowed_methods, s.code_ttl_seconds, s.max_attempts, s.max_resends, s.remember_device_days,
            m.totp_enabled, m.totp_secret_ciphertext IS NOT NULL AS has_totp_secret, m.email_enabled, m.sms_enabled, m.preferred_type,
            u.phone_number
       FROM (SELECT $1::uuid AS org_id, $2::uuid AS user_id) k
       LEFT JOIN organization_mfa_settings s ON s.org_id = k.org_id
       LEFT JOIN user_mfa m ON m.org_id = k.org_id AND m.user_id = k.user_id
       LEFT JOIN users u ON u.org_id = k.org_id AND u.id = k.user_id`,
    [tenantId, userId],
  );
  const row = rows[0] as ProfileRow;
  return {
    required: row.required ?? false,
    allowedMethods: (row.allowed_methods ?? [...mfaMethods]).filter(isMethod),
    codeTtlSeconds: row.code_ttl_seconds ?? 300,
    maxAttempts: row.max_attempts ?? 5,
    maxResends: row.max_resends ?? 3,
    rememberDeviceDays: row.remember_device_days ?? 30,
    enabled: { app: (row.totp_enabled ?? false) && (row.has_totp_secret ?? false), email: row.email_enabled ?? false, sms: row.sms_enabled ?? false },
    preferredType: isMethod(row.preferred_type) ? row.preferred_type : null,
    phoneNumber: row.phone_number,
  };
}

/**
 * The factors a sign-in consumes, locked until the transaction ends: concurrent uses serialise, one wins. The
 * wrong-code count and lock (`failed_attempts`, `locked_until`) are Identity's too: one limit for both services
 * and every kind of one-time code.
 */
export interface LockedFactors extends MfaAttemptState {
  readonly totpSecretCiphertext: string | null;
  readonly totpEnabled: boolean;
  readonly recoveryCodeHashes: readonly string[];
  readonly lastTotpStep: number;
}

/**
 * Creates the user's row if missing (a user the organization requires MFA of may have none, and is still sent a
 * code whose wrong guesses must count), then locks it for the transaction.
 */
export async function lockFactors(db: pg.ClientBase, tenantId: string, userId: string): Promise<LockedFactors> {
  await query(db, 'INSERT INTO user_mfa (org_id, user_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [tenantId, userId]);
  const { rows } = await query<{
    totp_secret_ciphertext: string | null;
    totp_enabled: boolean;
    recovery_code_hashes: string[];
    last_totp_step: number;
    failed_attempts: number;
    locked_until: Date | null;
  }>(
    db,
    `SELECT totp_secret_ciphertext, totp_enabled, recovery_code_hashes, last_totp_step::float8 AS last_totp_step, failed_attempts, locked_until
       FROM user_mfa WHERE org_id = $1 AND user_id = $2 FOR UPDATE`,
    [tenantId, userId],
  );
  const row = rows[0] as (typeof rows)[number];
  return {
    totpSecretCiphertext: row.totp_secret_ciphertext,
    totpEnabled: row.totp_enabled,
    recoveryCodeHashes: row.recovery_code_hashes,
    lastTotpStep: row.last_totp_step,
    failed_attempts: row.failed_attempts,
    locked_until: row.locked_until,
  };
}

/** The organization's wrong one-time-code limit (Identity's MFA settings; the table default without a row). */
export async function maxCodeAttempts(db: pg.ClientBase, tenantId: string): Promise<number> {
  const { rows } = await query<{ max_attempts: number }>(db, 'SELECT max_attempts FROM organization_mfa_settings WHERE org_id = $1', [tenantId]);
  return rows[0]?.max_attempts ?? 5;
}

/** Writes a one-time code's outcome: the accepted TOTP step (when one was), and the wrong-code count and lock change. */
export async function saveCodeOutcome(db: pg.ClientBase, tenantId: string, userId: string, outcome: { step?: number; attempts: MfaAttemptChange }): Promise<void> {
  const { step, attempts } = outcome;
  if (step === undefined && attempts.failed_attempts === undefined && attempts.locked_until === undefined) return;
  await query(
    db,
    `UPDATE user_mfa SET last_totp_step = coalesce($3, last_totp_step), failed_attempts = coalesce($4, failed_attempts),
            locked_until = coalesce($5, locked_until), version = version + 1, updated_at = now()
      WHERE org_id = $1 AND user_id = $2`,
    [tenantId, userId, step ?? null, attempts.failed_attempts ?? null, attempts.locked_until ?? null],
  );
}

export async function saveRecoveryCodeHashes(db: pg.ClientBase, tenantId: string, userId: string, hashes: readonly string[]): Promise<void> {
  await query(db, 'UPDATE user_mfa SET recovery_code_hashes = $3, version = version + 1, updated_at = now() WHERE org_id = $1 AND user_id = $2', [tenantId, userId, hashes]);
}

export async function saveRememberedDevice(db: pg.Pool | pg.ClientBase, device: { tenantId: string; userId: string; tokenHash: string; expiresAtMs: number }): Promise<void> {
  await query(db, 'INSERT INTO remembered_devices (token_hash, org_id, user_id, expires_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))', [
    device.tokenHash,
    device.tenantId,
    device.userId,
    device.expiresAtMs,
  ]);
}

/** Whether this device token was issued to this very user and has not expired (by the injected clock). */
export async function isRememberedDevice(db: pg.Pool | pg.ClientBase, device: { tenantId: string; userId: string; tokenHash: string; nowMs: number }): Promise<boolean> {
  const { rows } = await query(
    db,
    'SELECT 1 FROM remembered_devices WHERE token_hash = $1 AND org_id = $2 AND user_id = $3 AND expires_at > to_timestamp($4 / 1000.0)',
    [device.tokenHash, device.tenantId, device.userId, device.nowMs],
  );
  return rows.length > 0;
}
