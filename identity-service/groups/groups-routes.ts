import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { recordDescription, recordId, recordName } from '../record-fields.js';
import { revisionHeaders } from '../write-transaction.js';
import { groupView, memberView } from './group-view.js';
import { groupsService } from './groups-service.js';

const idParams = z.object({ id: recordId }).strict();
const memberParams = z.object({ id: recordId, userId: recordId }).strict();
const groupRoleParams = z.object({ id: recordId, roleId: recordId }).strict();
const roleIds = z.array(recordId).max(100).meta({ description: 'Ids of roles of the same organization that the group holds' });

const memberAnswer = memberView.extend({ policyRevision: z.number().int().meta({ description: 'The tenant policy revision after the write' }) }).meta({ id: 'GroupMemberWrite' });

/** The routes of groups, their members and the roles they hold (see groupsService). */
export function groupsRoutes(deps: IdentityDeps): AnyRoute[] {
  const groups = groupsService(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/groups',
      summary: 'List groups with their members’ usernames and roles; `page` or keyset `cursor` (order: name, id)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of groups', schema: listPageSchema(groupView) } },
      async handler({ query, caller }) {
        const { items, rows, total } = await groups.list(caller.tenantId, pageStartOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.name) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/groups/{id}',
      summary: 'Get a group',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The group', schema: groupView } },
      async handler({ params, caller }) {
        const { view, version } = await groups.get(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/groups',
      summary: 'Create a group, optionally holding roles of the same organization',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'post' },
      body: z.object({ name: recordName, description: recordDescription.optional(), roles: roleIds.optional() }).strict(),
      responses: { 201: { description: 'Created', schema: groupView } },
      async handler({ body, caller, requestId }) {
        const created = await groups.create({ caller, requestId }, body);
        return { status: 201, body: created.view, headers: changedHeaders(created) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/groups/{id}',
      summary: 'Rename a group, change its description or replace its roles (If-Match for optimistic concurrency)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'patch' },
      params: idParams,
      body: z
        .object({ name: recordName.optional(), description: recordDescription.optional(), roles: roleIds.optional() })
        .strict()
        .refine((b) => b.name !== undefined || b.description !== undefined || b.roles !== undefined, 'nothing to change'),
      responses: { 200: { description: 'The updated group', schema: groupView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await groups.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/groups/{id}',
      summary: 'Delete a group without members; the roles it held stop applying (409 while it has members)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const deleted = await groups.delete({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { status: 204, headers: revisionHeaders(deleted.policyRevision) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/groups/{id}/members',
      summary: 'List a group’s members; `page` or keyset `cursor` (order: username, id)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'get' },
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'A page of members', schema: listPageSchema(memberView) } },
      async handler({ params, query, caller }) {
        const { items, rows, total } = await groups.listMembers(caller.tenantId, params.id, pageStartOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.usernameCanonical) } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/groups/{id}/members/{userId}',
      summary: 'Add a user of the same organization to a group (idempotent: 201 when added, 200 when already a member; needs groups:patch)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'patch' },
      params: memberParams,
      responses: { 200: { description: 'Already a member', schema: memberAnswer }, 201: { description: 'Added', schema: memberAnswer } },
      async handler({ params, caller, requestId }) {
        const { view, created, policyRevision } = await groups.addMember({ caller, requestId }, params.id, params.userId);
        return { status: created ? 201 : 200, body: { ...view, policyRevision }, headers: revisionHeaders(policyRevision) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/groups/{id}/members/{userId}',
      summary: 'Remove a user from a group (idempotent: 204 also when the user was not a member; needs groups:patch)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'patch' },
      params: memberParams,
      responses: { 204: { description: 'Not a member (any more)' } },
      async handler({ params, caller, requestId }) {
        const { policyRevision } = await groups.removeMember({ caller, requestId }, params.id, params.userId);
        return { status: 204, headers: revisionHeaders(policyRevision) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/groups/{id}/roles/{roleId}',
      summary: 'Let a group hold a role of the same organization (idempotent; If-Match optional; needs groups:patch)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'patch' },
      params: groupRoleParams,
      responses: { 200: { description: 'The group', schema: groupView } },
      async handler({ params, caller, requestId, req }) {
        const changed = await groups.addRole({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, params.roleId);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/groups/{id}/roles/{roleId}',
      summary: 'Stop a group holding a role (idempotent; If-Match optional; needs groups:patch)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'patch' },
      params: groupRoleParams,
      responses: { 200: { description: 'The group', schema: groupView } },
      async handler({ params, caller, requestId, req }) {
        const changed = await groups.removeRole({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, params.roleId);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
  ];
}
