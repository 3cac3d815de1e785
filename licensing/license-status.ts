import { expiringSoonMs, type License } from './license-claims.js';

/** The license as /health and /ready report it at a given moment (a running replica is never stopped by it). */
export interface LicenseStatus {
  readonly status: 'valid' | 'expiring' | 'expired';
  readonly licensee: string;
  readonly expiresAt: string;
}

export function licenseStatusAt(license: License, nowMs: number): LicenseStatus {
  const leftMs = license.expiresAt.getTime() - nowMs;
  const status = leftMs <= 0 ? 'expired' : leftMs <= expiringSoonMs ? 'expiring' : 'valid';
  return { status, licensee: license.licensee, expiresAt: license.expiresAt.toISOString() };
}

/**
 * The `X-License-Warning` header value when the license needs attention, else undefined. The Lerian
 * contract fixes `/health`'s body to `healthy`, so the warning travels in this header instead.
 */
export function licenseWarningAt(license: License, nowMs: number): string | undefined {
  const { status, expiresAt } = licenseStatusAt(license, nowMs);
  if (status === 'valid') return undefined;
  return status === 'expired' ? `license expired at ${expiresAt}` : `license expires at ${expiresAt}`;
}
