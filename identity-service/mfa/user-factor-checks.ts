import { timingSafeEqual } from 'node:crypto';
import { mfaAttemptChange, mfaLockSecondsLeft, type CodeOutcome, type MfaAttemptState } from '../../domain/mfa-attempts.js';
import { subjects } from '../../domain/policy-lines.js';
import { updateUserMfa, type UserMfa, type UserMfaChange } from '../../directory/mfa-factors.js';
import { findUser, findUserContact, type UserContact } from '../../directory/users.js';
import type { Caller } from '../../platform/http/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import type { DeliverCode, IdentityDeps } from '../deps.js';
import type { CredentialsOwner } from '../no-escalation.js';
import type { WriteContext } from '../write-transaction.js';
import { checkFactorProof, type factorProofOf, type FactorProofCheck } from './factor-proof.js';
import { findMfaSettings } from './mfa-settings-store.js';
import { openPendingState, sealPendingState, totpSecretBox } from './pending-state.js';

// The checks every MFA write of a user's factors shares: whose factors they are, who may touch them, the
// wrong-code lock, and a proof of a current factor spent under the user's row lock.

export function isSelf(caller: Caller, userId: string): boolean {
  return caller.kind === 'user' && caller.id.toLowerCase() === userId.toLowerCase();
}

/** The user of the path, in the caller's organization only: another tenant's user is not found (404). */
export async function userInTenant(deps: IdentityDeps, caller: Caller, userId: string): Promise<UserContact> {
  const user = await findUserContact(deps.pool, caller.tenantId, userId.toLowerCase());
  if (!user) throw new ServiceError('NOT_FOUND');
  return user;
}

/** Self-service: only the user may set up, verify, enable, prefer or disable their own factors (never an administrator). */
export async function selfUser(deps: IdentityDeps, caller: Caller, userId: string): Promise<UserContact> {
  const user = await userInTenant(deps, caller, userId);
  if (!isSelf(caller, user.id)) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} may manage only their own MFA` });
  return user;
}

/** The user whose factors a write removes, as the credentials rule reads it. */
export async function credentialsOwner(db: Queryable, tenantId: string, userId: string): Promise<CredentialsOwner> {
  const row = await findUser(db, tenantId, userId);
  if (!row) throw new ServiceError('NOT_FOUND');
  return { subject: subjects.user(row.id), builtin: row.builtin };
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given.replace(/[\s=]/g, '').toUpperCase());
  const b = Buffer.from(expected.replace(/=/g, '').toUpperCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

export function requireSender(deps: IdentityDeps): DeliverCode {
  if (!deps.deliverMfaCode) throw new ServiceError('SERVICE_UNAVAILABLE', { message: 'no code sender is configured', detail: 'MFA code sender not configured' });
  return deps.deliverMfaCode;
}

export async function deliver(send: DeliverCode, tenantId: string, to: string, code: string, channel: 'email' | 'sms' = 'email'): Promise<void> {
  try {
    await send({ tenantId, channel, to, code });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split(code).join('[code]') : 'unknown';
    throw new ServiceError('PROVIDER_SEND_FAILED', { detail: `MFA code delivery failed: ${reason}` });
  }
}

/** A refused code, after the transaction committed what the attempt spent. */
export function invalidCode(field: string, reason: string): ServiceError {
  return new ServiceError('MFA_CODE_INVALID', { field, detail: reason });
}

export const notEnrolled = (message: string) => new ServiceError('MFA_NOT_ENROLLED', { message, field: 'body.mfaType' });

export function attemptStateOf(row: UserMfa): MfaAttemptState {
  return { failed_attempts: row.failedAttempts, locked_until: row.lockedUntil };
}

/** Code checks are refused while the user is locked out after too many wrong one-time codes. */
export function assertNotLocked(row: UserMfa, nowMs: number): void {
  const seconds = mfaLockSecondsLeft(attemptStateOf(row), nowMs);
  if (seconds === undefined) return;
  throw new ServiceError('RATE_LIMITED', { message: 'too many wrong codes; try again later', headers: { 'Retry-After': String(seconds) }, detail: `MFA locked for ${seconds} s more` });
}

/** What a one-time code's outcome does to the user's wrong-code count, read and written under the row lock; a lock it sets is audited. */
export async function codeAttempts(tx: WriteContext, row: UserMfa, outcome: CodeOutcome, nowMs: number): Promise<UserMfaChange> {
  const { maxAttempts } = await findMfaSettings(tx.client, tx.tenantId);
  const change = mfaAttemptChange(attemptStateOf(row), outcome, maxAttempts, nowMs);
  if (change.locked_until) tx.audit({ action: 'mfa.lock', targetType: 'user', targetId: row.userId, after: { lockedUntil: change.locked_until.toISOString(), maxAttempts } });
  return {
    ...(change.failed_attempts === undefined ? {} : { failedAttempts: change.failed_attempts }),
    ...(change.locked_until === undefined ? {} : { lockedUntil: change.locked_until }),
  };
}

export async function saveAttempts(tx: WriteContext, userId: string, change: UserMfaChange): Promise<void> {
  if (Object.keys(change).length > 0) await updateUserMfa(tx.client, tx.tenantId, userId, change);
}

/**
 * Checks a proof of a current factor under the user's row lock (refused while locked). A refusal stores what it
 * spent (a wrong code's count, an e-mailed code's attempt) and is returned, so the caller's transaction commits
 * it; an accepted proof is returned unspent: the caller spends it with its own change.
 */
export async function proveFactor(deps: IdentityDeps, tx: WriteContext, row: UserMfa, proof: NonNullable<ReturnType<typeof factorProofOf>>, nowMs: number): Promise<FactorProofCheck> {
  assertNotLocked(row, nowMs);
  const pending = openPendingState(deps.secrets, row);
  const totpSecret = row.totpEnabled && row.totpSecretCiphertext !== null ? totpSecretBox.open(deps.secrets, row.userId, row.totpSecretCiphertext) : undefined;
  const check = await checkFactorProof({ row, pending, totpSecret, proof, nowMs });
  const attempts = check.counted ? await codeAttempts(tx, row, check.counted, nowMs) : {};
  if (!check.accepted) await updateUserMfa(tx.client, tx.tenantId, row.userId, { totpPendingCiphertext: sealPendingState(deps.secrets, row.userId, check.pending), ...attempts });
  else await saveAttempts(tx, row.userId, attempts);
  return check;
}

/** The columns that spend an accepted proof: the TOTP step it used, the recovery code it used. */
export function spentProof(row: UserMfa, check: FactorProofCheck): UserMfaChange {
  return {
    ...(check.totpStep === undefined ? {} : { lastTotpStep: check.totpStep }),
    ...(check.recoveryCodeIndex === undefined ? {} : { recoveryCodeHashes: row.recoveryCodeHashes.filter((_, index) => index !== check.recoveryCodeIndex) }),
  };
}
