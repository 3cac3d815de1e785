import { query, type Queryable } from '../postgres-transaction.js';
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

/** The decision_log table: batched inserts, its day partitions, and the tenant-scoped read. */
export class DecisionLogStore {
  constructor(private readonly db: Queryable) {}

  /** Writes the batch as one statement: one array parameter per column, however many rows. */
  async insert(rows: readonly StoredDecision[]): Promise<void> {
    if (rows.length === 0) return;
    const columns: unknown[][] = Array.from({ length: 12 }, () => new Array<unknown>(rows.length));
    rows.forEach((row, i) => {
      const values = [
        new Date(row.atMs).toISOString(),
        row.tenantId,
        row.subject,
        row.resource,
        row.action,
        row.product ?? null,
        row.allowed,
        row.reason,
        row.revision,
        row.rule ?? null,
        row.requestId ?? null,
        row.clientIp ?? null,
      ];
      values.forEach((value, column) => {
        (columns[column] as unknown[])[i] = value;
      });
    });
    await query(
      this.db,
      `INSERT INTO decision_log (at, org_id, subject, resource, action, product, allowed, reason, revision, rule, request_id, client_ip)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[])`,
      columns,
    );
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

  /** The day partitions that exist, oldest first (`decision_log_pYYYYMMDD`). */
  async partitions(): Promise<string[]> {
    const { rows } = await query<{ name: string }>(
      this.db,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'decision_log'::regclass ORDER BY c.relname`,
    );
    return rows.map((row) => row.name);
  }

  /** One page of a tenant's decisions, newest first, and the cursor of the next page when there may be one. */
  async list(filter: DecisionLogQuery): Promise<{ items: DecisionLogEntry[]; next: DecisionLogCursor | undefined }> {
    const values: unknown[] = [filter.tenantId];
    const where = ['org_id = $1'];
    const add = (clause: (param: string) => string, ...params: unknown[]) => {
      const names = params.map((param) => {
        values.push(param);
        return `$${values.length}`;
      });
      where.push(clause(names.join(', ')));
    };
    if (filter.subject !== undefined) add((p) => `subject = ${p}`, filter.subject);
    if (filter.fromMs !== undefined) add((p) => `at >= ${p}::timestamptz`, new Date(filter.fromMs).toISOString());
    if (filter.toMs !== undefined) add((p) => `at < ${p}::timestamptz`, new Date(filter.toMs).toISOString());
    if (filter.allowed !== undefined) add((p) => `allowed = ${p}`, filter.allowed);
    if (filter.after !== undefined) add((p) => `(at, id) < (${p.split(', ').map((name, i) => (i === 0 ? `${name}::timestamptz` : `${name}::bigint`)).join(', ')})`, filter.after.at, filter.after.id);
    values.push(filter.limit);
    const { rows } = await query<EntryRow>(
      this.db,
      `SELECT id::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, subject, resource, action, product,
              allowed, reason, revision::text, rule, request_id, client_ip
       FROM decision_log WHERE ${where.join(' AND ')} ORDER BY at DESC, id DESC LIMIT $${values.length}`,
      values,
    );
    const items = rows.map((row) => ({
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
    return { items, next: items.length === filter.limit && last ? { at: last.at, id: last.id } : undefined };
  }
}
