import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newEnforcer, newModelFromString } from 'casbin';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool } from '../../platform/postgres-pool.js';
import { runMigrations } from '../../platform/migrations.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { EngineError } from '../errors.js';
import type { PolicyChange, PolicyRule } from '../policy-rule.js';
import { loadCasbinPgAdapterClass } from './guarded-casbin-pg-adapter.js';
import { PgPolicyStore } from './pg-policy-store.js';
import { openPgPolicyTransaction } from './pg-policy-transaction.js';

const modelText = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _
g2 = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch(r.obj, p.obj) && (r.act == p.act || p.act == "*")
`;

const schemas: TestSchema[] = [];
const pools: pg.Pool[] = [];
let main: TestSchema;
let store: PgPolicyStore;

async function migratedSchema(label: string): Promise<TestSchema> {
  const schema = await createTestSchema(label);
  schemas.push(schema);
  await runMigrations({ databaseUrl: schema.url });
  return schema;
}

function storePool(schema: TestSchema, options: Omit<Parameters<typeof createPgPool>[0], 'url'> = {}): pg.Pool {
  const pool = createPgPool({ url: schema.url, maxConnections: 10, ...options });
  pools.push(pool);
  return pool;
}

let tenantCounter = 0;
function newTenant(): string {
  tenantCounter += 1;
  return `tenant-${tenantCounter}`;
}

const p = (tenantId: string, sub: string, obj = 'accounts', act = 'get', eft = 'allow'): PolicyRule => ({
  ptype: 'p',
  values: [sub, tenantId, obj, act, eft],
});
const g = (tenantId: string, user: string, role: string, ptype = 'g'): PolicyRule => ({
  ptype,
  values: [user, role, tenantId],
});
const add = (rule: PolicyRule): PolicyChange => ({ op: 'add', rule });
const remove = (rule: PolicyRule): PolicyChange => ({ op: 'remove', rule });

async function tableContent(schema: TestSchema): Promise<unknown[]> {
  const { rows } = await schema.pool.query('SELECT id, ptype, rule FROM casbin ORDER BY id');
  return rows;
}

async function engineErrorOf(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw new Error(`expected an EngineError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection');
}

const sortRules = (rules: readonly PolicyRule[]): string[] =>
  rules.map((rule) => JSON.stringify([rule.ptype, ...rule.values])).sort();

beforeAll(async () => {
  main = await migratedSchema('pg_policy_store');
  store = new PgPolicyStore({ pool: storePool(main) });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  await Promise.all(schemas.map((schema) => schema.drop()));
});

describe('PgPolicyStore writes', () => {
  it('a write bumps the revision by one, records the effective changes and is visible to loadTenant', async () => {
    const tenant = newTenant();

    const first = await store.applyChanges(tenant, [add(p(tenant, 'role:admin')), add(g(tenant, 'user:1', 'role:admin'))]);
    const second = await store.applyChanges(tenant, [remove(p(tenant, 'role:admin'))]);

    expect(first).toEqual({ tenantId: tenant, revision: 1, changed: true });
    expect(second).toEqual({ tenantId: tenant, revision: 2, changed: true });
    expect(await store.loadTenant(tenant)).toEqual({
      tenantId: tenant,
      revision: 2,
      rules: [g(tenant, 'user:1', 'role:admin')],
    });
    expect(await store.changesSince(tenant, 0)).toEqual([
      { tenantId: tenant, revision: 1, changes: [add(p(tenant, 'role:admin')), add(g(tenant, 'user:1', 'role:admin'))] },
      { tenantId: tenant, revision: 2, changes: [remove(p(tenant, 'role:admin'))] },
    ]);
    expect((await store.revisions()).get(tenant)).toBe(2);
    expect(await store.revisions([tenant, 'nobody'])).toEqual(new Map([[tenant, 2]]));
    expect(await store.revisions([])).toEqual(new Map());
  });

  it('an unknown tenant has revision 0, no rules and an empty change log', async () => {
    expect(await store.loadTenant('nobody')).toEqual({ tenantId: 'nobody', revision: 0, rules: [] });
    expect(await store.changesSince('nobody', 0)).toEqual([]);
    expect(await store.applyChanges('nobody', [])).toEqual({ tenantId: 'nobody', revision: 0, changed: false });
  });

  it('only effective changes reach the log: a duplicate add in one batch counts once, a remove then re-add counts both', async () => {
    const tenant = newTenant();
    const rule = p(tenant, 'role:a');

    await store.applyChanges(tenant, [add(rule), add(rule), remove(p(tenant, 'role:absent'))]);
    await store.applyChanges(tenant, [remove(rule), add(rule)]);

    expect(await store.changesSince(tenant, 0)).toEqual([
      { tenantId: tenant, revision: 1, changes: [add(rule)] },
      { tenantId: tenant, revision: 2, changes: [remove(rule), add(rule)] },
    ]);
    expect((await store.loadTenant(tenant)).rules).toEqual([rule]);
  });

  it('remove matches the whole rule exactly: a longer rule sharing its first fields stays (the adapter deletes field by field)', async () => {
    const tenant = newTenant();
    const short: PolicyRule = { ptype: 'p', values: ['role:a', tenant, 'accounts', 'get'] };
    const long = p(tenant, 'role:a', 'accounts', 'get', 'allow');
    await store.applyChanges(tenant, [add(short), add(long)]);

    await store.applyChanges(tenant, [remove(short)]);

    expect((await store.loadTenant(tenant)).rules).toEqual([long]);
  });

  it('a burst of 20 concurrent writes to one tenant gets revisions 1..20 and a complete change log', async () => {
    const tenant = newTenant();
    const rules = Array.from({ length: 20 }, (_, i) => p(tenant, `role:${i}`));

    const results = await Promise.all(rules.map((rule) => store.applyChanges(tenant, [add(rule)])));

    expect(results.map((result) => result.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(results.every((result) => result.changed)).toBe(true);
    const log = await store.changesSince(tenant, 0);
    expect(log?.map((entry) => entry.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(sortRules(log?.flatMap((entry) => entry.changes.map((change) => change.rule)) ?? [])).toEqual(
      sortRules(rules),
    );
    const snapshot = await store.loadTenant(tenant);
    expect(snapshot.revision).toBe(20);
    expect(sortRules(snapshot.rules)).toEqual(sortRules(rules));
  });

  it('concurrent first writes to one new tenant serialise too (the revision row is created under the lock)', async () => {
    const tenant = newTenant();

    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => store.applyChanges(tenant, [add(p(tenant, `role:${i}`))])),
    );

    expect(results.map((result) => result.revision).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('revision and rules are never seen apart: every snapshot taken during writes has as many rules as its revision', async () => {
    const tenant = newTenant();
    const writes = 40;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < writes; i += 1) await store.applyChanges(tenant, [add(p(tenant, `role:${i}`))]);
      writing = false;
    })();
    const mismatches: string[] = [];
    let snapshots = 0;
    const reader = async (load: () => Promise<{ revision: number; rules: readonly PolicyRule[] }>) => {
      while (writing) {
        const snapshot = await load();
        snapshots += 1;
        if (snapshot.rules.length !== snapshot.revision) {
          mismatches.push(`${snapshot.rules.length} rules at revision ${snapshot.revision}`);
        }
      }
    };

    await Promise.all([
      writer,
      reader(() => store.loadTenant(tenant)),
      reader(async () => {
        const all = await store.loadAll();
        const rules = all.rules.filter((rule) => rule.values[1] === tenant);
        return { revision: all.revisions.get(tenant) ?? 0, rules };
      }),
    ]);

    expect(mismatches).toEqual([]);
    expect(snapshots).toBeGreaterThan(2);
  });

  it("loadTenant is one statement (one round trip) answered through the tenant index, whichever field holds a line's tenant", async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [add(p(tenant, 'role:admin')), add(g(tenant, 'user:1', 'role:admin')), add(g(tenant, 'group:1', 'role:admin', 'g2'))]);
    // Another tenant's link whose role is named like this tenant: field 1 holds the name, but it is not this tenant's line.
    const other = newTenant();
    await store.applyChanges(other, [add(g(other, 'user:1', tenant))]);
    const pool = storePool(main);
    const statements: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text = args[0];
        statements.push(typeof text === 'string' ? text : String((text as { text?: string }).text));
        return query(...args);
      };
    });
    const counted = new PgPolicyStore({ pool });
    expect(await counted.loadTenant(tenant)).toEqual({
      tenantId: tenant,
      revision: 1,
      rules: [p(tenant, 'role:admin'), g(tenant, 'user:1', 'role:admin'), g(tenant, 'group:1', 'role:admin', 'g2')],
    });
    expect(statements).toHaveLength(1);

    // The plan reads the lines through idx_casbin_tenant (sequential scans off: the test table is too small to need an index).
    const client = await main.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statements[0] ?? ''}`.replace('$1', `'${tenant}'`).replaceAll('$1', `'${tenant}'`));
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain('idx_casbin_tenant');
      expect(plan).not.toContain('BitmapOr');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('changesSince returns undefined once the log no longer reaches back to the asked revision', async () => {
    const shortLog = new PgPolicyStore({ pool: storePool(main), changeLogRevisionsKept: 3 });
    const tenant = newTenant();
    for (let i = 1; i <= 5; i += 1) await shortLog.applyChanges(tenant, [add(p(tenant, `role:${i}`))]);

    expect(await shortLog.changesSince(tenant, 0)).toBeUndefined();
    expect(await shortLog.changesSince(tenant, 1)).toBeUndefined();
    expect((await shortLog.changesSince(tenant, 2))?.map((entry) => entry.revision)).toEqual([3, 4, 5]);
    expect(await shortLog.changesSince(tenant, 5)).toEqual([]);
    expect(await shortLog.changesSince(tenant, 9)).toEqual([]);
    const kept = await main.pool.query('SELECT revision FROM policy_change WHERE tenant_id = $1', [tenant]);
    expect(kept.rowCount).toBe(3);
  });

  it('rulesOfSubjectWithin returns exactly the p and g lines whose subject is the given one in that tenant', async () => {
    const tenant = newTenant();
    const other = newTenant();
    const mine = [p(tenant, 'user:7'), p(tenant, 'user:7', 'reports', '*', 'deny'), g(tenant, 'user:7', 'group:a'), g(tenant, 'user:7', 'role:x', 'g2')];
    const notMine = [
      p(tenant, 'user:70'),
      p(tenant, 'group:a'),
      g(tenant, 'user:70', 'group:a'),
      // user:7 as the role of a link, not its subject
      g(tenant, 'group:b', 'user:7'),
    ];
    await store.applyChanges(tenant, [...mine, ...notMine].map(add));
    await store.applyChanges(other, [add(p(other, 'user:7')), add(g(other, 'user:7', 'group:a'))]);

    const client = await main.pool.connect();
    try {
      await client.query('BEGIN');
      expect(sortRules(await store.rulesOfSubjectWithin(openPgPolicyTransaction(client), tenant, 'user:7'))).toEqual(sortRules(mine));
      expect(await store.rulesOfSubjectWithin(openPgPolicyTransaction(client), tenant, 'user:nobody')).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });

  it('rulesOfSubjectWithin holds the tenant write lock: a concurrent grant to the subject waits, so removing what it read leaves no line', async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [add(p(tenant, 'user:8'))]);
    const client = await main.pool.connect();
    let granted: Promise<unknown> | undefined;
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await client.query('BEGIN');
      const lines = await store.rulesOfSubjectWithin(openPgPolicyTransaction(client), tenant, 'user:8');
      let settled = false;
      granted = store.applyChanges(tenant, [add(p(tenant, 'user:8', 'ledgers'))]).finally(() => {
        settled = true;
      });
      // Wait (with a deadline) until the grant's session is blocked by this one.
      const deadline = Date.now() + 5_000;
      const blockedBehind = async () =>
        (await main.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [rows[0]?.pid])).rows[0]?.n ?? 0;
      while ((await blockedBehind()) === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(await blockedBehind()).toBe(1);
      expect(settled).toBe(false);
      await store.applyChangesWithin(openPgPolicyTransaction(client), tenant, lines.map(remove));
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await granted;
    // The grant committed after the removal: it is the only line left, never one the removal missed.
    expect((await store.loadTenant(tenant)).rules).toEqual([p(tenant, 'user:8', 'ledgers')]);
  });

  it('lockTenantWithin answers the committed revision and holds the tenant write lock until commit: a concurrent write waits', async () => {
    const tenant = newTenant();
    const { revision: committed } = await store.applyChanges(tenant, [add(p(tenant, 'user:9'))]);
    const client = await main.pool.connect();
    let written: Promise<{ revision: number }> | undefined;
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await client.query('BEGIN');
      expect(await store.lockTenantWithin(openPgPolicyTransaction(client), tenant)).toBe(committed);
      let settled = false;
      written = store.applyChanges(tenant, [add(p(tenant, 'user:9', 'ledgers'))]).finally(() => {
        settled = true;
      });
      const deadline = Date.now() + 5_000;
      const blockedBehind = async () =>
        (await main.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [rows[0]?.pid])).rows[0]?.n ?? 0;
      while ((await blockedBehind()) === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(await blockedBehind()).toBe(1);
      expect(settled).toBe(false);
      expect((await store.applyChangesWithin(openPgPolicyTransaction(client), tenant, [add(p(tenant, 'user:9', 'reports'))])).revision).toBe(committed + 1);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await written)?.revision).toBe(committed + 2);
    // A tenant never written has revision 0 and can be locked all the same.
    const fresh = await main.pool.connect();
    try {
      await fresh.query('BEGIN');
      expect(await store.lockTenantWithin(openPgPolicyTransaction(fresh), newTenant())).toBe(0);
      await fresh.query('ROLLBACK');
    } finally {
      fresh.release();
    }
  });

  it('transaction commits its work, then runs its after-commit effects in order, once the commit is visible to others', async () => {
    const tenant = newTenant();
    const seen: number[] = [];
    const result = await store.transaction(async (tx) => {
      tx.afterCommit(async () => void seen.push((await store.revisions()).get(tenant) ?? 0));
      const written = await store.applyChangesWithin(tx, tenant, [add(p(tenant, 'role:a'))]);
      tx.afterCommit(async () => void seen.push(-1));
      expect((await store.revisions()).get(tenant)).toBeUndefined();
      return written;
    });
    expect(result).toEqual({ tenantId: tenant, revision: 1, changed: true });
    expect(seen).toEqual([1, -1]);
  });

  it('transaction rolls back when its work throws, rethrows that very error and runs no after-commit effect', async () => {
    const tenant = newTenant();
    const refusal = new Error('refused by the caller');
    let ran = false;
    const failed = store.transaction(async (tx) => {
      await store.applyChangesWithin(tx, tenant, [add(p(tenant, 'role:a'))]);
      tx.afterCommit(async () => void (ran = true));
      throw refusal;
    });
    await expect(failed).rejects.toBe(refusal);
    expect(ran).toBe(false);
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 0, rules: [] });
  });

  it('the *Within methods take only a handle made by openPgPolicyTransaction', async () => {
    const notOurs = { afterCommit: () => undefined };
    await expect(store.applyChangesWithin(notOurs, 't', [add(p('t', 'role:a'))])).rejects.toThrow(TypeError);
    await expect(store.lockTenantWithin(notOurs, 't')).rejects.toThrow(TypeError);
    await expect(store.rulesOfSubjectWithin(notOurs, 't', 'user:1')).rejects.toThrow(TypeError);
  });

  it('a custom tenantOf decides which rules a tenant may write and which it loads', async () => {
    const byFirstField = new PgPolicyStore({
      pool: storePool(main),
      tenantOf: (rule) => rule.values[0]?.split(':')[0],
    });
    const rule: PolicyRule = { ptype: 'p', values: ['custom-tenant:role', 'whatever', 'accounts', 'get', 'allow'] };

    await byFirstField.applyChanges('custom-tenant', [add(rule)]);

    expect((await byFirstField.loadTenant('custom-tenant')).rules).toEqual([rule]);
    expect((await engineErrorOf(byFirstField.applyChanges('other', [add(rule)]))).code).toBe('INVALID_RULE');
  });
});

describe('PgPolicyStore refusals', () => {
  it.each([
    ['a comma (the CSV policy-line reader would split it)', 'accounts,ledgers'],
    ['a double quote', 'acc"ounts'],
    ['a newline', 'accounts\nledgers'],
    ['a carriage return', 'accounts\r'],
    ['a NUL', 'accounts\u0000'],
    ['a tab', 'acc\tounts'],
    ['leading whitespace (the reader trims it)', ' accounts'],
    ['unbalanced parentheses (the reader joins fields across them)', 'accounts('],
    ['an empty value', ''],
    ['a value over 256 characters', 'a'.repeat(257)],
  ])('a value with %s is refused with INVALID_RULE and nothing is written', async (_label, value) => {
    const tenant = newTenant();

    const error = await engineErrorOf(store.applyChanges(tenant, [add(p(tenant, 'role:ok')), add(p(tenant, 'role:a', value))]));

    expect(error.code).toBe('INVALID_RULE');
    expect(error.field).toBe('changes[1].rule.values[2]');
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 0, rules: [] });
  });

  it("a rule of another tenant is refused, even last in a batch, and nothing is written", async () => {
    const tenant = newTenant();

    const error = await engineErrorOf(
      store.applyChanges(tenant, [add(p(tenant, 'role:a')), remove(p(tenant, 'role:b')), add(p('someone-else', 'role:a'))]),
    );

    expect(error.code).toBe('INVALID_RULE');
    expect(error.field).toBe('changes[2].rule');
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 0, rules: [] });
  });

  it('a ptype that is neither p* nor g* is refused', async () => {
    const error = await engineErrorOf(store.applyChanges('t', [add({ ptype: 'x', values: ['a', 't'] })]));

    expect(error).toMatchObject({ code: 'INVALID_RULE', field: 'changes[0].rule.ptype' });
  });

  it('a batch failing inside the database after earlier statements succeeded leaves nothing behind', async () => {
    const tenant = newTenant();
    const kept = p(tenant, 'role:kept');
    await store.applyChanges(tenant, [add(kept)]);
    await main.pool.query(`
      CREATE FUNCTION refuse_explode() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.rule->>0 = 'role:explode' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
        RETURN NEW;
      END $$`);
    await main.pool.query(
      'CREATE TRIGGER refuse_explode BEFORE INSERT ON casbin FOR EACH ROW EXECUTE FUNCTION refuse_explode()',
    );
    try {
      const error = await engineErrorOf(
        store.applyChanges(tenant, [add(p(tenant, 'role:new')), remove(kept), add(p(tenant, 'role:explode'))]),
      );

      expect(error.code).toBe('POLICY_STORE_UNAVAILABLE');
      expect(error.title).toBe('The policy store is unavailable');
      expect(error.title).not.toMatch(/INSERT|casbin|refused/);
      expect(error.detail).toMatch(/refused by test trigger/);
    } finally {
      await main.pool.query('DROP TRIGGER refuse_explode ON casbin');
      await main.pool.query('DROP FUNCTION refuse_explode()');
    }
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 1, rules: [kept] });
    expect((await store.changesSince(tenant, 0))?.map((entry) => entry.revision)).toEqual([1]);
  });

  it('a write waiting on a tenant locked longer than lock_timeout fails as POLICY_STORE_UNAVAILABLE and writes nothing', async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [add(p(tenant, 'role:a'))]);
    const impatient = new PgPolicyStore({ pool: storePool(main, { lockTimeoutMs: 200 }) });
    const holder = await main.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM policy_revision WHERE tenant_id = $1 FOR UPDATE', [tenant]);

      const error = await engineErrorOf(impatient.applyChanges(tenant, [add(p(tenant, 'role:b'))]));

      expect(error).toMatchObject({ code: 'POLICY_STORE_UNAVAILABLE', retryable: true });
      expect(error.detail).toMatch(/55P03/);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await store.loadTenant(tenant)).rules).toEqual([p(tenant, 'role:a')]);
  });

  it('with the store down every operation fails fast with POLICY_STORE_UNAVAILABLE', async () => {
    const down = createPgPool({ url: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMs: 500 });
    pools.push(down);
    const unreachable = new PgPolicyStore({ pool: down });
    const adapter = await unreachable.casbinAdapter();
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['loadAll', () => unreachable.loadAll()],
      ['loadTenant', () => unreachable.loadTenant('t')],
      ['applyChanges', () => unreachable.applyChanges('t', [add(p('t', 'role:a'))])],
      ['transaction', () => unreachable.transaction((tx) => unreachable.applyChangesWithin(tx, 't', [add(p('t', 'role:a'))]))],
      ['changesSince', () => unreachable.changesSince('t', 0)],
      ['revisions', () => unreachable.revisions()],
      ['casbin adapter loadPolicy', () => newEnforcer(newModelFromString(modelText), adapter)],
    ];

    for (const [name, operation] of operations) {
      const started = performance.now();
      const error = await engineErrorOf(operation());
      expect({ name, code: error.code, retryable: error.retryable }).toEqual({
        name,
        code: 'POLICY_STORE_UNAVAILABLE',
        retryable: true,
      });
      expect(error.title).toBe('The policy store is unavailable');
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });
});

describe('casbin-pg-adapter 1.4 traps, guarded', () => {
  it('(a) its CommonJS factory is on .default.default.newAdapter under Node ESM (on .default under vitest); the loader finds it in both', async () => {
    // Plain Node (as in production, via tsx): the namespace's default is module.exports.
    const script = `
      const namespace = await import('casbin-pg-adapter');
      const { loadCasbinPgAdapterClass } = await import('./engine/adapters/guarded-casbin-pg-adapter.ts');
      const loaded = await loadCasbinPgAdapterClass();
      console.log(JSON.stringify({
        onDefault: typeof namespace.default.newAdapter,
        onDefaultDefault: typeof namespace.default.default?.newAdapter,
        loaderFindsIt: loaded === namespace.default.default,
      }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(JSON.parse(stdout)).toEqual({ onDefault: 'undefined', onDefaultDefault: 'function', loaderFindsIt: true });

    // vitest's interop unwraps one level.
    const PostgresAdapter = await loadCasbinPgAdapterClass();
    expect(PostgresAdapter.newAdapter).toBeTypeOf('function');
    const adapter = await store.casbinAdapter();
    expect(adapter.isFiltered()).toBe(true);
  });

  it('(b) its migrations (whose advisory lock is never released) stay off: two adapters built at once both work, next to three concurrent runMigrations', async () => {
    const schema = await createTestSchema('adapter_no_migrate');
    schemas.push(schema);
    await Promise.all([1, 2, 3].map(() => runMigrations({ databaseUrl: schema.url })));
    const fresh = new PgPolicyStore({ pool: storePool(schema) });
    await fresh.applyChanges('acme', [add(p('acme', 'role:a'))]);

    const [first, second] = await Promise.all([fresh.casbinAdapter(), fresh.casbinAdapter()]);
    const enforcers = await Promise.all(
      [first, second].map((adapter) => newEnforcer(newModelFromString(modelText), adapter)),
    );

    for (const enforcer of enforcers) expect(await enforcer.getPolicy()).toEqual([p('acme', 'role:a').values]);
    const migrationTables = await schema.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'casbin_migrations'",
      [schema.schema],
    );
    expect(migrationTables.rowCount).toBe(0);
  });

  it('(c) a batch is written in one transaction: an invalid last item, or a rule of several tenants through the adapter, writes nothing', async () => {
    const tenant = newTenant();
    const adapter = await store.casbinAdapter();

    const invalidLast = await engineErrorOf(
      store.applyChanges(tenant, [add(p(tenant, 'role:a')), add(p(tenant, 'role:b')), add(p(tenant, 'role:c', 'x,y'))]),
    );
    const mixedTenants = await engineErrorOf(
      adapter.addPolicies('p', 'p', [p(tenant, 'role:a').values.slice(), p('elsewhere', 'role:a').values.slice()]),
    );

    expect(invalidLast.code).toBe('INVALID_RULE');
    expect(mixedTenants.code).toBe('INVALID_RULE');
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 0, rules: [] });
    expect(await store.loadTenant('elsewhere')).toEqual({ tenantId: 'elsewhere', revision: 0, rules: [] });
  });

  it('(d) savePolicy is refused, removeFilteredPolicy without a non-empty value is refused, and the table is unchanged', async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [add(p(tenant, 'role:a')), add(g(tenant, 'user:1', 'role:a'))]);
    const adapter = await store.casbinAdapter();
    const enforcer = await newEnforcer(newModelFromString(modelText), adapter);
    const before = await tableContent(main);

    const save = await engineErrorOf(adapter.savePolicy(enforcer.getModel()));
    const emptyFilter = await engineErrorOf(adapter.removeFilteredPolicy('p', 'p', 0, '', ''));
    const noValues = await engineErrorOf(adapter.removeFilteredPolicy('g', 'g', 1));
    const throughEnforcer = await enforcer.removeFilteredPolicy(0, '').catch((error: unknown) => error);

    expect(save).toMatchObject({
      code: 'INVALID_RULE',
      detail: 'savePolicy is disabled: it deletes every row without a transaction',
    });
    expect(emptyFilter.code).toBe('INVALID_RULE');
    expect(noValues.code).toBe('INVALID_RULE');
    expect(throughEnforcer).toBeInstanceOf(EngineError);
    expect(await tableContent(main)).toEqual(before);
  });

  it('(d) removeFilteredPolicy with a value removes exactly the matching rules through the store, bumping the revision', async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [
      add(p(tenant, 'role:a', 'accounts')),
      add(p(tenant, 'role:a', 'ledgers')),
      add(p(tenant, 'role:ab', 'accounts')),
    ]);
    const adapter = await store.casbinAdapter();

    await adapter.removeFilteredPolicy('p', 'p', 0, 'role:a', tenant);

    expect(await store.loadTenant(tenant)).toEqual({
      tenantId: tenant,
      revision: 2,
      rules: [p(tenant, 'role:ab', 'accounts')],
    });
  });

  it('(e) adding a present rule changes nothing and does not throw; a g and a g2 line with equal values coexist', async () => {
    const tenant = newTenant();
    const grouping = g(tenant, 'user:1', 'role:a');
    await store.applyChanges(tenant, [add(grouping)]);

    const again = await store.applyChanges(tenant, [add(grouping)]);
    const absent = await store.applyChanges(tenant, [remove(g(tenant, 'user:2', 'role:a'))]);
    const sibling = await store.applyChanges(tenant, [add(g(tenant, 'user:1', 'role:a', 'g2'))]);
    const viaAdapter = await (await store.casbinAdapter()).addPolicy('g', 'g', grouping.values.slice());

    expect(again).toEqual({ tenantId: tenant, revision: 1, changed: false });
    expect(absent).toEqual({ tenantId: tenant, revision: 1, changed: false });
    expect(sibling).toEqual({ tenantId: tenant, revision: 2, changed: true });
    expect(viaAdapter).toBeUndefined();
    expect(await store.loadTenant(tenant)).toEqual({
      tenantId: tenant,
      revision: 2,
      rules: [grouping, g(tenant, 'user:1', 'role:a', 'g2')],
    });
  });

  it('(f) a value containing a comma is refused; values with : / * @ . - round-trip exactly, through the store and the adapter', async () => {
    const tenant = 'org-1.example@acme';
    const rules = [
      p(tenant, 'role:admin-1', 'midaz/accounts/*', '*', 'allow'),
      p(tenant, 'pset:app.read', 'ledgers/:id', 'get', 'deny'),
      g(tenant, 'user:alice@example.com', 'group:ops-team'),
      p(tenant, 'role:fn', 'accounts/(ledger)', 'get', 'allow'),
    ];

    const comma = await engineErrorOf(store.applyChanges(tenant, [add(p(tenant, 'role:a,role:b'))]));
    await store.applyChanges(tenant, rules.map(add));
    const enforcer = await newEnforcer(newModelFromString(modelText), await store.casbinAdapter());

    expect(comma).toMatchObject({ code: 'INVALID_RULE', field: 'changes[0].rule.values[0]' });
    expect((await store.loadTenant(tenant)).rules).toEqual(rules);
    const viaCasbin = [
      ...(await enforcer.getPolicy()).map((values) => ({ ptype: 'p', values })),
      ...(await enforcer.getGroupingPolicy()).map((values) => ({ ptype: 'g', values })),
    ].filter((rule) => rule.values.includes(tenant));
    expect(sortRules(viaCasbin)).toEqual(sortRules(rules));
  });

  it('(g) loadAll returns exactly the 20,000 rules written over 200 tenants, with revision 0 for tenants never written through the store', async () => {
    const schema = await migratedSchema('load_all');
    const bulk = new PgPolicyStore({ pool: storePool(schema) });
    const rules: PolicyRule[] = [];
    for (let t = 0; t < 200; t += 1) {
      const tenant = `org-${t}`;
      for (let i = 0; i < 50; i += 1) rules.push(p(tenant, `role:${i}`, `resource-${i}/*`, i % 2 ? 'get' : '*'));
      for (let i = 0; i < 50; i += 1) rules.push(g(tenant, `user:${i}`, `role:${i % 7}`));
    }
    await schema.pool.query('INSERT INTO casbin (ptype, rule) SELECT * FROM unnest($1::text[], $2::jsonb[])', [
      rules.map((rule) => rule.ptype),
      rules.map((rule) => JSON.stringify(rule.values)),
    ]);
    await bulk.applyChanges('org-0', [add(p('org-0', 'role:extra'))]);
    rules.push(p('org-0', 'role:extra'));

    const snapshot = await bulk.loadAll();

    expect(snapshot.rules).toHaveLength(20_001);
    expect(sortRules(snapshot.rules)).toEqual(sortRules(rules));
    expect(snapshot.revisions.size).toBe(200);
    expect(snapshot.revisions.get('org-0')).toBe(1);
    expect(snapshot.revisions.get('org-199')).toBe(0);
    expect(await bulk.revisions()).toEqual(new Map([['org-0', 1]]));
  });
});

describe('plain casbin over the guarded adapter', () => {
  it('an enforcer loads the stored rules and enforces them (deny overrides allow)', async () => {
    const tenant = newTenant();
    await store.applyChanges(tenant, [
      add(p(tenant, 'role:clerk', 'accounts/*', 'get')),
      add(p(tenant, 'role:clerk', 'accounts/secret', 'get', 'deny')),
      add(g(tenant, 'user:1', 'role:clerk')),
    ]);

    const enforcer = await newEnforcer(newModelFromString(modelText), await store.casbinAdapter());

    expect(await enforcer.enforce('user:1', tenant, 'accounts/42', 'get')).toBe(true);
    expect(await enforcer.enforce('user:1', tenant, 'accounts/secret', 'get')).toBe(false);
    expect(await enforcer.enforce('user:1', tenant, 'accounts/42', 'delete')).toBe(false);
    expect(await enforcer.enforce('user:1', 'other-tenant', 'accounts/42', 'get')).toBe(false);
  });

  it('a filtered load of one tenant sees only that tenant', async () => {
    const mine = newTenant();
    const theirs = newTenant();
    await store.applyChanges(mine, [add(p(mine, 'role:a')), add(g(mine, 'user:1', 'role:a'))]);
    await store.applyChanges(theirs, [add(p(theirs, 'role:a')), add(g(theirs, 'user:1', 'role:a'))]);
    const enforcer = await newEnforcer(newModelFromString(modelText), await store.casbinAdapter());

    await enforcer.loadFilteredPolicy({ p: ['', mine], g: ['', '', mine] });

    expect(await enforcer.getPolicy()).toEqual([p(mine, 'role:a').values]);
    expect(await enforcer.getGroupingPolicy()).toEqual([g(mine, 'user:1', 'role:a').values]);
    expect(await enforcer.enforce('user:1', mine, 'accounts', 'get')).toBe(true);
    expect(await enforcer.enforce('user:1', theirs, 'accounts', 'get')).toBe(false);
  });

  it("an enforcer's addPolicy goes through the store: validated, and the tenant's revision is bumped", async () => {
    const tenant = newTenant();
    const enforcer = await newEnforcer(newModelFromString(modelText), await store.casbinAdapter());

    await enforcer.addPolicy('role:a', tenant, 'accounts', 'get', 'allow');
    const refused = await enforcer.addPolicy('role:a', tenant, 'a,b', 'get', 'allow').catch((error: unknown) => error);

    expect(refused).toMatchObject({ code: 'INVALID_RULE' });
    expect(await store.loadTenant(tenant)).toEqual({ tenantId: tenant, revision: 1, rules: [p(tenant, 'role:a')] });
  });
});
