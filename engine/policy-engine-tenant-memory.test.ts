import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryChangeBus } from './adapters/memory-change-feed.js';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { EngineError, MemoryDecisionCache, parseModel, PolicyEngine, shippedModelPath, type PolicyChange, type PolicyEngineOptions } from './index.js';
import type { PolicySnapshot, RevisionChanges, TenantSnapshot } from './policy-rule.js';

const model = parseModel(readFileSync(shippedModelPath, 'utf8'));
const engines: PolicyEngine[] = [];

afterEach(() => {
  for (const engine of engines.splice(0)) engine.stop();
});

/** A memory store that counts what the engine reads of it. */
class CountingStore extends MemoryPolicyStore {
  loadAllCalls = 0;
  loadTenantCalls: string[] = [];
  changesSinceCalls: string[] = [];
  revisionsCalls: (readonly string[] | undefined)[] = [];

  constructor() {
    super(model.tenantOf);
  }

  override loadAll(): Promise<PolicySnapshot> {
    this.loadAllCalls++;
    return super.loadAll();
  }

  override async loadTenant(tenantId: string): Promise<TenantSnapshot> {
    this.loadTenantCalls.push(tenantId);
    // Yields to the event loop, as a database read does, so that concurrent requests overlap the load.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return super.loadTenant(tenantId);
  }

  override revisions(tenantIds?: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.revisionsCalls.push(tenantIds === undefined ? undefined : [...tenantIds]);
    return super.revisions(tenantIds);
  }

  override changesSince(tenantId: string, afterRevision: number): Promise<readonly RevisionChanges[] | undefined> {
    this.changesSinceCalls.push(tenantId);
    return super.changesSince(tenantId, afterRevision);
  }
}

const p = (sub: string, dom: string, obj: string, act: string, eft = 'allow'): PolicyChange => ({ op: 'add', rule: { ptype: 'p', values: [sub, dom, obj, act, eft] } });
const g = (member: string, role: string, dom: string): PolicyChange => ({ op: 'add', rule: { ptype: 'g', values: [member, role, dom] } });
const ask = (sub: string, dom: string, obj: string, act: string) => ({ sub, dom, obj, act });

async function start(options: Partial<PolicyEngineOptions> & { store: MemoryPolicyStore }): Promise<PolicyEngine> {
  const engine = await PolicyEngine.start({ model, resyncIntervalMs: 0, tenantMemoryBytes: 64 * 1024 * 1024, ...options });
  engines.push(engine);
  return engine;
}

/** One tenant's usual policy: a viewer role, a user in it. */
function seed(store: MemoryPolicyStore, tenantId: string): Promise<unknown> {
  return store.applyChanges(tenantId, [p('role:viewer', tenantId, 'accounts', 'get'), g('user:1', 'role:viewer', tenantId)]);
}

async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function notReady(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(EngineError);
  expect((thrown as EngineError).code).toBe('ENGINE_NOT_READY');
}

describe('policy engine with a tenant memory budget', () => {
  it('starts without reading any rule and loads a tenant on its first decision, then answers from memory', async () => {
    const store = new CountingStore();
    await seed(store, 'acme');
    const engine = await start({ store });
    expect(store.loadAllCalls).toBe(0);
    expect(store.loadTenantCalls).toEqual([]);
    expect(engine.health()).toMatchObject({ ready: true, tenantsLoaded: 0, tenantBytes: 0, tenantBudgetBytes: 64 * 1024 * 1024 });

    expect(await engine.decide(ask('user:1', 'acme', 'accounts', 'get'))).toMatchObject({ allowed: true, revision: 1 });
    expect(await engine.decide(ask('user:1', 'acme', 'ledgers', 'get'))).toMatchObject({ allowed: false, revision: 1 });
    expect(store.loadTenantCalls).toEqual(['acme']);
    const health = engine.health();
    expect(health).toMatchObject({ tenantsLoaded: 1, rules: 2 });
    expect(health.tenantBytes).toBeGreaterThan(0);
    expect(health.stats).toMatchObject({ tenantLoads: 1, tenantHits: 1, tenantEvictions: 0, decisions: 2 });
  });

  it('concurrent first requests for a cold tenant share one load', async () => {
    const store = new CountingStore();
    await seed(store, 'acme');
    const engine = await start({ store });
    const decisions = await Promise.all(Array.from({ length: 20 }, () => engine.decide(ask('user:1', 'acme', 'accounts', 'get'))));
    expect(decisions.every((decision) => decision.allowed)).toBe(true);
    expect(store.loadTenantCalls).toEqual(['acme']);
    expect(engine.health().stats.tenantLoads).toBe(1);
  });

  it('a synchronous question about a tenant not loaded is ENGINE_NOT_READY, never a deny; after ensureTenant it is answered', async () => {
    const store = new CountingStore();
    await seed(store, 'acme');
    const engine = await start({ store });
    notReady(() => engine.decideSync(ask('user:1', 'acme', 'accounts', 'get')));
    notReady(() => engine.decideRequestSync(['user:1', 'acme', 'accounts', 'get']));
    notReady(() => engine.permissionsOf('user:1', 'acme'));
    notReady(() => engine.holds('acme', 'user:1', 'accounts', 'get'));
    notReady(() => engine.missingGrants('acme', 'user:1', [{ resource: 'accounts', action: 'get' }]));
    notReady(() => engine.grantsOf('acme', [g('user:2', 'role:viewer', 'acme')]));
    notReady(() => engine.grantsOfBinding('acme', 'role:viewer'));
    notReady(() => engine.explain(ask('user:1', 'acme', 'accounts', 'get')));
    notReady(() => engine.revisionOf('acme'));

    await engine.ensureTenant('acme');
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts', 'get')).allowed).toBe(true);
    expect(engine.permissionsOf('user:1', 'acme')).toEqual({ permissions: { accounts: ['get'] }, revision: 1 });
    expect(engine.holds('acme', 'user:1', 'accounts', 'get')).toBe(true);
    expect(engine.revisionOf('acme')).toBe(1);
    // A tenant without any policy loads too (empty, revision 0): its deny is a real one.
    await engine.ensureTenant('nobody');
    expect(engine.decideSync(ask('user:1', 'nobody', 'accounts', 'get'))).toMatchObject({ allowed: false, revision: 0 });
  });

  it('over budget the least used tenant is evicted (the least recently used among equals), forgets its revision, and is read fresh (with what changed meanwhile) when used again', async () => {
    const store = new CountingStore();
    for (const tenantId of ['a', 'b', 'c']) await seed(store, tenantId);
    const probe = await start({ store });
    await probe.ensureTenant('a');
    const oneTenant = probe.health().tenantBytes;

    const localCache = new MemoryDecisionCache({ maxEntries: 100 });
    const engine = await start({ store, localCache, tenantMemoryBytes: Math.floor(oneTenant * 2.5) });
    expect((await engine.decide(ask('user:1', 'a', 'ledgers', 'get'))).allowed).toBe(false);
    expect((await engine.decide(ask('user:1', 'b', 'ledgers', 'get'))).allowed).toBe(false);
    // a is used again: b is now the least recently used.
    expect((await engine.decide(ask('user:1', 'a', 'accounts', 'get'))).allowed).toBe(true);
    await engine.ensureTenant('c');
    expect(engine.health()).toMatchObject({ tenantsLoaded: 2, stats: { tenantEvictions: 1 } });
    expect(engine.health().tenantBytes).toBeLessThanOrEqual(Math.floor(oneTenant * 2.5));
    notReady(() => engine.revisionOf('b'));
    engine.decideSync(ask('user:1', 'a', 'accounts', 'get'));
    engine.decideSync(ask('user:1', 'c', 'accounts', 'get'));

    // b changes while it is out; nothing is read for it until it is used.
    await store.applyChanges('b', [p('role:viewer', 'b', 'ledgers', 'get')]);
    const loadsBefore = store.loadTenantCalls.length;
    expect(await engine.decide(ask('user:1', 'b', 'ledgers', 'get'))).toMatchObject({ allowed: true, revision: 2, source: 'engine' });
    expect(store.loadTenantCalls.length).toBe(loadsBefore + 1);
    expect(engine.health().stats.tenantLoads).toBe(4);
  });

  it('a tenant asked often stays while tenants asked once come and go (not recency alone), and ages out once no longer asked', async () => {
    const store = new CountingStore();
    const others = Array.from({ length: 30 }, (_, i) => `x${String(i).padStart(2, '0')}`);
    for (const tenantId of ['hot', ...others]) await seed(store, tenantId);
    const probe = await start({ store });
    await probe.ensureTenant('hot');
    const oneTenant = probe.health().tenantBytes;

    const engine = await start({ store, tenantMemoryBytes: Math.floor(oneTenant * 2.5) });
    for (let i = 0; i < 5; i++) await engine.decide(ask('user:1', 'hot', 'accounts', 'get'));
    // Least recently used from the second one-off on: recency alone would evict it now.
    for (const tenantId of others.slice(0, 4)) await engine.decide(ask('user:1', tenantId, 'accounts', 'get'));
    expect(engine.isTenantLoaded('hot')).toBe(true);
    expect(engine.health().stats.tenantEvictions).toBe(3);

    let oneOffs = 4;
    while (engine.isTenantLoaded('hot') && oneOffs < others.length) await engine.decide(ask('user:1', others[oneOffs++] as string, 'accounts', 'get'));
    expect(engine.isTenantLoaded('hot')).toBe(false);
    expect(oneOffs).toBeLessThan(others.length);
    expect(store.loadTenantCalls.filter((tenantId) => tenantId === 'hot')).toHaveLength(2);
  });

  it('a tenant asked thousands of times, then no longer, ages out within a bounded number of one-off tenants (its uses count up to a cap)', async () => {
    const store = new CountingStore();
    const others = Array.from({ length: 120 }, (_, i) => `y${String(i).padStart(3, '0')}`);
    for (const tenantId of ['hot', ...others]) await seed(store, tenantId);
    const probe = await start({ store });
    await probe.ensureTenant('hot');
    const oneTenant = probe.health().tenantBytes;

    const engine = await start({ store, tenantMemoryBytes: Math.floor(oneTenant * 2.5) });
    for (let i = 0; i < 5_000; i++) await engine.ensureTenant('hot');
    let oneOffs = 0;
    while (engine.isTenantLoaded('hot') && oneOffs < others.length) await engine.ensureTenant(others[oneOffs++] as string);
    expect(engine.isTenantLoaded('hot')).toBe(false);
    // Uncapped, 5,000 uses would keep it for some 10,000 one-offs (the clock rises one every two here).
    expect(oneOffs).toBeLessThan(100);
  });

  it("health's figures are kept as tenants load, change and go: what a recount of the loaded tenants gives", async () => {
    const store = new CountingStore();
    for (const tenantId of ['a', 'b', 'c']) await seed(store, tenantId);
    const probe = await start({ store });
    await probe.ensureTenant('a');
    const oneTenant = probe.health().tenantBytes;

    const engine = await start({ store, tenantMemoryBytes: Math.floor(oneTenant * 2.5) });
    for (const tenantId of ['a', 'b', 'c']) await engine.ensureTenant(tenantId);
    await store.applyChanges('c', [p('role:viewer', 'c', 'ledgers', 'get'), p('role:viewer', 'c', 'audit', 'get')]);
    await store.applyChanges('b', [{ op: 'remove', rule: { ptype: 'p', values: ['role:viewer', 'b', 'accounts', 'get', 'allow'] } }]);
    await engine.resync();
    expect(engine.health().stats.tenantEvictions).toBe(1);

    // The same tenants at the same revisions, loaded afresh by an engine that evicts nothing.
    const recount = await start({ store });
    for (const tenantId of ['b', 'c']) await recount.ensureTenant(tenantId);
    const { tenantsLoaded, tenantBytes, rules, revisionSum } = recount.health();
    expect({ tenantsLoaded, rules, revisionSum }).toEqual({ tenantsLoaded: 2, rules: 1 + 4, revisionSum: 2 + 2 });
    expect(engine.health()).toMatchObject({ tenantsLoaded, tenantBytes, rules, revisionSum });
  });

  it('a change notice for a tenant not loaded reads nothing; for a loaded tenant it catches up as before', async () => {
    const store = new CountingStore();
    await seed(store, 'loaded');
    await seed(store, 'cold');
    const bus = new MemoryChangeBus();
    const engine = await start({ store, feed: bus.feed() });
    await engine.ensureTenant('loaded');
    const other = bus.feed();

    await store.applyChanges('cold', [p('role:viewer', 'cold', 'ledgers', 'get')]);
    await other.publish({ tenantId: 'cold', revision: 2 });
    await store.applyChanges('loaded', [p('role:viewer', 'loaded', 'ledgers', 'get')]);
    await other.publish({ tenantId: 'loaded', revision: 2 });
    await eventually(() => engine.health().revisionSum === 2);
    expect(engine.decideSync(ask('user:1', 'loaded', 'ledgers', 'get')).allowed).toBe(true);
    expect(store.changesSinceCalls).toEqual(['loaded']);
    expect(store.loadTenantCalls).toEqual(['loaded']);
    expect(engine.health().tenantsLoaded).toBe(1);
  });

  it('resync asks the store for the loaded tenants only, and start for none', async () => {
    const store = new CountingStore();
    await seed(store, 'loaded');
    await seed(store, 'cold');
    const engine = await start({ store });
    expect(store.revisionsCalls).toEqual([[]]);
    await engine.ensureTenant('loaded');
    await store.applyChanges('cold', [p('role:viewer', 'cold', 'ledgers', 'get')]);
    await store.applyChanges('loaded', [p('role:viewer', 'loaded', 'ledgers', 'get')]);
    await engine.resync();
    expect(store.revisionsCalls).toEqual([[], ['loaded']]);
    expect(engine.revisionOf('loaded')).toBe(2);
    expect(store.changesSinceCalls).toEqual(['loaded']);
    expect(store.loadTenantCalls).toEqual(['loaded']);
  });

  it('minRevision on a cold tenant loads it, then waits for the revision as before', async () => {
    const store = new CountingStore();
    await seed(store, 'acme');
    const engine = await start({ store, staleWaitMs: 2_000 });
    expect(await engine.decide(ask('user:1', 'acme', 'accounts', 'get'), { minRevision: 1 })).toMatchObject({ allowed: true, revision: 1 });
    const late = engine.decide(ask('user:1', 'acme', 'ledgers', 'get'), { minRevision: 2 });
    await store.applyChanges('acme', [p('role:viewer', 'acme', 'ledgers', 'get')]);
    // No feed here: the waiting request asked the store itself; a resync stands in for the notice.
    await engine.resync();
    expect(await late).toMatchObject({ allowed: true, revision: 2 });
  });

  it("the engine's own write to a tenant not loaded leaves it cold; the next use reads the written policy", async () => {
    const store = new CountingStore();
    const engine = await start({ store });
    await engine.write('acme', [p('role:viewer', 'acme', 'accounts', 'get'), g('user:1', 'role:viewer', 'acme')]);
    expect(engine.health().tenantsLoaded).toBe(0);
    expect(await engine.decide(ask('user:1', 'acme', 'accounts', 'get'))).toMatchObject({ allowed: true, revision: 1 });
    await engine.write('acme', [p('role:viewer', 'acme', 'ledgers', 'get')]);
    expect(engine.decideSync(ask('user:1', 'acme', 'ledgers', 'get'))).toMatchObject({ allowed: true, revision: 2 });
  });

  it('without a budget every tenant is loaded at start, as before', async () => {
    const store = new CountingStore();
    await seed(store, 'acme');
    const engine = await PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
    engines.push(engine);
    expect(store.loadAllCalls).toBe(1);
    expect(engine.decideSync(ask('user:1', 'acme', 'accounts', 'get')).allowed).toBe(true);
    expect(engine.health()).toMatchObject({ tenantsLoaded: 1, tenantBudgetBytes: undefined });
    await engine.ensureTenant('acme');
    expect(store.loadTenantCalls).toEqual([]);
  });

  it('refuses a budget that is not a positive integer', async () => {
    await expect(PolicyEngine.start({ model, store: new MemoryPolicyStore(model.tenantOf), tenantMemoryBytes: 0 })).rejects.toThrow(RangeError);
  });
});
