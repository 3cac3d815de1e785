// The engine with its Valkey decision tier on a real server, and with the server unreachable.
import { afterAll, describe, expect, it } from 'vitest';
import { createValkeyClient } from '../platform/valkey-client.js';
import { closedPortUrl, testKeyPrefix, testValkeyUrl } from '../test/support/valkey.js';
import { MemoryPolicyStore, ValkeyDecisionCache } from './adapters/index.js';
import { loadModelFile, MemoryDecisionCache, PolicyEngine, type EngineEvent } from './index.js';

const model = await loadModelFile();
const prefix = testKeyPrefix('engine-shared');
const client = createValkeyClient({ url: testValkeyUrl });
const down = createValkeyClient({ url: closedPortUrl, commandTimeoutMs: 100 });
const engines: PolicyEngine[] = [];

afterAll(async () => {
  for (const engine of engines) engine.stop();
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  client.disconnect();
  down.disconnect();
});

async function seededStore(): Promise<MemoryPolicyStore> {
  const store = new MemoryPolicyStore(model.tenantOf);
  await store.applyChanges('acme', [
    { op: 'add', rule: { ptype: 'p', values: ['role:a', 'acme', 'accounts', 'get', 'allow'] } },
    { op: 'add', rule: { ptype: 'g', values: ['user:1', 'role:a', 'acme'] } },
  ]);
  return store;
}

const request = { sub: 'user:1', dom: 'acme', obj: 'accounts', act: 'get' };

describe('engine with the Valkey decision tier', () => {
  it('a decision computed by one engine is a shared-cache hit for another engine at the same revision', async () => {
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const store = await seededStore();
    const shared = new ValkeyDecisionCache({ client, keyPrefix: prefix });
    const options = { model, store, sharedCache: shared, consultSharedCache: 'always' as const, resyncIntervalMs: 0 };
    const first = await PolicyEngine.start({ ...options, localCache: new MemoryDecisionCache({ maxEntries: 10 }) });
    const second = await PolicyEngine.start({ ...options, localCache: new MemoryDecisionCache({ maxEntries: 10 }) });
    engines.push(first, second);
    expect(await first.decide(request)).toMatchObject({ allowed: true, source: 'engine', revision: 1 });
    // The tier is written in the background: wait for the entry, then ask the other engine.
    const deadline = Date.now() + 2_000;
    while ((await client.keys(`${prefix}*`)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const decision = await second.decide(request);
    expect(decision).toMatchObject({ allowed: true, source: 'shared-cache', revision: 1 });
    expect((await second.decide(request)).source).toBe('local-cache');
  });

  it('Valkey down: decisions continue from memory within milliseconds, and the tier failures are counted', async () => {
    const events: EngineEvent[] = [];
    const engine = await PolicyEngine.start({
      model,
      store: await seededStore(),
      sharedCache: new ValkeyDecisionCache({ client: down, keyPrefix: prefix }),
      consultSharedCache: 'always',
      resyncIntervalMs: 0,
      onEvent: (event) => events.push(event),
    });
    engines.push(engine);
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      expect(await engine.decide({ ...request, obj: `accounts` })).toMatchObject({ allowed: true, source: 'engine' });
      expect(await engine.decide({ ...request, act: 'post' })).toMatchObject({ allowed: false });
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // background tier writes settle
    expect(engine.health().stats.sharedErrors).toBeGreaterThanOrEqual(40);
    expect(events.some((e) => e.type === 'cache-tier-failed' && e.tier === 'valkey')).toBe(true);
  });
});
