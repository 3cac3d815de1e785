// `npm run start:identity` as operators run it: a separate process, configured only by the environment.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../platform/migrations.js';
import { freePort } from '../local-start/free-port.js';
import { testLicenseEnv } from '../test/support/license.js';
import { runMain } from '../test/support/service-main.js';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));
let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('identity_main');
  await runMigrations({ databaseUrl: schema.url });
});
afterAll(async () => schema.drop());

const run = (env: Record<string, string>) => runMain(mainPath, env);

describe('identity main', () => {
  it('refuses to start with a bad configuration, listing every problem at once, and never with a default secret', async () => {
    const { exited, output } = run({ SECRETS_ENCRYPTION_KEY: 'short', ARGON2_MEMORY_KIB: '1024' });
    expect(await exited).toBe(78);
    for (const name of ['TOKEN_ISSUER', 'SECRETS_ENCRYPTION_KEY', 'ARGON2_MEMORY_KIB', 'DATABASE_URL', 'DEFAULT_ORGANIZATION_ID']) expect(output()).toContain(name);
    expect(output()).not.toContain('short');
  });

  it('starts, answers /health with the plain body "healthy", refuses anonymous API calls, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const { child, exited, output } = run({
      ...testLicenseEnv,
      DATABASE_URL: schema.url,
      DB_MIGRATE_ON_START: 'false',
      TOKEN_ISSUER: 'http://127.0.0.1:1',
      DEFAULT_ORGANIZATION_ID: randomUUID(),
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SERVER_PORT: String(port),
      POLICY_CHANGE_CHANNEL: `am_${randomBytes(4).toString('hex')}`,
    });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let health: Response | undefined;
    while (Date.now() < deadline) {
      health = await fetch(`${base}/health`).catch(() => undefined);
      if (health) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(health?.status, output()).toBe(200);
    expect(await health?.text()).toBe('healthy');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const anonymous = await fetch(`${base}/v1/organizations`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/problem\+json/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toMatch(/"msg":"identity listening"/);
  }, 40_000);

  it('under a model without the p shape Identity writes, says so in one line at start, and still serves', async () => {
    const port = await freePort();
    const { child, exited, output } = run({
      ...testLicenseEnv,
      DATABASE_URL: schema.url,
      DB_MIGRATE_ON_START: 'false',
      TOKEN_ISSUER: 'http://127.0.0.1:1',
      DEFAULT_ORGANIZATION_ID: randomUUID(),
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SERVER_PORT: String(port),
      POLICY_CHANGE_CHANNEL: `am_${randomBytes(4).toString('hex')}`,
      POLICY_MODEL_PATH: fileURLToPath(new URL('../policies/examples/invoices/model.conf', import.meta.url)),
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !output().includes('"msg":"identity listening"')) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = output().split('\n').filter((line) => line.includes('the policy model lacks'));
    expect(lines, output()).toHaveLength(1);
    expect(lines[0]).toContain('a 5-field p line');
    expect(lines[0]).toContain('its p has 6 fields (sub, dom, obj, act, limit, eft)');
    expect(lines[0]).toContain('"level":40');
  }, 40_000);
});
