import { z } from 'zod';
import { maxRedirectUris, redirectUriProblem } from '../../domain/redirect-uri.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { applicationName, permissionEntry, recordDescription, recordId } from '../record-fields.js';
import { revisionHeaders } from '../write-transaction.js';
import { applicationView, applicationWithSecret, permissionSetView } from './application-view.js';
import { applicationsService } from './applications-service.js';

const idParams = z.object({ id: recordId }).strict();

/** Most lines one application's permission set may hold (the whole set is replaced at once). */
const maxPermissionsPerSet = 500;

/** The exact redirect URIs the hosted sign-in may send this application's codes to. */
const redirectUris = z
  .array(
    z.string().superRefine((uri, ctx) => {
      const problem = redirectUriProblem(uri);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `redirect URI: ${problem}` });
    }),
  )
  .max(maxRedirectUris)
  .refine((uris) => new Set(uris).size === uris.length, 'each redirect URI once')
  .meta({
    description: `Where the hosted sign-in may send authorization codes, compared character for character: absolute https URIs, or http on a loopback host (127.0.0.1, [::1], localhost); no fragment, no user information; at most ${maxRedirectUris}`,
  });

// An answer carrying a secret is never stored by a cache (RFC 9111 5.2.2.5).
const secretHeaders = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** The routes of applications and their permission sets (see applicationsService). */
export function applicationsRoutes(deps: IdentityDeps): AnyRoute[] {
  const applications = applicationsService(deps);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/applications',
      summary: 'Create an application; its client secret is in this answer only (a public client has none)',
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'post' },
      body: z
        .object({
          name: applicationName,
          description: recordDescription.default(''),
          redirectUris: redirectUris.default([]),
          publicClient: z.boolean().default(false).meta({ description: 'A browser or native app: no client secret is issued; it signs people in with PKCE alone' }),
        })
        .strict(),
      responses: { 201: { description: 'Created, with the client secret (shown once; none for a public client)', schema: z.union([applicationWithSecret, applicationView]) } },
      async handler({ body, caller, requestId }) {
        const { clientSecret, ...created } = await applications.create({ caller, requestId }, body);
        return {
          status: 201,
          body: { ...created.view, ...(clientSecret === undefined ? {} : { clientSecret }) },
          headers: { ...changedHeaders(created), ...secretHeaders },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/applications',
      summary: "List the organization's applications (never their secrets)",
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of applications', schema: listPageSchema(applicationView) } },
      async handler({ query, caller }) {
        const { items, rows, total } = await applications.list(caller.tenantId, pageStartOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.name) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/applications/{id}',
      summary: 'Get an application (never its secret)',
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The application', schema: applicationView } },
      async handler({ params, caller }) {
        const { view, version } = await applications.get(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/applications/{id}',
      summary: "Change an application's description or redirect URIs (If-Match for optimistic concurrency)",
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: idParams,
      body: z
        .object({ description: recordDescription.optional(), redirectUris: redirectUris.optional() })
        .strict()
        .refine((b) => b.description !== undefined || b.redirectUris !== undefined, 'nothing to change'),
      responses: { 200: { description: 'The updated application', schema: applicationView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await applications.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/applications/{id}',
      summary: 'Delete an application, its permission set and every policy line naming it or its set as subject (direct grants too)',
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const deleted = await applications.delete({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { status: 204, headers: revisionHeaders(deleted.policyRevision) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/applications/{id}/rotate-secret',
      summary: 'Issue a new client secret (shown once); the old secret and every token issued before stop working',
      tags: ['applications'],
      auth: 'token',
      // Rotation changes the application's credentials: an update of it.
      permission: { resource: 'applications', action: 'patch' },
      params: idParams,
      responses: { 200: { description: 'The application with its new client secret (shown once)', schema: applicationWithSecret } },
      async handler({ params, caller, requestId, req }) {
        const { clientSecret, ...rotated } = await applications.rotateSecret({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { body: { ...rotated.view, clientSecret }, headers: { ...changedHeaders(rotated), ...secretHeaders } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/applications/{id}/permissions',
      summary: "The application's permission set",
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The permission set', schema: permissionSetView } },
      async handler({ params, caller }) {
        const { view, version } = await applications.permissions(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/applications/{id}/permissions',
      summary: "Replace the application's permission set (If-Match for optimistic concurrency)",
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: idParams,
      body: z
        .object({
          permissions: z
            .array(permissionEntry)
            .max(maxPermissionsPerSet)
            .meta({ description: `The whole permission set, one entry per (resource, action, effect); duplicates count once; at most ${maxPermissionsPerSet}` }),
        })
        .strict(),
      responses: { 200: { description: 'The new permission set', schema: permissionSetView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await applications.replacePermissions({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body.permissions);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
  ];
}
