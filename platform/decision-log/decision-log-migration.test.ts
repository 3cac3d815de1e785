// The move from one row per decision to one row per tenant, day and flush keeps every decision already logged.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { migrationsDir, runMigrations } from '../migrations.js';
import { DecisionLogStore } from './decision-log-store.js';

const tenantA = '6f1c2a9e-0000-4000-8000-00000000001a';
const tenantB = '6f1c2a9e-0000-4000-8000-00000000001b';

let schema: TestSchema;
/** 0019 and the migrations of the batch table after it: downs back to the per-decision table, ups forward again. */
const batchMigrations = ['0019_decision_log_batches.sql', '0020_decision_log_request_ids_uncompressed.sql', '0021_decision_log_request_ids_joined.sql'];
let ups: string[];
let downs: string[];

beforeAll(async () => {
  schema = await createTestSchema('decision_log_migration');
  await runMigrations({ databaseUrl: schema.url });
  const parts = await Promise.all(batchMigrations.map(async (name) => (await readFile(join(migrationsDir, name), 'utf8')).split('-- Down Migration')));
  ups = parts.map(([upPart]) => upPart ?? '');
  downs = parts.map(([, downPart]) => downPart ?? '').reverse();
});

afterAll(async () => {
  await schema.drop();
});

describe('migrations 0019 to 0021 (decision log batches, request ids as one text)', () => {
  it('moves the per-decision rows into batches: same decisions, same fields, newest first, subject and time filters', async () => {
    for (const down of downs) await schema.pool.query(down);
    await schema.pool.query("SELECT decision_log_ensure_partitions('2030-01-01', '2030-01-02')");
    // 1,203 decisions of tenant A over two days (three batches on the first day), two of tenant B.
    await schema.pool.query(
      `INSERT INTO decision_log (at, org_id, subject, resource, action, product, allowed, reason, revision, rule, request_id, client_ip)
       SELECT timestamptz '2030-01-01T00:00:00Z' + i * interval '1 second', $1, 'user:' || (i % 7), 'ledgers', 'get',
              CASE WHEN i % 2 = 0 THEN 'midaz' END, i % 5 <> 0, CASE WHEN i % 5 <> 0 THEN 'allowed_by_policy' ELSE 'no_matching_policy' END,
              i, CASE WHEN i % 5 <> 0 THEN 'p, role:r, t, ledgers, get, allow' END, 'req-' || i, CASE WHEN i % 3 = 0 THEN '10.0.0.' || i % 200 END
       FROM generate_series(0, 1200) AS i`,
      [tenantA],
    );
    await schema.pool.query(
      `INSERT INTO decision_log (at, org_id, subject, resource, action, product, allowed, reason, revision, rule, request_id, client_ip)
       VALUES ('2030-01-02T10:00:00.123Z', $1, 'user:b', 'accounts', 'post', NULL, false, 'denied_by_policy', 2, 'p, role:x, t, accounts, post, deny', NULL, NULL),
              ('2030-01-02T10:00:00.124Z', $2, 'user:0', 'ledgers', 'get', NULL, true, 'allowed_by_policy', 1, NULL, 'req-a', '10.9.9.9')`,
      [tenantB, tenantA],
    );
    const before = (
      await schema.pool.query<Record<string, unknown>>(
        `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, org_id, subject, resource, action, product, allowed, reason,
                revision::text, rule, request_id, client_ip FROM decision_log ORDER BY at DESC, id DESC`,
      )
    ).rows;

    for (const up of ups) await schema.pool.query(up);

    const store = new DecisionLogStore(schema.pool);
    const listed = async (tenantId: string) => {
      const all: Record<string, unknown>[] = [];
      let after;
      for (;;) {
        const page = await store.list({ tenantId, limit: 200, after });
        all.push(...page.items.map(({ id: _id, requestId, clientIp, revision, ...rest }) => ({ ...rest, org_id: tenantId, request_id: requestId, client_ip: clientIp, revision: String(revision) })));
        if (!page.next) return all;
        after = page.next;
      }
    };
    const expected = (tenantId: string) => before.filter((row) => row.org_id === tenantId);
    expect(await listed(tenantA)).toEqual(expected(tenantA));
    expect(await listed(tenantB)).toEqual(expected(tenantB));
    expect(expected(tenantA)).toHaveLength(1_202);

    const bySubject = await store.list({ tenantId: tenantA, subject: 'user:3', fromMs: Date.parse('2030-01-01T00:00:10Z'), toMs: Date.parse('2030-01-01T00:01:00Z'), limit: 50 });
    expect(bySubject.items.map((item) => item.requestId)).toEqual(['req-59', 'req-52', 'req-45', 'req-38', 'req-31', 'req-24', 'req-17', 'req-10']);
    expect(await store.partitions()).toEqual(['decision_log_batches_p20300101', 'decision_log_batches_p20300102']);
  });
});
