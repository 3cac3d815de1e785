import { linkLine, subjects } from '../../domain/policy-lines.js';
import type { PageStart } from '../../directory/page-start.js';
import { listGroupMembers, lockMemberCandidate, memberUsernamesOfGroups, type GroupMember } from '../../directory/users.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import { assertNameFree, uniqueName, type RecordNames } from '../record-names.js';
import { addGroupRoles, removeGroupRoles } from '../group-roles/index.js';
import { lockExistingRoles } from '../roles/roles-store.js';
import { runWrite, type WriteContext } from '../write-transaction.js';
import { toGroupView, type GroupView, type MemberView } from './group-view.js';
import {
  addMember,
  deleteGroup,
  findGroup,
  hasMembers,
  insertGroup,
  isGroupNameTaken,
  listGroups,
  lockGroupNames,
  removeMember,
  updateGroup,
  type GroupRow,
} from './groups-store.js';

export interface GroupInput {
  readonly name?: string | undefined;
  readonly description?: string | undefined;
  readonly roles?: readonly string[] | undefined;
}

const groupNames: RecordNames = { kind: 'group', lock: lockGroupNames, isTaken: isGroupNameTaken };

const groups: RecordKind<GroupRow, GroupView> = {
  targetType: 'group',
  targetId: (row) => row.id,
  builtinReadOnly: 'a built-in group can change only its members',
  lock: (tx, id) => findGroup(tx.client, tx.tenantId, id, true),
  show: async (tx, row) => toGroupView(row, (await memberUsernamesOfGroups(tx.client, tx.tenantId, [row.id])).get(row.id) ?? []),
};

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

async function reread(tx: WriteContext, id: string): Promise<GroupRow> {
  return (await findGroup(tx.client, tx.tenantId, id)) as GroupRow;
}

async function lockedGroup(tx: WriteContext, id: string): Promise<GroupRow> {
  const row = await findGroup(tx.client, tx.tenantId, id, true);
  if (!row) throw new ServiceError('NOT_FOUND');
  return row;
}

async function lockedCandidate(tx: WriteContext, userId: string): Promise<{ id: string; username: string }> {
  const user = await lockMemberCandidate(tx.client, tx.tenantId, userId);
  if (!user) throw new ServiceError('NOT_FOUND', { message: 'no such user in this organization' });
  return user;
}

/**
 * Groups of the caller's organization, their members and the roles they hold. The policy follows the rows in
 * the same transaction: a membership is `g, user:<id>, group:<id>, <tenant>`, a held role
 * `g, group:<id>, role:<id>, <tenant>`. A group's version covers its name, description and roles; membership
 * does not change it.
 */
export function groupsService(deps: IdentityDeps) {
  /** Holding one role more or less: idempotent (the line is written either way), a built-in refuses a real change. */
  const holdRole = (request: WriteRequest, id: string, roleId: string, op: 'add' | 'remove') =>
    changeRecord(deps, request, groups, id, {
      action: op === 'add' ? 'group.role.add' : 'group.role.remove',
      plan: async (tx, current) => {
        const found = await lockExistingRoles(tx.client, tx.tenantId, [roleId]);
        if (!found.has(roleId)) throw new ServiceError('NOT_FOUND', { message: 'no such role in this organization' });
        const line = roleLines(op, current.id, [roleId], tx.tenantId);
        if (current.roles.includes(roleId) === (op === 'add')) {
          tx.policy(...line);
          return undefined;
        }
        return async () => {
          if (op === 'add') await addGroupRoles(tx.client, tx.tenantId, current.id, [roleId]);
          else await removeGroupRoles(tx.client, tx.tenantId, current.id, [roleId]);
          await updateGroup(tx.client, tx.tenantId, current.id, {});
          tx.policy(...line);
          return { row: await reread(tx, current.id) };
        };
      },
    });

  return {
    async list(tenantId: string, page: PageStart): Promise<{ items: GroupView[]; rows: GroupRow[]; total: number }> {
      const { rows, total } = await listGroups(deps.pool, tenantId, page);
      const members = await memberUsernamesOfGroups(deps.pool, tenantId, rows.map((row) => row.id));
      return { items: rows.map((row) => toGroupView(row, members.get(row.id) ?? [])), rows, total };
    },

    async get(tenantId: string, id: string): Promise<{ view: GroupView; version: number }> {
      const row = await findGroup(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      const members = await memberUsernamesOfGroups(deps.pool, tenantId, [row.id]);
      return { view: toGroupView(row, members.get(row.id) ?? []), version: row.version };
    },

    create(request: WriteRequest, input: GroupInput & { readonly name: string }): Promise<ChangedRecord<GroupView>> {
      return createRecord(deps, request, groups, 'group.create', async (tx) => {
        await assertNameFree(tx, groupNames, input.name);
        const roles = await resolveRoles(tx, input.roles ?? []);
        const created = await uniqueName(groupNames, () => insertGroup(tx.client, tx.tenantId, input.name, input.description ?? ''));
        await addGroupRoles(tx.client, tx.tenantId, created.id, roles);
        tx.policy(...roleLines('add', created.id, roles, tx.tenantId));
        return reread(tx, created.id);
      });
    },

    update(request: WriteRequest, id: string, input: GroupInput): Promise<ChangedRecord<GroupView>> {
      return changeRecord(deps, request, groups, id, {
        action: 'group.update',
        plan: async (tx, current) => {
          const roles = input.roles === undefined ? current.roles : await resolveRoles(tx, input.roles);
          const added = roles.filter((roleId) => !current.roles.includes(roleId));
          const removed = current.roles.filter((roleId) => !roles.includes(roleId));
          const name = input.name !== undefined && input.name !== current.name ? input.name : undefined;
          const description = input.description !== undefined && input.description !== current.description ? input.description : undefined;
          if (name === undefined && description === undefined && added.length === 0 && removed.length === 0) return undefined;
          return async () => {
            if (name !== undefined) await assertNameFree(tx, groupNames, name, current.id);
            await uniqueName(groupNames, () => updateGroup(tx.client, tx.tenantId, current.id, { name, description }));
            await removeGroupRoles(tx.client, tx.tenantId, current.id, removed);
            await addGroupRoles(tx.client, tx.tenantId, current.id, added);
            tx.policy(...roleLines('remove', current.id, removed, tx.tenantId), ...roleLines('add', current.id, added, tx.tenantId));
            return { row: await reread(tx, current.id) };
          };
        },
      });
    },

    /** Deletes a group without members; the roles it held stop applying. */
    delete(request: WriteRequest, id: string): Promise<ChangedRecord<GroupView>> {
      // The row lock makes a concurrent member add wait, then find no group: never a member of a deleted group.
      return changeRecord(deps, request, groups, id, {
        action: 'group.delete',
        plan: async (tx, current) => async () => {
          if (await hasMembers(tx.client, tx.tenantId, current.id)) throw new ServiceError('GROUP_HAS_MEMBERS', { message: 'remove the members first' });
          await deleteGroup(tx.client, tx.tenantId, current.id);
          // Its links to the roles it held (and any line granted to it directly): a group without members is a leaf.
          await tx.removeSubjectLines(subjects.group(current.id));
          return { row: undefined };
        },
      });
    },

    async listMembers(tenantId: string, id: string, page: PageStart): Promise<{ items: MemberView[]; rows: GroupMember[]; total: number }> {
      if (!(await findGroup(deps.pool, tenantId, id))) throw new ServiceError('NOT_FOUND');
      const { rows, total } = await listGroupMembers(deps.pool, tenantId, id, page);
      return { items: rows.map((row) => ({ id: row.id, username: row.username, addedAt: row.addedAt.toISOString() })), rows, total };
    },

    /** Adds a member (built-in groups too): idempotent, audited only when the membership is new. */
    async addMember(request: WriteRequest, id: string, userId: string): Promise<{ view: MemberView; created: boolean; policyRevision: number }> {
      const { value, policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        const current = await lockedGroup(tx, id);
        const user = await lockedCandidate(tx, userId);
        const { addedAt, created } = await addMember(tx.client, tx.tenantId, current.id, user.id);
        // Also when the row existed: the line is then already there (no new revision), or it is restored.
        tx.policy(linkLine('add', subjects.user(user.id), subjects.group(current.id), tx.tenantId));
        const view = { id: user.id, username: user.username, addedAt: addedAt.toISOString() };
        if (created) tx.audit({ action: 'group.member.add', targetType: 'group', targetId: current.id, after: view });
        return { view, created };
      });
      return { ...value, policyRevision };
    },

    /** Removes a member: idempotent, audited only when the user was one. */
    async removeMember(request: WriteRequest, id: string, userId: string): Promise<{ policyRevision: number }> {
      const { policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        const current = await lockedGroup(tx, id);
        const user = await lockedCandidate(tx, userId);
        const removed = await removeMember(tx.client, tx.tenantId, current.id, user.id);
        tx.policy(linkLine('remove', subjects.user(user.id), subjects.group(current.id), tx.tenantId));
        if (removed) tx.audit({ action: 'group.member.remove', targetType: 'group', targetId: current.id, before: { id: user.id, username: user.username } });
      });
      return { policyRevision };
    },

    addRole: (request: WriteRequest, id: string, roleId: string) => holdRole(request, id, roleId, 'add'),
    removeRole: (request: WriteRequest, id: string, roleId: string) => holdRole(request, id, roleId, 'remove'),
  };
}

export type GroupsService = ReturnType<typeof groupsService>;
