// The engine deciding in process: without a decision cache (every decision computed from the tenant index) and
// answering from its in-process LRU.
import { MemoryDecisionCache, PolicyEngine, type AuthorizationRequest, type ModelDefinition, type PolicyChange } from '../engine/index.js';
import { MemoryPolicyStore } from '../engine/adapters/index.js';
import { collectGarbage, sink, throughput, timeBatches, timeEach, type LatencySummary } from './latency.js';
import type { GeneratedPolicy } from './policy-generator.js';

/** L1 hits cost well under a microsecond: timed in batches of this many calls (see `timeBatches`). */
export const localHitBatchSize = 100;

/** A memory store holding `policy`, one write (one revision) per tenant. */
export async function seedMemoryStore(model: ModelDefinition, policy: GeneratedPolicy): Promise<MemoryPolicyStore> {
  const store = new MemoryPolicyStore(model.tenantOf);
  const byTenant = new Map<string, PolicyChange[]>();
  for (const rule of policy.rules) {
    const tenantId = model.tenantOf(rule) as string;
    let changes = byTenant.get(tenantId);
    if (!changes) byTenant.set(tenantId, (changes = []));
    changes.push({ op: 'add', rule });
  }
  for (const [tenantId, changes] of byTenant) await store.applyChanges(tenantId, changes);
  return store;
}

/** The share of `requests` the engine allows (the request mix, reported beside the latencies). */
export function allowedShare(engine: PolicyEngine, requests: readonly AuthorizationRequest[]): number {
  let allowed = 0;
  for (const request of requests) if (engine.decideSync(request).allowed) allowed++;
  return allowed / requests.length;
}

/**
 * `decideSync` on an engine without a local cache, each call timed; ops/s from an untimed loop. The requests
 * cycle through `requests`.
 */
export function runEngineUncached(
  engine: PolicyEngine,
  requests: readonly AuthorizationRequest[],
  samples: number,
): LatencySummary {
  const n = requests.length;
  const op = (i: number): void => {
    if (engine.decideSync(requests[i % n] as AuthorizationRequest).allowed) sink.value++;
  };
  for (let i = 0; i < Math.min(samples, 20_000); i++) op(i);
  collectGarbage();
  const latency = timeEach(samples, op);
  const opsPerS = throughput(samples, op);
  return { ...latency, opsPerS };
}

/**
 * `decideSync` answered from the in-process LRU: every request decided once first, then timed in batches of
 * `localHitBatchSize`. Throws when a timed call was not a hit (the figure would be a lie).
 */
export async function runEngineLocalHit(
  model: ModelDefinition,
  store: MemoryPolicyStore,
  requests: readonly AuthorizationRequest[],
  batches: number,
): Promise<LatencySummary> {
  const engine = await PolicyEngine.start({
    model,
    store,
    localCache: new MemoryDecisionCache({ maxEntries: requests.length * 2 }),
    resyncIntervalMs: 0,
  });
  try {
    const n = requests.length;
    const op = (i: number): void => {
      if (engine.decideSync(requests[i % n] as AuthorizationRequest).allowed) sink.value++;
    };
    for (let i = 0; i < n; i++) op(i);
    for (let i = 0; i < Math.min(batches * localHitBatchSize, 200_000); i++) op(i);
    collectGarbage();
    const before = engine.health().stats;
    const latency = timeBatches(batches, localHitBatchSize, op);
    const after = engine.health().stats;
    const timed = batches * localHitBatchSize;
    if (after.localHits - before.localHits !== timed) {
      throw new Error(`engine-l1-hit: ${timed - (after.localHits - before.localHits)} of ${timed} timed calls missed the local cache`);
    }
    return latency;
  } finally {
    engine.stop();
  }
}
