import { z } from 'zod';
import { defaultSignInLockout } from './sign-in-lockout.js';

/**
 * The per-account lockout variables both services read (spread into each service's config schema): Auth's
 * password sign-in and Identity's password change count into one lockout, so they must agree on its limits.
 */
export const signInLockoutConfigShape = {
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(defaultSignInLockout.maxFailures),
  SIGN_IN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(defaultSignInLockout.lockSeconds),
};
