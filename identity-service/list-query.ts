import { z } from 'zod';
import { ServiceError } from '../platform/http/service-error.js';

/** The contract's list parameters: `?page` (default 1) and `?limit` (default 10, at most 100), plus an opaque `cursor` for deep pages. */
export const listQuery = z
  .object({
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    limit: z.coerce.number().int().min(1).max(100).default(10),
    cursor: z.string().max(512).optional(),
  })
  .strict();

export interface ListPage<T> {
  readonly items: readonly T[];
  readonly page: number;
  readonly limit: number;
  readonly total: number;
  /** Pass as `?cursor=` for the next page: keyset pagination stays fast however deep the page. */
  readonly nextCursor?: string;
}

export function listPageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    page: z.number().int(),
    limit: z.number().int(),
    total: z.number().int(),
    nextCursor: z.string().optional(),
  });
}

/** A keyset position: the sort value and id of the last row of a page. */
export function encodeCursor(sortValue: string, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { sortValue: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { sortValue: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the validation error
  }
  throw new ServiceError('VALIDATION_FAILED', { message: 'query.cursor: not a cursor from this API', field: 'query.cursor' });
}
