import { z } from 'zod';
import type { IdentityResource } from '../../domain/access-manager-resources.js';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { listPageSchema, listQuery } from '../list-query.js';
import { findOrganization, insertOrganization, listOrganizations, updateOrganization, type Organization } from '../../directory/organizations.js';
import { assertWithinLicense } from '../license-limits.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

const slug = z.string().min(2).max(63).regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'lowercase letters, digits and -');
const name = z.string().trim().min(1).max(200);
const idParams = z.object({ id: z.uuid() }).strict();

const organization = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Organization' });

function toOrganization(row: Organization): z.infer<typeof organization> {
  return { id: row.id, slug: row.slug, name: row.name, status: row.status, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

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
  return [
    defineRoute({
      method: 'post',
      path: '/v1/organizations',
      summary: 'Create an organization (tenant)',
      tags: ['organizations'],
      auth: 'token',
      body: z.object({ slug, name }).strict(),
      responses: { 201: { description: 'Created', schema: organization } },
      async handler({ body, caller, requestId }) {
        await assertPlatformAdmin(deps, caller, 'post');
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          await assertWithinLicense(deps, tx.client, 'organizations');
          try {
            const created = await insertOrganization(tx.client, body.slug, body.name);
            tx.audit({ action: 'organization.create', targetType: 'organization', targetId: created.id, after: toOrganization(created) });
            return created;
          } catch (error) {
            if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: 'an organization with this slug exists', field: 'body.slug' });
            throw error;
          }
        });
        return { status: 201, body: toOrganization(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'A page of organizations', schema: listPageSchema(organization) } },
      async handler({ query, caller }) {
        await assertPlatformAdmin(deps, caller, 'get');
        const { rows, total } = await listOrganizations(deps.pool, query.limit, (query.page - 1) * query.limit);
        return { body: { items: rows.map(toOrganization), page: query.page, limit: query.limit, total } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organizations/{id}',
      summary: 'Get an organization',
      tags: ['organizations'],
      auth: 'token',
      params: idParams,
      responses: { 200: { description: 'The organization', schema: organization } },
      async handler({ params, caller }) {
        await assertPlatformAdmin(deps, caller, 'get');
        const row = await findOrganization(deps.pool, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        return { body: toOrganization(row), headers: { ETag: etagOf(row.version) } };
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
      responses: { 200: { description: 'The updated organization', schema: organization } },
      async handler({ params, body, caller, requestId, req }) {
        await assertPlatformAdmin(deps, caller, 'patch');
        if (params.id === deps.platformTenantId && body.status === 'disabled') {
          throw new ServiceError('BUILTIN_READ_ONLY', { message: 'the platform organization cannot be disabled' });
        }
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findOrganization(tx.client, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          const updated = await updateOrganization(tx.client, params.id, body);
          // Every session of the organization ends with its disable: enabling it again revives none.
          if (current.status === 'active' && updated.status === 'disabled') await tx.endSessions({ kind: 'organization', tenantId: params.id }, 'organization_disabled');
          tx.audit({ action: 'organization.update', targetType: 'organization', targetId: params.id, before: toOrganization(current), after: toOrganization(updated) });
          return updated;
        });
        return { body: toOrganization(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
