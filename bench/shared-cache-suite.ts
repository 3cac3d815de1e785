// The engine answering from the Valkey tier: `consultSharedCache: 'always'` and no local cache, so every
// `decide` is one GET over loopback. Keys go under a prefix of their own, deleted afterwards.
import { randomBytes } from 'node:crypto';
import { isValkeyCluster, type ValkeyClient } from '../platform/valkey-client.js';
import { PolicyEngine, type AuthorizationRequest, type ModelDefinition, type PolicyStore } from '../engine/index.js';
import { ValkeyDecisionCache } from '../engine/adapters/index.js';
import { collectGarbage, sink, timeEachAsync, type LatencySummary } from './latency.js';

export interface SharedCacheOptions {
  readonly model: ModelDefinition;
  readonly store: PolicyStore;
  readonly client: ValkeyClient;
  readonly requests: readonly AuthorizationRequest[];
  /** How many distinct requests are cached first and then cycled through. */
  readonly distinct: number;
  readonly samples: number;
}

/** Each `decide` awaited in turn (a sequential client) and timed; throws when a timed call was not a hit. */
export async function runEngineSharedHit(options: SharedCacheOptions): Promise<LatencySummary> {
  const keyPrefix = `bench:l2:${randomBytes(4).toString('hex')}:`;
  const engine = await PolicyEngine.start({
    model: options.model,
    store: options.store,
    sharedCache: new ValkeyDecisionCache({ client: options.client, keyPrefix }),
    consultSharedCache: 'always',
    resyncIntervalMs: 0,
  });
  try {
    const requests = options.requests.slice(0, options.distinct);
    const n = requests.length;
    for (const request of requests) await engine.decide(request);
    // The engine does not await its SETs; a PING on the same connection is answered after all of them.
    await options.client.ping();
    const op = async (i: number): Promise<void> => {
      if ((await engine.decide(requests[i % n] as AuthorizationRequest)).allowed) sink.value++;
    };
    for (let i = 0; i < Math.min(options.samples, 2_000); i++) await op(i);
    collectGarbage();
    const before = engine.health().stats;
    const latency = await timeEachAsync(options.samples, op);
    const after = engine.health().stats;
    if (after.sharedHits - before.sharedHits !== options.samples) {
      throw new Error(
        `engine-l2-hit: ${options.samples - (after.sharedHits - before.sharedHits)} of ${options.samples} timed calls missed Valkey ` +
          `(${after.sharedErrors - before.sharedErrors} errors)`,
      );
    }
    return latency;
  } finally {
    engine.stop();
    await deleteKeysWithPrefix(options.client, keyPrefix);
  }
}

/**
 * SCAN + UNLINK of every key under `prefix` (which must hold no glob characters). On a cluster, SCAN sees one
 * node's keys: each primary is scanned, and each key unlinked on its own (one command may not span two slots).
 */
export async function deleteKeysWithPrefix(client: ValkeyClient, prefix: string): Promise<number> {
  if (/[*?[\]\\]/.test(prefix)) throw new RangeError('the key prefix must not contain glob characters');
  let deleted = 0;
  for (const server of isValkeyCluster(client) ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = server.pipeline();
      for (const key of keys) pipeline.unlink(key);
      for (const [error, count] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        deleted += Number(count);
      }
    } while (cursor !== '0');
  }
  return deleted;
}
