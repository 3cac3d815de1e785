import { DecisionLogStore, type DecisionLogEntry } from '../../platform/decision-log/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { decodeCursor, encodeCursor } from '../list-query.js';

/** What a reader of the decision log asks for: the tenant comes from the caller, never from here. */
export interface DecisionLogRequest {
  /** The subject as the policy names it: `user:<id>`, `app:<id>`. */
  readonly subject?: string | undefined;
  /** From this instant (inclusive), ISO 8601. */
  readonly from?: string | undefined;
  /** Up to this instant (exclusive), ISO 8601. */
  readonly to?: string | undefined;
  readonly decision?: 'allow' | 'deny' | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

const cursorTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function cursorOf(text: string): { at: string; id: string } {
  const { sortValue, id } = decodeCursor(text);
  if (!cursorTime.test(sortValue) || !/^\d{1,19}$/.test(id)) throw new ServiceError('VALIDATION_FAILED', { message: 'query.cursor: not a cursor from this API', field: 'query.cursor' });
  return { at: sortValue, id };
}

/** The organization's authorize decisions as recorded, newest first, a page at a time. */
export function decisionLogService(deps: IdentityDeps) {
  const store = new DecisionLogStore(deps.pool);
  return {
    async list(tenantId: string, query: DecisionLogRequest): Promise<{ items: DecisionLogEntry[]; limit: number; nextCursor?: string }> {
      const fromMs = query.from === undefined ? undefined : Date.parse(query.from);
      const toMs = query.to === undefined ? undefined : Date.parse(query.to);
      if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
        throw new ServiceError('VALIDATION_FAILED', { message: 'query.from must be before query.to', field: 'query.from' });
      }
      const page = await store.list({
        tenantId,
        subject: query.subject,
        fromMs,
        toMs,
        allowed: query.decision === undefined ? undefined : query.decision === 'allow',
        after: query.cursor === undefined ? undefined : cursorOf(query.cursor),
        limit: query.limit,
      });
      return { items: page.items, limit: query.limit, ...(page.next ? { nextCursor: encodeCursor(page.next.at, page.next.id) } : {}) };
    },
  };
}

export type DecisionLogService = ReturnType<typeof decisionLogService>;
