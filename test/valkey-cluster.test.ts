// Everything that keeps state in Valkey works on a Valkey/Redis Cluster (VALKEY_MODE=cluster): a local cluster of
// three primaries, keys spread over its shards, the change feed between two engines whatever node each
// subscribes through, and no command that spans two slots.
import { randomBytes } from 'node:crypto';
import express from 'express';
import type { Cluster } from 'iovalkey';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authCatalogue, oauthErrorOf } from '../auth-service/errors.js';
import { deleteKeysWithPrefix } from '../bench/shared-cache-suite.js';
import { createTokenRateLimit } from '../auth-service/tokens/token-rate-limit.js';
import { ValkeyChangeFeed, ValkeyDecisionCache } from '../engine/adapters/index.js';
import type { PolicyChangeNotice } from '../engine/index.js';
import { tokenCacheKeyPurpose, ValkeyTokenCache } from '../platform/auth/valkey-token-cache.js';
import { derivedKey } from '../platform/derived-key.js';
import { parseEngineConfig } from '../platform/engine-config.js';
import { startEngineRuntime, type EngineRuntime } from '../platform/engine-runtime.js';
import { errorHandler } from '../platform/http/error-handler.js';
import { runMigrations } from '../platform/migrations.js';
import { createValkeyClient, isValkeyReady } from '../platform/valkey-client.js';
import { createTestSchema, type TestSchema } from './support/postgres.js';
import { pollUntil } from './support/system/poll.js';
import { testKeyPrefix } from './support/valkey.js';
import { startLocalValkeyCluster, type LocalValkeyCluster } from './support/valkey-cluster.js';

let cluster: LocalValkeyCluster;
let client: Cluster;
const keyPrefix = testKeyPrefix('cluster');
const opened: { disconnect(): void }[] = [];

async function ready<T extends { status: string; once(event: 'ready', listener: () => void): unknown }>(valkey: T): Promise<T> {
  if (valkey.status !== 'ready') await new Promise<void>((resolve) => valkey.once('ready', () => resolve()));
  return valkey;
}

function clusterClient(name: string): Cluster {
  const created = createValkeyClient({ url: cluster.url, cluster: { nodes: cluster.nodes.slice(1) }, name });
  opened.push(created);
  return created;
}

/** The distinct nodes serving `keys`: the test means something only when they are spread over shards. */
async function nodesOf(keys: readonly string[]): Promise<Set<string>> {
  return new Set(await Promise.all(keys.map((key) => cluster.nodeOf(key))));
}

beforeAll(async () => {
  cluster = await startLocalValkeyCluster();
  client = await ready(clusterClient('am-cluster-test'));
}, 60_000);

afterAll(async () => {
  for (const valkey of opened) valkey.disconnect();
  await cluster?.close();
});

describe('Valkey in cluster mode', () => {
  it('the client talks to every shard: keys of one prefix land on all three primaries and read back', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `${keyPrefix}spread:${i}`);
    await Promise.all(keys.map((key, i) => client.set(key, String(i), 'EX', 60)));
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map((_, i) => String(i)));
    expect((await nodesOf(keys)).size).toBe(3);
    expect(isValkeyReady(client)).toBe(true);
  });

  it('the decision cache tier stores and reads decisions on every shard', async () => {
    const cache = new ValkeyDecisionCache({ client, keyPrefix: `${keyPrefix}decision:` });
    const keys = Array.from({ length: 24 }, (_, i) => `acme:7:user:${i}:accounts:get`);
    await Promise.all(keys.map((key, i) => cache.set(key, { allowed: i % 2 === 0, reason: i % 2 === 0 ? 'allowed_by_policy' : 'no_matching_policy' }, 60)));
    const read = await Promise.all(keys.map((key) => cache.get(key)));
    expect(read).toEqual(keys.map((_, i) => ({ allowed: i % 2 === 0, reason: i % 2 === 0 ? 'allowed_by_policy' : 'no_matching_policy' })));
    expect((await nodesOf(keys.map((key) => `${keyPrefix}decision:${key}`))).size).toBe(3);
    expect(await cache.get('acme:7:user:absent:accounts:get')).toBeUndefined();
  });

  it('the token cache keeps authenticated entries on every shard, and a forged one is still a miss', async () => {
    const cache = new ValkeyTokenCache({ client, keyPrefix, entryKey: derivedKey(randomBytes(32), tokenCacheKeyPurpose) });
    const digests = Array.from({ length: 24 }, () => randomBytes(16).toString('hex'));
    await Promise.all(digests.map((digest, i) => cache.set(digest, { sub: `user-${i}`, tenantId: 'acme' }, 60)));
    expect(await Promise.all(digests.map((digest) => cache.get(digest)))).toEqual(digests.map((_, i) => ({ sub: `user-${i}`, tenantId: 'acme' })));
    expect((await nodesOf(digests.map((digest) => cache.keyOf(digest)))).size).toBe(3);
    const forged = randomBytes(16).toString('hex');
    await client.set(cache.keyOf(forged), `v1.${Buffer.alloc(32).toString('base64url')}.{"sub":"admin"}`, 'EX', 60);
    expect(await cache.get(forged)).toBeUndefined();
  });

  it('the token-route rate limit counts on the shard of each address, also after every node forgot its scripts', async () => {
    const app = express();
    app.use(createTokenRateLimit({ valkey: client, keyPrefix, trustedProxies: ['127.0.0.0/8', '::1/128'], limit: 3 }));
    app.post('/oauth/token', (_req, res) => void res.json({ ok: true }));
    app.use(errorHandler(authCatalogue, () => undefined, { paths: ['/oauth/token'], errorOf: oauthErrorOf as Record<string, string> }));
    const addresses = Array.from({ length: 8 }, (_, i) => `203.0.113.${i + 1}`);
    // A node that restarted, or took over slots, knows no script: the count must still work there.
    const forgetScripts = async () => {
      for (const node of cluster.nodes) {
        const direct = createValkeyClient({ url: `redis://${node}` });
        opened.push(direct);
        await (await ready(direct)).script('FLUSH');
      }
    };
    await forgetScripts();
    // One at a time first: a burst would load the script on every node by chance and hide a miss.
    for (const address of addresses) expect((await supertest(app).post('/oauth/token').set('X-Forwarded-For', address)).status).toBe(200);
    await forgetScripts();
    const burst = await Promise.all(
      addresses.flatMap((address) => Array.from({ length: 4 }, () => supertest(app).post('/oauth/token').set('X-Forwarded-For', address))),
    );
    for (const [a] of addresses.entries()) {
      const statuses = burst.slice(a * 4, a * 4 + 4).map((answer) => answer.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(2);
      expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    }
    expect((await nodesOf(addresses.map((address) => `${keyPrefix}rl:token:${address}`))).size).toBeGreaterThanOrEqual(2);
  });

  it('the change feed: a notice published on any node reaches a subscriber connected through another', async () => {
    const subscriber = clusterClient('am-cluster-feed');
    const channel = `${keyPrefix}policy`;
    const feed = new ValkeyChangeFeed({ publisher: client, subscriber, channel });
    const seen: PolicyChangeNotice[] = [];
    await feed.subscribe((notice) => seen.push(notice));
    try {
      for (const [i, node] of cluster.nodes.entries()) {
        // Published straight on one node: the cluster bus carries it to the node the subscriber chose.
        const direct = createValkeyClient({ url: `redis://${node}` });
        opened.push(direct);
        const publisher = await ready(direct);
        await publisher.publish(channel, JSON.stringify({ t: `tenant-${i}`, r: i + 1 }));
      }
      await pollUntil('three notices', async () => (seen.length >= 3 ? true : undefined), 10_000);
      expect(seen.map((notice) => notice.tenantId).sort()).toEqual(['tenant-0', 'tenant-1', 'tenant-2']);
    } finally {
      await feed.close();
    }
  });
});

describe('the bench on a cluster', () => {
  it('deleting a prefix reaches every shard, one key per command', async () => {
    const prefix = `${keyPrefix}bench:`;
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}${i}`);
    await Promise.all(keys.map((key) => client.set(key, '1', 'EX', 60)));
    expect(await deleteKeysWithPrefix(client, prefix)).toBe(30);
    expect(await Promise.all(keys.map((key) => client.exists(key)))).toEqual(keys.map(() => 0));
  });
});

describe('two engines on a cluster (VALKEY_MODE=cluster, as the services start them)', () => {
  let schema: TestSchema;
  let writer: EngineRuntime;
  let reader: EngineRuntime;
  const tenant = 'acme-cluster';
  const read = { sub: 'user:1', dom: tenant, obj: 'ledgers', act: 'get' };

  beforeAll(async () => {
    schema = await createTestSchema('valkey_cluster');
    await runMigrations({ databaseUrl: schema.url });
    const env = {
      DATABASE_URL: schema.url,
      VALKEY_URL: cluster.url,
      VALKEY_MODE: 'cluster',
      VALKEY_CLUSTER_NODES: cluster.nodes.slice(1).join(','),
      KEY_PREFIX: keyPrefix,
      POLICY_CHANGE_CHANNEL: `am_${randomBytes(4).toString('hex')}`,
      // Long: the feed, not the poll, must carry the change.
      ENGINE_RESYNC_INTERVAL_MS: '600000',
      DECISION_CACHE_SHARED: 'always',
      DB_MIGRATE_ON_START: 'false',
    };
    writer = await startEngineRuntime(parseEngineConfig(env));
    reader = await startEngineRuntime(parseEngineConfig(env));
    expect([writer.feedName, reader.feedName]).toEqual(['valkey', 'valkey']);
  }, 30_000);

  afterAll(async () => {
    await reader?.close();
    await writer?.close();
    await schema?.drop();
  });

  it('a grant and its revocation in one engine change the other engine’s decision, and its shared-tier decisions are per revision', async () => {
    await ready(reader.valkey as Cluster);
    // The reader holds the tenant before it changes (a change is applied to the tenants an engine holds).
    expect(await reader.engine.decide(read)).toMatchObject({ allowed: false, revision: 0 });
    const granted = await writer.engine.write(tenant, [
      { op: 'add', rule: { ptype: 'p', values: ['role:reader', tenant, 'ledgers', 'get', 'allow'] } },
      { op: 'add', rule: { ptype: 'g', values: ['user:1', 'role:reader', tenant] } },
    ]);
    await pollUntil('the grant on the reader', async () => (reader.engine.revisionOf(tenant) >= granted.revision ? true : undefined), 10_000);
    expect(await reader.engine.decide(read)).toMatchObject({ allowed: true, revision: granted.revision });

    const revoked = await writer.engine.write(tenant, [{ op: 'remove', rule: { ptype: 'g', values: ['user:1', 'role:reader', tenant] } }]);
    await pollUntil('the revocation on the reader', async () => (reader.engine.revisionOf(tenant) >= revoked.revision ? true : undefined), 10_000);
    expect(await reader.engine.decide(read)).toMatchObject({ allowed: false, revision: revoked.revision });
    expect(await writer.engine.decide(read)).toMatchObject({ allowed: false, revision: revoked.revision });
  });

  it('a cluster URL naming a database other than 0 is refused at start', () => {
    expect(() => parseEngineConfig({ VALKEY_URL: `${cluster.url}/2`, VALKEY_MODE: 'cluster' })).toThrow(/only database 0/);
    expect(() => parseEngineConfig({ VALKEY_MODE: 'cluster' })).toThrow(/VALKEY_MODE: cluster needs VALKEY_URL/);
    expect(() => parseEngineConfig({ VALKEY_URL: cluster.url, VALKEY_CLUSTER_NODES: cluster.nodes.join(',') })).toThrow(/only with VALKEY_MODE=cluster/);
    expect(() => parseEngineConfig({ VALKEY_URL: cluster.url, VALKEY_MODE: 'cluster', VALKEY_CLUSTER_NODES: 'cache-1:6379,not a node' })).toThrow(/not host:port/);
  });
});
