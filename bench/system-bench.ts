// `npm run bench -- system [--quick]`: the whole system as deployed. Identity and three Auth replicas run as
// separate processes over one PostgreSQL schema and one Valkey prefix; a product-side caller spreads authorize
// calls over the replicas through the client library (one `createAuthClient` per replica, round robin, its
// decision cache off so every call reaches Auth) while permissions are changed through Identity. Reports the
// throughput and p50/p99 of authorize as the product sees them, and how long each change took to reach each
// replica (from Identity's answer to the replica's first answer at or after its revision).
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createAuthClient, type AuthClient } from '../client/index.js';
import { createTestSchema } from '../test/support/postgres.js';
import { startAuthorizeLoad, type AuthorizeSample } from '../test/support/system/authorize-load.js';
import { analysePropagation, percentileOf, type PolicyChange } from '../test/support/system/propagation-analysis.js';
import { startSystemCluster, type SystemCluster } from '../test/support/system/system-cluster.js';
import { ProgressLine } from './progress-line.js';
import { formatSystemBench, type SystemBenchResult } from './system-report.js';

const envSchema = z.object({
  BENCH_DATABASE_URL: z.string().min(1).max(2_048).default('postgres://postgres@127.0.0.1:5432/test'),
  BENCH_VALKEY_URL: z.string().min(1).max(2_048).default('redis://127.0.0.1:6379'),
});

interface Plan {
  readonly durationMs: number;
  readonly callersPerReplica: number;
  readonly users: number;
  readonly changes: number;
}

const plans: Record<'quick' | 'full', Plan> = {
  quick: { durationMs: 6_000, callersPerReplica: 8, users: 6, changes: 6 },
  full: { durationMs: 20_000, callersPerReplica: 16, users: 24, changes: 20 },
};
const replicas = 3;
const question = { resource: 'ledgers', action: 'get' } as const;
const warmupMs = 1_000;

async function seed(cluster: SystemCluster, users: number): Promise<{ roleId: string; tokens: string[] }> {
  const role = await cluster.callIdentity('POST', '/v1/roles', { name: 'ledger-readers', permissions: [] });
  const group = await cluster.callIdentity('POST', '/v1/groups', { name: 'ledger-team', roles: [(role.body as { id: string }).id] });
  if (role.status !== 201 || group.status !== 201) throw new Error(`seeding through Identity failed: ${role.status} ${group.status}`);
  const groupId = (group.body as { id: string }).id;
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const user = await cluster.createUser(`bench-${i}`);
    const member = await cluster.callIdentity('PUT', `/v1/groups/${groupId}/members/${user.id}`);
    if (member.status >= 300) throw new Error(`adding a member failed: ${member.status}`);
    tokens.push((await cluster.signIn(user, i % replicas)).accessToken);
  }
  return { roleId: (role.body as { id: string }).id, tokens };
}

/** Runs the scenario on a fresh schema; every process it started is gone when this returns. */
export async function runSystemBench(options: { quick: boolean; onStep: (what: string) => void }): Promise<SystemBenchResult> {
  const env = envSchema.parse(process.env);
  const plan = plans[options.quick ? 'quick' : 'full'];
  options.onStep('starting Identity and three Auth replicas');
  const schema = await createTestSchema('bench_system');
  let cluster: SystemCluster | undefined;
  const clients: AuthClient[] = [];
  try {
    cluster = await startSystemCluster({ databaseUrl: schema.url, valkeyUrl: env.BENCH_VALKEY_URL, authReplicas: replicas });
    options.onStep(`seeding ${plan.users} users through Identity`);
    const { roleId, tokens } = await seed(cluster, plan.users);
    for (const auth of cluster.auths) clients.push(createAuthClient({ url: auth.url, cacheTtlMs: 0, maxSockets: plan.callersPerReplica, timeoutMs: 5_000 }));
    let next = 0;
    const load = startAuthorizeLoad({
      replicas,
      callersPerReplica: plan.callersPerReplica,
      maxRequests: Number.MAX_SAFE_INTEGER,
      maxDurationMs: warmupMs + plan.durationMs,
      ask: async (replica) => {
        const token = tokens[next++ % tokens.length]!;
        try {
          const decision = await clients[replica]!.authorize(token, question.resource, question.action);
          return { status: 200, authorized: decision.allowed, revision: decision.revision };
        } catch {
          return { status: 503 };
        }
      },
    });
    const startedMs = performance.now();
    options.onStep(`authorize load over ${replicas} replicas, ${plan.changes} permission changes through Identity`);
    const changes: PolicyChange[] = [];
    const spacingMs = plan.durationMs / (plan.changes + 1);
    for (let i = 0; i < plan.changes; i++) {
      const dueMs = startedMs + warmupMs + spacingMs * (i + 1);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - performance.now())));
      const allowed = i % 2 === 0;
      const answer = await cluster.callIdentity('PUT', `/v1/roles/${roleId}/permissions`, { permissions: allowed ? [question] : [] });
      if (answer.status !== 200 || answer.revision === undefined) throw new Error(`a permission change failed: ${answer.status}`);
      changes.push({ revision: answer.revision, allowed, answeredAtMs: performance.now() });
    }
    const samples = await load.finished;
    return summarise(samples, changes, startedMs + warmupMs, plan);
  } finally {
    options.onStep('stopping the processes');
    await cluster?.close();
    await schema.drop();
  }
}

function summarise(samples: readonly AuthorizeSample[], changes: readonly PolicyChange[], measuredFromMs: number, plan: Plan): SystemBenchResult {
  const measured = samples.filter((s) => s.startedMs >= measuredFromMs);
  const answered = measured.filter((s) => s.status === 200);
  const latencies = answered.map((s) => s.endedMs - s.startedMs).sort((a, b) => a - b);
  const spanMs = Math.max(1, Math.max(...measured.map((s) => s.endedMs)) - measuredFromMs);
  const propagation = analysePropagation(samples, changes, false, [0, 1, 2]);
  return {
    replicas,
    callers: replicas * plan.callersPerReplica,
    duration_s: spanMs / 1_000,
    authorize: {
      requests: measured.length,
      failed: measured.length - answered.length,
      requests_per_s: answered.length / (spanMs / 1_000),
      p50_ms: percentileOf(latencies, 50),
      p99_ms: percentileOf(latencies, 99),
      by_replica: [0, 1, 2].map((r) => answered.filter((s) => s.replica === r).length),
    },
    propagation: {
      changes: changes.length,
      measured: propagation.delaysMs.length,
      missing: propagation.missing.length,
      stale_answers: propagation.stale.length,
      p50_ms: propagation.p50Ms,
      p99_ms: propagation.p99Ms,
      max_ms: propagation.maxMs,
    },
  };
}

/** `npm run bench -- system [--quick]`: prints the figures (and writes them as JSON); exits 0 whatever they are. */
export async function runSystemBenchCli(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { quick: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
  const progress = new ProgressLine();
  const result = await runSystemBench({ quick: values.quick ?? false, onStep: (what) => progress.update(`system: ${what}`) });
  progress.update('system: writing bench/results/system-latest.json');
  await writeFile(new URL('./results/system-latest.json', import.meta.url), `${JSON.stringify({ when: new Date().toISOString(), mode: values.quick ? 'quick' : 'full', ...result }, null, 2)}\n`);
  progress.done();
  process.stdout.write(`${formatSystemBench(result)}\n`);
}
