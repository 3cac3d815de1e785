import type { z } from 'zod';
import { decodeCursor, encodeCursor, type listQuery } from '../list-query.js';

// Providers and links are paged by name: unique per tenant (and per application), so the name alone is an exact
// keyset position.

export function pageOf(query: z.infer<typeof listQuery>): { limit: number; offset: number; afterName: string | undefined } {
  return { limit: query.limit, offset: (query.page - 1) * query.limit, afterName: query.cursor === undefined ? undefined : decodeCursor(query.cursor).sortValue };
}

export function nextCursor<T>(rows: readonly T[], limit: number, key: (row: T) => [string, string]): { nextCursor?: string } {
  const last = rows[rows.length - 1];
  return rows.length === limit && last !== undefined ? { nextCursor: encodeCursor(...key(last)) } : {};
}
