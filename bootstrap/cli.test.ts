import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../platform/migrations.js';
import { builtinOrganizationId } from './builtin-ids.js';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const password = 'Cli-Admin-Passw0rd';

const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const organizationLine = `organization platform: ${builtinOrganizationId} (the services' DEFAULT_ORGANIZATION_ID, or PLATFORM_ORGANIZATION_ID in multi-tenant mode)\n`;

async function cli(args: readonly string[], env: Record<string, string>, cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(tsx, [path.join(root, 'bootstrap/cli.ts'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run bootstrap', () => {
  let schema: TestSchema;
  let empty: TestSchema;

  beforeAll(async () => {
    [schema, empty] = await Promise.all([createTestSchema('bootstrap_cli'), createTestSchema('bootstrap_cli_empty')]);
    await runMigrations({ databaseUrl: schema.url });
  });
  afterAll(async () => {
    await Promise.all([schema.drop(), empty.drop()]);
  });

  it('plan prints the changes, apply makes them and prints each new secret once, a second apply prints "nothing to change"', async () => {
    const env = { DATABASE_URL: schema.url, BOOTSTRAP_ADMIN_USERNAME: 'ops', BOOTSTRAP_ADMIN_PASSWORD: password };
    const plan = await cli(['plan'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^\d+ changes to apply:\n {2}create organization platform "Platform"\n/);
    expect(plan.stdout).toContain('  create administrator ops in admin-group\n');
    expect((await schema.pool.query('SELECT 1 FROM organizations')).rowCount).toBe(0);

    const apply = await cli(['apply'], env);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/^applied \d+ changes:\n/);
    expect(apply.stdout.match(/client secret \S+ \(shown once/g)).toHaveLength(5);
    expect(apply.stdout).not.toContain(password);

    const again = await cli(['apply'], env);
    expect(again).toEqual({ code: 0, stdout: `nothing to change\n${organizationLine}`, stderr: '' });
    expect(apply.stdout.endsWith(organizationLine)).toBe(true);
    expect(plan.stdout.endsWith(organizationLine)).toBe(true);
  });

  it('reads its settings from .env in the working directory, as the services do', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bootstrap-env-'));
    try {
      await writeFile(path.join(dir, '.env'), `DATABASE_URL=${schema.url}\n`);
      const plan = await cli(['plan'], {}, dir);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain(organizationLine);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--help prints the commands, where the organization id goes and the exit codes (0)', async () => {
    const help = await cli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: npm run bootstrap -- <command>/);
    expect(help.stdout).toMatch(/DEFAULT_ORGANIZATION_ID/);
    expect(help.stdout).toMatch(/exit codes: 0 done, 1 refused or failed, 64 usage, 78 bad configuration/);
  });

  it('refuses a missing mode (64), a bad environment (78), and an unmigrated database with what to do (1)', async () => {
    expect((await cli([], { DATABASE_URL: schema.url })).code).toBe(64);
    expect((await cli(['deploy'], { DATABASE_URL: schema.url })).code).toBe(64);
    const config = await cli(['plan'], { DATABASE_URL: 'mysql://db/am' });
    expect(config.code).toBe(78);
    expect(config.stderr).toContain('DATABASE_URL: must be a postgres: or postgresql: URL');
    const unmigrated = await cli(['plan'], { DATABASE_URL: empty.url });
    expect(unmigrated.code).toBe(1);
    expect(unmigrated.stderr).toBe('error: the database has no Access Manager tables: run `npm run migrate -- up` first\n');
  });
});
