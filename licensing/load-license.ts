import { readFile } from 'node:fs/promises';
import type { License } from './license-claims.js';
import type { LicenseSettings } from './license-config.js';
import { LicenseError } from './license-error.js';
import { parseLicensePublicKey } from './license-keys.js';
import { verifyLicense } from './verify-license.js';

async function readSetting(path: string, code: 'LICENSE_MISSING' | 'LICENSE_PUBLIC_KEY_INVALID', name: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new LicenseError(code, `${name}=${path} cannot be read (${reason})`);
  }
}

/**
 * The start gate: reads the license and the vendor's public key from the configured variables or files and
 * verifies the license. Throws a {@link LicenseError}; the services then refuse to start (exit 78).
 */
export async function loadLicense(settings: LicenseSettings, nowMs: number): Promise<License> {
  if (settings.LICENSE_KEY && settings.LICENSE_FILE) {
    throw new LicenseError('LICENSE_MALFORMED', 'both LICENSE_KEY and LICENSE_FILE are set; set only one');
  }
  if (settings.LICENSE_PUBLIC_KEY && settings.LICENSE_PUBLIC_KEY_FILE) {
    throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', 'both LICENSE_PUBLIC_KEY and LICENSE_PUBLIC_KEY_FILE are set; set only one');
  }
  const token = settings.LICENSE_KEY
    ? settings.LICENSE_KEY.reveal()
    : settings.LICENSE_FILE
      ? await readSetting(settings.LICENSE_FILE, 'LICENSE_MISSING', 'LICENSE_FILE')
      : undefined;
  if (!token?.trim()) throw new LicenseError('LICENSE_MISSING', settings.LICENSE_FILE ? `LICENSE_FILE=${settings.LICENSE_FILE} is empty` : 'no license was given');
  const keyText = settings.LICENSE_PUBLIC_KEY
    ?? (settings.LICENSE_PUBLIC_KEY_FILE ? await readSetting(settings.LICENSE_PUBLIC_KEY_FILE, 'LICENSE_PUBLIC_KEY_INVALID', 'LICENSE_PUBLIC_KEY_FILE') : undefined);
  if (!keyText) throw new LicenseError('LICENSE_PUBLIC_KEY_INVALID', 'no public key was given');
  return verifyLicense({ token, publicKey: parseLicensePublicKey(keyText), nowMs });
}
