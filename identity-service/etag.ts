import type { Request } from 'express';
import { ServiceError } from '../platform/http/service-error.js';

/** The entity tag of a record version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * The version an update expects from `If-Match` (undefined when absent or `*`). An update whose expected
 * version is no longer current must answer 412: it would overwrite a change its author never saw.
 */
export function expectedVersion(req: Request): number | undefined {
  const header = req.header('if-match');
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^(?:W\/)?"(\d{1,9})"$/.exec(header.trim());
  if (!match) throw new ServiceError('PRECONDITION_FAILED', { message: 'If-Match must be an ETag from this API' });
  return Number(match[1]);
}
