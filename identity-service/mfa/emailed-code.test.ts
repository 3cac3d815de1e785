import { describe, expect, it } from 'vitest';
import { checkEmailedCode, issueEmailedCode } from './emailed-code.js';

const limits = { ttlSeconds: 300, maxAttempts: 3, maxResends: 2 };
const t0 = 1_800_000_000_000;

function issue(previous: Parameters<typeof issueEmailedCode>[0], nowMs = t0) {
  const issued = issueEmailedCode(previous, limits, nowMs);
  if (!issued.ok) throw new Error(issued.reason);
  return issued;
}

describe('e-mailed one-time codes', () => {
  it('six digits; only a salted hash is kept; accepted once, then gone', () => {
    const { code, state } = issue(undefined);
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(JSON.stringify(state)).not.toContain(code);
    const check = checkEmailedCode(state, code, t0 + 1000);
    expect(check).toEqual({ valid: true, next: undefined });
    expect(checkEmailedCode(check.next, code, t0 + 1000)).toMatchObject({ valid: false, reason: 'no_code_sent' });
  });

  it('expires at its TTL', () => {
    const { code, state } = issue(undefined);
    expect(checkEmailedCode(state, code, t0 + 300_000 - 1).valid).toBe(true);
    expect(checkEmailedCode(state, code, t0 + 300_000)).toMatchObject({ valid: false, reason: 'expired' });
  });

  it('each wrong code spends an attempt; once they are spent the right code is refused', () => {
    const { code, state } = issue(undefined);
    const wrong = code === '000000' ? '111111' : '000000';
    let current = state;
    for (let i = 0; i < limits.maxAttempts; i++) {
      const check = checkEmailedCode(current, wrong, t0);
      expect(check.reason).toBe('wrong_code');
      current = check.next!;
    }
    expect(checkEmailedCode(current, code, t0)).toMatchObject({ valid: false, reason: 'exhausted' });
  });

  it('at most 1 + maxResends sends while a code is live; a new window opens once it expired', () => {
    let state = issue(undefined).state;
    for (let i = 0; i < limits.maxResends; i++) state = issue(state, t0 + i).state;
    expect(issueEmailedCode(state, limits, t0 + 10)).toEqual({ ok: false, reason: 'too_many_sends' });
    expect(issue(state, state.expiresAtMs).state.sends).toBe(1);
  });
});
