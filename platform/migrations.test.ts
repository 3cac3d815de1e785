import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestSchema, testDatabaseUrl, type TestSchema } from '../test/support/postgres.js';
import { runMigrations } from './migrations.js';
import { runMigrateCli } from './migrate-command.js';

import { readdirSync } from 'node:fs';
import { migrationsDir } from './migrations.js';

// Every migration file, by name, in order; the tables are read from the files so a new migration needs no edit here:
// each file's up part, in order, creating and dropping tables (a later migration may replace an earlier one's table).
const migrationFiles = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).sort();
const migrationNames = migrationFiles.map((f) => f.replace(/\.sql$/, ''));
const policyTables = [
  'pgmigrations',
  ...migrationFiles.reduce((tables, f) => {
    const up = readFileSync(`${migrationsDir}/${f}`, 'utf8').split(/^-- Down Migration/m)[0] ?? '';
    for (const [, verb, table] of up.matchAll(/^(CREATE|DROP) TABLE (?:IF EXISTS )?(\w+)/gm)) {
      if (verb === 'CREATE') tables.add(table as string);
      else tables.delete(table as string);
    }
    return tables;
  }, new Set<string>()),
].sort();
const schemas: TestSchema[] = [];

async function freshSchema(label: string): Promise<TestSchema> {
  const schema = await createTestSchema(label);
  schemas.push(schema);
  return schema;
}

async function tablesIn(schema: TestSchema): Promise<string[]> {
  const { rows } = await schema.pool.query<{ table_name: string }>(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema.schema],
  );
  return rows.map((row) => row.table_name);
}

afterAll(async () => {
  await Promise.all(schemas.map((schema) => schema.drop()));
});

describe('runMigrations', () => {
  it('three replicas migrating one fresh schema at once all succeed and create each table once, pgmigrations included, in that schema', async () => {
    const schema = await freshSchema('migrate_race');
    const logs: string[] = [];

    await Promise.all([1, 2, 3].map(() => runMigrations({ databaseUrl: schema.url, log: (m) => logs.push(m) })));

    expect(await tablesIn(schema)).toEqual(policyTables);
    const applied = await schema.pool.query<{ name: string }>('SELECT name FROM pgmigrations');
    expect(applied.rows.map((row) => row.name)).toEqual(migrationNames);
    expect(logs.filter((line) => line.includes('No migrations to run'))).toHaveLength(2);
  });

  it('running again on a migrated schema applies nothing', async () => {
    const schema = await freshSchema('migrate_again');
    await runMigrations({ databaseUrl: schema.url });
    const logs: string[] = [];

    await runMigrations({ databaseUrl: schema.url, log: (m) => logs.push(m) });

    expect(logs).toContain('No migrations to run!');
    expect((await schema.pool.query('SELECT name FROM pgmigrations')).rowCount).toBe(migrationNames.length);
  });

  it('an explicit schema option wins over the connection default', async () => {
    const schema = await freshSchema('migrate_explicit');

    await runMigrations({ databaseUrl: testDatabaseUrl, schema: schema.schema });

    expect(await tablesIn(schema)).toEqual(policyTables);
  });

  it('the casbin table keeps the adapter layout but is unique on (ptype, rule)', async () => {
    const schema = await freshSchema('migrate_layout');
    await runMigrations({ databaseUrl: schema.url });

    const columns = await schema.pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'casbin' ORDER BY ordinal_position`,
      [schema.schema],
    );
    expect(columns.rows).toEqual([
      { column_name: 'id', data_type: 'integer', is_nullable: 'NO' },
      { column_name: 'ptype', data_type: 'text', is_nullable: 'NO' },
      { column_name: 'rule', data_type: 'jsonb', is_nullable: 'NO' },
    ]);
    const indexes = await schema.pool.query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname',
      [schema.schema, 'casbin'],
    );
    const definitions = indexes.rows.map((row) => row.indexdef.replace(`${schema.schema}.`, ''));
    expect(definitions).toContain('CREATE UNIQUE INDEX casbin_uniq_ptype_rule ON casbin USING btree (ptype, rule)');
    for (const field of [0, 1, 2, 3, 4, 5]) {
      expect(definitions).toContain(
        `CREATE INDEX idx_casbin_rule_v${field} ON casbin USING btree (((rule ->> ${field})))`,
      );
    }
  });
});

describe('npm run migrate (platform/migrate-cli.ts)', () => {
  const run = async (args: string[], env: Record<string, string | undefined>) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runMigrateCli(args, { out: (line) => out.push(line), err: (line) => err.push(line) }, env);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('up reads DATABASE_URL from .env in the working directory (the environment would win) and prints one line saying so', async () => {
    const schema = await freshSchema('migrate_cli');
    const root = fileURLToPath(new URL('..', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-env-'));
    try {
      await writeFile(path.join(dir, '.env'), `DATABASE_URL=${schema.url}\n`);
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'DATABASE_URL'));
      const { stdout } = await promisify(execFile)(tsx, [path.join(root, 'platform/migrate-cli.ts'), 'up'], { cwd: dir, env });
      expect(stdout).toMatch(/migrations applied to postgres:\/\//);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await tablesIn(schema)).toEqual(policyTables);
  });

  it('status lists every migration as pending, then as applied after up; it writes nothing itself', async () => {
    const schema = await freshSchema('migrate_status');
    const before = await run(['status'], { DATABASE_URL: schema.url });
    expect(before.code).toBe(0);
    expect(before.out.split('\n').slice(0, migrationNames.length)).toEqual(migrationNames.map((name) => `pending  ${name}`));
    expect(before.out).toMatch(new RegExp(`${migrationNames.length} of ${migrationNames.length} migrations pending`));
    expect(await tablesIn(schema)).toEqual([]);
    expect((await run(['up'], { DATABASE_URL: schema.url })).code).toBe(0);
    const after = await run(['status'], { DATABASE_URL: schema.url });
    expect(after.out.split('\n').slice(0, migrationNames.length).every((line, i) => line.startsWith(`applied  ${migrationNames[i]}  20`))).toBe(true);
    expect(after.out).toMatch(/up to date/);
  });

  it('refuses to run without DATABASE_URL (78, no default database); no command, an unknown one or an extra argument is 64 with the usage; --help is 0', async () => {
    const none = await run(['up'], {});
    expect(none.code).toBe(78);
    expect(none.err).toMatch(/DATABASE_URL: required/);
    for (const args of [[], ['down'], ['up', 'now'], ['--all']]) {
      const wrong = await run(args, { DATABASE_URL: testDatabaseUrl });
      expect(wrong.code).toBe(64);
      expect(wrong.err).toMatch(/usage: npm run migrate -- <command>/);
    }
    const help = await run(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/exit codes: 0 done.*1 failed, 64 usage, 78 bad configuration/);
  });

  it('an unreachable database is 1, and the password never shows', async () => {
    const failed = await run(['up'], { DATABASE_URL: 'postgres://someone:hunter2secret@127.0.0.1:1/none' });
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/migrations failed/);
    expect(failed.err).not.toContain('hunter2secret');
  });
});
