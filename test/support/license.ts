// The license variables a test needs to start a service: the start gate refuses to run without a valid license.
import { generateLicenseKeyPair, issueLicense, parseLicensePrivateKey } from '../../licensing/index.js';

export interface TestLicenseEnv {
  readonly LICENSE_KEY: string;
  readonly LICENSE_PUBLIC_KEY: string;
}

/** A fresh vendor key pair and a license signed with it, valid for `days` from `nowMs`. */
export async function createTestLicenseEnv(options: { days?: number; licensee?: string; nowMs?: number } = {}): Promise<TestLicenseEnv> {
  const vendor = generateLicenseKeyPair();
  const token = await issueLicense({
    privateKey: parseLicensePrivateKey(vendor.privateKeyPem),
    licensee: options.licensee ?? 'Access Manager tests',
    validForDays: options.days ?? 365,
    nowMs: options.nowMs ?? Date.now(),
  });
  return { LICENSE_KEY: token, LICENSE_PUBLIC_KEY: vendor.publicKeyPem };
}

/** A year-long license for tests that only need a service to start: spread it into the environment. */
export const testLicenseEnv: TestLicenseEnv = await createTestLicenseEnv();
