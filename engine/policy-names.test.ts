import { describe, expect, it } from 'vitest';
import { assertRequestName, isResourcePattern } from './index.js';

describe('request names', () => {
  it('accepts subjects, tenants, resources and actions of the contract', () => {
    for (const [field, value] of [
      ['sub', 'user:3f2a-11'],
      ['sub', 'app:midaz@acme'],
      ['dom', 'acme-org'],
      ['obj', 'midaz/accounts'],
      ['obj', 'users/password'],
      ['act', 'get'],
    ] as const) {
      expect(() => assertRequestName(field, value)).not.toThrow();
    }
  });

  it('refuses path tricks, patterns, injection text and oversize values with INVALID_REQUEST naming the field', () => {
    const cases: [Parameters<typeof assertRequestName>[0], unknown][] = [
      ['obj', 'accounts/../ledgers'],
      ['obj', 'accounts/./x'],
      ['obj', 'accounts//x'],
      ['obj', '/accounts'],
      ['obj', 'accounts/'],
      ['obj', 'accounts/*'],
      ['obj', '%2e%2e%2f'],
      ['obj', 'accounts;param'],
      ['sub', "' OR '1'='1"],
      ['sub', 'a$$b'],
      ['sub', 'user\r\nx'],
      ['act', '*'],
      ['act', 'GET '],
      ['dom', ''],
      ['dom', 'x'.repeat(257)],
      ['dom', 42],
      ['sub', 'é'],
    ];
    for (const [field, value] of cases) {
      expect(() => assertRequestName(field, value), `${field}=${String(value)}`).toThrow(
        expect.objectContaining({ code: 'INVALID_REQUEST', field }),
      );
    }
  });

  it('accepts resource patterns only with a trailing * (or * alone)', () => {
    expect(['*', 'accounts/*', 'accounts*', 'midaz/accounts'].every(isResourcePattern)).toBe(true);
    expect(['a*b', '*/x', 'accounts/**', 'a/../*', '', '/'].some(isResourcePattern)).toBe(false);
  });
});
