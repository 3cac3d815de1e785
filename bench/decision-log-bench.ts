// The decision log's own CPU per decision, apart from HTTP and the machine's load: what the authorize route pays
// (`record`, a queue append), what the replica pays later, off the request (the flush: the deciding rule from
// the engine's explanation, the batch's columns, the INSERT's client side), and what the PostgreSQL backend that
// runs the INSERTs pays (read from /proc on Linux, when the server is on this host), on a real PostgreSQL schema.
// The HTTP figure is `npm run bench -- --only authorize` (decision_log_cost).
// Run: node --import tsx bench/decision-log-bench.ts
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createPolicyStore } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine } from '../engine/index.js';
import { decidingRuleResolver } from '../auth-service/decision-log/deciding-rule.js';
import { z } from 'zod';
import { DecisionLogMaintenance, DecisionLogStore, DecisionRecorder, decisionLogConfigShape, decisionLogSettingsOf, type DecisionRecord } from '../platform/decision-log/index.js';
import { runMigrations } from '../platform/migrations.js';
import { writePolicy } from '../test/support/policy-writes.js';
import { createTestSchema } from '../test/support/postgres.js';

const tenantId = '0b6f5f2e-6a43-4c55-9b8e-3f3d1c0de001';
const subjects = 1_000;
const rows = 200_000;
/** Decisions per flush: Auth's default batch. */
const { batchMax } = decisionLogSettingsOf(z.object(decisionLogConfigShape).parse({}));

/** CPU microseconds a process has used (user + system), or undefined where /proc cannot tell. */
async function processCpuMicros(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

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
  await new DecisionLogMaintenance({ store: new DecisionLogStore(pool), retentionDays: 30, clock: { nowMs: () => Date.now() } }).run();
  // One connection for the log's writes, so its backend's CPU is the INSERTs' alone.
  const writerPool = schema.newPool({ max: 1 });
  const backendPid = (await writerPool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  const store = new DecisionLogStore(writerPool);
  const scenario = async (label: string, subjectCount: number) => {
    await pool.query('TRUNCATE decision_log_batches');
    const startMs = Date.now();
    const decisions: DecisionRecord[] = Array.from({ length: rows }, (_, i) => ({
      atMs: startMs + Math.floor(i / 20),
      tenantId,
      subject: `user:${i % subjectCount}`,
      resource: 'ledgers',
      action: 'get',
      product: undefined,
      allowed: true,
      reason: 'allowed_by_policy',
      revision,
      requestId: randomUUID(),
      clientIp: '203.0.113.9',
    }));

    // The hot path's share: appends to a queue that never flushes during the loop (a warm-up pass first). CPU
    // time, not wall time: on a shared machine the wall clock counts other processes' turns.
    const appendAll = () => {
      // A batch one larger than the run: it never fills, so nothing is written (a full batch would be, at once).
      const queueOnly = new DecisionRecorder({ sink: store, queueMax: rows + 1, batchMax: rows + 1, flushIntervalMs: 3_600_000 });
      const before = process.cpuUsage();
      for (const decision of decisions) queueOnly.record(decision);
      const used = process.cpuUsage(before);
      return ((used.user + used.system) * 1_000) / rows;
    };
    appendAll();
    const recordNs = Math.min(appendAll(), appendAll(), appendAll());

    // The deciding rule alone, asked for every decision (a fresh resolver each pass); a flush asks it once per
    // distinct decision of a batch.
    const resolveAll = () => {
      const resolve = decidingRuleResolver(engine);
      const before = process.cpuUsage();
      for (const decision of decisions) resolve(decision);
      const used = process.cpuUsage(before);
      return (used.user + used.system) / rows;
    };
    const ruleUs = Math.min(resolveAll(), resolveAll());

    // The flush's share, in this process, with the default batch size, as a server sees it: a batch of decisions
    // queued, then flushed (the queue never holds more), so the garbage collector sees what a replica's heap holds.
    const recorder = new DecisionRecorder({ sink: store, queueMax: rows, batchMax, flushIntervalMs: 3_600_000, resolveRule: decidingRuleResolver(engine) });
    const backendBefore = await processCpuMicros(backendPid);
    let cpuMicros = 0;
    const wallBefore = process.hrtime.bigint();
    for (let start = 0; start < rows; start += batchMax) {
      const chunk = decisions.slice(start, start + batchMax);
      const cpuBefore = process.cpuUsage();
      for (const decision of chunk) recorder.record(decision);
      await recorder.flush();
      const used = process.cpuUsage(cpuBefore);
      cpuMicros += used.user + used.system;
    }
    await recorder.close();
    const wallMs = Number(process.hrtime.bigint() - wallBefore) / 1e6;
    // The backend's counters are read when it next reports them; a query makes sure it has.
    await writerPool.query('SELECT 1');
    const backendAfter = await processCpuMicros(backendPid);
    const written = recorder.counts.written;
    if (written !== rows) throw new Error(`written ${written} of ${rows}: ${JSON.stringify(recorder.counts)}`);
    const { rows: size } = await pool.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'decision_log_batches'::regclass`,
    );
    console.log(`${rows} decisions, ${label}`);
    console.log(`  record (queue append, on the request)       ${recordNs.toFixed(0).padStart(6)} ns/decision (CPU)`);
    console.log(`  record + flush CPU in Auth (rule, INSERT)    ${(cpuMicros / written).toFixed(2).padStart(6)} µs/decision`);
    console.log(`  the deciding rule, were it asked each time   ${ruleUs.toFixed(2).padStart(6)} µs/decision`);
    console.log(
      `  PostgreSQL backend CPU for the INSERTs        ${backendBefore === undefined || backendAfter === undefined ? '   n/a' : ((backendAfter - backendBefore) / written).toFixed(2).padStart(6)} µs/decision` +
        ' (the writing connection\'s server process; WAL writer and checkpoints not included)',
    );
    console.log(`  flush wall time (PostgreSQL included)        ${((wallMs * 1_000) / written).toFixed(2).padStart(6)} µs/decision, ${written} decisions in ${(wallMs / 1_000).toFixed(1)} s`);
    console.log(`  stored size (table, TOAST, indexes)          ${(Number(size[0]?.bytes ?? 0) / written).toFixed(0).padStart(6)} bytes/decision`);
  };
  await scenario(`of ${subjects} subjects (every decision of a flush a different subject)`, subjects);
  await scenario('of one subject (as the HTTP bench asks)', 1);
  engine.stop();
} finally {
  await schema.drop();
}
