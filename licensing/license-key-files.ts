import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateLicenseKeyPair } from './license-keys.js';

export const privateKeyFileName = 'license-signing-key.pem';
export const publicKeyFileName = 'license-public-key.pem';

export interface LicenseKeyFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
  /** True when this call generated the pair (false: an existing pair was reused). */
  readonly created: boolean;
}

/**
 * The vendor's key pair kept in `dir`, generated on first use. The signing key is written 0600 and never
 * overwritten: replacing it would invalidate every license already issued.
 */
export async function ensureLicenseKeyPair(dir: string): Promise<LicenseKeyFiles> {
  const privateKeyPath = join(dir, privateKeyFileName);
  const publicKeyPath = join(dir, publicKeyFileName);
  try {
    const [privateKeyPem, publicKeyPem] = await Promise.all([readFile(privateKeyPath, 'utf8'), readFile(publicKeyPath, 'utf8')]);
    return { privateKeyPath, publicKeyPath, privateKeyPem, publicKeyPem, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKeyPem, publicKeyPem } = generateLicenseKeyPair();
  // 'wx' fails rather than replace a signing key another process wrote meanwhile.
  await writeFile(privateKeyPath, privateKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(privateKeyPath, 0o600);
  await writeFile(publicKeyPath, publicKeyPem, { mode: 0o644 });
  return { privateKeyPath, publicKeyPath, privateKeyPem, publicKeyPem, created: true };
}
