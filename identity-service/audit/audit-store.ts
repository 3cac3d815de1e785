import { query, type Queryable } from '../../platform/postgres-transaction.js';

/** One entry of the audit trail: who did what to which record, before and after (secrets never among them). */
export interface AuditEntry {
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  /** State before and after, secrets already removed by the caller. */
  readonly before?: unknown;
  readonly after?: unknown;
}

/** An event as the trail lists it; Auth's security events also say how they ended and from where. */
export interface AuditEvent {
  readonly id: string;
  readonly actor: string;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly requestId: string | null;
  readonly outcome?: 'success' | 'failure';
  readonly clientIp?: string;
  readonly at: string;
}

export interface AuditFilter {
  readonly targetType?: string | undefined;
  readonly targetId?: string | undefined;
  readonly action?: string | undefined;
}

interface AuditRow {
  readonly id: string;
  readonly actor: string;
  readonly action: string;
  readonly target_type: string;
  readonly target_id: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly request_id: string | null;
  readonly outcome: 'success' | 'failure' | null;
  readonly client_ip: string | null;
  readonly at: Date;
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Writes one event in the caller's transaction: it commits or rolls back with the change it records. */
export async function insertAuditEvent(db: Queryable, tenantId: string, actor: string, requestId: string, entry: AuditEntry): Promise<void> {
  await query(
    db,
    `INSERT INTO audit_events (org_id, actor, action, target_type, target_id, before, after, request_id)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)`,
    [tenantId, actor, entry.action, entry.targetType, entry.targetId, json(entry.before), json(entry.after), requestId],
  );
}

/**
 * A page of the tenant's events, newest first, filtered by target and action: numbered pages, or (keyset) the
 * events older than `before`. Also the number of events matching the filter.
 */
export async function listAuditEvents(
  db: Queryable,
  tenantId: string,
  filter: AuditFilter,
  page: { readonly limit: number; readonly page: number; readonly before?: number | undefined },
): Promise<{ items: AuditEvent[]; total: number }> {
  const filters = ['org_id = $1'];
  const values: unknown[] = [tenantId];
  const add = (clause: string, value: unknown) => {
    values.push(value);
    filters.push(clause.replace('?', `$${values.length}`));
  };
  if (filter.targetType) add('target_type = ?', filter.targetType);
  if (filter.targetId) add('target_id = ?', filter.targetId);
  if (filter.action) add('action = ?', filter.action);
  const countValues = [...values];
  const where = filters.join(' AND ');
  if (page.before) add('id < ?', page.before);
  values.push(page.limit);
  const limitParam = `$${values.length}`;
  const offset = page.before ? 0 : (page.page - 1) * page.limit;
  values.push(offset);
  const [rows, count] = await Promise.all([
    query<AuditRow>(
      db,
      `SELECT id::text, actor, action, target_type, target_id, before, after, request_id, outcome, client_ip, at FROM audit_events WHERE ${filters.join(' AND ')} ORDER BY id DESC LIMIT ${limitParam} OFFSET $${values.length}`,
      values,
    ),
    query<{ total: string }>(db, `SELECT count(*)::text AS total FROM audit_events WHERE ${where}`, countValues),
  ]);
  const items = rows.rows.map((row) => ({
    id: row.id,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ...(row.before === null ? {} : { before: row.before }),
    ...(row.after === null ? {} : { after: row.after }),
    requestId: row.request_id,
    ...(row.outcome === null ? {} : { outcome: row.outcome }),
    ...(row.client_ip === null ? {} : { clientIp: row.client_ip }),
    at: row.at.toISOString(),
  }));
  return { items, total: Number(count.rows[0]?.total ?? 0) };
}
