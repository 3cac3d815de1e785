import { z } from 'zod';
import type { PageStart } from '../directory/page-start.js';
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
  throw notACursor();
}

function notACursor(): ServiceError {
  return new ServiceError('VALIDATION_FAILED', { message: 'query.cursor: not a cursor from this API', field: 'query.cursor' });
}


const recordIdShape = z.uuid();

/** Where the page a list query asks for starts: `?cursor` (keyset, from the previous page's `nextCursor`) or `?page`. */
export function pageStartOf(query: Pick<z.infer<typeof listQuery>, 'page' | 'limit' | 'cursor'>): PageStart {
  if (query.cursor === undefined) return { limit: query.limit, offset: (query.page - 1) * query.limit };
  const after = decodeCursor(query.cursor);
  // The id goes to SQL as a uuid: anything else is not one of our cursors (and not a 500).
  if (!recordIdShape.safeParse(after.id).success) throw notACursor();
  return { limit: query.limit, offset: 0, after };
}

/** The cursor of the page after `rows`, when the page is full (there may be more). */
export function nextCursorOf<R extends { id: string }>(rows: readonly R[], limit: number, sortValue: (row: R) => string): { nextCursor?: string } {
  const last = rows.at(-1);
  return rows.length === limit && last ? { nextCursor: encodeCursor(sortValue(last), last.id) } : {};
}
