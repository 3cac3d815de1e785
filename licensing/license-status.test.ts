import { describe, expect, it } from 'vitest';
import type { License } from './license-claims.js';
import { licenseStatusAt, licenseWarningAt } from './license-status.js';

const dayMs = 86_400_000;
const expiresAtMs = Date.UTC(2026, 11, 31);
const license: License = { licensee: 'Acme', issuedAt: new Date(0), expiresAt: new Date(expiresAtMs), limits: {}, expiringSoon: false };

describe('licenseStatusAt', () => {
  it('is valid with more than 14 days left, expiring within 14 days, expired afterwards (a running replica is not stopped)', () => {
    expect(licenseStatusAt(license, expiresAtMs - 15 * dayMs)).toEqual({ status: 'valid', licensee: 'Acme', expiresAt: '2026-12-31T00:00:00.000Z' });
    expect(licenseStatusAt(license, expiresAtMs - 14 * dayMs).status).toBe('expiring');
    expect(licenseStatusAt(license, expiresAtMs).status).toBe('expired');
  });

  it('gives a warning header value only when the license needs attention', () => {
    expect(licenseWarningAt(license, expiresAtMs - 30 * dayMs)).toBeUndefined();
    expect(licenseWarningAt(license, expiresAtMs - dayMs)).toBe('license expires at 2026-12-31T00:00:00.000Z');
    expect(licenseWarningAt(license, expiresAtMs + 1)).toBe('license expired at 2026-12-31T00:00:00.000Z');
  });
});
