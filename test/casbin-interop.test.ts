// Plain casbin over our table: an unmodified node-casbin Enforcer with casbin-pg-adapter loads what the engine
// wrote and decides as the engine does, and follows its changes through casbin-pg-watcher.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { newEnforcer, type Enforcer } from 'casbin';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyStore, PgChangeFeed, withCasbinWatcherNotice } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, shippedModelPath, type PolicyRule } from '../engine/index.js';
import { parseEngineConfig } from '../platform/engine-config.js';
import { startEngineRuntime } from '../platform/engine-runtime.js';
import { runMigrations } from '../platform/migrations.js';
import { writePolicy } from './support/policy-writes.js';
import { createTestSchema, type TestSchema } from './support/postgres.js';
import { randomWorld, seededRandom } from './support/random-policy.js';

// Both packages are CommonJS, used exactly as their READMEs say.
const require = createRequire(import.meta.url);
const { default: PostgresAdapter } = require('casbin-pg-adapter') as { default: { newAdapter(options: { connectionString: string; migrate?: boolean }): Promise<import('casbin').Adapter & { close(): Promise<void> }> } };
const { newWatcher } = require('casbin-pg-watcher') as {
  newWatcher(options: { connectionString: string; channel?: string }): Promise<import('casbin').Watcher & { close(): Promise<void>; on(event: 'error', listener: (error: unknown) => void): void }>;
};

const seed = Number(process.env.INTEROP_SEED ?? randomBytes(4).readUInt32LE(0));
// NOTIFY channels are database-wide and test files share the database: one channel per run.
const channel = `casbin_${randomBytes(4).toString('hex')}`;

let schema: TestSchema;
let pool: pg.Pool;
let engine: PolicyEngine;
let isWritable: (rule: PolicyRule) => boolean;
const closers: (() => Promise<unknown>)[] = [];

const tenantOf = (rule: PolicyRule): string => (rule.ptype === 'g' ? rule.values[2] : rule.values[1]) as string;

async function plainEnforcer(): Promise<Enforcer> {
  const adapter = await PostgresAdapter.newAdapter({ connectionString: schema.url, migrate: false });
  closers.push(() => adapter.close());
  return newEnforcer(shippedModelPath, adapter);
}

beforeAll(async () => {
  schema = await createTestSchema('casbin_interop');
  await runMigrations({ databaseUrl: schema.url });
  pool = schema.newPool({ max: 4 });
  const model = await loadModelFile();
  // The random worlds include resource patterns the engine refuses to store (`a*b`): those stay out of the table.
  isWritable = (rule) => {
    try {
      model.assertRule(rule);
      return true;
    } catch {
      return false;
    }
  };
  // The feed as the services build it: our own notices, plus casbin-pg-watcher's on `channel`.
  const feed = withCasbinWatcherNotice(new PgChangeFeed({ connectionString: schema.url, pool, channel: `am_${channel}` }), { pool, channel });
  engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), feed, resyncIntervalMs: 0 });
  closers.push(() => feed.close());
});

afterAll(async () => {
  engine?.stop();
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await schema?.drop();
});

describe(`casbin interoperability (seed ${seed}; replay with INTEROP_SEED=${seed})`, () => {
  it('node-casbin with casbin-pg-adapter loads the policy the engine wrote and gives the same decision on 3,000 random requests', async () => {
    const random = seededRandom(seed);
    const world = randomWorld(random);
    const byTenant = new Map<string, PolicyRule[]>();
    for (const rule of world.rules.filter(isWritable)) byTenant.set(tenantOf(rule), [...(byTenant.get(tenantOf(rule)) ?? []), rule]);
    for (const [tenant, rules] of byTenant) await writePolicy(pool, engine, tenant, rules.map((rule) => ({ op: 'add' as const, rule })));
    // Removals too, so the table is what a history of writes leaves behind, not only inserts.
    let present = world.rules.filter(isWritable);
    for (let i = 0; i < 10; i++) {
      const batch = world.randomBatch(present).filter((change) => isWritable(change.rule));
      if (batch.length === 0) continue;
      const tenant = tenantOf(batch[0]!.rule);
      await writePolicy(pool, engine, tenant, batch);
      for (const change of batch) {
        const same = (r: PolicyRule) => r.ptype === change.rule.ptype && r.values.join('\u0000') === change.rule.values.join('\u0000');
        present = change.op === 'add' ? (present.some(same) ? present : [...present, change.rule]) : present.filter((r) => !same(r));
      }
    }
    const enforcer = await plainEnforcer();
    const casbinRules = [...(await enforcer.getPolicy()), ...(await enforcer.getGroupingPolicy())].map((values) => values.join('|')).sort();
    expect(casbinRules).toEqual(present.map((rule) => rule.values.join('|')).sort());
    const differences: string[] = [];
    let allowed = 0;
    for (let i = 0; i < 3_000; i++) {
      const request = world.randomRequest();
      const ours = (await engine.decide(request)).allowed;
      const theirs = await enforcer.enforce(request.sub, request.dom, request.obj, request.act);
      if (ours) allowed++;
      if (ours !== theirs) differences.push(`${JSON.stringify(request)}: engine ${ours}, casbin ${theirs}`);
    }
    expect(differences).toEqual([]);
    // The comparison means something only if both answers occur.
    expect(allowed).toBeGreaterThan(0);
    expect(allowed).toBeLessThan(3_000);
  });

  it('an enforcer watching with casbin-pg-watcher reloads when the engine writes, and then decides as the engine does', async () => {
    const enforcer = await plainEnforcer();
    const watcher = await newWatcher({ connectionString: schema.url, channel });
    watcher.on('error', () => undefined);
    closers.push(() => watcher.close());
    enforcer.setWatcher(watcher);
    const tenant = `watch-${randomBytes(3).toString('hex')}`;
    const request = { sub: 'user:watched', dom: tenant, obj: 'ledgers', act: 'get' };
    expect(await enforcer.enforce(request.sub, request.dom, request.obj, request.act)).toBe(false);
    await writePolicy(pool, engine, tenant, [
      { op: 'add', rule: { ptype: 'g', values: ['user:watched', 'role:reader', tenant] } },
      { op: 'add', rule: { ptype: 'p', values: ['role:reader', tenant, 'ledgers', 'get', 'allow'] } },
    ]);
    expect((await engine.decide(request)).allowed).toBe(true);
    // The watcher reloads on the notice: poll the enforcer's own answer until then (bounded).
    const deadline = Date.now() + 10_000;
    while (!(await enforcer.enforce(request.sub, request.dom, request.obj, request.act)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await enforcer.enforce(request.sub, request.dom, request.obj, request.act)).toBe(true);
    await writePolicy(pool, engine, tenant, [{ op: 'add', rule: { ptype: 'p', values: ['role:reader', tenant, 'ledgers', 'get', 'deny'] } }]);
    const denyDeadline = Date.now() + 10_000;
    while ((await enforcer.enforce(request.sub, request.dom, request.obj, request.act)) && Date.now() < denyDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await enforcer.enforce(request.sub, request.dom, request.obj, request.act)).toBe((await engine.decide(request)).allowed);
    expect((await engine.decide(request)).allowed).toBe(false);
  });

  it('the notice is casbin-pg-watcher’s JSON ({source, now}) with our tenant and revision beside it', async () => {
    const listener = await pool.connect();
    closers.push(async () => listener.release());
    const received = new Promise<string>((resolve) => listener.on('notification', (message) => resolve(message.payload ?? '')));
    await listener.query(`LISTEN ${channel}`);
    const tenant = `shape-${randomBytes(3).toString('hex')}`;
    const { revision } = await writePolicy(pool, engine, tenant, [{ op: 'add', rule: { ptype: 'p', values: ['*', tenant, 'x', 'get', 'allow'] } }]);
    expect(JSON.parse(await received)).toEqual({ source: 'access-manager', now: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), tenantId: tenant, revision });
  });

  it('the services’ engine runtime sends the notice on CASBIN_WATCHER_CHANNEL, and none with CASBIN_WATCHER_CHANNEL=off', async () => {
    const own = `casbin_rt_${randomBytes(4).toString('hex')}`;
    const listener = await pool.connect();
    closers.push(async () => listener.release());
    const received: string[] = [];
    listener.on('notification', (message) => {
      if (message.channel === own) received.push(message.payload ?? '');
    });
    await listener.query(`LISTEN ${own}`);
    const tenant = `rt-${randomBytes(3).toString('hex')}`;
    const base = { DATABASE_URL: schema.url, DB_MIGRATE_ON_START: 'false', ENGINE_RESYNC_INTERVAL_MS: '0', POLICY_CHANGE_CHANNEL: `am_${own}` };
    for (const setting of ['off', own]) {
      const runtime = await startEngineRuntime(parseEngineConfig({ ...base, CASBIN_WATCHER_CHANNEL: setting }));
      try {
        await writePolicy(runtime.pool!, runtime.engine, tenant, [{ op: 'add', rule: { ptype: 'p', values: ['*', tenant, setting === 'off' ? 'a' : 'b', 'get', 'allow'] } }]);
      } finally {
        await runtime.close();
      }
    }
    // A NOTIFY is delivered in commit order: the second runtime's notice arriving proves the first sent none.
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received.map((payload) => JSON.parse(payload) as { tenantId: string; revision: number })).toEqual([expect.objectContaining({ tenantId: tenant, revision: 2 })]);
  });
});
