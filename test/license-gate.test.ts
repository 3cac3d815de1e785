// Auth and Identity, started as operators start them, refuse to run without a valid license (exit 78
// and a message naming the problem, never the token), and warn when it expires within 14 days.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateLicenseKeyPair, issueLicense, parseLicensePrivateKey } from '../licensing/index.js';
import { createTestLicenseEnv, testLicenseEnv } from './support/license.js';
import { runMain } from './support/service-main.js';

const mains = {
  auth: fileURLToPath(new URL('../auth-service/main.ts', import.meta.url)),
  identity: fileURLToPath(new URL('../identity-service/main.ts', import.meta.url)),
};

// Valid in every other respect. The gate runs before any connection is opened, so nothing listens on 1.
const baseEnv = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
  TOKEN_ISSUER: 'http://127.0.0.1:1',
  DEFAULT_ORGANIZATION_ID: randomUUID(),
  SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  MFA_SECRET: randomBytes(32).toString('base64'),
  SERVER_PORT: '0',
};

function run(service: keyof typeof mains, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { child, exited, output } = runMain(mains[service], { ...baseEnv, ...env });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return exited.then((code) => {
    clearTimeout(timer);
    return { code, output: output() };
  });
}

const vendor = generateLicenseKeyPair();
const sign = (days: number, nowMs = Date.now()) =>
  issueLicense({ privateKey: parseLicensePrivateKey(vendor.privateKeyPem), licensee: 'Acme Bank', validForDays: days, nowMs });

describe('license gate at start', () => {
  it('refuses to start (exit 78) with a missing, malformed, forged, expired or foreign-key license, naming the problem', async () => {
    const valid = await sign(365);
    const [header, payload, signature] = valid.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, licensee: 'Mallory' })).toString('base64url')}.${signature}`;
    const expired = await sign(30, Date.now() - 31 * 86_400_000);
    const foreign = await createTestLicenseEnv();
    const cases: [string, Record<string, string>, string][] = [
      ['missing', { LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, 'LICENSE_MISSING'],
      ['malformed', { LICENSE_KEY: 'not-a-license', LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, 'LICENSE_MALFORMED'],
      ['forged', { LICENSE_KEY: forged, LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, 'LICENSE_BAD_SIGNATURE'],
      ['expired', { LICENSE_KEY: expired, LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, 'LICENSE_EXPIRED'],
      ['signed by another vendor key', { LICENSE_KEY: foreign.LICENSE_KEY, LICENSE_PUBLIC_KEY: vendor.publicKeyPem }, 'LICENSE_BAD_SIGNATURE'],
      ['no public key', { LICENSE_KEY: valid }, 'LICENSE_PUBLIC_KEY_INVALID'],
    ];
    // Every case on Auth; Identity shares the gate, so three cases suffice there. Three processes at a time:
    // the machine is shared.
    const jobs = [
      ...cases.map((c) => ['auth', c] as const),
      ...cases.filter(([name]) => ['missing', 'forged', 'expired'].includes(name)).map((c) => ['identity', c] as const),
    ];
    const results: { name: string; service: string; code: string; env: Record<string, string>; result: Awaited<ReturnType<typeof run>> }[] = [];
    for (let i = 0; i < jobs.length; i += 3) {
      results.push(...(await Promise.all(jobs.slice(i, i + 3).map(async ([service, [name, env, code]]) => ({ name, service, code, env, result: await run(service, env) })))));
    }
    for (const { name, service, code, env, result } of results) {
      expect({ name, service, exit: result.code }).toEqual({ name, service, exit: 78 });
      expect(result.output, `${service} ${name}`).toContain(code);
      expect(result.output).toContain('license refused');
      if (env.LICENSE_KEY) expect(result.output).not.toContain(env.LICENSE_KEY);
    }
  }, 240_000);

  it('a license that expires within 14 days is logged as a warning at start (then the start goes on)', async () => {
    const expiring = await sign(5);
    // The engine then fails to reach PostgreSQL on port 1, which ends the process: the warning comes first.
    const result = await run('auth', { LICENSE_KEY: expiring, LICENSE_PUBLIC_KEY: vendor.publicKeyPem, DB_MIGRATE_ON_START: 'false', DB_CONNECTION_TIMEOUT_MS: '200' });
    const warning = result.output.split('\n').find((line) => line.includes('license expires within 14 days'));
    expect(warning, result.output).toBeDefined();
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, licensee: 'Acme Bank' });
    expect(result.output).not.toContain(expiring);
  }, 40_000);

  it('the shared test license lets a service pass the gate', () => {
    expect(testLicenseEnv.LICENSE_KEY.split('.')).toHaveLength(3);
  });
});
