import type { TotpCheck } from './totp.js';

// One wrong-code count and one lock per user (`user_mfa.failed_attempts`, `locked_until`), shared by Identity's MFA
// verify and disable and Auth's MFA sign-in, so guesses spread over both services still meet one limit.

/** How long TOTP checks stay refused once a user reaches the organization's wrong-code limit. */
export const totpLockoutMs = 15 * 60_000;

/** The user's wrong-code count and lock, as read under the `user_mfa` row lock. */
export interface TotpAttemptState {
  readonly failed_attempts: number;
  readonly locked_until: Date | null;
}

/** The columns to write back; empty when nothing changes. */
export interface TotpAttemptChange {
  readonly failed_attempts?: number;
  readonly locked_until?: Date;
}

/** Whole seconds until the user's lock ends (at least 1), or undefined when not locked at `nowMs`. */
export function totpLockSecondsLeft(state: TotpAttemptState, nowMs: number): number | undefined {
  const leftMs = state.locked_until === null ? 0 : state.locked_until.getTime() - nowMs;
  return leftMs > 0 ? Math.ceil(leftMs / 1000) : undefined;
}

/**
 * What an authenticator code's outcome writes to the user's locked `user_mfa` row (SECURITY-CHECKLIST E2, E3).
 * Only a wrong code counts: a replayed one was right once and reveals nothing. The `maxAttempts`-th wrong code
 * locks for `totpLockoutMs` and starts the count again; a right code resets it. Empty when nothing changes.
 */
export function totpAttemptChange(state: TotpAttemptState, check: TotpCheck, maxAttempts: number, nowMs: number): TotpAttemptChange {
  if (check.valid) return state.failed_attempts === 0 ? {} : { failed_attempts: 0 };
  if (check.reason !== 'wrong_code') return {};
  const failed = state.failed_attempts + 1;
  return failed >= maxAttempts ? { failed_attempts: 0, locked_until: new Date(nowMs + totpLockoutMs) } : { failed_attempts: failed };
}
