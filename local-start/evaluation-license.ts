import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueLicense } from '../licensing/issue-license.js';
import { parseLicensePrivateKey, parseLicensePublicKey } from '../licensing/license-keys.js';
import { ensureLicenseKeyPair } from '../licensing/license-key-files.js';
import { expiringSoonMs } from '../licensing/license-claims.js';
import { isLicenseError } from '../licensing/license-error.js';
import { verifyLicense } from '../licensing/verify-license.js';

export const evaluationLicensee = 'Local evaluation';
const evaluationDays = 30;

/** Where an evaluation license lives, as the services' variables name it. */
export interface EvaluationLicense {
  readonly LICENSE_FILE: string;
  readonly LICENSE_PUBLIC_KEY_FILE: string;
  readonly expiresAt: Date;
}

/**
 * For `npm start` on embedded defaults: a local key pair and a 30-day evaluation license in `dir` (e.g.
 * `.data/license`), so the quick start needs no vendor. An existing license is kept while it has more than
 * 14 days left; otherwise a new one is issued with the same key.
 *
 * @example
 * const evaluation = await issueEvaluationLicense('.data/license');
 * process.env.LICENSE_FILE ??= evaluation.LICENSE_FILE;
 * process.env.LICENSE_PUBLIC_KEY_FILE ??= evaluation.LICENSE_PUBLIC_KEY_FILE;
 */
export async function issueEvaluationLicense(dir: string, nowMs: number = Date.now()): Promise<EvaluationLicense> {
  const keys = await ensureLicenseKeyPair(dir);
  const licensePath = join(dir, 'evaluation.license');
  const publicKey = parseLicensePublicKey(keys.publicKeyPem);
  const existing = await readFile(licensePath, 'utf8').catch(() => undefined);
  if (existing) {
    try {
      const license = await verifyLicense({ token: existing, publicKey, nowMs: nowMs + expiringSoonMs });
      return { LICENSE_FILE: licensePath, LICENSE_PUBLIC_KEY_FILE: keys.publicKeyPath, expiresAt: license.expiresAt };
    } catch (error) {
      if (!isLicenseError(error)) throw error;
    }
  }
  const token = await issueLicense({ privateKey: parseLicensePrivateKey(keys.privateKeyPem), licensee: evaluationLicensee, validForDays: evaluationDays, nowMs });
  await writeFile(licensePath, `${token}\n`, { mode: 0o600 });
  const license = await verifyLicense({ token, publicKey, nowMs });
  return { LICENSE_FILE: licensePath, LICENSE_PUBLIC_KEY_FILE: keys.publicKeyPath, expiresAt: license.expiresAt };
}
