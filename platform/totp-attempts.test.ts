import { describe, expect, it } from 'vitest';
import { totpAttemptChange, totpLockoutMs, totpLockSecondsLeft } from './totp-attempts.js';

const nowMs = 1_800_000_000_000;
const wrong = { valid: false, reason: 'wrong_code' } as const;
const replayed = { valid: false, reason: 'replayed' } as const;
const right = { valid: true, step: 60_000_000 } as const;

describe('TOTP attempt counting', () => {
  it('a wrong code counts one; the max-th locks for 15 minutes and starts the count again (E2)', () => {
    expect(totpAttemptChange({ failed_attempts: 0, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 1 });
    expect(totpAttemptChange({ failed_attempts: 3, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 4 });
    expect(totpAttemptChange({ failed_attempts: 4, locked_until: null }, wrong, 5, nowMs)).toEqual({ failed_attempts: 0, locked_until: new Date(nowMs + totpLockoutMs) });
    expect(totpAttemptChange({ failed_attempts: 0, locked_until: null }, wrong, 1, nowMs)).toEqual({ failed_attempts: 0, locked_until: new Date(nowMs + 15 * 60_000) });
  });

  it('a right code resets the count; a replayed code changes nothing', () => {
    expect(totpAttemptChange({ failed_attempts: 4, locked_until: null }, right, 5, nowMs)).toEqual({ failed_attempts: 0 });
    expect(totpAttemptChange({ failed_attempts: 0, locked_until: null }, right, 5, nowMs)).toEqual({});
    expect(totpAttemptChange({ failed_attempts: 2, locked_until: null }, replayed, 5, nowMs)).toEqual({});
  });

  it('a lock answers the whole seconds left, at least 1, and nothing once it has passed', () => {
    expect(totpLockSecondsLeft({ failed_attempts: 0, locked_until: null }, nowMs)).toBeUndefined();
    expect(totpLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs + totpLockoutMs) }, nowMs)).toBe(900);
    expect(totpLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs + 1) }, nowMs)).toBe(1);
    expect(totpLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs) }, nowMs)).toBeUndefined();
    expect(totpLockSecondsLeft({ failed_attempts: 0, locked_until: new Date(nowMs - 1000) }, nowMs)).toBeUndefined();
  });
});
