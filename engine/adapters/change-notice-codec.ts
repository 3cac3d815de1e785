import { z } from 'zod';
import type { PolicyChangeNotice } from '../ports.js';

/** Longest tenant id a notice may carry. */
export const maxNoticeTenantIdLength = 256;

// Bodies beyond this are refused before JSON.parse runs on them.
const maxPayloadLength = 1_024;

// Unknown keys are dropped rather than refused: during a rolling upgrade a newer replica may add a field,
// and older replicas must still act on the tenant and revision.
const noticeBody = z.object({
  t: z.string().min(1).max(maxNoticeTenantIdLength),
  r: z.number().int().nonnegative(),
  // Optional, so notices from replicas that predate it still parse.
  a: z.number().int().nonnegative().optional(),
});

/** The wire body of a revision announcement: `{"t": tenantId, "r": revision}`. Throws on an invalid notice. */
export function encodeChangeNotice(notice: PolicyChangeNotice): string {
  const body = notice.announcedAtMs === undefined ? { t: notice.tenantId, r: notice.revision } : { t: notice.tenantId, r: notice.revision, a: notice.announcedAtMs };
  if (!noticeBody.safeParse(body).success) {
    throw new RangeError(`invalid policy change notice for tenant ${JSON.stringify(notice.tenantId)}`);
  }
  return JSON.stringify(body);
}

/** The notice in a wire body, or `undefined` for anything malformed (never throws: the body is untrusted). */
export function parseChangeNotice(payload: string | undefined): PolicyChangeNotice | undefined {
  if (payload === undefined || payload.length > maxPayloadLength) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = noticeBody.safeParse(value);
  if (!parsed.success) return undefined;
  const { t: tenantId, r: revision, a: announcedAtMs } = parsed.data;
  return announcedAtMs === undefined ? { tenantId, revision } : { tenantId, revision, announcedAtMs };
}
