// The fast path is an optimisation, never a different semantics: its decisions must equal plain
// node-casbin's for the same model and policy (docs/model.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { casbin } from './casbin-runtime.js';
import { MemoryPolicyStore } from './adapters/memory-policy-store.js';
import { MemoryDecisionCache, parseModel, PolicyEngine, shippedModelPath, type LocalDecisionCache, type PolicyRule } from './index.js';
import { randomWorld, seededRandom } from '../test/support/random-policy.js';

const modelText = readFileSync(shippedModelPath, 'utf8');
const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const requestsPerRun = Number(process.env.DIFF_REQUESTS ?? 100_000);

async function plainCasbin(text: string, rules: readonly PolicyRule[]) {
  const enforcer = await casbin.newEnforcer(casbin.newModelFromString(text));
  for (const rule of rules) {
    if (rule.ptype.startsWith('g')) await enforcer.addNamedGroupingPolicy(rule.ptype, ...rule.values);
    else await enforcer.addNamedPolicy(rule.ptype, ...rule.values);
  }
  return enforcer;
}

async function seedEngine(text: string, rules: readonly PolicyRule[], cache?: LocalDecisionCache) {
  const model = parseModel(text);
  const store = new MemoryPolicyStore(model.tenantOf);
  const byTenant = new Map<string, PolicyRule[]>();
  for (const rule of rules) {
    const tenant = model.tenantOf(rule) as string;
    byTenant.set(tenant, [...(byTenant.get(tenant) ?? []), rule]);
  }
  // Seed the store directly: the generator also makes rules the write-path grammar refuses (`a*b`), and
  // the fast path must still decide stored rules exactly as casbin does.
  for (const [tenant, list] of byTenant) await store.applyChanges(tenant, list.map((rule) => ({ op: 'add' as const, rule })));
  const engine = await PolicyEngine.start({ model, store, resyncIntervalMs: 0, ...(cache ? { localCache: cache } : {}) });
  return { engine, store, model };
}

describe('differential: engine vs plain casbin', () => {
  it(`fast path equals casbin on ${requestsPerRun} random requests over random worlds, with incremental writes (seed ${seed})`, async () => {
    const random = seededRandom(seed);
    let requests = 0;
    let mismatches = 0;
    const firstMismatches: string[] = [];
    let world = 0;
    while (requests < requestsPerRun) {
      world++;
      const w = randomWorld(random);
      const reference = await plainCasbin(modelText, w.rules);
      const { engine, store } = await seedEngine(modelText, w.rules, world % 2 === 0 ? new MemoryDecisionCache({ maxEntries: 64 }) : undefined);
      expect(engine.fastPath).toBe(true);
      let present = [...w.rules];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 300; i++) {
          const req = w.randomRequest();
          const expected = reference.enforceSync(req.sub, req.dom, req.obj, req.act);
          const actual = engine.decideSync(req).allowed;
          requests++;
          if (expected !== actual) {
            mismatches++;
            if (firstMismatches.length < 5) firstMismatches.push(`world ${world} round ${round}: ${JSON.stringify(req)} casbin=${expected} engine=${actual}`);
          }
        }
        // Incremental change: through the engine's write path (store + in-memory apply) and casbin's own API.
        const batch = w.randomBatch(present);
        const byTenant = batch[0]?.rule.ptype === 'g' ? batch[0].rule.values[2] : batch[0]?.rule.values[1];
        await store.applyChanges(byTenant as string, batch);
        await engine.catchUp(byTenant as string);
        for (const { op, rule } of batch) {
          const grouping = rule.ptype.startsWith('g');
          if (op === 'add') await (grouping ? reference.addNamedGroupingPolicy(rule.ptype, ...rule.values) : reference.addNamedPolicy(rule.ptype, ...rule.values));
          else await (grouping ? reference.removeNamedGroupingPolicy(rule.ptype, ...rule.values) : reference.removeNamedPolicy(rule.ptype, ...rule.values));
        }
        present = (await store.loadAll()).rules.slice();
      }
      engine.stop();
    }
    expect(firstMismatches, `seed ${seed} (rerun with DIFF_SEED=${seed})`).toEqual([]);
    expect(mismatches).toBe(0);
    expect(requests).toBeGreaterThanOrEqual(requestsPerRun);
  }, 300_000);

  it(`a keyMatch2 model (compiled, not the fast path) equals a fresh casbin after incremental writes (seed ${seed})`, async () => {
    const keyMatch2Model = modelText.replace('keyMatch(r.obj, p.obj)', 'keyMatch2(r.obj, p.obj)');
    const random = seededRandom(seed ^ 0x5bd1e995);
    const w = randomWorld(random);
    const { engine, store, model } = await seedEngine(keyMatch2Model, w.rules);
    expect(model.fastPath).toBe(false);
    let present = [...w.rules];
    let compared = 0;
    for (let round = 0; round < 10; round++) {
      const batch = w.randomBatch(present);
      const tenant = batch[0]?.rule.ptype === 'g' ? batch[0].rule.values[2] : batch[0]?.rule.values[1];
      await store.applyChanges(tenant as string, batch);
      await engine.catchUp(tenant as string);
      present = (await store.loadAll()).rules.slice();
      const fresh = await plainCasbin(keyMatch2Model, present);
      for (let i = 0; i < 500; i++) {
        const req = w.randomRequest();
        expect(engine.decideSync(req).allowed, `seed ${seed}: ${JSON.stringify(req)}`).toBe(fresh.enforceSync(req.sub, req.dom, req.obj, req.act));
        compared++;
      }
    }
    expect(compared).toBe(5_000);
    engine.stop();
  }, 120_000);
});
