import { afterEach, describe, expect, it, vi } from 'vitest';
import type { License } from './license-claims.js';
import type { LicenseStatus } from './license-status.js';
import { watchLicense } from './license-watch.js';

const dayMs = 86_400_000;
const expiresAtMs = Date.UTC(2027, 0, 31);
const license: License = { licensee: 'Acme', issuedAt: new Date(0), expiresAt: new Date(expiresAtMs), limits: {}, expiringSoon: false };

afterEach(() => {
  vi.useRealTimers();
});

describe('watchLicense', () => {
  it('reports once when a running replica\'s license becomes expiring, and once when it expires', () => {
    vi.useFakeTimers();
    let nowMs = expiresAtMs - 20 * dayMs;
    const changes: LicenseStatus[] = [];
    const stop = watchLicense(license, { clock: { nowMs: () => nowMs }, onChange: (status) => changes.push(status), intervalMs: 1_000 });
    vi.advanceTimersByTime(5_000);
    expect(changes).toEqual([]);
    nowMs = expiresAtMs - 10 * dayMs;
    vi.advanceTimersByTime(5_000);
    expect(changes.map((c) => c.status)).toEqual(['expiring']);
    nowMs = expiresAtMs + 1;
    vi.advanceTimersByTime(5_000);
    expect(changes.map((c) => c.status)).toEqual(['expiring', 'expired']);
    stop();
    nowMs = expiresAtMs - 30 * dayMs;
    vi.advanceTimersByTime(5_000);
    expect(changes).toHaveLength(2);
  });
});
