import type { License } from './license-claims.js';
import { licenseStatusAt, type LicenseStatus } from './license-status.js';

export interface LicenseWatchOptions {
  /** The engine's `Clock` port, spelled out here: licensing/ stands alone and imports no engine. */
  readonly clock: { nowMs(): number };
  /** Called when the status leaves `valid` (becomes expiring, then expired) while the service runs. */
  readonly onChange: (status: LicenseStatus) => void;
  /** How often to look; hourly by default (the status changes on a scale of days). */
  readonly intervalMs?: number;
}

/**
 * Reports a license that becomes expiring or expired while a replica runs (the start gate only sees the
 * moment of start). Each change is reported once; the timer never holds the process open. Returns a stop
 * function.
 */
export function watchLicense(license: License, options: LicenseWatchOptions): () => void {
  let last = licenseStatusAt(license, options.clock.nowMs()).status;
  const timer = setInterval(() => {
    const status = licenseStatusAt(license, options.clock.nowMs());
    if (status.status === last) return;
    last = status.status;
    options.onChange(status);
  }, options.intervalMs ?? 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
