// One wrong-code count and one lock per user (`user_mfa.failed_attempts`, `locked_until`), shared by Identity's MFA
// routes (verify, disable, setting up another factor) and Auth's MFA sign-in, and by every kind of one-time code
// (authenticator, e-mailed, SMS), so guesses spread over both services and over channels still meet one limit.

/** How long one-time codes stay refused once a user reaches the organization's wrong-code limit. */
export const mfaLockoutMs = 15 * 60_000;

/** The user's wrong-code count and lock, as read under the `user_mfa` row lock. */
export interface MfaAttemptState {
  readonly failed_attempts: number;
  readonly locked_until: Date | null;
}

/** The columns to write back; empty when nothing changes. */
export interface MfaAttemptChange {
  readonly failed_attempts?: number;
  readonly locked_until?: Date;
}

/**
 * What checking a one-time code said, as the count sees it. Only `wrong_code` is a guess: a replayed, expired
 * or exhausted code was either right once or never compared, and reveals nothing.
 */
export interface CodeOutcome {
  readonly valid: boolean;
  readonly reason?: string;
}

/** Whole seconds until the user's lock ends (at least 1), or undefined when not locked at `nowMs`. */
export function mfaLockSecondsLeft(state: MfaAttemptState, nowMs: number): number | undefined {
  const leftMs = state.locked_until === null ? 0 : state.locked_until.getTime() - nowMs;
  return leftMs > 0 ? Math.ceil(leftMs / 1000) : undefined;
}

/**
 * What a one-time code's outcome writes to the user's locked `user_mfa` row. Only a
 * wrong code counts. The `maxAttempts`-th wrong code locks for `mfaLockoutMs` and starts the count again; a right
 * code resets it. Empty when nothing changes.
 */
export function mfaAttemptChange(state: MfaAttemptState, outcome: CodeOutcome, maxAttempts: number, nowMs: number): MfaAttemptChange {
  if (outcome.valid) return state.failed_attempts === 0 ? {} : { failed_attempts: 0 };
  if (outcome.reason !== 'wrong_code') return {};
  const failed = state.failed_attempts + 1;
  return failed >= maxAttempts ? { failed_attempts: 0, locked_until: new Date(nowMs + mfaLockoutMs) } : { failed_attempts: failed };
}
