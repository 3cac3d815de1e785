import type { TotpCheck } from '../../platform/totp.js';
import type { UserMfaChange, UserMfaRow } from '../store/mfa-store.js';

/** How long verify and disable stay refused once a user reaches the organization's wrong-code limit. */
export const totpLockoutMs = 15 * 60_000;

type AttemptState = Pick<UserMfaRow, 'failed_attempts' | 'locked_until'>;

/** Whole seconds until the user's lock ends (at least 1), or undefined when not locked at `nowMs`. */
export function totpLockSecondsLeft(state: AttemptState, nowMs: number): number | undefined {
  const leftMs = state.locked_until === null ? 0 : state.locked_until.getTime() - nowMs;
  return leftMs > 0 ? Math.ceil(leftMs / 1000) : undefined;
}

/**
 * What an authenticator code's outcome writes to the user's locked `user_mfa` row (SECURITY-CHECKLIST E2, E3).
 * Only a wrong code counts: a replayed one was right once and reveals nothing. The `maxAttempts`-th wrong code
 * locks for `totpLockoutMs` and starts the count again; a right code resets it. Empty when nothing changes.
 */
export function totpAttemptChange(state: AttemptState, check: TotpCheck, maxAttempts: number, nowMs: number): UserMfaChange {
  if (check.valid) return state.failed_attempts === 0 ? {} : { failed_attempts: 0 };
  if (check.reason !== 'wrong_code') return {};
  const failed = state.failed_attempts + 1;
  return failed >= maxAttempts ? { failed_attempts: 0, locked_until: new Date(nowMs + totpLockoutMs) } : { failed_attempts: failed };
}
