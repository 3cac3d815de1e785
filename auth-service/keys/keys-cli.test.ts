import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../platform/migrations.js';
import { SecretBox } from '../../platform/secret-box.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { runKeysCli } from './keys-cli.js';
import { SigningKeyStore } from './signing-key-store.js';

let schema: TestSchema;
const sealKey = randomBytes(32);

beforeAll(async () => {
  schema = await createTestSchema('keys_cli');
  await runMigrations({ databaseUrl: schema.url });
});
afterAll(async () => schema?.drop());

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCli(args, { out: (line) => out.push(line), err: (line) => err.push(line) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run keys', () => {
  it('--help prints the commands and exit codes (0); a wrong command or option is 64 with the usage', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/rotate/);
    expect(help.out).toMatch(/exit codes: 0 done, 1 failed.*64 usage, 78 bad configuration/);
    for (const args of [[], ['spin'], ['rotate', 'extra'], ['--force']]) {
      const wrong = await run(args);
      expect(wrong.code).toBe(64);
      expect(wrong.err).toMatch(/^error: .*\n\nusage: npm run keys/);
    }
  });

  it('refuses to run without DATABASE_URL, or rotate without SECRETS_ENCRYPTION_KEY (78); an unmigrated database is 1', async () => {
    const none = await run(['rotate']);
    expect(none.code).toBe(78);
    expect(none.err).toMatch(/DATABASE_URL/);
    expect(none.err).toMatch(/SECRETS_ENCRYPTION_KEY/);
    const empty = await createTestSchema('keys_cli_empty');
    try {
      const unmigrated = await run(['list'], { DATABASE_URL: empty.url });
      expect(unmigrated.code).toBe(1);
      expect(unmigrated.err).toMatch(/npm run migrate/);
    } finally {
      await empty.drop();
    }
  });

  it('rotate adds a key sealed with SECRETS_ENCRYPTION_KEY that Auth signs with after the prepublish delay; list shows it published, then signing', async () => {
    const pool = schema.newPool({ max: 2 });
    try {
      let offsetMs = 0;
      const auth = new SigningKeyStore({ pool, secrets: new SecretBox(sealKey), clock: { nowMs: () => Date.now() + offsetMs }, maxTokenLifetimeSeconds: 3600, reloadIntervalMs: 0 });
      await auth.start();
      const oldKid = (await auth.signingKey()).kid;
      const env = { DATABASE_URL: schema.url, SECRETS_ENCRYPTION_KEY: sealKey.toString('base64'), SIGNING_KEY_PREPUBLISH_SECONDS: '120' };
      const rotated = await run(['rotate'], env);
      expect(rotated.code).toBe(0);
      const newKid = rotated.out.trim();
      expect(newKid).toMatch(/^[0-9a-f-]{36}$/);
      expect(rotated.err).toMatch(/signs in 120 s/);
      const listed = await run(['list'], { DATABASE_URL: schema.url });
      expect(listed.code).toBe(0);
      expect(listed.out).toMatch(new RegExp(`${oldKid}\\s+signing`));
      expect(listed.out).toMatch(new RegExp(`${newKid}\\s+published`));
      expect((await auth.signingKey()).kid).toBe(oldKid);
      offsetMs = 121_000;
      // Auth opens the CLI's sealed private key with its own SECRETS_ENCRYPTION_KEY.
      expect((await auth.signingKey()).kid).toBe(newKid);
    } finally {
      await pool.end();
    }
  });
});
