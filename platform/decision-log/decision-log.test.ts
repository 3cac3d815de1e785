// The decision log's writer, its table and its partitions, on the real PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { runMigrations } from '../migrations.js';
import { DecisionLogMaintenance } from './decision-log-maintenance.js';
import { DecisionLogStore, utcDay } from './decision-log-store.js';
import { batchDecisions, maxDecisionsPerBatch, type DecisionBatch } from './decision-batch.js';
import { DecisionColumns } from './decision-columns.js';
import type { DecisionFact, DecisionRecord, StoredDecision } from './decision-record.js';
import { DecisionRecorder, type DecisionLogSink } from './decision-recorder.js';
import { RequestIdBytes } from './request-id-bytes.js';

const dayMs = 86_400_000;
const tenantA = '6f1c2a9e-0000-4000-8000-00000000000a';
const tenantB = '6f1c2a9e-0000-4000-8000-00000000000b';

let schema: TestSchema;
let store: DecisionLogStore;
const now = Date.now();

function decision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    atMs: now,
    tenantId: tenantA,
    subject: 'user:alice',
    resource: 'ledgers',
    action: 'get',
    product: undefined,
    allowed: true,
    reason: 'allowed_by_policy',
    revision: 7,
    requestId: 'req-00000001',
    clientIp: '10.1.2.3',
    ...overrides,
  };
}

/** The store, counting the writes it is asked for and the decisions in each. */
function countingSink(): DecisionLogSink & { inserts: number[] } {
  const inserts: number[] = [];
  return {
    inserts,
    write: async (batches: readonly DecisionBatch[]) => {
      inserts.push(batches.reduce((sum, batch) => sum + batch.decisions.fact.length, 0));
      await store.write(batches);
    },
    ensurePartitions: (first, last) => store.ensurePartitions(first, last),
  };
}

async function rowsOf(tenantId: string): Promise<number> {
  const { rows } = await schema.pool.query<{ n: string }>('SELECT coalesce(sum(cardinality(fact)), 0)::text AS n FROM decision_log_batches WHERE org_id = $1', [tenantId]);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  schema = await createTestSchema('decision_log');
  await runMigrations({ databaseUrl: schema.url });
  store = new DecisionLogStore(schema.pool);
});

afterAll(async () => {
  await schema.drop();
});

beforeEach(async () => {
  // The retention test drops every partition before its own (future) days, today's included.
  await store.ensurePartitions(utcDay(now - 2 * dayMs), utcDay(now + dayMs));
  await schema.pool.query('DELETE FROM decision_log_batches');
});

describe('DecisionRecorder', () => {
  it('writes every recorded field, the deciding rule found at flush time', async () => {
    const seen: DecisionFact[] = [];
    const recorder = new DecisionRecorder({
      sink: store,
      queueMax: 100,
      batchMax: 100,
      flushIntervalMs: 60_000,
      resolveRule: (record) => {
        seen.push(record);
        return `p, role:reader, ${record.tenantId}, ledgers, get, allow`;
      },
    });
    recorder.record(decision({ product: 'midaz' }));
    expect(seen).toEqual([]); // nothing is resolved on the recording call
    await recorder.flush();
    const { items } = await store.list({ tenantId: tenantA, limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      subject: 'user:alice',
      resource: 'ledgers',
      action: 'get',
      product: 'midaz',
      allowed: true,
      reason: 'allowed_by_policy',
      revision: 7,
      rule: `p, role:reader, ${tenantA}, ledgers, get, allow`,
      requestId: 'req-00000001',
      clientIp: '10.1.2.3',
      at: new Date(now).toISOString().replace(/Z$/, '000Z'),
    });
    expect(recorder.counts).toEqual({ written: 1, droppedQueueFull: 0, droppedStoreFailed: 0 });
  });

  it('writes a flush as one multi-row INSERT per batch, not one per decision', async () => {
    const sink = countingSink();
    const recorder = new DecisionRecorder({ sink, queueMax: 10_000, batchMax: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 250; i++) recorder.record(decision({ requestId: `req-${String(i).padStart(8, '0')}` }));
    await recorder.flush();
    // The 100th decision started a flush of its own; the rest waited for the timer or the explicit flush.
    expect(sink.inserts.reduce((a, b) => a + b, 0)).toBe(250);
    expect(sink.inserts.every((rows) => rows <= 100)).toBe(true);
    expect(sink.inserts.length).toBeLessThanOrEqual(4);
    expect(await rowsOf(tenantA)).toBe(250);
    expect(recorder.counts.written).toBe(250);
  });

  it('decisions recorded while a batch is written wait for a full batch of their own, not the end of that write', async () => {
    // A write that returns only when the test lets it: what arrives meanwhile must not become a small row.
    const writes: { decisions: number; done: () => void }[] = [];
    const sink: DecisionLogSink = {
      write: (batches) =>
        new Promise<void>((resolve) => writes.push({ decisions: batches.reduce((sum, batch) => sum + batch.decisions.fact.length, 0), done: resolve })),
      ensurePartitions: () => Promise.resolve(0),
    };
    const recorder = new DecisionRecorder({ sink, queueMax: 10_000, batchMax: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 100; i++) recorder.record(decision());
    expect(writes.map((w) => w.decisions)).toEqual([100]);
    for (let i = 0; i < 30; i++) recorder.record(decision());
    writes[0]?.done();
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The 30 are still queued: the first write's end did not send them as a row of 30.
    expect(writes.map((w) => w.decisions)).toEqual([100]);
    expect(recorder.queued).toBe(30);
    for (let i = 0; i < 70; i++) recorder.record(decision());
    expect(writes.map((w) => w.decisions)).toEqual([100, 100]);
    writes[1]?.done();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(recorder.counts.written).toBe(200);
    await recorder.close();
  });

  it('a decision left in a part-filled batch is written when its flush interval ends, while other batches are written', async () => {
    const sink = countingSink();
    const recorder = new DecisionRecorder({ sink, queueMax: 10_000, batchMax: 100, flushIntervalMs: 50 });
    for (let i = 0; i < 130; i++) recorder.record(decision());
    const deadline = Date.now() + 10_000;
    while (recorder.counts.written < 130 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sink.inserts).toEqual([100, 30]);
    expect(recorder.queued).toBe(0);
  });

  it('flushes on its own within the flush interval, without being asked', async () => {
    const recorder = new DecisionRecorder({ sink: store, queueMax: 100, batchMax: 100, flushIntervalMs: 20 });
    recorder.record(decision());
    const deadline = Date.now() + 10_000;
    while (recorder.counts.written < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(recorder.counts.written).toBe(1);
    expect(await rowsOf(tenantA)).toBe(1);
  });

  it('a full queue drops new decisions and counts them; recording never waits', async () => {
    // The database holds the first write: what comes meanwhile queues up to queueMax, then is dropped.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const sink: DecisionLogSink = {
      write: async (batches) => {
        await held;
        await store.write(batches);
      },
      ensurePartitions: (first, last) => store.ensurePartitions(first, last),
    };
    const recorder = new DecisionRecorder({ sink, queueMax: 100, batchMax: 40, flushIntervalMs: 60_000 });
    for (let i = 0; i < 190; i++) expect(recorder.record(decision())).toBeUndefined();
    expect(recorder.queued).toBe(100);
    expect(recorder.counts.droppedQueueFull).toBe(50);
    release();
    await recorder.close();
    expect(await rowsOf(tenantA)).toBe(140);
    expect(recorder.counts).toEqual({ written: 140, droppedQueueFull: 50, droppedStoreFailed: 0 });
    // Closed: nothing more is taken, and what is refused is counted.
    recorder.record(decision());
    expect(recorder.counts.droppedQueueFull).toBe(51);
  });

  it('a database that is down costs the rows of the flush (counted), never an exception', async () => {
    const dead = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test', connectionTimeoutMillis: 2_000 });
    dead.on('error', () => undefined);
    const errors: number[] = [];
    const recorder = new DecisionRecorder({ sink: new DecisionLogStore(dead), queueMax: 1_000, batchMax: 1_000, flushIntervalMs: 60_000, onError: (_e, rows) => errors.push(rows) });
    for (let i = 0; i < 30; i++) recorder.record(decision());
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(recorder.counts).toEqual({ written: 0, droppedQueueFull: 0, droppedStoreFailed: 30 });
    expect(errors).toEqual([30]);
    expect(recorder.queued).toBe(0);
    await dead.end();
  });

  it('closing while the database is down counts every decision it could not write as dropped', async () => {
    const dead = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test', connectionTimeoutMillis: 2_000 });
    dead.on('error', () => undefined);
    const recorder = new DecisionRecorder({ sink: new DecisionLogStore(dead), queueMax: 1_000, batchMax: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 35; i++) recorder.record(decision());
    await recorder.close();
    expect(recorder.counts.written).toBe(0);
    expect(recorder.counts.droppedStoreFailed).toBe(35);
    expect(recorder.queued).toBe(0);
    await dead.end();
  });

  it('a decision on a day without a partition makes the partition and is written', async () => {
    const later = now + 20 * dayMs;
    const recorder = new DecisionRecorder({ sink: store, queueMax: 10, batchMax: 10, flushIntervalMs: 60_000 });
    recorder.record(decision({ atMs: later }));
    await recorder.flush();
    expect(recorder.counts.written).toBe(1);
    expect(await store.partitions()).toContain(`decision_log_batches_p${utcDay(later).replaceAll('-', '')}`);
  });
});

describe('DecisionLogMaintenance', () => {
  it('makes today and the days ahead, and drops the day partitions past the retention with their rows', async () => {
    const start = Date.parse('2031-03-10T12:00:00Z');
    let clockMs = start;
    const maintenance = new DecisionLogMaintenance({ store, retentionDays: 2, daysAhead: 1, clock: { nowMs: () => clockMs } });
    await maintenance.run();
    expect(await store.partitions()).toEqual(expect.arrayContaining(['decision_log_batches_p20310310', 'decision_log_batches_p20310311']));
    await store.insert([{ ...decision({ atMs: start }), rule: undefined }]);
    await store.insert([{ ...decision({ atMs: start + dayMs }), rule: undefined }]);

    clockMs = start + 2 * dayMs; // 12 March: 10 March is still within two days
    expect((await maintenance.run()).dropped.filter((name) => name.startsWith('decision_log_batches_p2031'))).toEqual([]);

    clockMs = start + 3 * dayMs; // 13 March: 10 March ended more than two days ago
    const { dropped } = await maintenance.run();
    expect(dropped.filter((name) => name.startsWith('decision_log_batches_p2031'))).toEqual(['decision_log_batches_p20310310']);
    const partitions = await store.partitions();
    expect(partitions).not.toContain('decision_log_batches_p20310310');
    expect(partitions).toEqual(expect.arrayContaining(['decision_log_batches_p20310311', 'decision_log_batches_p20310313', 'decision_log_batches_p20310314']));
    // Request ids are stored uncompressed in the partitions Auth makes (compressing random ids costs the database CPU
    // on every insert and saves nothing).
    const { rows: storage } = await schema.pool.query<{ storage: string }>(
      `SELECT DISTINCT a.attstorage AS storage FROM pg_attribute a JOIN pg_inherits i ON i.inhrelid = a.attrelid
       WHERE i.inhparent = 'decision_log_batches'::regclass AND a.attname = 'request_ids'`,
    );
    expect(storage).toEqual([{ storage: 'e' }]);
    const { rows } = await schema.pool.query<{ day: string }>("SELECT to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM decision_log_batches WHERE first_at >= '2031-01-01'");
    expect(rows.map((row) => row.day)).toEqual(['2031-03-11']);
  });
});

describe('DecisionLogStore.list', () => {
  it("filters by subject and time range, pages with a cursor, and never shows another tenant's decisions", async () => {
    const rows: StoredDecision[] = [];
    for (let i = 0; i < 5; i++) rows.push({ ...decision({ atMs: now - i * 1_000, subject: 'user:alice', requestId: `a-${i}` }), rule: undefined });
    for (let i = 0; i < 3; i++) rows.push({ ...decision({ atMs: now - i * 1_000, subject: 'user:bob', allowed: false, reason: 'no_matching_policy' }), rule: undefined });
    rows.push({ ...decision({ tenantId: tenantB, subject: 'user:alice' }), rule: undefined });
    await store.insert(rows);

    const first = await store.list({ tenantId: tenantA, subject: 'user:alice', limit: 2 });
    expect(first.items.map((item) => item.requestId)).toEqual(['a-0', 'a-1']);
    const second = await store.list({ tenantId: tenantA, subject: 'user:alice', limit: 2, after: first.next });
    expect(second.items.map((item) => item.requestId)).toEqual(['a-2', 'a-3']);
    const third = await store.list({ tenantId: tenantA, subject: 'user:alice', limit: 2, after: second.next });
    expect(third.items.map((item) => item.requestId)).toEqual(['a-4']);
    expect(third.next).toBeUndefined();

    const window = await store.list({ tenantId: tenantA, subject: 'user:alice', fromMs: now - 3_000, toMs: now - 500, limit: 10 });
    expect(window.items.map((item) => item.requestId)).toEqual(['a-1', 'a-2', 'a-3']);

    const denied = await store.list({ tenantId: tenantA, allowed: false, limit: 10 });
    expect(denied.items.map((item) => item.subject)).toEqual(['user:bob', 'user:bob', 'user:bob']);

    expect((await store.list({ tenantId: tenantB, limit: 10 })).items).toHaveLength(1);
    expect((await store.list({ tenantId: tenantA, limit: 100 })).items).toHaveLength(8);
  });

  it("keeps each decision's own request id; one that is missing or holds a line break reads back as none", async () => {
    const ids = ['req-a', undefined, 'bad\nid', 'req-d', 'req-e'];
    await store.insert(ids.map((requestId, i) => ({ ...decision({ atMs: now - i, requestId }), rule: undefined })));
    const { rows } = await schema.pool.query<{ request_ids: string }>('SELECT request_ids FROM decision_log_batches WHERE org_id = $1', [tenantA]);
    expect(rows).toEqual([{ request_ids: 'req-a\n\n\nreq-d\nreq-e' }]);
    const { items } = await store.list({ tenantId: tenantA, limit: 10 });
    expect(items.map((item) => item.requestId)).toEqual(['req-a', null, null, 'req-d', 'req-e']);
  });

  it('pages newest first across batches whose times overlap (replicas flushing side by side), each decision once', async () => {
    // Seeded so a failure replays: 40 flushes of 1-12 decisions, times interleaved across flushes.
    let seed = 20_261_202;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const start = Date.parse('2030-02-01T08:00:00Z');
    await store.ensurePartitions('2030-02-01', '2030-02-01');
    let n = 0;
    for (let flush = 0; flush < 40; flush++) {
      const rows: StoredDecision[] = [];
      const size = 1 + Math.floor(random() * 12);
      for (let i = 0; i < size; i++) {
        // Whole seconds: many decisions share a time, so the id decides their order.
        rows.push({ ...decision({ atMs: start + Math.floor(random() * 60) * 1_000, subject: `user:${n % 3}`, allowed: n % 4 !== 0, requestId: `r-${n}` }), rule: undefined });
        n++;
      }
      await store.insert(rows);
    }
    const read = async (query: { subject?: string; allowed?: boolean }) => {
      const seen: { id: string; at: string; requestId: string | null }[] = [];
      let after;
      for (;;) {
        const page = await store.list({ tenantId: tenantA, ...query, fromMs: start, limit: 7, after });
        seen.push(...page.items.map(({ id, at, requestId }) => ({ id, at, requestId })));
        if (!page.next) return seen;
        after = page.next;
      }
    };
    const byIdDescending = (a: { id: string }, b: { id: string }) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1);
    const all = await read({});
    expect(all).toHaveLength(n);
    expect(new Set(all.map((item) => item.requestId)).size).toBe(n);
    expect(all).toEqual([...all].sort((a, b) => (a.at === b.at ? byIdDescending(a, b) : a.at < b.at ? 1 : -1)));
    const ofSubject = await read({ subject: 'user:1' });
    expect(ofSubject.map((item) => item.requestId)).toEqual(all.filter((item) => Number(item.requestId?.slice(2)) % 3 === 1).map((item) => item.requestId));
    const denied = await read({ allowed: false });
    expect(denied.map((item) => item.requestId)).toEqual(all.filter((item) => Number(item.requestId?.slice(2)) % 4 === 0).map((item) => item.requestId));
  });
});

describe('DecisionColumns', () => {
  it('keeps a run of decisions of one fact as one record, each decision only its time and request id', () => {
    const columns = new DecisionColumns(4);
    const first = decision({ requestId: 'a' });
    columns.append(first);
    columns.append(decision({ atMs: now + 1, requestId: 'b' }));
    columns.append(decision({ atMs: now + 2, requestId: 'c', action: 'post' }));
    columns.append(decision({ atMs: now + 3, requestId: 'd' }));
    expect(columns.isClosed).toBe(true);
    expect(columns.facts).toHaveLength(3);
    expect(columns.facts[0]).toBe(first);
    expect([...columns.fact]).toEqual([0, 0, 1, 2]);
    expect([...columns.atMs]).toEqual([now, now + 1, now + 2, now + 3]);
    expect([0, 1, 2, 3].map((i) => columns.requestIds.idOf(i))).toEqual(['a', 'b', 'c', 'd']);
    expect(columns.requestIds.text()).toBe('a\nb\nc\nd');
  });
});

describe('RequestIdBytes', () => {
  it('keeps ids of any length as lines, an id outside printable ASCII as none, and grows past its first size', () => {
    const ids = new RequestIdBytes(7);
    const long = 'x'.repeat(400); // past the 7 × 37 bytes it starts with
    for (const id of ['first', undefined, 'two words', long, 'caf\u00e9', 'new\nline', 'last']) ids.append(id);
    expect(ids.length).toBe(7);
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => ids.idOf(i))).toEqual(['first', undefined, undefined, long, undefined, undefined, 'last']);
    expect(ids.text()).toBe(`first\n\n\n${long}\n\n\nlast`);
    expect(ids.textOf([0, 3, 6])).toBe(`first\n${long}\nlast`);
  });
});

describe('batchDecisions', () => {
  it('makes one batch per tenant and UTC day, keeps each distinct decision once and asks for its rule once', () => {
    const asked: string[] = [];
    const midnight = Date.parse('2030-03-02T00:00:00Z');
    const batches = batchDecisions(
      [
        decision({ atMs: midnight - 1, requestId: 'a' }),
        decision({ atMs: midnight, requestId: 'b' }),
        decision({ atMs: midnight + 5, requestId: 'c' }),
        decision({ atMs: midnight + 9, tenantId: tenantB, requestId: 'd' }),
        decision({ atMs: midnight + 7, requestId: 'e', action: 'post' }),
        decision({ atMs: midnight + 8, requestId: 'f' }),
        decision({ atMs: midnight + 8, requestId: 'g', revision: 8 }),
      ],
      (record) => {
        asked.push(`${record.tenantId === tenantB ? 'B' : 'A'} ${record.action} ${record.revision}`);
        return `rule of ${record.action}`;
      },
    );
    // Once per distinct fact of each batch: the day before midnight and the day after are two batches.
    expect(asked).toEqual(['A get 7', 'A get 7', 'B get 7', 'A post 7', 'A get 8']);
    expect(batches.map((batch) => [batch.tenantId, batch.firstAtMs, batch.lastAtMs, batch.decisions.requestIds])).toEqual([
      [tenantA, midnight - 1, midnight - 1, 'a'],
      [tenantA, midnight, midnight + 8, 'b\nc\ne\nf\ng'],
      [tenantB, midnight + 9, midnight + 9, 'd'],
    ]);
    const [, second] = batches;
    expect(second?.decisions.fact).toEqual([1, 1, 2, 1, 3]);
    expect(second?.decisions.atOffsetMs).toEqual([0, 5, 7, 8, 8]);
    expect(second?.facts.rule).toEqual(['rule of get', 'rule of post', 'rule of get']);
    expect(second?.facts.revision).toEqual([7, 7, 8]);
    expect(second?.subjects).toEqual(['user:alice']);
  });

  it(`starts a new batch after ${maxDecisionsPerBatch} decisions, so a position always fits a decision's id`, () => {
    const records = Array.from({ length: maxDecisionsPerBatch + 3 }, () => decision());
    expect(batchDecisions(records, () => undefined).map((batch) => batch.decisions.fact.length)).toEqual([maxDecisionsPerBatch, 3]);
  });
});
