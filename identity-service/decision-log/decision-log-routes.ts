import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { decisionLogService } from './decision-log-service.js';

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

/** `GET /v1/decision-log`: the caller's organization's decisions (see decisionLogService). */
export function decisionLogRoutes(deps: IdentityDeps): AnyRoute[] {
  const decisionLog = decisionLogService(deps);
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
        return { body: await decisionLog.list(caller.tenantId, query) };
      },
    }),
  ];
}
