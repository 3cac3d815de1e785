// Identity and three Auth replicas as separate processes over one PostgreSQL schema and one Valkey
// prefix. Permission changes made through Identity under a steady authorize load reach every replica, no answer
// carrying a revision at or after a change decides with the older policy, and minRevision reads one's writes.
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { fetchAuthorize, startAuthorizeLoad } from '../support/system/authorize-load.js';
import { pollUntil } from '../support/system/poll.js';
import { analysePropagation, type PolicyChange } from '../support/system/propagation-analysis.js';
import { startSystemCluster, type SystemCluster } from '../support/system/system-cluster.js';
import { testValkeyUrl } from '../support/valkey.js';

const replicas = [0, 1, 2];
const question = { resource: 'ledgers', action: 'get' };

let schema: TestSchema;
let cluster: SystemCluster;
let roleId: string;
let workerToken: string;
let ask: ReturnType<typeof fetchAuthorize>;
let workerSub: string;

/** Replaces the role's permissions through Identity: the question allowed or not. Answers the new revision. */
async function setAllowed(allowed: boolean): Promise<PolicyChange> {
  const answer = await cluster.callIdentity('PUT', `/v1/roles/${roleId}/permissions`, { permissions: allowed ? [question] : [] });
  const answeredAtMs = performance.now();
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.revision).toBeTypeOf('number');
  return { revision: answer.revision!, allowed, answeredAtMs };
}

async function askWithMinRevision(replica: number, minRevision: number): Promise<{ status: number; authorized?: boolean; revision?: number }> {
  const response = await fetch(`${cluster.auths[replica]!.url}/v1/authorize`, {
    method: 'POST',
    headers: { authorization: `Bearer ${workerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sub: workerSub, ...question, minRevision }),
  });
  const body = (await response.json()) as { authorized?: boolean; revision?: number };
  return { status: response.status, ...body };
}

beforeAll(async () => {
  schema = await createTestSchema('system_propagation');
  cluster = await startSystemCluster({ databaseUrl: schema.url, valkeyUrl: testValkeyUrl });
  const worker = await cluster.createUser();
  const role = await cluster.callIdentity('POST', '/v1/roles', { name: 'ledger-readers', permissions: [] });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  roleId = (role.body as { id: string }).id;
  const group = await cluster.callIdentity('POST', '/v1/groups', { name: 'ledger-team', roles: [roleId] });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  const member = await cluster.callIdentity('PUT', `/v1/groups/${(group.body as { id: string }).id}/members/${worker.id}`);
  expect(member.status, JSON.stringify(member.body)).toBeLessThan(300);
  workerToken = (await cluster.signIn(worker, 1)).accessToken;
  workerSub = `${cluster.tenantSlug}/${worker.id}`;
  ask = fetchAuthorize(
    cluster.auths.map((auth) => auth.url),
    () => workerToken,
    () => ({ sub: workerSub, ...question }),
  );
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await schema?.drop();
});

describe.sequential('policy changes across processes', () => {
  it('every replica applies each change made through Identity, and no answer at or after its revision uses the older policy', async () => {
    const load = startAuthorizeLoad({ replicas: replicas.length, ask, callersPerReplica: 2, maxRequests: 20_000, maxDurationMs: 40_000 });
    try {
      await pollUntil('answers from every replica', async () => (replicas.every((r) => load.samples.some((s) => s.replica === r && s.status === 200)) ? true : undefined), 10_000);
      const changes: PolicyChange[] = [];
      for (let i = 0; i < 8; i++) {
        const change = await setAllowed(i % 2 === 0);
        changes.push(change);
        // Each change is seen by every replica, 25 times, before the next: every delay is then that change's own,
        // and the load runs in a steady state between changes.
        await pollUntil(
          `revision ${change.revision} on every replica`,
          async () => (replicas.every((r) => load.samples.filter((s) => s.replica === r && (s.revision ?? -1) >= change.revision).length >= 25) ? true : undefined),
          10_000,
          5,
        );
      }
      const samples = await load.stop();
      const figures = analysePropagation(samples, changes, false, replicas);
      console.info(
        `system propagation: ${changes.length} changes x ${replicas.length} replicas under ${samples.length} authorize calls; ` +
          `p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, max ${figures.maxMs.toFixed(1)} ms`,
      );
      expect(samples.filter((s) => s.status !== 200)).toEqual([]);
      expect(figures.missing).toEqual([]);
      expect(figures.stale).toEqual([]);
      expect(figures.delaysMs).toHaveLength(changes.length * replicas.length);
      // Both decisions were actually observed, so the stale check judged allows and denials alike.
      expect(new Set(samples.map((s) => s.authorized))).toEqual(new Set([true, false]));
    } finally {
      await load.stop();
    }
  }, 90_000);

  it('minRevision gives read-your-writes on any replica, whichever received the write first', async () => {
    for (let i = 0; i < 9; i++) {
      const allowed = i % 2 === 1;
      const change = await setAllowed(allowed);
      const replica = i % replicas.length;
      const answer = await askWithMinRevision(replica, change.revision);
      expect({ replica, ...answer }).toMatchObject({ replica, status: 200, authorized: allowed });
      expect(answer.revision).toBeGreaterThanOrEqual(change.revision);
    }
  }, 60_000);
});
