import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { isEmptyDiff, permissionDiff, permissionDiffLines, toPermission } from '../../domain/permission-diff.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import { permissionEntry, recordDescription, recordId, recordName } from '../record-fields.js';
import { assertNameFree, uniqueName, type RecordNames } from '../record-names.js';
import { groupsHoldingRole } from '../store/groups-store.js';
import {
  deletePermissions,
  deleteRole,
  findRole,
  insertPermissions,
  insertRole,
  isRoleNameTaken,
  listRoles,
  lockRoleNames,
  permissionsOfRoles,
  updateRole,
  type PermissionRow,
  type RoleRow,
} from '../store/roles-store.js';
import { revisionHeaders, runWrite, type WriteContext } from '../write-transaction.js';

/** Most permission entries one request may set (a role's whole set is replaced at once). */
const maxPermissionsPerRequest = 100;

const permissions = z
  .array(permissionEntry)
  .max(maxPermissionsPerRequest)
  .meta({ description: `The role's whole permission set, one entry per (resource, action, effect); duplicates count once; at most ${maxPermissionsPerRequest}` });

const idParams = z.object({ id: recordId }).strict();

const role = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    builtin: z.boolean().meta({ description: 'Seeded by the bootstrap reconciler: read-only through the API' }),
    permissions: z.array(permissionEntry),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Role' });

const permissionSet = z
  .object({
    permissions: z.array(permissionEntry),
    policyRevision: z.number().int().optional().meta({ description: 'On a write: the tenant policy revision after it' }),
  })
  .meta({ id: 'RolePermissionSet' });

function toRole(row: RoleRow, granted: readonly PermissionRow[]): z.infer<typeof role> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    builtin: row.builtin,
    permissions: granted.map(toPermission),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function builtinReadOnly(): ServiceError {
  return new ServiceError('BUILTIN_READ_ONLY', { message: 'a built-in role is managed by the bootstrap reconciler' });
}

const roleNames: RecordNames = { kind: 'role', lock: lockRoleNames, isTaken: isRoleNameTaken };

async function lockedRole(tx: WriteContext, id: string): Promise<{ row: RoleRow; granted: PermissionRow[] }> {
  const row = await findRole(tx.client, tx.tenantId, id, true);
  if (!row) throw new ServiceError('NOT_FOUND');
  const granted = (await permissionsOfRoles(tx.client, tx.tenantId, [row.id])).get(row.id) ?? [];
  return { row, granted };
}

/** Writes exactly the changed rows and `p` lines of a role's permission set. */
async function replacePermissions(tx: WriteContext, roleId: string, current: readonly PermissionRow[], wanted: readonly PermissionRow[]): Promise<void> {
  const diff = permissionDiff(current, wanted);
  await deletePermissions(tx.client, tx.tenantId, roleId, diff.removed);
  await insertPermissions(tx.client, tx.tenantId, roleId, diff.added);
  tx.policy(...permissionDiffLines(subjects.role(roleId), tx.tenantId, diff));
}

async function rereadPermissions(tx: WriteContext, roleId: string): Promise<PermissionRow[]> {
  return (await permissionsOfRoles(tx.client, tx.tenantId, [roleId])).get(roleId) ?? [];
}

/**
 * Roles of the caller's organization and their permissions. Each permission is the engine line
 * `p, role:<id>, <tenant>, <resource>, <action>, allow|deny`, written in the same transaction as its row;
 * groups hold roles through `g, group:<id>, role:<id>, <tenant>` (see the groups routes).
 */
export function rolesRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/roles',
      summary: 'List roles with their permissions; `page` or keyset `cursor` (order: name, id)',
      tags: ['roles'],
      auth: 'token',
      permission: { resource: 'roles', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of roles', schema: listPageSchema(role) } },
      async handler({ query, caller }) {
        const { rows, total } = await listRoles(deps.pool, caller.tenantId, pageStartOf(query));
        const granted = await permissionsOfRoles(deps.pool, caller.tenantId, rows.map((row) => row.id));
        return {
          body: {
            items: rows.map((row) => toRole(row, granted.get(row.id) ?? [])),
            page: query.page,
            limit: query.limit,
            total,
            ...nextCursorOf(rows, query.limit, (row) => row.name),
          },
        };
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
      responses: { 200: { description: 'The role', schema: role } },
      async handler({ params, caller }) {
        const row = await findRole(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        const granted = (await permissionsOfRoles(deps.pool, caller.tenantId, [row.id])).get(row.id) ?? [];
        return { body: toRole(row, granted), headers: { ETag: etagOf(row.version) } };
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
      responses: { 201: { description: 'Created', schema: role } },
      async handler({ body, caller, requestId }) {
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          await assertNameFree(tx, roleNames, body.name);
          const created = await uniqueName(roleNames, () => insertRole(tx.client, tx.tenantId, body.name, body.description ?? ''));
          await replacePermissions(tx, created.id, [], body.permissions ?? []);
          const view = toRole(created, await rereadPermissions(tx, created.id));
          tx.audit({ action: 'role.create', targetType: 'role', targetId: created.id, after: view });
          return { row: created, view };
        });
        return { status: 201, body: value.view, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'The updated role', schema: role } },
      async handler({ params, body, caller, requestId, req }) {
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const { row: current, granted } = await lockedRole(tx, params.id);
          assertVersion(req, current.version);
          const before = toRole(current, granted);
          const name = body.name !== undefined && body.name !== current.name ? body.name : undefined;
          const description = body.description !== undefined && body.description !== current.description ? body.description : undefined;
          const diff = permissionDiff(granted, body.permissions ?? granted);
          if (name === undefined && description === undefined && isEmptyDiff(diff)) return { row: current, view: before };
          if (current.builtin) throw builtinReadOnly();
          if (name !== undefined) await assertNameFree(tx, roleNames, name, current.id);
          const updated = await uniqueName(roleNames, () => updateRole(tx.client, tx.tenantId, current.id, { name, description }));
          if (body.permissions !== undefined) await replacePermissions(tx, current.id, granted, body.permissions);
          const view = toRole(updated, await rereadPermissions(tx, current.id));
          tx.audit({ action: 'role.update', targetType: 'role', targetId: current.id, before, after: view });
          return { row: updated, view };
        });
        return { body: value.view, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          // The row lock makes a concurrent link to this role wait, then find no role; a link made before is seen below.
          const { row: current, granted } = await lockedRole(tx, params.id);
          assertVersion(req, current.version);
          if (current.builtin) throw builtinReadOnly();
          const holders = await groupsHoldingRole(tx.client, tx.tenantId, current.id);
          await deleteRole(tx.client, tx.tenantId, current.id);
          const subject = subjects.role(current.id);
          // Its own lines go with it; each group's link to it is a change for that group's members.
          await tx.removeSubjectLines(subject);
          tx.policy(...holders.map((groupId) => linkLine('remove', subjects.group(groupId), subject, tx.tenantId)));
          tx.audit({ action: 'role.delete', targetType: 'role', targetId: current.id, before: { ...toRole(current, granted), groups: holders } });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
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
        const row = await findRole(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        const granted = (await permissionsOfRoles(deps.pool, caller.tenantId, [row.id])).get(row.id) ?? [];
        return { body: { permissions: granted.map(toPermission) }, headers: { ETag: etagOf(row.version) } };
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
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const { row: current, granted } = await lockedRole(tx, params.id);
          assertVersion(req, current.version);
          const diff = permissionDiff(granted, body.permissions);
          if (isEmptyDiff(diff)) return { row: current, granted };
          if (current.builtin) throw builtinReadOnly();
          await replacePermissions(tx, current.id, granted, body.permissions);
          const updated = await updateRole(tx.client, tx.tenantId, current.id, {});
          const now = await rereadPermissions(tx, current.id);
          tx.audit({
            action: 'role.permissions.replace',
            targetType: 'role',
            targetId: current.id,
            before: { permissions: granted.map(toPermission), removed: diff.removed },
            after: { permissions: now.map(toPermission), added: diff.added },
          });
          return { row: updated, granted: now };
        });
        return {
          body: { permissions: value.granted.map(toPermission), policyRevision },
          headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) },
        };
      },
    }),
  ];
}
