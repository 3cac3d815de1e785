import { z } from 'zod';
import { canonicalName } from '../../domain/canonical-name.js';
import { passwordMaxUtf16Units } from '../../domain/password-policy.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import { assertPasswordPolicy } from '../assert-password-policy.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { recordId } from '../record-fields.js';
import { addMemberships, existingGroupIds, groupIdsOfUser, groupIdsOfUsers, removeAllMemberships, removeMemberships } from '../store/user-groups-store.js';
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
  type User as UserRecord,
} from '../../directory/users.js';
import { assertWithinLicense } from '../license-limits.js';
import { assertMayChangeCredentials } from '../no-escalation.js';
import { assertPasswordChangeNotLocked, clearPasswordFailures, countWrongCurrentPassword } from '../password-change-lockout.js';
import { revisionHeaders, runWrite, type WriteContext } from '../write-transaction.js';

// Control characters, lone surrogates and bidi overrides/isolates have no place in a person's name
// (SECURITY-CHECKLIST G8): they corrupt logs and consoles or spoof the text around them.
const printable = /^[^\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u;
const personName = z.string().trim().min(1).max(100).regex(printable, 'no control characters');
const username = z.string().min(3).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits, ".", "_", "@" and "-" only');
const email = z.email().max(254);
// Bounded before hashing; the policy then counts code points (passwordMaxLength).
const password = z.string().min(1).max(passwordMaxUtf16Units);
const groupIds = z.array(recordId).max(100);
const idParams = z.object({ id: recordId }).strict();

const user = z
  .object({
    id: z.uuid(),
    firstName: z.string(),
    lastName: z.string(),
    username: z.string(),
    email: z.string(),
    groups: z.array(z.uuid()),
    status: z.enum(['active', 'disabled']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

type User = z.infer<typeof user>;

function toUser(row: UserRecord, groups: readonly string[]): User {
  return {
    id: row.id,
    firstName: row.firstName,
    lastName: row.lastName,
    username: row.username,
    email: row.email,
    groups: [...groups],
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const listUsersQuery = listQuery
  .extend({
    username: z.string().min(1).max(64).optional(),
    email: z.string().min(1).max(254).optional(),
    group: recordId.optional(),
  })
  .strict()
  .refine((q) => q.cursor === undefined || q.page === 1, { message: 'use either page or cursor', path: ['cursor'] });

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

export function usersRoutes(deps: IdentityDeps): AnyRoute[] {
  const setStatusRoute = (status: 'active' | 'disabled', verb: 'enable' | 'disable') =>
    defineRoute({
      method: 'post',
      path: `/v1/users/{id}/${verb}`,
      summary: verb === 'disable' ? 'Disable a user: sign-in refused and every token issued so far revoked' : 'Enable a disabled user',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'patch' },
      params: idParams,
      responses: { 200: { description: 'The user', schema: user } },
      async handler({ params, caller, requestId, req }) {
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findUser(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          if (current.builtin && status === 'disabled') throw new ServiceError('BUILTIN_READ_ONLY', { message: 'a built-in user cannot be disabled' });
          const groups = await groupIdsOfUser(tx.client, tx.tenantId, params.id);
          const updated = await setUserStatus(tx.client, tx.tenantId, params.id, status);
          // An enable revives nothing: the sessions a disable ended stay ended.
          if (status === 'disabled') await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'user_disabled');
          tx.audit({ action: `user.${verb}`, targetType: 'user', targetId: current.id, before: toUser(current, groups), after: toUser(updated, groups) });
          return { row: updated, view: toUser(updated, groups) };
        });
        return { body: value.view, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/users',
      summary: 'Create a user (password stored as argon2id) and set its groups',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'post' },
      body: z.object({ firstName: personName, lastName: personName, username, email, password, groups: groupIds.default([]) }).strict(),
      responses: { 201: { description: 'Created', schema: user } },
      async handler({ body, caller, requestId }) {
        assertPasswordPolicy(body.password, body.username, 'body.password');
        const groups = uniqueSorted(body.groups);
        const passwordHash = await deps.passwords.hash(body.password);
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          await assertGroupsExist(tx, groups);
          await assertWithinLicense(deps, tx.client, 'users');
          let row: UserRecord;
          try {
            row = await insertUser(tx.client, tx.tenantId, {
              username: body.username,
              usernameCanonical: canonicalName(body.username),
              email: body.email,
              emailCanonical: canonicalName(body.email),
              firstName: body.firstName,
              lastName: body.lastName,
              passwordHash,
            });
          } catch (error) {
            throw takenError(error);
          }
          await addMemberships(tx.client, tx.tenantId, row.id, groups);
          tx.policy(...memberLines('add', row.id, groups, tx.tenantId));
          const view = toUser(row, groups);
          tx.audit({ action: 'user.create', targetType: 'user', targetId: row.id, after: view });
          return { row, view };
        });
        return { status: 201, body: value.view, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/users',
      summary: 'List users: filter by username prefix, e-mail or group; `page` or keyset `cursor` (order: username, id)',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'get' },
      query: listUsersQuery,
      responses: { 200: { description: 'A page of users', schema: listPageSchema(user) } },
      async handler({ query, caller }) {
        const filter = {
          usernamePrefix: query.username === undefined ? undefined : canonicalName(query.username),
          emailCanonical: query.email === undefined ? undefined : canonicalName(query.email),
          groupId: query.group,
        };
        const { rows, total, hasMore } = await listUsers(deps.pool, caller.tenantId, filter, pageStartOf(query));
        const groups = await groupIdsOfUsers(deps.pool, caller.tenantId, rows.map((row) => row.id));
        return {
          body: {
            items: rows.map((row) => toUser(row, groups.get(row.id) ?? [])),
            page: query.page,
            limit: query.limit,
            total,
            ...(hasMore ? nextCursorOf(rows, query.limit, (row) => row.usernameCanonical) : {}),
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/users/{id}',
      summary: 'Get a user',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The user', schema: user } },
      async handler({ params, caller }) {
        const row = await findUser(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        const groups = await groupIdsOfUser(deps.pool, caller.tenantId, row.id);
        return { body: toUser(row, groups), headers: { ETag: etagOf(row.version) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/users/{id}',
      summary: 'Change a user’s names, e-mail or groups (If-Match for optimistic concurrency)',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'patch' },
      params: idParams,
      body: z
        .object({ firstName: personName.optional(), lastName: personName.optional(), email: email.optional(), groups: groupIds.optional() })
        .strict()
        .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change'),
      responses: { 200: { description: 'The updated user', schema: user } },
      async handler({ params, body, caller, requestId, req }) {
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findUser(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          const currentGroups = await groupIdsOfUser(tx.client, tx.tenantId, params.id);
          let groups = currentGroups;
          if (body.groups !== undefined) {
            groups = uniqueSorted(body.groups);
            await assertGroupsExist(tx, groups);
            const added = groups.filter((id) => !currentGroups.includes(id));
            const removed = currentGroups.filter((id) => !groups.includes(id));
            await removeMemberships(tx.client, tx.tenantId, params.id, removed);
            await addMemberships(tx.client, tx.tenantId, params.id, added);
            tx.policy(...memberLines('remove', current.id, removed, tx.tenantId), ...memberLines('add', current.id, added, tx.tenantId));
          }
          let updated: UserRecord;
          try {
            updated = await updateUser(tx.client, tx.tenantId, params.id, {
              firstName: body.firstName,
              lastName: body.lastName,
              email: body.email === undefined ? undefined : { value: body.email, canonical: canonicalName(body.email) },
            });
          } catch (error) {
            throw takenError(error);
          }
          const view = toUser(updated, groups);
          tx.audit({ action: 'user.update', targetType: 'user', targetId: current.id, before: toUser(current, currentGroups), after: view });
          return { row: updated, view };
        });
        return { body: value.view, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/users/{id}',
      summary: 'Delete a user, its memberships and every policy line naming it as subject (direct grants too)',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          // FOR UPDATE before the memberships are read: a concurrent member add (which share-locks the user)
          // either committed before, and its row and line are seen below, or waits and then finds no user.
          const current = await findUser(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          if (current.builtin) throw new ServiceError('BUILTIN_READ_ONLY', { message: 'a built-in user cannot be deleted' });
          const groups = await removeAllMemberships(tx.client, tx.tenantId, current.id);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'user_deleted');
          await deleteUser(tx.client, tx.tenantId, current.id);
          await tx.removeSubjectLines(subjects.user(current.id));
          tx.audit({ action: 'user.delete', targetType: 'user', targetId: current.id, before: toUser(current, groups) });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
      },
    }),
    setStatusRoute('disabled', 'disable'),
    setStatusRoute('active', 'enable'),
    defineRoute({
      method: 'patch',
      path: '/v1/users/{id}/update-password',
      summary: 'Change one’s own password (the current one required); revokes every token issued before',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'update-password', action: 'patch' },
      params: idParams,
      body: z.object({ oldPassword: password, newPassword: password }).strict(),
      responses: { 204: { description: 'Changed' } },
      async handler({ params, body, caller, requestId, req }) {
        const target = await findUser(deps.pool, caller.tenantId, params.id);
        if (!target) throw new ServiceError('NOT_FOUND');
        if (caller.kind !== 'user' || caller.id !== target.id) {
          throw new ServiceError('FORBIDDEN', { message: 'only the user may change its own password; an administrator resets it', detail: `${caller.subject} changing ${target.id}` });
        }
        assertPasswordPolicy(body.newPassword, target.username, 'body.newPassword');
        // The current password is checked here, so this is a place to guess it: the sign-in lockout applies.
        await assertPasswordChangeNotLocked(deps, target.username);
        const storedHash = await passwordHashOf(deps.pool, caller.tenantId, target.id);
        if (!(await deps.passwords.verify(storedHash, body.oldPassword))) {
          await countWrongCurrentPassword(deps, caller, target, requestId);
          throw new ServiceError('WRONG_PASSWORD', { field: 'body.oldPassword', detail: 'old password does not verify' });
        }
        // Hashed outside the transaction: no row lock or connection is held while argon2 runs.
        const newHash = await deps.passwords.hash(body.newPassword);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findUser(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          // The password proven above must still be the current one (a concurrent change wins, this one fails).
          if ((await passwordHashOf(tx.client, tx.tenantId, params.id)) !== storedHash) {
            throw new ServiceError('WRONG_PASSWORD', { field: 'body.oldPassword', detail: 'password changed concurrently' });
          }
          const updated = await setPasswordHash(tx.client, tx.tenantId, params.id, newHash);
          await clearPasswordFailures(tx.client, current.username);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'password_change');
          tx.audit({ action: 'user.update-password', targetType: 'user', targetId: current.id });
          return updated;
        });
        return { status: 204, headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/users/{id}/reset-password',
      summary: 'Set a user’s password (administrator); revokes every token issued before',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'reset-password', action: 'patch' },
      params: idParams,
      body: z.object({ newPassword: password }).strict(),
      responses: { 204: { description: 'Reset' } },
      async handler({ params, body, caller, requestId, req }) {
        const target = await findUser(deps.pool, caller.tenantId, params.id);
        if (!target) throw new ServiceError('NOT_FOUND');
        assertPasswordPolicy(body.newPassword, target.username, 'body.newPassword');
        const newHash = await deps.passwords.hash(body.newPassword);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findUser(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          // Whoever sets the password signs in as the user: it must hold what the user holds.
          await assertMayChangeCredentials(deps, tx.policyTransaction, caller, { subject: subjects.user(current.id), builtin: current.builtin });
          const updated = await setPasswordHash(tx.client, tx.tenantId, params.id, newHash);
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: current.id }, 'password_reset');
          tx.audit({ action: 'user.reset-password', targetType: 'user', targetId: current.id });
          return updated;
        });
        return { status: 204, headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
