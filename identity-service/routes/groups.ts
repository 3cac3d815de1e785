import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import { recordDescription, recordId, recordName } from '../record-fields.js';
import { assertNameFree, uniqueName, type RecordNames } from '../record-names.js';
import {
  addGroupRoles,
  addMember,
  deleteGroup,
  findGroup,
  findMemberCandidate,
  hasMembers,
  insertGroup,
  isGroupNameTaken,
  listGroups,
  listMembers,
  lockGroupNames,
  removeGroupRoles,
  removeMember,
  updateGroup,
  type GroupRow,
} from '../store/groups-store.js';
import { lockExistingRoles } from '../store/roles-store.js';
import { revisionHeaders, runWrite, type WriteContext } from '../write-transaction.js';

const idParams = z.object({ id: recordId }).strict();
const memberParams = z.object({ id: recordId, userId: recordId }).strict();
const groupRoleParams = z.object({ id: recordId, roleId: recordId }).strict();
const roleIds = z.array(recordId).max(100).meta({ description: 'Ids of roles of the same organization that the group holds' });

const group = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    builtin: z.boolean().meta({ description: 'Seeded by the bootstrap reconciler: only its members can change' }),
    users: z.array(z.string()).meta({ description: 'Usernames of the members' }),
    roles: z.array(z.uuid()).meta({ description: 'Ids of the roles the group holds' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Group' });

const member = z
  .object({
    id: z.uuid().meta({ description: 'The user id' }),
    username: z.string(),
    addedAt: z.string(),
  })
  .meta({ id: 'GroupMember' });

const memberAnswer = member.extend({ policyRevision: z.number().int().meta({ description: 'The tenant policy revision after the write' }) }).meta({ id: 'GroupMemberWrite' });

function toGroup(row: GroupRow): z.infer<typeof group> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtin: row.builtin,
    users: row.users,
    roles: row.roles,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const groupNames: RecordNames = { kind: 'group', lock: lockGroupNames, isTaken: isGroupNameTaken };

/** The distinct role ids of a body, each a role of the caller's tenant (another tenant's role is "not found"). */
async function resolveRoles(tx: WriteContext, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)].sort();
  const found = await lockExistingRoles(tx.client, tx.tenantId, unique);
  const missing = ids.findIndex((id) => !found.has(id));
  if (missing >= 0) throw new ServiceError('REFERENCE_NOT_FOUND', { message: `body.roles.${missing}: no such role`, field: `body.roles.${missing}` });
  return unique;
}

function roleLines(op: 'add' | 'remove', groupId: string, roleIds: readonly string[], tenantId: string) {
  return roleIds.map((roleId) => linkLine(op, subjects.group(groupId), subjects.role(roleId), tenantId));
}

async function lockedGroup(tx: WriteContext, id: string): Promise<GroupRow> {
  const row = await findGroup(tx.client, tx.tenantId, id, true);
  if (!row) throw new ServiceError('NOT_FOUND');
  return row;
}

async function reread(tx: WriteContext, id: string): Promise<GroupRow> {
  return (await findGroup(tx.client, tx.tenantId, id)) as GroupRow;
}

function builtinReadOnly(): ServiceError {
  return new ServiceError('BUILTIN_READ_ONLY', { message: 'a built-in group can change only its members' });
}

/**
 * Groups of the caller's organization, their members and the roles they hold. The policy follows the rows in
 * the same transaction: a membership is `g, user:<id>, group:<id>, <tenant>`, a held role
 * `g, group:<id>, role:<id>, <tenant>`. A group's ETag covers its name, description and roles; membership has
 * its own idempotent routes and does not change it.
 */
export function groupsRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/groups',
      summary: 'List groups with their members’ usernames and roles; `page` or keyset `cursor` (order: name, id)',
      tags: ['groups'],
      auth: 'token',
      permission: { resource: 'groups', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of groups', schema: listPageSchema(group) } },
      async handler({ query, caller }) {
        const { rows, total } = await listGroups(deps.pool, caller.tenantId, pageStartOf(query));
        return { body: { items: rows.map(toGroup), page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.name) } };
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
      responses: { 200: { description: 'The group', schema: group } },
      async handler({ params, caller }) {
        const row = await findGroup(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        return { body: toGroup(row), headers: { ETag: etagOf(row.version) } };
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
      responses: { 201: { description: 'Created', schema: group } },
      async handler({ body, caller, requestId }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          await assertNameFree(tx, groupNames, body.name);
          const roles = await resolveRoles(tx, body.roles ?? []);
          const created = await uniqueName(groupNames, () => insertGroup(tx.client, tx.tenantId, body.name, body.description ?? ''));
          await addGroupRoles(tx.client, tx.tenantId, created.id, roles);
          tx.policy(...roleLines('add', created.id, roles, tx.tenantId));
          const view = await reread(tx, created.id);
          tx.audit({ action: 'group.create', targetType: 'group', targetId: created.id, after: toGroup(view) });
          return view;
        });
        return { status: 201, body: toGroup(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'The updated group', schema: group } },
      async handler({ params, body, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockedGroup(tx, params.id);
          assertVersion(req, current.version);
          const roles = body.roles === undefined ? current.roles : await resolveRoles(tx, body.roles);
          const added = roles.filter((id) => !current.roles.includes(id));
          const removed = current.roles.filter((id) => !roles.includes(id));
          const name = body.name !== undefined && body.name !== current.name ? body.name : undefined;
          const description = body.description !== undefined && body.description !== current.description ? body.description : undefined;
          if (name === undefined && description === undefined && added.length === 0 && removed.length === 0) return current;
          if (current.builtin) throw builtinReadOnly();
          if (name !== undefined) await assertNameFree(tx, groupNames, name, current.id);
          await uniqueName(groupNames, () => updateGroup(tx.client, tx.tenantId, current.id, { name, description }));
          await removeGroupRoles(tx.client, tx.tenantId, current.id, removed);
          await addGroupRoles(tx.client, tx.tenantId, current.id, added);
          tx.policy(...roleLines('remove', current.id, removed, tx.tenantId), ...roleLines('add', current.id, added, tx.tenantId));
          const updated = await reread(tx, current.id);
          tx.audit({ action: 'group.update', targetType: 'group', targetId: current.id, before: toGroup(current), after: toGroup(updated) });
          return updated;
        });
        return { body: toGroup(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          // The row lock makes a concurrent member add wait, then find no group: never a member of a deleted group.
          const current = await lockedGroup(tx, params.id);
          assertVersion(req, current.version);
          if (current.builtin) throw builtinReadOnly();
          if (await hasMembers(tx.client, tx.tenantId, current.id)) throw new ServiceError('GROUP_HAS_MEMBERS', { message: 'remove the members first' });
          await deleteGroup(tx.client, tx.tenantId, current.id);
          // Its links to the roles it held (and any line granted to it directly): a group without members is a leaf.
          await tx.removeSubjectLines(subjects.group(current.id));
          tx.audit({ action: 'group.delete', targetType: 'group', targetId: current.id, before: toGroup(current) });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
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
      responses: { 200: { description: 'A page of members', schema: listPageSchema(member) } },
      async handler({ params, query, caller }) {
        const start = pageStartOf(query);
        if (!(await findGroup(deps.pool, caller.tenantId, params.id))) throw new ServiceError('NOT_FOUND');
        const { rows, total } = await listMembers(deps.pool, caller.tenantId, params.id, start);
        return {
          body: {
            items: rows.map((row) => ({ id: row.id, username: row.username, addedAt: row.added_at.toISOString() })),
            page: query.page,
            limit: query.limit,
            total,
            ...nextCursorOf(rows, query.limit, (row) => row.username_canonical),
          },
        };
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
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockedGroup(tx, params.id);
          const user = await findMemberCandidate(tx.client, tx.tenantId, params.userId);
          if (!user) throw new ServiceError('NOT_FOUND', { message: 'no such user in this organization' });
          const { addedAt, created } = await addMember(tx.client, tx.tenantId, current.id, user.id);
          // Also when the row existed: the line is then already there (no new revision), or it is restored.
          tx.policy(linkLine('add', subjects.user(user.id), subjects.group(current.id), tx.tenantId));
          const view = { id: user.id, username: user.username, addedAt: addedAt.toISOString() };
          if (created) tx.audit({ action: 'group.member.add', targetType: 'group', targetId: current.id, after: view });
          return { view, created };
        });
        return { status: value.created ? 201 : 200, body: { ...value.view, policyRevision }, headers: revisionHeaders(policyRevision) };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockedGroup(tx, params.id);
          const user = await findMemberCandidate(tx.client, tx.tenantId, params.userId);
          if (!user) throw new ServiceError('NOT_FOUND', { message: 'no such user in this organization' });
          const removed = await removeMember(tx.client, tx.tenantId, current.id, user.id);
          tx.policy(linkLine('remove', subjects.user(user.id), subjects.group(current.id), tx.tenantId));
          if (removed) tx.audit({ action: 'group.member.remove', targetType: 'group', targetId: current.id, before: { id: user.id, username: user.username } });
        });
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
      responses: { 200: { description: 'The group', schema: group } },
      async handler({ params, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockedGroup(tx, params.id);
          assertVersion(req, current.version);
          const found = await lockExistingRoles(tx.client, tx.tenantId, [params.roleId]);
          if (!found.has(params.roleId)) throw new ServiceError('NOT_FOUND', { message: 'no such role in this organization' });
          const line = roleLines('add', current.id, [params.roleId], tx.tenantId);
          if (current.roles.includes(params.roleId)) {
            tx.policy(...line);
            return current;
          }
          if (current.builtin) throw builtinReadOnly();
          await addGroupRoles(tx.client, tx.tenantId, current.id, [params.roleId]);
          await updateGroup(tx.client, tx.tenantId, current.id, {});
          tx.policy(...line);
          const updated = await reread(tx, current.id);
          tx.audit({ action: 'group.role.add', targetType: 'group', targetId: current.id, before: toGroup(current), after: toGroup(updated) });
          return updated;
        });
        return { body: toGroup(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'The group', schema: group } },
      async handler({ params, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await lockedGroup(tx, params.id);
          assertVersion(req, current.version);
          const found = await lockExistingRoles(tx.client, tx.tenantId, [params.roleId]);
          if (!found.has(params.roleId)) throw new ServiceError('NOT_FOUND', { message: 'no such role in this organization' });
          const line = roleLines('remove', current.id, [params.roleId], tx.tenantId);
          if (!current.roles.includes(params.roleId)) {
            tx.policy(...line);
            return current;
          }
          if (current.builtin) throw builtinReadOnly();
          await removeGroupRoles(tx.client, tx.tenantId, current.id, [params.roleId]);
          await updateGroup(tx.client, tx.tenantId, current.id, {});
          tx.policy(...line);
          const updated = await reread(tx, current.id);
          tx.audit({ action: 'group.role.remove', targetType: 'group', targetId: current.id, before: toGroup(current), after: toGroup(updated) });
          return updated;
        });
        return { body: toGroup(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
