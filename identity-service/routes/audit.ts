import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { query as sql } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { listPageSchema } from '../list-query.js';

const auditEvent = z
  .object({
    id: z.string(),
    actor: z.string(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string(),
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    requestId: z.string().nullable(),
    /** Auth's security events (sign-ins, lockouts, logouts, MFA failures) say how they ended and from where. */
    outcome: z.enum(['success', 'failure']).optional(),
    clientIp: z.string().optional(),
    at: z.string(),
  })
  .meta({ id: 'AuditEvent' });

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

const auditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    /** Events older than this id (keyset: newest first). */
    before: z.coerce.number().int().min(1).optional(),
    targetType: z.string().min(1).max(64).optional(),
    targetId: z.string().min(1).max(128).optional(),
    action: z.string().min(1).max(128).optional(),
  })
  .strict();

export function auditRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/audit-events',
      summary: "List the organization's audit events, newest first (who, what, when, before/after without secrets)",
      tags: ['audit'],
      auth: 'token',
      query: auditQuery,
      permission: { resource: 'audit', action: 'get' },
      responses: { 200: { description: 'A page of audit events', schema: listPageSchema(auditEvent) } },
      async handler({ query, caller }) {
        const filters = ['org_id = $1'];
        const values: unknown[] = [caller.tenantId];
        const add = (clause: string, value: unknown) => {
          values.push(value);
          filters.push(clause.replace('?', `$${values.length}`));
        };
        if (query.targetType) add('target_type = ?', query.targetType);
        if (query.targetId) add('target_id = ?', query.targetId);
        if (query.action) add('action = ?', query.action);
        const countValues = [...values];
        const where = filters.join(' AND ');
        if (query.before) add('id < ?', query.before);
        values.push(query.limit);
        const limitParam = `$${values.length}`;
        const offset = query.before ? 0 : (query.page - 1) * query.limit;
        values.push(offset);
        const [page, count] = await Promise.all([
          sql<AuditRow>(deps.pool, `SELECT id::text, actor, action, target_type, target_id, before, after, request_id, outcome, client_ip, at FROM audit_events WHERE ${filters.join(' AND ')} ORDER BY id DESC LIMIT ${limitParam} OFFSET $${values.length}`, values),
          sql<{ total: string }>(deps.pool, `SELECT count(*)::text AS total FROM audit_events WHERE ${where}`, countValues),
        ]);
        const items = page.rows.map((row) => ({
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
        const last = items[items.length - 1];
        return {
          body: {
            items,
            page: query.page,
            limit: query.limit,
            total: Number(count.rows[0]?.total ?? 0),
            ...(items.length === query.limit && last ? { nextCursor: last.id } : {}),
          },
        };
      },
    }),
  ];
}
