import { z } from 'zod';

/** The per-account lockout's limits: failures within a window of `lockSeconds` that lock the account for as long. */
export interface LockoutSettings {
  readonly maxFailures: number;
  readonly lockSeconds: number;
}

/** SIGN_IN_MAX_FAILURES and SIGN_IN_LOCK_SECONDS when unset. */
export const defaultSignInLockout: LockoutSettings = Object.freeze({ maxFailures: 5, lockSeconds: 900 });

/**
 * The per-account lockout variables both services read (spread into each service's config schema): Auth's
 * password sign-in and Identity's password change count into one lockout, so they must agree on its limits.
 */
export const signInLockoutConfigShape = {
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(defaultSignInLockout.maxFailures),
  SIGN_IN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(defaultSignInLockout.lockSeconds),
};
