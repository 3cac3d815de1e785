import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.js';

describe('password policy', () => {
  it('accepts 12 to 128 characters mixing 3 of 4 classes', () => {
    expect(passwordProblem('Tangerine-Kite-42', 'alice')).toBeUndefined();
    expect(passwordProblem('tangerine kite 42')).toBeUndefined(); // lower, digit, other
    expect(passwordProblem('Aa1-'.repeat(32))).toBeUndefined(); // exactly 128
  });

  it('counts code points, not UTF-16 units: 12 astral characters are 12, 129 are too many', () => {
    const astral = '𝒜𝒷𝒸'; // 3 code points, 6 UTF-16 units
    expect(passwordProblem(`${astral.repeat(3)}Zz9`)).toBeUndefined();
    expect(passwordProblem(`${astral.repeat(3)}Z9`)?.rule).toBe('length'); // 11 code points, 20 units
    expect(passwordProblem(`${'Aa1-'.repeat(32)}x`)?.rule).toBe('length');
  });

  it('is byte-exact: spaces count and are not trimmed, any Unicode is allowed', () => {
    expect(passwordProblem('  Äpfel über Größe 7  ')).toBeUndefined();
    expect(passwordProblem('   Ab1-xyz   ')).toBeUndefined(); // 13 with the spaces
    expect(passwordProblem('Ab1-xyz')?.rule).toBe('length');
    expect(passwordProblem('пароль-Надёжный-7')).toBeUndefined();
  });

  it('refuses fewer than 3 classes and says which rule', () => {
    for (const weak of ['onlylowercaseletters', 'ONLYUPPERCASELETTERS', 'lowerandUPPERonly', '1234567890123456', 'lower12345678']) {
      expect(passwordProblem(weak)).toMatchObject({ rule: 'classes', message: expect.stringMatching(/at least 3/) });
    }
  });

  it('refuses a password containing the username, whatever the case', () => {
    expect(passwordProblem('My-Alice.Smith-2024', 'alice.smith')).toMatchObject({ rule: 'username' });
    expect(passwordProblem('xxALICE.SMITHxx-1', 'Alice.Smith')?.rule).toBe('username');
    expect(passwordProblem('Unrelated-Phrase-9', 'alice.smith')).toBeUndefined();
  });

  it('refuses common passwords, also with trailing digits or symbols and another case', () => {
    for (const common of ['Password1234', 'password1234', 'P@ssw0rd2024!', 'Qwerty123456', 'Iloveyou1234!', 'Dragon!!!!!!!!1', 'Welcome12345!']) {
      expect(passwordProblem(common)?.rule, common).toBe('common');
    }
  });

  it('refuses lone surrogates: they have no UTF-8 form and would hash like U+FFFD', () => {
    expect(passwordProblem('Valid-Prefix-9\ud800')?.rule).toBe('encoding');
  });
});
