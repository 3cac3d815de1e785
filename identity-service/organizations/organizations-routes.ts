import { z } from 'zod';
import type { IdentityResource } from '../../domain/access-manager-resources.js';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { organizationView } from './organization-view.js';
import { organizationsService } from './organizations-service.js';

const slug = z.string().min(2).max(63).regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'lowercase letters, digits and -');
const name = z.string().trim().min(1).max(200);
const idParams = z.object({ id: z.uuid() }).strict();

/** Checked in the platform organization rather than the caller's, so not as a route permission. */
export const organizationsResource = 'organizations' satisfies IdentityResource;

/**
 * Organizations are managed by platform administrators only: callers of the platform organization whom its
 * policy allows `organizations` (other tenants' administrators are refused even with that permission).
 */
async function assertPlatformAdmin(deps: IdentityDeps, caller: Caller, action: string): Promise<void> {
  const decision =
    caller.tenantId === deps.platformTenantId
      ? await deps.engine.decide({ sub: caller.subject, dom: deps.platformTenantId, obj: organizationsResource, act: action })
      : undefined;
  if (!decision?.allowed) throw new ServiceError('FORBIDDEN', { detail: `${caller.subject} is not a platform administrator` });
}

export function organizationsRoutes(deps: IdentityDeps): AnyRoute[] {
  const organizations = organizationsService(deps);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/organizations',
      summary: 'Create an organization (tenant)',
      tags: ['organizations'],
      auth: 'token',
      body: z.object({ slug, name }).strict(),
      responses: { 201: { description: 'Created', schema: organizationView } },
      async handler({ body, caller, requestId }) {
        await assertPlatformAdmin(deps, caller, 'post');
        const created = await organizations.create({ caller, requestId }, body);
        return { status: 201, body: created.view, headers: changedHeaders(created) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organizations',
      summary: 'List organizations',
      tags: ['organizations'],
      auth: 'token',
      // Numbered pages only: a `cursor` here would be silently ignored, so it is refused.
      query: listQuery.omit({ cursor: true }),
      responses: { 200: { description: 'A page of organizations', schema: listPageSchema(organizationView) } },
      async handler({ query, caller }) {
        await assertPlatformAdmin(deps, caller, 'get');
        const { items, total } = await organizations.list(query.limit, (query.page - 1) * query.limit);
        return { body: { items, page: query.page, limit: query.limit, total } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organizations/{id}',
      summary: 'Get an organization',
      tags: ['organizations'],
      auth: 'token',
      params: idParams,
      responses: { 200: { description: 'The organization', schema: organizationView } },
      async handler({ params, caller }) {
        await assertPlatformAdmin(deps, caller, 'get');
        const { view, version } = await organizations.get(params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/organizations/{id}',
      summary: 'Rename, disable or enable an organization (If-Match for optimistic concurrency)',
      tags: ['organizations'],
      auth: 'token',
      params: idParams,
      body: z
        .object({ name: name.optional(), status: z.enum(['active', 'disabled']).optional() })
        .strict()
        .refine((b) => b.name !== undefined || b.status !== undefined, 'nothing to change'),
      responses: { 200: { description: 'The updated organization', schema: organizationView } },
      async handler({ params, body, caller, requestId, req }) {
        await assertPlatformAdmin(deps, caller, 'patch');
        const changed = await organizations.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
  ];
}
