import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLicenseCli } from './license-cli.js';
import { parseLicensePublicKey } from './license-keys.js';
import { verifyLicense } from './verify-license.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'am-license-cli-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLicenseCli(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run license', () => {
  it('issue creates the key pair once, prints a license the public key verifies, with its limits', async () => {
    const keys = join(dir, 'vendor');
    const first = await cli('issue', '--licensee', 'Acme Bank', '--days', '365', '--max-users', '500', '--keys', keys);
    expect(first.code, first.err).toBe(0);
    expect(first.err).toContain('license-signing-key.pem');
    expect((await stat(join(keys, 'license-signing-key.pem'))).mode & 0o777).toBe(0o600);
    const publicKeyPem = await readFile(join(keys, 'license-public-key.pem'), 'utf8');
    const license = await verifyLicense({ token: first.out, publicKey: parseLicensePublicKey(publicKeyPem), nowMs: Date.now() });
    expect(license).toMatchObject({ licensee: 'Acme Bank', limits: { maxUsers: 500 }, expiringSoon: false });

    const second = await cli('issue', '--licensee', 'Other', '--days', '10', '--keys', keys, '--out', join(dir, 'other.license'));
    expect(second.code).toBe(0);
    expect(second.out).toBe('');
    expect(await readFile(join(keys, 'license-public-key.pem'), 'utf8')).toBe(publicKeyPem);
    const verified = await cli('verify', '--license', join(dir, 'other.license'), '--public-key', join(keys, 'license-public-key.pem'));
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out)).toMatchObject({ licensee: 'Other', expiringSoon: true });
  });

  it('keygen prints the public key and keeps an existing pair', async () => {
    const keys = join(dir, 'keygen');
    const first = await cli('keygen', '--keys', keys);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await cli('keygen', '--keys', keys);
    expect(again.out).toBe(first.out);
    expect(again.err).toContain('kept');
  });

  it('answers usage errors with 64 and a refused license with 78', async () => {
    expect((await cli()).code).toBe(64);
    expect((await cli('issue', '--days', '3')).code).toBe(64);
    expect((await cli('issue', '--licensee', 'A', '--days', '-3')).code).toBe(64);
    expect((await cli('issue', '--licensee', 'A', '--days', '3', '--bogus')).code).toBe(64);
    expect((await cli('frobnicate')).code).toBe(64);
    await writeFile(join(dir, 'garbage.license'), 'nope');
    await cli('keygen', '--keys', join(dir, 'k2'));
    const refused = await cli('verify', '--license', join(dir, 'garbage.license'), '--public-key', join(dir, 'k2', 'license-public-key.pem'));
    expect(refused.code).toBe(78);
    expect(refused.err).toContain('LICENSE_MALFORMED');
  });
});
