import { query, type Queryable } from '../postgres-transaction.js';
import { booleanArrayLiteral, numberArrayLiteral, textArrayLiteral } from './array-literal.js';
import { batchDecisions, type DecisionBatch } from './decision-batch.js';
import type { DecisionLogReason, StoredDecision } from './decision-record.js';

/** PostgreSQL's "no partition of relation found for row": a day nobody created a partition for yet. */
const noPartitionForRow = '23514';

export function isMissingPartition(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === noPartitionForRow;
}

/** The UTC day of an instant, as PostgreSQL's `date` text. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface DecisionLogQuery {
  readonly tenantId: string;
  readonly subject?: string | undefined;
  /** Inclusive lower bound. */
  readonly fromMs?: number | undefined;
  /** Exclusive upper bound. */
  readonly toMs?: number | undefined;
  readonly allowed?: boolean | undefined;
  /** Continue after this entry (newest first). */
  readonly after?: DecisionLogCursor | undefined;
  readonly limit: number;
}

/** Where a page ended: the last entry's time (microseconds, as PostgreSQL keeps it) and id. */
export interface DecisionLogCursor {
  readonly at: string;
  readonly id: string;
}

export interface DecisionLogEntry {
  readonly id: string;
  readonly at: string;
  readonly subject: string;
  readonly resource: string;
  readonly action: string;
  readonly product: string | null;
  readonly allowed: boolean;
  readonly reason: DecisionLogReason;
  readonly revision: number;
  readonly rule: string | null;
  readonly requestId: string | null;
  readonly clientIp: string | null;
}

interface EntryRow {
  readonly id: string;
  readonly at: string;
  readonly subject: string;
  readonly resource: string;
  readonly action: string;
  readonly product: string | null;
  readonly allowed: boolean;
  readonly reason: DecisionLogReason;
  readonly revision: string;
  readonly rule: string | null;
  readonly request_id: string | null;
  readonly client_ip: string | null;
}

/** A batch row's place in the newest-first order: its last decision's time (microseconds text) and its id. */
interface BatchKey {
  readonly last_at: string;
  readonly id: string;
}

const columns = 18;
/** Batch rows per INSERT statement (PostgreSQL takes at most 65,535 parameters). */
const rowsPerStatement = 1_000;
/** Batch rows read by the first step of a page; each further step reads four times as many. */
const firstScan = 4;
const maxScan = 256;
const microsecondsText = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** Orders ids held as decimal text (they may pass 2^53). */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Newest first: a later time, then a larger id. */
function newestFirst(a: { at: string; id: string }, b: { at: string; id: string }): number {
  return a.at < b.at ? 1 : a.at > b.at ? -1 : -compareIds(a.id, b.id);
}

/**
 * The conditions of a page's statements with their parameters: on batch rows (which rows may hold a match, and
 * only those not read yet) and on the decisions unnested from them.
 */
function statementOf(filter: DecisionLogQuery, scanned: BatchKey | undefined, decisions: boolean) {
  const values: unknown[] = [filter.tenantId];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const batchWhere = ['org_id = $1'];
  const entryWhere: string[] = [];
  // A parameter no condition uses has no type PostgreSQL can infer: the decisions' conditions only when they are read.
  const onDecisions = (condition: () => string) => {
    if (decisions) entryWhere.push(condition());
  };
  if (filter.subject !== undefined) {
    batchWhere.push(`subjects @> ARRAY[${param(filter.subject)}::text]`);
    onDecisions(() => `subject = ${param(filter.subject)}::text`);
  }
  if (filter.fromMs !== undefined) {
    const from = new Date(filter.fromMs).toISOString();
    // A row lies within one UTC day, so rows of days before `from`'s are never read (nor their partitions).
    batchWhere.push(`last_at >= ${param(from)}::timestamptz`, `first_at >= date_trunc('day', ${param(from)}::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
    onDecisions(() => `at >= ${param(from)}::timestamptz`);
  }
  if (filter.toMs !== undefined) {
    const to = new Date(filter.toMs).toISOString();
    batchWhere.push(`first_at < ${param(to)}::timestamptz`);
    onDecisions(() => `at < ${param(to)}::timestamptz`);
  }
  if (filter.allowed !== undefined) {
    batchWhere.push(filter.allowed ? 'allowed_count > 0' : 'denied_count > 0');
    onDecisions(() => (filter.allowed ? 'allowed' : 'NOT allowed'));
  }
  const after = filter.after;
  if (after !== undefined) {
    batchWhere.push(`first_at <= ${param(after.at)}::timestamptz`);
    onDecisions(() => `(at, id) < (${param(after.at)}::timestamptz, ${param(after.id)}::bigint)`);
  }
  if (scanned !== undefined) batchWhere.push(`(last_at, id) < (${param(scanned.last_at)}::timestamptz, ${param(scanned.id)}::bigint)`);
  return { values, param, batchWhere, entryWhere };
}

/**
 * The decision_log_batches table: a flush's decisions as one row per tenant and day (see `DecisionBatch`), its
 * day partitions, and the tenant-scoped read that answers decision by decision.
 */
export class DecisionLogStore {
  constructor(private readonly db: Queryable) {}

  /** Writes decisions that carry their rule (grouped into batches as a flush groups them). */
  async insert(rows: readonly StoredDecision[]): Promise<void> {
    await this.write(batchDecisions(rows, (row) => row.rule));
  }

  /** Writes the batches, one row each, in as few statements as the parameter limit allows. */
  async write(batches: readonly DecisionBatch[]): Promise<void> {
    for (let start = 0; start < batches.length; start += rowsPerStatement) {
      const chunk = batches.slice(start, start + rowsPerStatement);
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (const batch of chunk) {
        const n = values.length;
        tuples.push(
          `($${n + 1}, $${n + 2}::timestamptz, $${n + 3}::timestamptz, $${n + 4}::integer, $${n + 5}::integer, $${n + 6}::text[], $${n + 7}::integer[], ` +
            `$${n + 8}::text[], $${n + 9}::text[], $${n + 10}::text[], $${n + 11}::boolean[], $${n + 12}::text[], $${n + 13}::bigint[], $${n + 14}::text[], ` +
            `$${n + 15}::text[], $${n + 16}::integer[], $${n + 17}::integer[], $${n + 18}::text)`,
        );
        const { facts, decisions } = batch;
        values.push(
          batch.tenantId,
          new Date(batch.firstAtMs).toISOString(),
          new Date(batch.lastAtMs).toISOString(),
          batch.allowedCount,
          batch.deniedCount,
          textArrayLiteral(batch.subjects),
          numberArrayLiteral(facts.subject),
          textArrayLiteral(facts.resource),
          textArrayLiteral(facts.action),
          textArrayLiteral(facts.product),
          booleanArrayLiteral(facts.allowed),
          textArrayLiteral(facts.reason),
          numberArrayLiteral(facts.revision),
          textArrayLiteral(facts.rule),
          textArrayLiteral(facts.clientIp),
          numberArrayLiteral(decisions.atOffsetMs),
          numberArrayLiteral(decisions.fact),
          decisions.requestIds,
        );
      }
      if (values.length !== chunk.length * columns) throw new Error('decision log: a batch row has the wrong number of columns');
      await query(
        this.db,
        `INSERT INTO decision_log_batches (org_id, first_at, last_at, allowed_count, denied_count, subjects, fact_subject, fact_resource,
           fact_action, fact_product, fact_allowed, fact_reason, fact_revision, fact_rule, fact_client_ip, at_offset_ms, fact, request_ids)
         VALUES ${tuples.join(', ')}`,
        values,
      );
    }
  }

  /** Creates the missing day partitions from `firstDay` to `lastDay` (UTC, inclusive); returns how many it made. */
  async ensurePartitions(firstDay: string, lastDay: string): Promise<number> {
    const { rows } = await query<{ made: number }>(this.db, 'SELECT decision_log_ensure_partitions($1::date, $2::date) AS made', [firstDay, lastDay]);
    return rows[0]?.made ?? 0;
  }

  /** Drops every day partition before `firstKeptDay`; returns their names. */
  async dropPartitionsBefore(firstKeptDay: string): Promise<string[]> {
    const { rows } = await query<{ name: string }>(this.db, 'SELECT decision_log_drop_partitions_before($1::date) AS name', [firstKeptDay]);
    return rows.map((row) => row.name);
  }

  /** The day partitions that exist, oldest first (`decision_log_batches_pYYYYMMDD`). */
  async partitions(): Promise<string[]> {
    const { rows } = await query<{ name: string }>(
      this.db,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'decision_log_batches'::regclass ORDER BY c.relname`,
    );
    return rows.map((row) => row.name);
  }

  /**
   * One page of a tenant's decisions, newest first, and the cursor of the next page when there may be one.
   * Batch rows are read newest first (by their last decision) a few at a time; the page is complete once its
   * last decision is newer than anything the next unread row can hold (that row's last time, and a smaller id).
   */
  async list(filter: DecisionLogQuery): Promise<{ items: DecisionLogEntry[]; next: DecisionLogCursor | undefined }> {
    const limit = filter.limit;
    let found: EntryRow[] = [];
    let scanned: BatchKey | undefined;
    for (let scan = firstScan; ; scan = Math.min(scan * 4, maxScan)) {
      const keys = statementOf(filter, scanned, false);
      const { rows: heads } = await query<BatchKey>(
        this.db,
        `SELECT to_char(last_at AT TIME ZONE 'UTC', ${microsecondsText}) AS last_at, id::text FROM decision_log_batches
         WHERE ${keys.batchWhere.join(' AND ')} ORDER BY last_at DESC, id DESC LIMIT ${keys.param(scan + 1)}`,
        keys.values,
      );
      const upTo = heads[Math.min(scan, heads.length) - 1];
      if (upTo === undefined) break;
      const next = heads[scan];
      const read = statementOf(filter, scanned, true);
      read.batchWhere.push(`(last_at, id) >= (${read.param(upTo.last_at)}::timestamptz, ${read.param(upTo.id)}::bigint)`);
      // `request_ids` holds a row's request ids one line each (RequestIdBytes); split back, an empty line is NULL.
      const { rows } = await query<EntryRow>(
        this.db,
        `SELECT id::text, to_char(at AT TIME ZONE 'UTC', ${microsecondsText}) AS at, subject, resource, action, product, allowed, reason,
                revision::text, rule, request_id, client_ip
         FROM (
           SELECT b.id * 10000 + e.n - 1 AS id, b.first_at + e.offset_ms * interval '1 millisecond' AS at,
                  b.subjects[b.fact_subject[e.f]] AS subject, b.fact_resource[e.f] AS resource, b.fact_action[e.f] AS action,
                  b.fact_product[e.f] AS product, b.fact_allowed[e.f] AS allowed, b.fact_reason[e.f] AS reason,
                  b.fact_revision[e.f] AS revision, b.fact_rule[e.f] AS rule, e.request_id, b.fact_client_ip[e.f] AS client_ip
           FROM (SELECT * FROM decision_log_batches WHERE ${read.batchWhere.join(' AND ')}) b
           CROSS JOIN LATERAL unnest(b.at_offset_ms, b.fact, string_to_array(b.request_ids, E'\\n', '')) WITH ORDINALITY AS e(offset_ms, f, request_id, n)
         ) d
         ${read.entryWhere.length > 0 ? `WHERE ${read.entryWhere.join(' AND ')}` : ''}
         ORDER BY d.at DESC, d.id DESC LIMIT ${read.param(limit)}`,
        read.values,
      );
      found = [...found, ...rows].sort(newestFirst).slice(0, limit);
      if (next === undefined) break;
      const last = found[found.length - 1];
      // Everything not read yet is at or before (next.last_at, next.id × 10,000 + 9,999).
      if (found.length === limit && last && newestFirst(last, { at: next.last_at, id: `${BigInt(next.id) * 10_000n + 9_999n}` }) < 0) break;
      scanned = upTo;
    }
    const items = found.map((row) => ({
      id: row.id,
      at: row.at,
      subject: row.subject,
      resource: row.resource,
      action: row.action,
      product: row.product,
      allowed: row.allowed,
      reason: row.reason,
      revision: Number(row.revision),
      rule: row.rule,
      requestId: row.request_id,
      clientIp: row.client_ip,
    }));
    const last = items[items.length - 1];
    return { items, next: items.length === limit && last ? { at: last.at, id: last.id } : undefined };
  }
}
