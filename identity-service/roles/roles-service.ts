import { isEmptyDiff, permissionDiff, permissionDiffLines, toPermission } from '../../domain/permission-diff.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import type { PageStart } from '../../directory/page-start.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { groupsHoldingRole } from '../group-roles/index.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { assertNameFree, uniqueName, type RecordNames } from '../record-names.js';
import type { WriteContext } from '../write-transaction.js';
import { toRoleView, type RoleView } from './role-view.js';
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
} from './roles-store.js';

export interface RoleInput {
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly permissions?: readonly PermissionRow[] | undefined;
}

const roleNames: RecordNames = { kind: 'role', lock: lockRoleNames, isTaken: isRoleNameTaken };

async function permissionsOf(tx: WriteContext, roleId: string): Promise<PermissionRow[]> {
  return (await permissionsOfRoles(tx.client, tx.tenantId, [roleId])).get(roleId) ?? [];
}

const roles: RecordKind<RoleRow, RoleView> = {
  targetType: 'role',
  targetId: (row) => row.id,
  builtinReadOnly: 'a built-in role is managed by the bootstrap reconciler',
  lock: (tx, id) => findRole(tx.client, tx.tenantId, id, true),
  show: async (tx, row) => toRoleView(row, await permissionsOf(tx, row.id)),
};

/** Writes exactly the changed rows and `p` lines of a role's permission set. */
async function replacePermissions(tx: WriteContext, roleId: string, current: readonly PermissionRow[], wanted: readonly PermissionRow[]): Promise<void> {
  const diff = permissionDiff(current, wanted);
  await deletePermissions(tx.client, tx.tenantId, roleId, diff.removed);
  await insertPermissions(tx.client, tx.tenantId, roleId, diff.added);
  tx.policy(...permissionDiffLines(subjects.role(roleId), tx.tenantId, diff));
}

/**
 * Roles of the caller's organization and their permissions. Each permission is the engine line
 * `p, role:<id>, <tenant>, <resource>, <action>, allow|deny`, written in the same transaction as its row;
 * groups hold roles through `g, group:<id>, role:<id>, <tenant>` (see the groups service).
 */
export function rolesService(deps: IdentityDeps) {
  return {
    async list(tenantId: string, page: PageStart): Promise<{ items: RoleView[]; rows: RoleRow[]; total: number }> {
      const { rows, total } = await listRoles(deps.pool, tenantId, page);
      const granted = await permissionsOfRoles(deps.pool, tenantId, rows.map((row) => row.id));
      return { items: rows.map((row) => toRoleView(row, granted.get(row.id) ?? [])), rows, total };
    },

    async get(tenantId: string, id: string): Promise<{ view: RoleView; version: number }> {
      const row = await findRole(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      const granted = (await permissionsOfRoles(deps.pool, tenantId, [row.id])).get(row.id) ?? [];
      return { view: toRoleView(row, granted), version: row.version };
    },

    create(request: WriteRequest, input: RoleInput & { readonly name: string }): Promise<ChangedRecord<RoleView>> {
      return createRecord(deps, request, roles, 'role.create', async (tx) => {
        await assertNameFree(tx, roleNames, input.name);
        const created = await uniqueName(roleNames, () => insertRole(tx.client, tx.tenantId, input.name, input.description ?? ''));
        await replacePermissions(tx, created.id, [], input.permissions ?? []);
        return created;
      });
    },

    update(request: WriteRequest, id: string, input: RoleInput): Promise<ChangedRecord<RoleView>> {
      return changeRecord(deps, request, roles, id, {
        action: 'role.update',
        plan: async (tx, current) => {
          const granted = await permissionsOf(tx, current.id);
          const name = input.name !== undefined && input.name !== current.name ? input.name : undefined;
          const description = input.description !== undefined && input.description !== current.description ? input.description : undefined;
          if (name === undefined && description === undefined && isEmptyDiff(permissionDiff(granted, input.permissions ?? granted))) return undefined;
          return async () => {
            if (name !== undefined) await assertNameFree(tx, roleNames, name, current.id);
            const row = await uniqueName(roleNames, () => updateRole(tx.client, tx.tenantId, current.id, { name, description }));
            if (input.permissions !== undefined) await replacePermissions(tx, current.id, granted, input.permissions);
            return { row };
          };
        },
      });
    },

    /** Deletes a role: its permissions and every group's hold on it go too. */
    delete(request: WriteRequest, id: string): Promise<ChangedRecord<RoleView>> {
      // The row lock makes a concurrent link to this role wait, then find no role; a link made before is seen below.
      return changeRecord(deps, request, roles, id, {
        action: 'role.delete',
        plan: async (tx, current) => async () => {
          const before = toRoleView(current, await permissionsOf(tx, current.id));
          const holders = await groupsHoldingRole(tx.client, tx.tenantId, current.id);
          await deleteRole(tx.client, tx.tenantId, current.id);
          const subject = subjects.role(current.id);
          // Its own lines go with it; each group's link to it is a change for that group's members.
          await tx.removeSubjectLines(subject);
          tx.policy(...holders.map((groupId) => linkLine('remove', subjects.group(groupId), subject, tx.tenantId)));
          return { row: undefined, audit: { before: { ...before, groups: holders } } };
        },
      });
    },

    /** Replaces the whole permission set; only the changed rows and lines are written. */
    replacePermissions(request: WriteRequest, id: string, wanted: readonly PermissionRow[]): Promise<ChangedRecord<RoleView>> {
      return changeRecord(deps, request, roles, id, {
        action: 'role.permissions.replace',
        plan: async (tx, current) => {
          const granted = await permissionsOf(tx, current.id);
          const diff = permissionDiff(granted, wanted);
          if (isEmptyDiff(diff)) return undefined;
          return async () => {
            await replacePermissions(tx, current.id, granted, wanted);
            const row = await updateRole(tx.client, tx.tenantId, current.id, {});
            const now = await permissionsOf(tx, current.id);
            return {
              row,
              audit: {
                before: { permissions: granted.map(toPermission), removed: diff.removed },
                after: { permissions: now.map(toPermission), added: diff.added },
              },
            };
          };
        },
      });
    },
  };
}

export type RolesService = ReturnType<typeof rolesService>;
