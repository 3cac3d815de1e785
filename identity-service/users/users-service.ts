import { canonicalName } from '../../domain/canonical-name.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import type { PageStart } from '../../directory/page-start.js';
import {
  deleteUser,
  findUser,
  insertUser,
  listUsers,
  passwordHashOf,
  setPasswordHash,
  setUserStatus,
  updateUser,
  userConstraints,
  type User,
  type UserFilter,
} from '../../directory/users.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { assertWithinLicense } from '../license-limits.js';
import { assertMayChangeCredentials } from '../no-escalation.js';
import { changeRecord, createRecord, type ChangedRecord, type RecordKind, type WriteRequest } from '../record-change.js';
import type { WriteContext } from '../write-transaction.js';
import { assertPasswordPolicy } from './assert-password-policy.js';
import { assertPasswordChangeNotLocked, clearPasswordFailures, countWrongCurrentPassword } from './password-change-lockout.js';
import { addMemberships, existingGroupIds, groupIdsOfUser, groupIdsOfUsers, removeAllMemberships, removeMemberships } from './user-groups-store.js';
import { toUserView, type UserView } from './user-view.js';

export interface NewUserInput {
  readonly firstName: string;
  readonly lastName: string;
  readonly username: string;
  readonly email: string;
  readonly phoneNumber?: string | undefined;
  readonly password: string;
  readonly groups: readonly string[];
}

export interface UserChangeInput {
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly email?: string | undefined;
  /** null removes the number. */
  readonly phoneNumber?: string | null | undefined;
  readonly groups?: readonly string[] | undefined;
}

export interface UserListQuery {
  readonly username?: string | undefined;
  readonly email?: string | undefined;
  readonly group?: string | undefined;
}

const users: RecordKind<User, UserView> = {
  targetType: 'user',
  targetId: (row) => row.id,
  builtinReadOnly: 'a built-in user cannot be changed',
  lock: (tx, id) => findUser(tx.client, tx.tenantId, id, true),
  show: async (tx, row) => toUserView(row, await groupIdsOfUser(tx.client, tx.tenantId, row.id)),
};

function uniqueSorted(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort();
}

/** Refuses the whole write when a group is not one of the caller's tenant (another tenant's is "not found"). */
async function assertGroupsExist(tx: WriteContext, ids: readonly string[]): Promise<void> {
  const found = await existingGroupIds(tx.client, tx.tenantId, ids);
  const missing = ids.find((id) => !found.has(id));
  if (missing !== undefined) throw new ServiceError('REFERENCE_NOT_FOUND', { message: `body.groups: group ${missing} does not exist`, field: 'body.groups' });
}

function takenError(error: unknown): unknown {
  const constraint = uniqueViolation(error);
  if (constraint === userConstraints.username) return new ServiceError('USERNAME_TAKEN', { message: 'this username is in use', field: 'body.username' });
  if (constraint === userConstraints.email) return new ServiceError('EMAIL_TAKEN', { message: 'this e-mail is in use in the organization', field: 'body.email' });
  return error;
}

function memberLines(op: 'add' | 'remove', userId: string, groups: readonly string[], tenantId: string) {
  return groups.map((groupId) => linkLine(op, subjects.user(userId), subjects.group(groupId), tenantId));
}

/**
 * Users of the caller's organization: their profile, status, password and groups. A membership is the policy
 * line `g, user:<id>, group:<id>, <tenant>`, written in the same transaction as its row; whatever ends a user's
 * standing (disable, delete, a new password) ends its sessions in that transaction too.
 */
export function usersService(deps: IdentityDeps) {
  return {
    async create(request: WriteRequest, input: NewUserInput): Promise<ChangedRecord<UserView>> {
      assertPasswordPolicy(input.password, input.username, 'body.password');
      const groups = uniqueSorted(input.groups);
      const passwordHash = await deps.passwords.hash(input.password);
      return createRecord(deps, request, users, 'user.create', async (tx) => {
        await assertGroupsExist(tx, groups);
        await assertWithinLicense(deps, tx.client, 'users');
        let row: User;
        try {
          row = await insertUser(tx.client, tx.tenantId, {
            username: input.username,
            usernameCanonical: canonicalName(input.username),
            email: input.email,
            emailCanonical: canonicalName(input.email),
            phoneNumber: input.phoneNumber,
            firstName: input.firstName,
            lastName: input.lastName,
            passwordHash,
          });
        } catch (error) {
          throw takenError(error);
        }
        await addMemberships(tx.client, tx.tenantId, row.id, groups);
        tx.policy(...memberLines('add', row.id, groups, tx.tenantId));
        return row;
      });
    },

    async list(tenantId: string, query: UserListQuery, page: PageStart): Promise<{ items: UserView[]; rows: User[]; total: number; hasMore: boolean }> {
      const filter: UserFilter = {
        usernamePrefix: query.username === undefined ? undefined : canonicalName(query.username),
        emailCanonical: query.email === undefined ? undefined : canonicalName(query.email),
        groupId: query.group,
      };
      const { rows, total, hasMore } = await listUsers(deps.pool, tenantId, filter, page);
      const groups = await groupIdsOfUsers(deps.pool, tenantId, rows.map((row) => row.id));
      return { items: rows.map((row) => toUserView(row, groups.get(row.id) ?? [])), rows, total, hasMore };
    },

    async get(tenantId: string, id: string): Promise<{ view: UserView; version: number }> {
      const row = await findUser(deps.pool, tenantId, id);
      if (!row) throw new ServiceError('NOT_FOUND');
      return { view: toUserView(row, await groupIdsOfUser(deps.pool, tenantId, row.id)), version: row.version };
    },

    update(request: WriteRequest, id: string, input: UserChangeInput): Promise<ChangedRecord<UserView>> {
      return changeRecord(deps, request, users, id, {
        action: 'user.update',
        refuseBuiltin: false,
        plan: async (tx, current) => async () => {
          if (input.groups !== undefined) {
            const currentGroups = await groupIdsOfUser(tx.client, tx.tenantId, current.id);
            const groups = uniqueSorted(input.groups);
            await assertGroupsExist(tx, groups);
            const added = groups.filter((groupId) => !currentGroups.includes(groupId));
            const removed = currentGroups.filter((groupId) => !groups.includes(groupId));
            await removeMemberships(tx.client, tx.tenantId, current.id, removed);
            await addMemberships(tx.client, tx.tenantId, current.id, added);
            tx.policy(...memberLines('remove', current.id, removed, tx.tenantId), ...memberLines('add', current.id, added, tx.tenantId));
          }
          try {
            const row = await updateUser(tx.client, tx.tenantId, current.id, {
              firstName: input.firstName,
              lastName: input.lastName,
              email: input.email === undefined ? undefined : { value: input.email, canonical: canonicalName(input.email) },
              phoneNumber: input.phoneNumber,
            });
            return { row };
          } catch (error) {
            throw takenError(error);
          }
        },
      });
    },

    /** Disable or enable: a disable ends every session of the user; an enable revives none. */
    setStatus(request: WriteRequest, id: string, status: User['status']): Promise<ChangedRecord<UserView>> {
      const verb = status === 'disabled' ? 'disable' : 'enable';
      return changeRecord(deps, request, users, id, {
        action: `user.${verb}`,
        refuseBuiltin: status === 'disabled' ? 'a built-in user cannot be disabled' : false,
        plan: async (tx, current) => async () => {
          const row = await setUserStatus(tx.client, tx.tenantId, current.id, status);
          if (status === 'disabled') await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'user_disabled');
          return { row };
        },
      });
    },

    /** Deletes the user, its memberships, its sessions and every policy line naming it as subject. */
    delete(request: WriteRequest, id: string): Promise<ChangedRecord<UserView>> {
      // The row lock comes before the memberships are read: a concurrent member add (which share-locks the user)
      // either committed before, and its row and line are removed here, or waits and then finds no user.
      return changeRecord(deps, request, users, id, {
        action: 'user.delete',
        refuseBuiltin: 'a built-in user cannot be deleted',
        plan: async (tx, current) => async () => {
          const groups = await removeAllMemberships(tx.client, tx.tenantId, current.id);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'user_deleted');
          await deleteUser(tx.client, tx.tenantId, current.id);
          await tx.removeSubjectLines(subjects.user(current.id));
          return { row: undefined, audit: { before: toUserView(current, groups) } };
        },
      });
    },

    /**
     * The user's own password change: the current one must verify (a guess like any other, so the sign-in
     * lockout applies) and still be the current one in the write; every session ends with it.
     */
    async changeOwnPassword(request: WriteRequest, id: string, oldPassword: string, newPassword: string): Promise<ChangedRecord<UserView>> {
      const { caller } = request;
      const target = await findUser(deps.pool, caller.tenantId, id);
      if (!target) throw new ServiceError('NOT_FOUND');
      if (caller.kind !== 'user' || caller.id !== target.id) {
        throw new ServiceError('FORBIDDEN', { message: 'only the user may change its own password; an administrator resets it', detail: `${caller.subject} changing ${target.id}` });
      }
      assertPasswordPolicy(newPassword, target.username, 'body.newPassword');
      await assertPasswordChangeNotLocked(deps, target.username);
      const storedHash = await passwordHashOf(deps.pool, caller.tenantId, target.id);
      if (!(await deps.passwords.verify(storedHash, oldPassword))) {
        await countWrongCurrentPassword(deps, caller, target, request.requestId);
        throw new ServiceError('WRONG_PASSWORD', { field: 'body.oldPassword', detail: 'old password does not verify' });
      }
      // Hashed outside the transaction: no row lock or connection is held while argon2 runs.
      const newHash = await deps.passwords.hash(newPassword);
      return changeRecord(deps, request, users, id, {
        action: 'user.update-password',
        refuseBuiltin: false,
        plan: async (tx, current) => async () => {
          // The password proven above must still be the current one (a concurrent change wins, this one fails).
          if ((await passwordHashOf(tx.client, tx.tenantId, current.id)) !== storedHash) {
            throw new ServiceError('WRONG_PASSWORD', { field: 'body.oldPassword', detail: 'password changed concurrently' });
          }
          const row = await setPasswordHash(tx.client, tx.tenantId, current.id, newHash);
          await clearPasswordFailures(tx.client, current.username);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'password_change');
          return { row, audit: {} };
        },
      });
    },

    /** An administrator sets the password: whoever sets it signs in as the user, so must hold what the user holds. */
    async resetPassword(request: WriteRequest, id: string, newPassword: string): Promise<ChangedRecord<UserView>> {
      const target = await findUser(deps.pool, request.caller.tenantId, id);
      if (!target) throw new ServiceError('NOT_FOUND');
      assertPasswordPolicy(newPassword, target.username, 'body.newPassword');
      const newHash = await deps.passwords.hash(newPassword);
      return changeRecord(deps, request, users, id, {
        action: 'user.reset-password',
        refuseBuiltin: false,
        plan: async (tx, current) => async () => {
          await assertMayChangeCredentials(deps, tx.policyTransaction, request.caller, { subject: subjects.user(current.id), builtin: current.builtin });
          const row = await setPasswordHash(tx.client, tx.tenantId, current.id, newHash);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'password_reset');
          return { row, audit: {} };
        },
      });
    },
  };
}

export type UsersService = ReturnType<typeof usersService>;
