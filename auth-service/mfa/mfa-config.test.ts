import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../platform/config-error.js';
import { parseMfaSettings } from './mfa-config.js';

const secret = 'x'.repeat(32);

describe('MFA settings from the environment', () => {
  it("defaults to the contract's values: 300 s challenges, 5 attempts, 3 resends, 30-day devices", () => {
    expect(parseMfaSettings({ MFA_SECRET: secret })).toMatchObject({ sessionTtlSeconds: 300, maxAttempts: 5, maxResends: 3, rememberTtlSeconds: 2_592_000 });
  });

  it("reads Lerian's variable names", () => {
    const mfa = parseMfaSettings({ MFA_SECRET: secret, MFA_SESSION_TTL_SEC: '120', MFA_MAX_ATTEMPTS: '3', MFA_MAX_RESEND_ATTEMPTS: '1', MFA_REMEMBER_TTL_SEC: '0' });
    expect(mfa).toMatchObject({ sessionTtlSeconds: 120, maxAttempts: 3, maxResends: 1, rememberTtlSeconds: 0 });
    expect(mfa.tokenSecret.equals(Buffer.from(secret))).toBe(true);
  });

  it('the secret never shows when the settings are logged, serialised or printed', () => {
    const mfa = parseMfaSettings({ MFA_SECRET: secret });
    const bytes = [...Buffer.from(secret)].join(',');
    for (const shown of [JSON.stringify(mfa), inspect(mfa, { depth: 5 }), JSON.stringify({ config: { mfa } })]) {
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain(bytes);
      expect(shown).not.toContain('78 78 78');
      expect(shown).toContain('[redacted]');
    }
  });

  it('refuses to start without a secret and lists every problem at once', () => {
    let error: unknown;
    try {
      parseMfaSettings({ MFA_MAX_ATTEMPTS: '0', MFA_SESSION_TTL_SEC: 'soon' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(expect.arrayContaining(['MFA_SECRET', 'MFA_MAX_ATTEMPTS', 'MFA_SESSION_TTL_SEC']));
  });
});
