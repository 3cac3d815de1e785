import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { listPageSchema } from '../list-query.js';
import { listAuditEvents } from './audit-store.js';

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
        const { items, total } = await listAuditEvents(deps.pool, caller.tenantId, query, query);
        const last = items[items.length - 1];
        return {
          body: {
            items,
            page: query.page,
            limit: query.limit,
            total,
            ...(items.length === query.limit && last ? { nextCursor: last.id } : {}),
          },
        };
      },
    }),
  ];
}
