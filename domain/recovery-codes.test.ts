import { describe, expect, it } from 'vitest';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode, recoveryCodeCount } from './recovery-codes.js';

describe('recovery codes', () => {
  it('ten distinct codes of 80 random bits in four groups, none of 0, 1, I or O', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(recoveryCodeCount);
    expect(new Set(codes).size).toBe(recoveryCodeCount);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$/);
  });

  it('the stored hash reveals nothing of the code and matches whatever case or dashes the user types', () => {
    const [code] = generateRecoveryCodes(1) as [string];
    const hash = hashRecoveryCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(normalizeRecoveryCode(code).toLowerCase());
    expect(hashRecoveryCode(` ${code.toLowerCase().replace(/-/g, ' ')} `)).toBe(hash);
  });

  it('finds the index of a code among hashes; unknown, empty, huge or malformed input is -1, never a RangeError', () => {
    const codes = generateRecoveryCodes();
    const hashes = codes.map(hashRecoveryCode);
    expect(findRecoveryCode(codes[3] as string, hashes)).toBe(3);
    for (const input of ['', 'x', 'A'.repeat(10_000), 'ZZZZ-ZZZZ-ZZZZ-ZZZZ']) expect(findRecoveryCode(input, hashes)).toBe(-1);
    expect(findRecoveryCode(codes[0] as string, ['', 'not-hex', 'abcd'])).toBe(-1);
  });
});
