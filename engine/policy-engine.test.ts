import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryChangeBus } from './adapters/memory-change-feed.js';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { casbin } from './casbin-runtime.js';
import {
  decisionKey,
  MemoryDecisionCache,
  EngineError,
  parseModel,
  PolicyEngine,
  shippedModelPath,
  type EngineEvent,
  type PolicyChange,
  type PolicyEngineOptions,
} from './index.js';

const modelText = readFileSync(shippedModelPath, 'utf8');
const model = parseModel(modelText);
const engines: PolicyEngine[] = [];

afterEach(() => {
  for (const engine of engines.splice(0)) engine.stop();
});

async function startEngine(options: Partial<PolicyEngineOptions> & { store: MemoryPolicyStore }): Promise<PolicyEngine> {
  const engine = await PolicyEngine.start({ model, resyncIntervalMs: 0, ...options });
  engines.push(engine);
  return engine;
}

const p = (sub: string, dom: string, obj: string, act: string, eft = 'allow'): PolicyChange => ({
  op: 'add',
  rule: { ptype: 'p', values: [sub, dom, obj, act, eft] },
});
const g = (member: string, role: string, dom: string, op: 'add' | 'remove' = 'add'): PolicyChange => ({
  op,
  rule: { ptype: 'g', values: [member, role, dom] },
});
const ask = (sub: string, dom: string, obj: string, act: string) => ({ sub, dom, obj, act });

async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('policy engine', () => {
  it('a write is visible to the same engine as soon as it resolves', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf) });
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts', 'get')).allowed).toBe(false);
    const result = await engine.write('acme', [p('role:viewer', 'acme', 'accounts', 'get'), g('user:1', 'role:viewer', 'acme')]);
    expect(result).toEqual({ tenantId: 'acme', revision: 1, changed: true });
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts', 'get'))).toMatchObject({ allowed: true, revision: 1, reason: 'allowed_by_policy' });
  });

  it('deny overrides allow, and a deny is a value with its reason', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf) });
    await engine.write('acme', [p('role:a', 'acme', 'accounts/*', '*'), p('role:b', 'acme', 'accounts/1', 'delete', 'deny'), g('user:1', 'role:a', 'acme'), g('user:1', 'role:b', 'acme')]);
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts/1', 'get')).allowed).toBe(true);
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts/1', 'delete'))).toMatchObject({ allowed: false, reason: 'denied_by_policy' });
    expect(engine.decideSync(ask('user:1', 'acme', 'ledgers', 'get'))).toMatchObject({ allowed: false, reason: 'no_matching_policy' });
  });

  it('an unknown tenant gets a deny at revision 0, never an error or an allow', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf) });
    await engine.write('acme', [p('*', 'acme', '*', '*')]);
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed).toBe(true);
    expect(engine.decideSync(ask('user:1', 'nobody', 'x', 'get'))).toMatchObject({ allowed: false, revision: 0 });
  });

  it('refuses bad requests with INVALID_REQUEST naming the field, cached or not', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf), localCache: new MemoryDecisionCache({ maxEntries: 100 }) });
    const bad = [
      [ask('', 'acme', 'a', 'get'), 'sub'],
      [ask('u', 'acme', 'a/../b', 'get'), 'obj'],
      [ask('u', 'a'.repeat(300), 'a', 'get'), 'dom'],
      [{ sub: 'u', dom: 'acme', obj: 'a', act: 7 as unknown as string }, 'act'],
      [ask('u\u001facme', 'acme', 'a', 'get'), 'sub'], // the cache key's separator
    ] as const;
    for (const [request, field] of bad) {
      expect(() => engine.decideSync(request)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', field }));
      await expect(engine.decide(request)).rejects.toMatchObject({ code: 'INVALID_REQUEST', field });
    }
  });

  it('refuses a rule of another tenant or of a bad shape, and writes nothing', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const engine = await startEngine({ store });
    await expect(engine.write('acme', [p('role:a', 'acme', 'x', 'get'), p('role:a', 'other', 'x', 'get')])).rejects.toMatchObject({ code: 'INVALID_RULE' });
    await expect(engine.write('acme', [p('role:a', 'acme', 'x', 'get'), p('role:a', 'acme', 'a,b', 'get')])).rejects.toMatchObject({ code: 'INVALID_RULE' });
    expect((await store.loadAll()).rules).toEqual([]);
    expect(engine.revisionOf('acme')).toBe(0);
  });

  it('a write that changes nothing keeps the revision and announces nothing', async () => {
    const bus = new MemoryChangeBus();
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf), feed: bus.feed() });
    await engine.write('acme', [p('role:a', 'acme', 'x', 'get')]);
    const published = bus.published;
    expect(await engine.write('acme', [p('role:a', 'acme', 'x', 'get')])).toEqual({ tenantId: 'acme', revision: 1, changed: false });
    expect(bus.published).toBe(published);
  });

  it('a change on one engine reaches another through the change feed and is applied incrementally', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const a = await startEngine({ store, feed: bus.feed() });
    const events: EngineEvent[] = [];
    const b = await startEngine({ store, feed: bus.feed(), onEvent: (e) => events.push(e) });
    await a.write('acme', [p('role:a', 'acme', 'x', 'get'), g('user:1', 'role:a', 'acme')]);
    await eventually(() => b.revisionOf('acme') === 1);
    expect(b.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed).toBe(true);
    expect(events).toContainEqual({ type: 'revision-applied', tenantId: 'acme', revision: 1 });
    expect(b.health().stats.tenantReloads).toBe(0);
  });

  it('the periodic resync repairs a lost change notice', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const a = await startEngine({ store, feed: bus.feed() });
    const b = await startEngine({ store, feed: bus.feed(), resyncIntervalMs: 30 });
    bus.dropNext(1);
    await a.write('acme', [p('user:1', 'acme', 'x', 'get')]);
    await new Promise((resolve) => setImmediate(resolve));
    await eventually(() => b.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed);
    expect(b.revisionOf('acme')).toBe(1);
  });

  it('a change log that no longer reaches back makes a replica reload the whole tenant, to the same state', async () => {
    const store = new MemoryPolicyStore(model.tenantOf, 2);
    const a = await startEngine({ store });
    const b = await startEngine({ store });
    for (let i = 0; i < 6; i++) await a.write('acme', [p(`role:${i}`, 'acme', 'x', 'get'), g('user:1', `role:${i}`, 'acme')]);
    await a.write('acme', [g('user:1', 'role:0', 'acme', 'remove')]);
    await b.catchUp('acme');
    expect(b.revisionOf('acme')).toBe(7);
    expect(b.health().stats.tenantReloads).toBe(1);
    expect(b.health().rules).toBe(a.health().rules);
    expect(b.explain(ask('user:1', 'acme', 'x', 'get')).matchedRules).toEqual(a.explain(ask('user:1', 'acme', 'x', 'get')).matchedRules);
  });

  it('minRevision gives read-your-writes on a replica that has not heard of the change: a removed role denies at once', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const a = await startEngine({ store });
    await a.write('acme', [p('role:a', 'acme', 'doc', 'get'), g('user:bob', 'role:a', 'acme')]);
    const b = await startEngine({ store }); // no feed at all: only minRevision can bring it forward
    expect(b.decideSync(ask('user:bob', 'acme', 'doc', 'get')).allowed).toBe(true);
    const { revision } = await a.write('acme', [g('user:bob', 'role:a', 'acme', 'remove')]);
    expect(b.decideSync(ask('user:bob', 'acme', 'doc', 'get')).allowed).toBe(true); // stale without minRevision
    const decision = await b.decide(ask('user:bob', 'acme', 'doc', 'get'), { minRevision: revision });
    expect(decision).toMatchObject({ allowed: false, revision });
  });

  it('minRevision beyond what the store has fails with STALE_REVISION after the bounded wait, never a guess', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf), staleWaitMs: 50 });
    await engine.write('acme', [p('*', 'acme', '*', '*')]);
    const started = Date.now();
    await expect(engine.decide(ask('u', 'acme', 'x', 'get'), { minRevision: 5 })).rejects.toMatchObject({ code: 'STALE_REVISION', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(engine.decide(ask('u', 'acme', 'x', 'get'), { minRevision: -1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST', field: 'minRevision' });
  });

  it('a cached allow is never served after the policy that allowed it is removed', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf), localCache: new MemoryDecisionCache({ maxEntries: 100 }) });
    await engine.write('acme', [p('user:1', 'acme', 'x', 'get')]);
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get')).source).toBe('engine');
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get'))).toMatchObject({ allowed: true, source: 'local-cache' });
    await engine.write('acme', [{ op: 'remove', rule: { ptype: 'p', values: ['user:1', 'acme', 'x', 'get', 'allow'] } }]);
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get'))).toMatchObject({ allowed: false, source: 'engine', revision: 2 });
  });

  it("node-casbin's CachedEnforcer serves a stale allow after a policy change; ours does not (the reason we do not use it)", async () => {
    const cached = await casbin.newCachedEnforcer(casbin.newModelFromString(modelText));
    await cached.addPolicy('user:1', 'acme', 'x', 'get', 'allow');
    expect(await cached.enforce('user:1', 'acme', 'x', 'get')).toBe(true);
    await cached.removePolicy('user:1', 'acme', 'x', 'get', 'allow');
    expect(await cached.enforce('user:1', 'acme', 'x', 'get')).toBe(true); // the defect: a stale allow
  });

  it("node-casbin's CachedEnforcer joins request fields with $$, so two different requests share one cached answer; ours keeps them apart", async () => {
    const cached = await casbin.newCachedEnforcer(casbin.newModelFromString(modelText));
    await cached.addPolicy('a$$b', 'acme', 'c', 'get', 'allow');
    expect(await cached.enforce('a$$b', 'acme', 'c', 'get')).toBe(true);
    // A different subject in a different tenant: casbin alone says no, the cache says yes (the defect).
    expect(await casbin.newEnforcer(casbin.newModelFromString(modelText)).then((e) => e.enforce('a', 'b$$acme', 'c', 'get'))).toBe(false);
    expect(await cached.enforce('a', 'b$$acme', 'c', 'get')).toBe(true);
    expect(decisionKey('acme', 1, 'a$$b', 'c', 'get')).not.toBe(decisionKey('b$$acme', 1, 'a', 'c', 'get'));
  });

  it('cache keys are collision-proof where a joined key would collide', () => {
    expect(decisionKey('t', 1, 'a$$b', 'c', 'get')).not.toBe(decisionKey('t', 1, 'a', 'b$$c', 'get'));
    expect(decisionKey('t', 1, 'a', 'bc', 'get')).not.toBe(decisionKey('t', 1, 'ab', 'c', 'get'));
    expect(decisionKey('t1', 1, 'a', 'b', 'c')).not.toBe(decisionKey('t', 11, 'a', 'b', 'c'));
    expect(decisionKey('t', 1, 'a', 'b', 'c')).not.toBe(decisionKey('t', 2, 'a', 'b', 'c'));
    const keys = new Set<string>();
    const parts = ['', 'a', 'b', 'ab', '1:a', 'a1:', '#', '1#'];
    let count = 0;
    for (const t of parts) for (const s of parts) for (const o of parts) for (const x of parts) {
      keys.add(decisionKey(t, 1, s, o, x));
      count++;
    }
    expect(keys.size).toBe(count);
  });

  it('PostgreSQL down: decisions continue from memory, the engine reports not ready, writes fail and change nothing', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const engine = await startEngine({ store, feed: bus.feed() });
    await engine.write('acme', [p('user:1', 'acme', 'x', 'get')]);
    expect(engine.health().ready).toBe(true);
    store.unavailable = true;
    await engine.resync();
    expect(engine.health()).toMatchObject({ ready: false, loaded: true, storeReachable: false });
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed).toBe(true);
    const published = bus.published;
    await expect(engine.write('acme', [p('user:2', 'acme', 'x', 'get')])).rejects.toMatchObject({ code: 'POLICY_STORE_UNAVAILABLE' });
    expect(engine.decideSync(ask('user:2', 'acme', 'x', 'get')).allowed).toBe(false);
    expect(engine.revisionOf('acme')).toBe(1);
    expect(bus.published).toBe(published);
    store.unavailable = false;
    await engine.resync();
    expect(engine.health().ready).toBe(true);
  });

  it('refuses to start without its policy: a store down at start is POLICY_STORE_UNAVAILABLE', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    store.unavailable = true;
    await expect(PolicyEngine.start({ model, store, resyncIntervalMs: 0 })).rejects.toBeInstanceOf(EngineError);
  });

  it('decisions made while revisions are applied see each batch whole, never half', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const writer = await startEngine({ store });
    const reader = await startEngine({ store });
    await writer.write('acme', [p('role:a', 'acme', 'x', 'get'), p('role:b', 'acme', 'x', 'get'), g('user:1', 'role:a', 'acme')]);
    await reader.catchUp('acme');
    let denied = 0;
    let checks = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        if (!reader.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed) denied++;
        checks++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (let i = 0; i < 100; i++) {
      // Move user:1 from one role to the other in one batch: the permission must never lapse.
      const [from, to] = i % 2 === 0 ? ['role:a', 'role:b'] : ['role:b', 'role:a'];
      await writer.write('acme', [g('user:1', from, 'acme', 'remove'), g('user:1', to, 'acme')]);
      await reader.catchUp('acme');
      await new Promise((resolve) => setImmediate(resolve)); // let the decision loop run between batches
    }
    running = false;
    await loop;
    expect(reader.revisionOf('acme')).toBe(101);
    expect(checks).toBeGreaterThan(50);
    expect(denied).toBe(0);
  });

  it('explain names the matching rules and the role path that reaches them', async () => {
    const engine = await startEngine({ store: new MemoryPolicyStore(model.tenantOf) });
    await engine.write('acme', [p('role:viewer', 'acme', 'accounts/*', 'get'), g('group:ops', 'role:viewer', 'acme'), g('user:1', 'group:ops', 'acme'), p('*', 'acme', 'accounts/secret', '*', 'deny')]);
    const allowed = engine.explain(ask('user:1', 'acme', 'accounts/1', 'get'));
    expect(allowed.decision.allowed).toBe(true);
    expect(allowed.paths).toEqual([['user:1', 'group:ops', 'role:viewer']]);
    const denied = engine.explain(ask('user:1', 'acme', 'accounts/secret', 'get'));
    expect(denied.decision).toMatchObject({ allowed: false, reason: 'denied_by_policy' });
    expect(denied.matchedRules.map((r) => r.values[4])).toEqual(expect.arrayContaining(['allow', 'deny']));
  });
});

describe('policy writes inside the caller transaction (writeWithin)', () => {
  it('validates once, before the check and the store: an invalid batch writes nothing and never reaches the check', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const engine = await startEngine({ store });
    const checked: (readonly PolicyChange[])[] = [];
    const check = async (changes: readonly PolicyChange[]) => void checked.push(changes);
    const invalid: PolicyChange[][] = [
      [p('role:a', 'acme', 'x', 'get'), p('role:a', 'other', 'x', 'get')],
      [p('role:a', 'acme', 'a,b', 'get')],
      [{ op: 'replace' as 'add', rule: { ptype: 'p', values: ['role:a', 'acme', 'x', 'get', 'allow'] } }],
      [{ op: 'add', rule: { ptype: 'p', values: ['role:a', 'acme', 'x'] } }],
      [{ op: 'add', rule: undefined as unknown as PolicyChange['rule'] }],
    ];
    for (const changes of invalid) {
      await expect(store.transaction((tx) => engine.writeWithin(tx, 'acme', changes, { check }))).rejects.toMatchObject({ code: 'INVALID_RULE' });
    }
    expect(checked).toEqual([]);
    expect((await store.loadAll()).rules).toEqual([]);
    const valid = [p('role:a', 'acme', 'x', 'get')];
    await store.transaction((tx) => engine.writeWithin(tx, 'acme', valid, { check }));
    expect(checked).toEqual([valid]);
  });

  it('a check that refuses leaves nothing written, applied or announced', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const engine = await startEngine({ store, feed: bus.feed() });
    const refuse = async () => {
      throw new Error('escalation');
    };
    await expect(store.transaction((tx) => engine.writeWithin(tx, 'acme', [p('user:1', 'acme', 'x', 'get')], { check: refuse }))).rejects.toThrow('escalation');
    expect(await store.revisions()).toEqual(new Map());
    expect(engine.revisionOf('acme')).toBe(0);
    expect(bus.published).toBe(0);
  });

  it('the write takes effect when the transaction commits: not before, nowhere after a rollback, announced to every engine once', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const writer = await startEngine({ store, feed: bus.feed() });
    const replica = await startEngine({ store, feed: bus.feed() });
    const allowed = (engine: PolicyEngine) => engine.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed;

    await expect(
      store.transaction(async (tx) => {
        await writer.writeWithin(tx, 'acme', [p('user:1', 'acme', 'x', 'get')]);
        throw new Error('the entity write failed');
      }),
    ).rejects.toThrow('the entity write failed');
    expect([allowed(writer), writer.revisionOf('acme'), bus.published]).toEqual([false, 0, 0]);

    const result = await store.transaction(async (tx) => {
      const written = await writer.writeWithin(tx, 'acme', [p('user:1', 'acme', 'x', 'get')]);
      expect([allowed(writer), writer.revisionOf('acme'), bus.published]).toEqual([false, 0, 0]);
      return written;
    });
    expect(result).toEqual({ tenantId: 'acme', revision: 1, changed: true });
    expect([allowed(writer), writer.revisionOf('acme'), bus.published]).toEqual([true, 1, 1]);
    await eventually(() => replica.revisionOf('acme') === 1);
    expect(allowed(replica)).toBe(true);
  });

  it('an empty batch answers the revision the transaction sees and runs no check; a batch that changes nothing announces nothing', async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const bus = new MemoryChangeBus();
    const engine = await startEngine({ store, feed: bus.feed() });
    await engine.write('acme', [p('role:a', 'acme', 'x', 'get')]);
    const published = bus.published;
    let checks = 0;
    const check = async () => void (checks += 1);
    expect(await store.transaction((tx) => engine.writeWithin(tx, 'acme', [], { check }))).toEqual({ tenantId: 'acme', revision: 1, changed: false });
    expect(checks).toBe(0);
    expect(await store.transaction((tx) => engine.writeWithin(tx, 'acme', [p('role:a', 'acme', 'x', 'get')]))).toEqual({ tenantId: 'acme', revision: 1, changed: false });
    expect(bus.published).toBe(published);
  });

  it("lockTenantWithin answers the store's revision, which a check brings this engine to; rulesOfSubjectWithin reads the subject's lines in the transaction", async () => {
    const store = new MemoryPolicyStore(model.tenantOf);
    const engine = await startEngine({ store });
    // Another process's writer: this engine has not heard of it.
    await store.applyChanges('acme', [p('user:1', 'acme', 'x', 'get'), g('user:1', 'role:a', 'acme'), p('user:2', 'acme', 'x', 'get')]);
    await store.transaction(async (tx) => {
      expect(await engine.lockTenantWithin(tx, 'acme')).toBe(1);
      expect(engine.revisionOf('acme')).toBe(0);
      await engine.catchUp('acme');
      expect(engine.revisionOf('acme')).toBe(1);
      const lines = await engine.rulesOfSubjectWithin(tx, 'acme', 'user:1');
      expect(lines).toEqual([p('user:1', 'acme', 'x', 'get').rule, g('user:1', 'role:a', 'acme').rule]);
      await engine.writeWithin(tx, 'acme', lines.map((rule) => ({ op: 'remove' as const, rule })));
      expect(await engine.rulesOfSubjectWithin(tx, 'acme', 'user:1')).toEqual([]);
    });
    expect(engine.decideSync(ask('user:1', 'acme', 'x', 'get')).allowed).toBe(false);
    expect(engine.decideSync(ask('user:2', 'acme', 'x', 'get')).allowed).toBe(true);
  });
});
