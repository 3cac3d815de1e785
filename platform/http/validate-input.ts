import type { z } from 'zod';
import { nulFieldOf } from './nul-free.js';
import { ServiceError } from './service-error.js';

/**
 * Parses one part of a request; the first problem becomes a 400 naming the field (`body.username`). A NUL
 * anywhere in the part is refused before the schema sees it (see nulFieldOf).
 */
export function validateInput<T>(schema: z.ZodType<T>, value: unknown, part: 'params' | 'query' | 'body'): T {
  const nulField = nulFieldOf(value, part);
  if (nulField !== undefined) {
    const message = `${nulField}: text may not contain a NUL character (U+0000)`;
    throw new ServiceError('VALIDATION_FAILED', { message, field: nulField, detail: message });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [part, ...(issue?.path ?? []).map(String)].join('.');
  const message = issue ? `${path}: ${issue.message}` : `${part} is invalid`;
  throw new ServiceError('VALIDATION_FAILED', { message, field: path, detail: message });
}
