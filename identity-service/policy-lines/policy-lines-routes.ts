import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { revisionHeaders } from '../write-transaction.js';
import { policyLinesService } from './policy-lines-service.js';

export const maxLinesPerWrite = 100;
const ptypeText = z.string().regex(/^[pg][0-9]{0,2}$/, 'a line type of the model: p, p2, g, g2, ...');
const value = z.string().min(1).max(256);
const line = z.object({ ptype: ptypeText, values: z.array(value).min(1).max(16) }).strict().meta({ id: 'PolicyLineInput' });
const listQuery = z
  .object({
    ptype: ptypeText,
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
const removeQuery = z
  .object({
    ptype: ptypeText,
    // Stored values never hold a comma (the adapter rebuilds lines as CSV), so a comma separates them here.
    values: z.string().min(1).max(16 * 257),
  })
  .strict();
const lineAnswer = z.object({ ptype: z.string(), values: z.array(z.string()) }).meta({ id: 'PolicyLineOutput' });
const page = z.object({ items: z.array(lineAnswer), total: z.number().int(), revision: z.number().int() }).meta({ id: 'PolicyLinePage' });

/** `/v1/policy-lines`: a custom model's lines that roles and groups do not write (see policyLinesService). */
export function policyLinesRoutes(deps: IdentityDeps): AnyRoute[] {
  const policyLines = policyLinesService(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/policy-lines',
      summary: "The caller's organization's lines of one type of the model (g2, p2, ...)",
      tags: ['roles'],
      auth: 'token',
      query: listQuery,
      permission: { resource: 'roles', action: 'get' },
      responses: { 200: { description: 'The lines, in a stable order', schema: page } },
      async handler({ query, caller }) {
        return { body: await policyLines.list(caller.tenantId, query), headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/policy-lines',
      summary: `Adds up to ${maxLinesPerWrite} lines of the model's author-managed types in one revision`,
      tags: ['roles'],
      auth: 'token',
      body: z.object({ lines: z.array(line).min(1).max(maxLinesPerWrite) }).strict(),
      permission: { resource: 'roles', action: 'post' },
      responses: { 201: { description: 'Written; X-Policy-Revision names the revision', schema: z.object({ lines: z.array(lineAnswer), revision: z.number().int() }) } },
      async handler({ body, caller, requestId }) {
        const added = await policyLines.add({ caller, requestId }, body.lines, 'body.lines');
        return { status: 201, body: added, headers: revisionHeaders(added.revision) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/policy-lines',
      summary: 'Removes one line (values comma-separated, in the model\'s order)',
      tags: ['roles'],
      auth: 'token',
      query: removeQuery,
      permission: { resource: 'roles', action: 'delete' },
      responses: { 204: { description: 'Removed (or already absent); X-Policy-Revision names the revision' } },
      async handler({ query, caller, requestId }) {
        const { revision } = await policyLines.remove({ caller, requestId }, { ptype: query.ptype, values: query.values.split(',') }, 'query');
        return { status: 204, headers: revisionHeaders(revision) };
      },
    }),
  ];
}
