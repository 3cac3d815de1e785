// A policy change in one process reaches engines in other OS processes: over Valkey pub/sub, and over
// PostgreSQL LISTEN/NOTIFY when no Valkey is configured (issue: change feed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEngineConfig } from '../platform/engine-config.js';
import { startEngineRuntime, type EngineRuntime } from '../platform/engine-runtime.js';
import { runMigrations } from '../platform/migrations.js';
import type { PolicyChange } from '../engine/index.js';
import { EnginePeer } from './support/engine-peer-process.js';
import { writePolicy } from './support/policy-writes.js';
import { createTestSchema, type TestSchema } from './support/postgres.js';
import { testKeyPrefix, testValkeyUrl } from './support/valkey.js';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('propagation');
  await runMigrations({ databaseUrl: schema.url });
});

afterAll(async () => {
  await schema.drop();
});

const g = (member: string, role: string, dom: string, op: 'add' | 'remove' = 'add'): PolicyChange => ({ op, rule: { ptype: 'g', values: [member, role, dom] } });

describe.each([
  ['valkey pub/sub', true],
  ['postgres LISTEN/NOTIFY', false],
])('cross-process propagation over %s', (_label, withValkey) => {
  let writer: EngineRuntime;
  let peer: EnginePeer;
  const tenant = withValkey ? 'acme-valkey' : 'acme-postgres';
  const read = { sub: 'user:1', dom: tenant, obj: 'ledgers', act: 'get' };
  const prefix = testKeyPrefix('propagation');
  const channel = `am_${Math.random().toString(36).slice(2, 10)}`;
  // As Identity writes: in a database transaction, announced after the commit.
  const write = (changes: readonly PolicyChange[]) => writePolicy(schema.pool, writer.engine, tenant, changes);

  beforeAll(async () => {
    const env: Record<string, string> = {
      DATABASE_URL: schema.url,
      KEY_PREFIX: prefix.replace(/[^A-Za-z0-9:_-]/g, '_'),
      POLICY_CHANGE_CHANNEL: channel,
      ENGINE_RESYNC_INTERVAL_MS: '60000', // long: the feed, not the poll, must carry the change
      DB_MIGRATE_ON_START: 'false',
      ...(withValkey ? { VALKEY_URL: testValkeyUrl } : {}),
    };
    writer = await startEngineRuntime(parseEngineConfig(env));
    expect(writer.feedName).toBe(withValkey ? 'valkey' : 'postgres');
    peer = await EnginePeer.spawn(env);
    // Both use the tenant before it changes: a change is applied to the tenants an engine holds (others are read
    // fresh when first used), and this suite is about the change, not the first read.
    await writer.engine.ensureTenant(tenant);
    await peer.decide(read);
  }, 30_000);

  afterAll(async () => {
    await peer?.stop();
    await writer?.close();
  });

  it('a write in this process changes the decision of an engine in another process', async () => {
    const before = writer.engine.revisionOf(tenant);
    const { revision } = await write([
      { op: 'add', rule: { ptype: 'p', values: ['role:reader', tenant, 'ledgers', 'get', 'allow'] } },
      g('user:1', 'role:reader', tenant),
    ]);
    expect(revision).toBe(before + 1);
    await peer.waitFor((m) => m.event === 'applied' && m.tenantId === tenant && m.revision === revision);
    expect((await peer.decide(read)).decision).toMatchObject({ allowed: true, revision });

    const removed = await write([g('user:1', 'role:reader', tenant, 'remove')]);
    await peer.waitFor((m) => m.event === 'applied' && m.revision === removed.revision);
    expect((await peer.decide(read)).decision).toMatchObject({ allowed: false, revision: removed.revision });
  });

  it('minRevision on the other process answers at or after the write, never from the older policy', async () => {
    const { revision } = await write([g('user:1', 'role:reader', tenant)]);
    const answer = await peer.decide(read, revision);
    expect(answer.decision?.allowed).toBe(true);
    expect(answer.decision?.revision).toBeGreaterThanOrEqual(revision);
    const stale = await peer.decide(read, revision + 1000);
    expect(stale.error).toBe('STALE_REVISION');
  });
});
