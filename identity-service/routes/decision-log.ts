import { z } from 'zod';
import { DecisionLogStore } from '../../platform/decision-log/index.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { decodeCursor, encodeCursor } from '../list-query.js';

export const decisionLogPermission = { resource: 'decision-log', action: 'get' } as const;

const decisionLogEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    subject: z.string(),
    resource: z.string(),
    action: z.string(),
    product: z.string().nullable(),
    allowed: z.boolean(),
    reason: z.enum(['allowed_by_policy', 'denied_by_policy', 'no_matching_policy', 'subject_suspended', 'subject_unknown']),
    revision: z.number().int(),
    rule: z.string().nullable(),
    requestId: z.string().nullable(),
    clientIp: z.string().nullable(),
  })
  .meta({ id: 'DecisionLogEntry' });

const decisionLogPage = z
  .object({ items: z.array(decisionLogEntry), limit: z.number().int(), nextCursor: z.string().optional() })
  .meta({ id: 'DecisionLogPage' });

const decisionLogQuery = z
  .object({
    /** The subject as the policy names it: `user:<id>`, `app:<id>`. */
    subject: z.string().min(1).max(320).optional(),
    /** From this instant (inclusive). */
    from: z.iso.datetime({ offset: true }).optional(),
    /** Up to this instant (exclusive). */
    to: z.iso.datetime({ offset: true }).optional(),
    decision: z.enum(['allow', 'deny']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

const cursorTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function cursorOf(text: string): { at: string; id: string } {
  const { sortValue, id } = decodeCursor(text);
  if (!cursorTime.test(sortValue) || !/^\d{1,19}$/.test(id)) throw new ServiceError('VALIDATION_FAILED', { message: 'query.cursor: not a cursor from this API', field: 'query.cursor' });
  return { at: sortValue, id };
}

export function decisionLogRoutes(deps: IdentityDeps): AnyRoute[] {
  const store = new DecisionLogStore(deps.pool);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/decision-log',
      summary: "List the organization's authorize decisions, newest first, by subject, time range and decision",
      tags: ['decision-log'],
      auth: 'token',
      query: decisionLogQuery,
      permission: decisionLogPermission,
      responses: { 200: { description: 'A page of decisions; nextCursor continues it', schema: decisionLogPage } },
      async handler({ query, caller }) {
        const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
        const toMs = query.to === undefined ? undefined : Date.parse(query.to);
        if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
          throw new ServiceError('VALIDATION_FAILED', { message: 'query.from must be before query.to', field: 'query.from' });
        }
        const page = await store.list({
          tenantId: caller.tenantId,
          subject: query.subject,
          fromMs,
          toMs,
          allowed: query.decision === undefined ? undefined : query.decision === 'allow',
          after: query.cursor === undefined ? undefined : cursorOf(query.cursor),
          limit: query.limit,
        });
        return {
          body: {
            items: page.items,
            limit: query.limit,
            ...(page.next ? { nextCursor: encodeCursor(page.next.at, page.next.id) } : {}),
          },
        };
      },
    }),
  ];
}
