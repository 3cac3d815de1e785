import { query, type Queryable } from '../platform/postgres-transaction.js';

/** The second factors of the contract: an authenticator app (TOTP), an e-mailed code, a text message. */
export const mfaMethods = ['app', 'email', 'sms'] as const;
export type MfaMethod = (typeof mfaMethods)[number];

/** A user's second factors and recovery codes (`user_mfa`); secrets only ever sealed. */
export interface UserMfa {
  readonly tenantId: string;
  readonly userId: string;
  readonly totpSecretCiphertext: string | null;
  /** The sealed pending state (an enrolment in progress, an e-mailed code). */
  readonly totpPendingCiphertext: string | null;
  readonly totpEnabled: boolean;
  readonly emailEnabled: boolean;
  readonly smsEnabled: boolean;
  readonly preferredType: MfaMethod | null;
  readonly recoveryCodeHashes: string[];
  /** The last accepted TOTP time step: a code of that step or an earlier one is never accepted again. */
  readonly lastTotpStep: number;
  /** Wrong authenticator codes since the last right one or the last lock. */
  readonly failedAttempts: number;
  /** Until when verify and disable are refused after too many wrong authenticator codes. */
  readonly lockedUntil: Date | null;
  readonly version: number;
  readonly updatedAt: Date;
}

export type UserMfaChange = Partial<
  Pick<
    UserMfa,
    | 'totpSecretCiphertext'
    | 'totpPendingCiphertext'
    | 'totpEnabled'
    | 'emailEnabled'
    | 'smsEnabled'
    | 'preferredType'
    | 'recoveryCodeHashes'
    | 'lastTotpStep'
    | 'failedAttempts'
    | 'lockedUntil'
  >
>;

// The only column names an update may write: a change's keys are looked up here, never put into SQL themselves.
const changeColumns: Readonly<Record<keyof UserMfaChange, string>> = {
  totpSecretCiphertext: 'totp_secret_ciphertext',
  totpPendingCiphertext: 'totp_pending_ciphertext',
  totpEnabled: 'totp_enabled',
  emailEnabled: 'email_enabled',
  smsEnabled: 'sms_enabled',
  preferredType: 'preferred_type',
  recoveryCodeHashes: 'recovery_code_hashes',
  lastTotpStep: 'last_totp_step',
  failedAttempts: 'failed_attempts',
  lockedUntil: 'locked_until',
};

const columns = `org_id AS "tenantId", user_id AS "userId", totp_secret_ciphertext AS "totpSecretCiphertext",
  totp_pending_ciphertext AS "totpPendingCiphertext", totp_enabled AS "totpEnabled", email_enabled AS "emailEnabled",
  sms_enabled AS "smsEnabled", preferred_type AS "preferredType", recovery_code_hashes AS "recoveryCodeHashes",
  last_totp_step::float8 AS "lastTotpStep", failed_attempts AS "failedAttempts", locked_until AS "lockedUntil", version,
  updated_at AS "updatedAt"`;

/** A user's MFA state as it is when nothing was ever set up. */
export function emptyUserMfa(tenantId: string, userId: string): UserMfa {
  return {
    tenantId,
    userId,
    totpSecretCiphertext: null,
    totpPendingCiphertext: null,
    totpEnabled: false,
    emailEnabled: false,
    smsEnabled: false,
    preferredType: null,
    recoveryCodeHashes: [],
    lastTotpStep: 0,
    failedAttempts: 0,
    lockedUntil: null,
    version: 0,
    updatedAt: new Date(0),
  };
}

export async function findUserMfa(db: Queryable, tenantId: string, userId: string): Promise<UserMfa> {
  const { rows } = await query<UserMfa>(db, `SELECT ${columns} FROM user_mfa WHERE org_id = $1 AND user_id = $2`, [tenantId, userId]);
  return rows[0] ?? emptyUserMfa(tenantId, userId);
}

/**
 * Creates the user's row if missing, then locks it for the transaction. Everything single-use (TOTP steps,
 * recovery codes, e-mailed codes) is read and consumed under this lock, so concurrent uses serialise and
 * exactly one succeeds.
 */
export async function lockUserMfa(db: Queryable, tenantId: string, userId: string): Promise<UserMfa> {
  await query(db, 'INSERT INTO user_mfa (org_id, user_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [tenantId, userId]);
  const { rows } = await query<UserMfa>(db, `SELECT ${columns} FROM user_mfa WHERE org_id = $1 AND user_id = $2 FOR UPDATE`, [tenantId, userId]);
  return rows[0] as UserMfa;
}

/** Writes the given fields of a locked row and bumps its version. */
export async function updateUserMfa(db: Queryable, tenantId: string, userId: string, change: UserMfaChange): Promise<UserMfa> {
  const sets: string[] = [];
  const values: unknown[] = [tenantId, userId];
  for (const [field, column] of Object.entries(changeColumns) as [keyof UserMfaChange, string][]) {
    if (!(field in change)) continue;
    values.push(change[field]);
    sets.push(`${column} = $${values.length}`);
  }
  const { rows } = await query<UserMfa>(
    db,
    `UPDATE user_mfa SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
      WHERE org_id = $1 AND user_id = $2 RETURNING ${columns}`,
    values,
  );
  return rows[0] as UserMfa;
}

/** Forgets every factor, secret, pending enrolment and recovery code of the user, and lifts a lock (disable, administrator reset). */
export async function clearUserMfa(db: Queryable, tenantId: string, userId: string): Promise<UserMfa> {
  return updateUserMfa(db, tenantId, userId, {
    totpSecretCiphertext: null,
    totpPendingCiphertext: null,
    totpEnabled: false,
    emailEnabled: false,
    smsEnabled: false,
    preferredType: null,
    recoveryCodeHashes: [],
    failedAttempts: 0,
    lockedUntil: null,
  });
}
