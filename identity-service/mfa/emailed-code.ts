import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** A short-lived six-digit code that was sent: only its salted hash is kept, with its expiry and counters. */
export const emailedCodeSchema = z
  .object({
    hash: z.string().length(64),
    salt: z.string().length(32),
    expiresAtMs: z.number(),
    attemptsLeft: z.number().int().min(0),
    sends: z.number().int().min(1),
  })
  .strict();
export type EmailedCode = z.infer<typeof emailedCodeSchema>;

export interface EmailedCodeLimits {
  readonly ttlSeconds: number;
  readonly maxAttempts: number;
  /** Sends after the first one while a code is still live. */
  readonly maxResends: number;
}

export type EmailedCodeIssue = { readonly ok: true; readonly code: string; readonly state: EmailedCode } | { readonly ok: false; readonly reason: 'too_many_sends' };

/**
 * A new code replacing `previous`. While the previous code is live its send count carries over, so at most
 * 1 + `maxResends` codes go out per live window and guesses stay bounded by sends × attempts.
 */
export function issueEmailedCode(previous: EmailedCode | undefined, limits: EmailedCodeLimits, nowMs: number): EmailedCodeIssue {
  const live = previous !== undefined && previous.expiresAtMs > nowMs;
  const sends = live ? previous.sends + 1 : 1;
  if (sends > 1 + limits.maxResends) return { ok: false, reason: 'too_many_sends' };
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const salt = randomBytes(16).toString('hex');
  return {
    ok: true,
    code,
    state: { hash: digest(salt, code), salt, expiresAtMs: nowMs + limits.ttlSeconds * 1000, attemptsLeft: limits.maxAttempts, sends },
  };
}

export type EmailedCodeCheck = {
  readonly valid: boolean;
  readonly reason?: 'no_code_sent' | 'expired' | 'exhausted' | 'wrong_code';
  /** What to store afterwards: nothing once the code is used; a spent attempt otherwise (also after a failure). */
  readonly next: EmailedCode | undefined;
};

/** Checks a typed code: single use, before its expiry, within its attempts; compared in constant time. */
export function checkEmailedCode(state: EmailedCode | undefined, code: string, nowMs: number): EmailedCodeCheck {
  if (state === undefined) return { valid: false, reason: 'no_code_sent', next: undefined };
  if (state.expiresAtMs <= nowMs) return { valid: false, reason: 'expired', next: state };
  if (state.attemptsLeft <= 0) return { valid: false, reason: 'exhausted', next: state };
  const expected = Buffer.from(state.hash, 'hex');
  const given = Buffer.from(digest(state.salt, code), 'hex');
  if (expected.length === given.length && timingSafeEqual(expected, given)) return { valid: true, next: undefined };
  return { valid: false, reason: 'wrong_code', next: { ...state, attemptsLeft: state.attemptsLeft - 1 } };
}

function digest(salt: string, code: string): string {
  return createHash('sha256').update(`am-emailed-code-v1:${salt}:${code}`).digest('hex');
}
