// The decision log's own CPU per decision, apart from HTTP and the machine's load: what the authorize route pays
// (`record`, a queue append) and what the replica pays later, off the request (the flush: the deciding rule from
// the engine's explanation, the rows' arrays, the INSERT's client side), on a real PostgreSQL schema. The HTTP
// figure is `npm run bench -- --only authorize` (decision_log_cost). Run: node --import tsx bench/decision-log-bench.ts
import { createPolicyStore } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine } from '../engine/index.js';
import { decidingRuleResolver } from '../auth-service/decision-log/deciding-rule.js';
import { DecisionLogMaintenance, DecisionLogStore, DecisionRecorder, type DecisionRecord } from '../platform/decision-log/index.js';
import { runMigrations } from '../platform/migrations.js';
import { writePolicy } from '../test/support/policy-writes.js';
import { createTestSchema } from '../test/support/postgres.js';

const tenantId = '0b6f5f2e-6a43-4c55-9b8e-3f3d1c0de001';
const subjects = 1_000;
const rows = 200_000;

const schema = await createTestSchema('decision_log_bench');
try {
  await runMigrations({ databaseUrl: schema.url });
  const pool = schema.newPool({ max: 4 });
  const model = await loadModelFile();
  const engine = await PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), resyncIntervalMs: 0 });
  await writePolicy(pool, engine, tenantId, [
    { op: 'add', rule: { ptype: 'p', values: ['role:reader', tenantId, 'ledgers', 'get', 'allow'] } },
    ...Array.from({ length: subjects }, (_, i) => ({ op: 'add' as const, rule: { ptype: 'g', values: [`user:${i}`, 'role:reader', tenantId] } })),
  ]);
  const revision = engine.revisionOf(tenantId);
  const store = new DecisionLogStore(pool);
  await new DecisionLogMaintenance({ store, retentionDays: 30, clock: { nowMs: () => Date.now() } }).run();
  const decisions: DecisionRecord[] = Array.from({ length: rows }, (_, i) => ({
    atMs: Date.now(),
    tenantId,
    subject: `user:${i % subjects}`,
    resource: 'ledgers',
    action: 'get',
    product: undefined,
    allowed: true,
    reason: 'allowed_by_policy',
    revision,
    requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    clientIp: '203.0.113.9',
  }));

  // The hot path's share: appends to a queue that never flushes during the loop (a warm-up pass first). CPU time,
  // not wall time: on a shared machine the wall clock counts other processes' turns.
  const appendAll = () => {
    const queueOnly = new DecisionRecorder({ sink: store, queueMax: rows, batchMax: rows + 1, flushIntervalMs: 3_600_000 });
    const before = process.cpuUsage();
    for (const decision of decisions) queueOnly.record(decision);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) * 1_000) / rows;
  };
  appendAll();
  const recordNs = Math.min(appendAll(), appendAll(), appendAll());

  // The flush's share, in this process, with the default batch size: every row gets its deciding rule.
  const recorder = new DecisionRecorder({ sink: store, queueMax: rows, batchMax: 1_000, flushIntervalMs: 3_600_000, resolveRule: decidingRuleResolver(engine) });
  for (const decision of decisions) recorder.record(decision);
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  await recorder.close();
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = Number(process.hrtime.bigint() - wallBefore) / 1e6;
  const written = recorder.counts.written;
  if (written !== rows) throw new Error(`written ${written} of ${rows}: ${JSON.stringify(recorder.counts)}`);
  console.log(`record (queue append, on the request)    ${recordNs.toFixed(0).padStart(6)} ns/decision (CPU)`);
  console.log(`flush CPU in Auth (rule, arrays, INSERT)  ${((cpu.user + cpu.system) / written).toFixed(2).padStart(6)} µs/decision`);
  console.log(`flush wall time (PostgreSQL included)     ${((wallMs * 1_000) / written).toFixed(2).padStart(6)} µs/decision, ${written} rows in ${(wallMs / 1_000).toFixed(1)} s`);
  engine.stop();
} finally {
  await schema.drop();
}
