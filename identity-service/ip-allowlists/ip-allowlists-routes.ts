import { z } from 'zod';
import type { Request } from 'express';
import { parseCidr, type Cidr } from '../../platform/cidr.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { ipAllowlistSurfaces } from '../../platform/ip-allowlists.js';
import type { IdentityDeps } from '../deps.js';
import { identityNetworkOf, mayReachIdentity } from '../ip-allowlist-guard.js';
import { expectedVersion } from '../etag.js';
import { listPageSchema, listQuery } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { revisionHeaders } from '../write-transaction.js';
import { ipAllowlistView } from './ip-allowlist-view.js';
import { ipAllowlistsService } from './ip-allowlists-service.js';

/**
 * A surface names where the list is enforced: `identity` (every caller of Identity acting in the organization, by
 * its own address), `auth` (the end user's `clientIp` on `/v1/authorize` for every product without a list of its
 * own), or a product's name (`midaz`: its `clientIp` on `/v1/authorize` with that product).
 */
const surface = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and -, at most 63');
const surfaceParams = z.object({ surface }).strict();
export const maxCidrsPerSurface = 100;

/** Every entry parsed strictly (platform/cidr.ts), written back canonical, duplicates dropped in order. */
function canonicalCidrs(entries: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  entries.forEach((entry, index) => {
    const parsed = parseCidr(entry);
    if (!parsed.ok) throw new ServiceError('CIDR_INVALID', { message: `body.cidrs.${index}: ${parsed.reason}`, field: `body.cidrs.${index}` });
    if (!out.some((cidr) => cidr.text === parsed.cidr.text)) out.push(parsed.cidr);
  });
  return out;
}

/**
 * An `identity` list that leaves out the caller's own address would lock the caller (and whoever works from where
 * it works) out of Identity at once, with no way back through the API: refused, unless the caller is one of the
 * platform's own (PLATFORM_INTERNAL_CIDRS), which the list does not bind.
 */
function assertKeepsCallerIn(deps: IdentityDeps, req: Request, ranges: readonly Cidr[]): void {
  const network = identityNetworkOf(deps);
  const address = network.clientAddress(req);
  if (mayReachIdentity(network, address, ranges)) return;
  throw new ServiceError('VALIDATION_FAILED', {
    message: `cidrs must include your own address (${address ?? 'unknown'}): this list would lock you out of Identity`,
    field: 'body.cidrs',
  });
}

export function ipAllowlistsRoutes(deps: IdentityDeps): AnyRoute[] {
  const allowlists = ipAllowlistsService(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ip-allowlists',
      summary: "The IP allowlists of the caller's organization, one per surface",
      tags: ['ip-allowlists'],
      auth: 'token',
      permission: { resource: 'ip-allowlists', action: 'get' },
      // Numbered pages only: a `cursor` here would be silently ignored, so it is refused.
      query: listQuery.omit({ cursor: true }),
      responses: { 200: { description: 'A page of allowlists', schema: listPageSchema(ipAllowlistView) } },
      async handler({ query, caller }) {
        const { items, total } = await allowlists.list(caller.tenantId, query.limit, (query.page - 1) * query.limit);
        return { body: { items, page: query.page, limit: query.limit, total } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/ip-allowlists/{surface}',
      summary: "Set a surface's allowed CIDR ranges (explicit prefix, at most /8 wide for IPv4 and /48 for IPv6, host bits zero)",
      tags: ['ip-allowlists'],
      auth: 'token',
      params: surfaceParams,
      permission: { resource: 'ip-allowlists', action: 'patch' },
      // An empty list would lock every client out; remove the list with DELETE to allow every address.
      body: z.object({ cidrs: z.array(z.string().max(64)).min(1).max(maxCidrsPerSurface) }).strict(),
      responses: {
        200: { description: 'The replaced allowlist', schema: ipAllowlistView },
        201: { description: 'The new allowlist', schema: ipAllowlistView },
      },
      async handler({ params, body, caller, requestId, req }) {
        const ranges = canonicalCidrs(body.cidrs);
        if (params.surface === ipAllowlistSurfaces.identity) assertKeepsCallerIn(deps, req, ranges);
        const put = await allowlists.put({ caller, requestId, expectedVersion: expectedVersion(req) }, params.surface, ranges);
        return { status: put.created ? 201 : 200, body: put.view, headers: changedHeaders(put) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/ip-allowlists/{surface}',
      summary: "Remove a surface's allowlist (every address is then allowed there)",
      tags: ['ip-allowlists'],
      auth: 'token',
      params: surfaceParams,
      permission: { resource: 'ip-allowlists', action: 'delete' },
      responses: { 204: { description: 'Removed' } },
      async handler({ params, caller, requestId, req }) {
        const removed = await allowlists.remove({ caller, requestId, expectedVersion: expectedVersion(req) }, params.surface);
        return { status: 204, headers: revisionHeaders(removed.policyRevision) };
      },
    }),
  ];
}
