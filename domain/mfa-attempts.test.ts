import { describe, expect, it } from 'vitest';
import { mfaAttemptChange, mfaLockoutMs, mfaLockSecondsLeft } from './mfa-attempts.js';

const nowMs = 1_800_000_000_000;
const wrong = { valid: false, reason: 'wrong_code' } as const;
const replayed = { valid: false, reason: 'replayed' } as const;
const right = { valid: true, step: 60_000_000 } as const;

describe('one-time code attempt counting', () => {
  it('a wrong code counts one; the max-th locks for 15 minutes and starts the count again', () => {
    expect(mfaAttemptChange({ failed_attempts: 0, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 1 });
    expect(mfaAttemptChange({ failed_attempts: 3, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 4 });
    expect(mfaAttemptChange({ failed_attempts: 4, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 0, locked_until: new Date(nowMs + mfaLockoutMs) });
    expect(mfaAttemptChange({ failed_attempts: 0, locked_until: null }, wrong, 1, nowMs)).toEqual({ failed_attempts: 0, locked_until: new Date(nowMs + 15 * 60_000) });
  });

  it('a right code resets the count; a replayed, expired or exhausted code changes nothing', () => {
    expect(mfaAttemptChange({ failed_attempts: 4, locked_until: null }, right, 5, nowMs)).toEqual({ failed_attempts: 0 });
    expect(mfaAttemptChange({ failed_attempts: 0, locked_until: null }, right, 5, nowMs)).toEqual({});
    expect(mfaAttemptChange({ failed_attempts: 2, locked_until: null }, replayed, 5, nowMs)).toEqual({});
    expect(mfaAttemptChange({ failed_attempts: 2, locked_until: null }, { valid: false, reason: 'expired' }, 5, nowMs)).toEqual({});
    expect(mfaAttemptChange({ failed_attempts: 2, locked_until: null }, { valid: false, reason: 'exhausted' }, 5, nowMs)).toEqual({});
  });

  it('a lock answers the whole seconds left, at least 1, and nothing once it has passed', () => {
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: null }, nowMs)).toBeUndefined();
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs + mfaLockoutMs) }, nowMs)).toBe(900);
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs + 1) }, nowMs)).toBe(1);
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs) }, nowMs)).toBeUndefined();
    expect(mfaLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs - 1000) }, nowMs)).toBeUndefined();
  });
});
