import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../platform/secret.js';
import { issueLicense } from './issue-license.js';
import { LicenseError } from './license-error.js';
import { generateLicenseKeyPair, parseLicensePrivateKey } from './license-keys.js';
import { loadLicense } from './load-license.js';
import type { LicenseSettings } from './license-config.js';

const nowMs = Date.UTC(2026, 10, 23);
const vendor = generateLicenseKeyPair();
let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'am-license-'));
  token = await issueLicense({ privateKey: parseLicensePrivateKey(vendor.privateKeyPem), licensee: 'Acme', validForDays: 90, nowMs });
  await writeFile(join(dir, 'license.jwt'), `${token}\n`);
  await writeFile(join(dir, 'public.pem'), vendor.publicKeyPem);
  await writeFile(join(dir, 'empty.jwt'), '\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function codeOf(settings: LicenseSettings): Promise<string> {
  const error = await loadLicense(settings, nowMs).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LicenseError);
  expect((error as Error).message).not.toContain(token);
  return (error as LicenseError).code;
}

describe('loadLicense (the start gate)', () => {
  it('reads the license and the public key from variables or from files', async () => {
    expect((await loadLicense({ LICENSE_KEY: new Secret(token), LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, nowMs)).licensee).toBe('Acme');
    const fromFiles = await loadLicense({ LICENSE_FILE: join(dir, 'license.jwt'), LICENSE_PUBLIC_KEY_FILE: join(dir, 'public.pem') }, nowMs);
    expect(fromFiles.expiresAt.getTime()).toBe(nowMs + 90 * 86_400_000);
  });

  it('refuses when no license is configured, the file is missing or empty', async () => {
    expect(await codeOf({ LICENSE_PUBLIC_KEY: vendor.publicKeyPem })).toBe('LICENSE_MISSING');
    expect(await codeOf({ LICENSE_FILE: join(dir, 'absent.jwt'), LICENSE_PUBLIC_KEY: vendor.publicKeyPem })).toBe('LICENSE_MISSING');
    expect(await codeOf({ LICENSE_FILE: join(dir, 'empty.jwt'), LICENSE_PUBLIC_KEY: vendor.publicKeyPem })).toBe('LICENSE_MISSING');
  });

  it('refuses without a public key (there is no built-in one) or with an unreadable key file', async () => {
    expect(await codeOf({ LICENSE_KEY: new Secret(token) })).toBe('LICENSE_PUBLIC_KEY_INVALID');
    expect(await codeOf({ LICENSE_KEY: new Secret(token), LICENSE_PUBLIC_KEY_FILE: join(dir, 'absent.pem') })).toBe('LICENSE_PUBLIC_KEY_INVALID');
  });

  it('refuses ambiguous settings rather than pick one silently', async () => {
    expect(await codeOf({ LICENSE_KEY: new Secret(token), LICENSE_FILE: join(dir, 'license.jwt'), LICENSE_PUBLIC_KEY: vendor.publicKeyPem })).toBe('LICENSE_MALFORMED');
    expect(await codeOf({ LICENSE_KEY: new Secret(token), LICENSE_PUBLIC_KEY: vendor.publicKeyPem, LICENSE_PUBLIC_KEY_FILE: join(dir, 'public.pem') })).toBe('LICENSE_PUBLIC_KEY_INVALID');
  });

  it('refuses a license the configured key did not sign', async () => {
    expect(await codeOf({ LICENSE_KEY: new Secret(token), LICENSE_PUBLIC_KEY: generateLicenseKeyPair().publicKeyPem })).toBe('LICENSE_BAD_SIGNATURE');
  });
});
