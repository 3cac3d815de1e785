import { z } from 'zod';
import { passwordMaxUtf16Units } from '../../domain/password-policy.js';
import { e164Pattern } from '../../domain/phone-number.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { recordId } from '../record-fields.js';
import { revisionHeaders } from '../write-transaction.js';
import { userView } from './user-view.js';
import { usersService } from './users-service.js';

// Control characters, lone surrogates and bidi overrides/isolates have no place in a person's name: they
// corrupt logs and consoles or spoof the text around them.
const printable = /^[^\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u;
const personName = z.string().trim().min(1).max(100).regex(printable, 'no control characters');
const username = z.string().min(3).max(64).regex(/^[A-Za-z0-9._@-]+$/, 'letters, digits, ".", "_", "@" and "-" only');
const email = z.email().max(254);
// Bounded before hashing; the policy then counts code points (passwordMaxLength).
const password = z.string().min(1).max(passwordMaxUtf16Units);
const groupIds = z.array(recordId).max(100);
const idParams = z.object({ id: recordId }).strict();
const phoneNumber = z.string().regex(e164Pattern, 'an E.164 phone number such as +15551234567').meta({ description: 'E.164, for codes sent by SMS; reads show it masked' });

const listUsersQuery = listQuery
  .extend({
    username: z.string().min(1).max(64).optional(),
    email: z.string().min(1).max(254).optional(),
    group: recordId.optional(),
  })
  .strict()
  .refine((q) => q.cursor === undefined || q.page === 1, { message: 'use either page or cursor', path: ['cursor'] });

export function usersRoutes(deps: IdentityDeps): AnyRoute[] {
  const users = usersService(deps);
  const setStatusRoute = (status: 'active' | 'disabled', verb: 'enable' | 'disable') =>
    defineRoute({
      method: 'post',
      path: `/v1/users/{id}/${verb}`,
      summary: verb === 'disable' ? 'Disable a user: sign-in refused and every token issued so far revoked' : 'Enable a disabled user',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'patch' },
      params: idParams,
      responses: { 200: { description: 'The user', schema: userView } },
      async handler({ params, caller, requestId, req }) {
        const changed = await users.setStatus({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, status);
        return { body: changed.view, headers: changedHeaders(changed) };
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
      body: z.object({ firstName: personName, lastName: personName, username, email, phoneNumber: phoneNumber.optional(), password, groups: groupIds.default([]) }).strict(),
      responses: { 201: { description: 'Created', schema: userView } },
      async handler({ body, caller, requestId }) {
        const created = await users.create({ caller, requestId }, body);
        return { status: 201, body: created.view, headers: changedHeaders(created) };
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
      responses: { 200: { description: 'A page of users', schema: listPageSchema(userView) } },
      async handler({ query, caller }) {
        const { items, rows, total, hasMore } = await users.list(caller.tenantId, query, pageStartOf(query));
        return {
          body: { items, page: query.page, limit: query.limit, total, ...(hasMore ? nextCursorOf(rows, query.limit, (row) => row.usernameCanonical) : {}) },
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
      responses: { 200: { description: 'The user', schema: userView } },
      async handler({ params, caller }) {
        const { view, version } = await users.get(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/users/{id}',
      summary: 'Change a user’s names, e-mail, phone number (null removes it) or groups (If-Match for optimistic concurrency)',
      tags: ['users'],
      auth: 'token',
      permission: { resource: 'users', action: 'patch' },
      params: idParams,
      body: z
        .object({ firstName: personName.optional(), lastName: personName.optional(), email: email.optional(), phoneNumber: phoneNumber.nullable().optional(), groups: groupIds.optional() })
        .strict()
        .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change'),
      responses: { 200: { description: 'The updated user', schema: userView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await users.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
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
        const deleted = await users.delete({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { status: 204, headers: revisionHeaders(deleted.policyRevision) };
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
        const changed = await users.changeOwnPassword({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body.oldPassword, body.newPassword);
        return { status: 204, headers: changedHeaders(changed) };
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
        const changed = await users.resetPassword({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body.newPassword);
        return { status: 204, headers: changedHeaders(changed) };
      },
    }),
  ];
}
