import { generate, verify } from 'otplib';
import { describe, expect, it } from 'vitest';
import { checkTotp, createTotpSecret, totpCodeAt, totpPeriodSeconds, totpStepAt, totpUri } from './totp.js';

const stepMs = totpPeriodSeconds * 1000;
// A fixed instant a few seconds into a step, so ±1 step is exactly one period away.
const nowMs = 1_800_000_000_000 + 7_000;
const step = totpStepAt(nowMs);
const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });

describe('TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step, single use)', () => {
  it('a new secret is 160 bits of Base32 and its codes match an independent otplib generation', async () => {
    const secret = createTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(createTotpSecret()).not.toBe(secret);
    expect(await totpCodeAt(secret, nowMs)).toBe(await codeAt(secret, nowMs));
    expect((await verify({ secret, token: await totpCodeAt(secret, nowMs), epoch: nowMs / 1000 })).valid).toBe(true);
  });

  it('accepts the current code and codes one step either side, refuses two steps away (RFC 6238 §5.2)', async () => {
    const secret = createTotpSecret();
    for (const offset of [-1, 0, 1]) {
      const check = await checkTotp({ secret, passcode: await codeAt(secret, nowMs + offset * stepMs), nowMs, lastAcceptedStep: 0 });
      expect(check).toEqual({ valid: true, step: step + offset });
    }
    for (const offset of [-2, 2]) {
      const check = await checkTotp({ secret, passcode: await codeAt(secret, nowMs + offset * stepMs), nowMs, lastAcceptedStep: 0 });
      expect(check).toEqual({ valid: false, reason: 'wrong_code' });
    }
  });

  it('the window is exact at step boundaries: first and last millisecond of a step', async () => {
    const secret = createTotpSecret();
    const start = step * stepMs;
    const end = start + stepMs - 1;
    expect((await checkTotp({ secret, passcode: await codeAt(secret, start - stepMs), nowMs: start, lastAcceptedStep: 0 })).valid).toBe(true);
    expect((await checkTotp({ secret, passcode: await codeAt(secret, start - 2 * stepMs), nowMs: start, lastAcceptedStep: 0 })).valid).toBe(false);
    expect((await checkTotp({ secret, passcode: await codeAt(secret, end + stepMs), nowMs: end, lastAcceptedStep: 0 })).valid).toBe(true);
    expect((await checkTotp({ secret, passcode: await codeAt(secret, end + 2 * stepMs), nowMs: end, lastAcceptedStep: 0 })).valid).toBe(false);
  });

  it('a code of the last accepted step, or of an earlier one, is a replay (NIST SP 800-63B §5.1.4.2)', async () => {
    const secret = createTotpSecret();
    const current = await codeAt(secret, nowMs);
    expect(await checkTotp({ secret, passcode: current, nowMs, lastAcceptedStep: step })).toEqual({ valid: false, reason: 'replayed' });
    const previous = await codeAt(secret, nowMs - stepMs);
    expect(await checkTotp({ secret, passcode: previous, nowMs, lastAcceptedStep: step })).toEqual({ valid: false, reason: 'replayed' });
    const next = await codeAt(secret, nowMs + stepMs);
    expect(await checkTotp({ secret, passcode: next, nowMs, lastAcceptedStep: step })).toEqual({ valid: true, step: step + 1 });
  });

  it('a last accepted step beyond the window (clock moved back) refuses every code instead of throwing', async () => {
    const secret = createTotpSecret();
    const check = await checkTotp({ secret, passcode: await codeAt(secret, nowMs), nowMs, lastAcceptedStep: step + 10 });
    expect(check).toEqual({ valid: false, reason: 'replayed' });
  });

  it('anything but six ASCII digits is a wrong code, never an exception', async () => {
    const secret = createTotpSecret();
    for (const passcode of ['abcdef', '12345', '1234567', '١٢٣٤٥٦', ' 12345', '123 456', '']) {
      expect(await checkTotp({ secret, passcode, nowMs, lastAcceptedStep: 0 })).toEqual({ valid: false, reason: 'wrong_code' });
    }
  });

  it('the otpauth URL names issuer and account without stray colons and carries the secret', () => {
    const secret = createTotpSecret();
    const url = new URL(totpUri({ secret, issuer: 'Access Manager', accountName: 'ali:ce' }));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/Access Manager:alice');
    expect(url.searchParams.get('secret')).toBe(secret);
    expect(url.searchParams.get('issuer')).toBe('Access Manager');
  });
});
