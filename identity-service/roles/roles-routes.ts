import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { permissionEntry, recordDescription, recordId, recordName } from '../record-fields.js';
import { revisionHeaders } from '../write-transaction.js';
import { roleView } from './role-view.js';
import { rolesService } from './roles-service.js';

/** Most permission entries one request may set (a role's whole set is replaced at once). */
const maxPermissionsPerRequest = 100;

const permissions = z
  .array(permissionEntry)
  .max(maxPermissionsPerRequest)
  .meta({ description: `The role's whole permission set, one entry per (resource, action, effect); duplicates count once; at most ${maxPermissionsPerRequest}` });

const idParams = z.object({ id: recordId }).strict();

const permissionSet = z
  .object({
    permissions: z.array(permissionEntry),
    policyRevision: z.number().int().optional().meta({ description: 'On a write: the tenant policy revision after it' }),
  })
  .meta({ id: 'RolePermissionSet' });

/** The routes of roles and their permission sets (see rolesService). */
export function rolesRoutes(deps: IdentityDeps): AnyRoute[] {
  const roles = rolesService(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/roles',
      summary: 'List roles with their permissions; `page` or keyset `cursor` (order: name, id)',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of roles', schema: listPageSchema(roleView) } },
      async handler({ query, caller }) {
        const { items, rows, total } = await roles.list(caller.tenantId, pageStartOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.name) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/roles/{id}',
      summary: 'Get a role with its permissions',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The role', schema: roleView } },
      async handler({ params, caller }) {
        const { view, version } = await roles.get(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/roles',
      summary: 'Create a role, optionally with its permissions',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'post' },
      body: z.object({ name: recordName, description: recordDescription.optional(), permissions: permissions.optional() }).strict(),
      responses: { 201: { description: 'Created', schema: roleView } },
      async handler({ body, caller, requestId }) {
        const created = await roles.create({ caller, requestId }, body);
        return { status: 201, body: created.view, headers: changedHeaders(created) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/roles/{id}',
      summary: 'Rename a role, change its description or replace its permissions (If-Match for optimistic concurrency)',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'patch' },
      params: idParams,
      body: z
        .object({ name: recordName.optional(), description: recordDescription.optional(), permissions: permissions.optional() })
        .strict()
        .refine((b) => b.name !== undefined || b.description !== undefined || b.permissions !== undefined, 'nothing to change'),
      responses: { 200: { description: 'The updated role', schema: roleView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await roles.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/roles/{id}',
      summary: 'Delete a role: its permissions and every group’s hold on it go too',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const deleted = await roles.delete({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { status: 204, headers: revisionHeaders(deleted.policyRevision) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/roles/{id}/permissions',
      summary: 'A role’s permissions: one entry per (resource, action, effect)',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The permission set', schema: permissionSet } },
      async handler({ params, caller }) {
        const { view, version } = await roles.get(caller.tenantId, params.id);
        return { body: { permissions: view.permissions }, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/roles/{id}/permissions',
      summary: 'Replace a role’s whole permission set; only the changed policy lines are written (If-Match optional; needs roles:patch)',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'patch' },
      params: idParams,
      body: z.object({ permissions }).strict(),
      responses: { 200: { description: 'The new permission set', schema: permissionSet } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await roles.replacePermissions({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body.permissions);
        return { body: { permissions: changed.view?.permissions ?? [], policyRevision: changed.policyRevision }, headers: changedHeaders(changed) };
      },
    }),
  ];
}
