import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import { generateClientId, generateClientSecret, hashClientSecret } from '../../domain/client-secret.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { listPageSchema, listQuery, nextCursorOf, pageStartOf } from '../list-query.js';
import { isEmptyDiff, permissionDiff, permissionDiffLines, toPermission } from '../../domain/permission-diff.js';
import { linkLine, subjects } from '../../domain/policy-lines.js';
import { applicationName, permissionEntry, recordDescription, recordId } from '../record-fields.js';
import {
  deleteApplication,
  findApplication,
  insertApplication,
  listApplications,
  replaceClientSecret,
  touchApplication,
  updateApplication,
  type Application,
} from '../../directory/applications.js';
import {
  deleteApplicationPermissions,
  insertApplicationPermissions,
  listApplicationPermissions,
  type ApplicationPermission,
} from '../store/application-permissions-store.js';
import { assertMayChangeCredentials } from '../no-escalation.js';
import { maxRedirectUris, redirectUriProblem } from '../../domain/redirect-uri.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

const idParams = z.object({ id: recordId }).strict();

/** Most lines one application's permission set may hold (the whole set is replaced at once). */
const maxPermissionsPerSet = 500;

const permissionSet = z
  .object({ applicationId: z.uuid(), permissions: z.array(permissionEntry) })
  .meta({ id: 'ApplicationPermissionSet', description: 'What the application may do: one entry per policy line, allow or deny (deny overrides allow)' });

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

const application = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    clientId: z.string(),
    redirectUris: z.array(z.string()),
    publicClient: z.boolean().meta({ description: 'No client secret: a browser or native app that proves itself with PKCE alone' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Application' });

const applicationWithSecret = application
  .extend({ clientSecret: z.string().meta({ description: 'Shown only in this answer; only its hash is stored' }) })
  .meta({ id: 'ApplicationWithSecret' });

function toApplication(row: Application): z.infer<typeof application> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    clientId: row.clientId,
    redirectUris: row.redirectUris,
    publicClient: row.publicClient,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

// An answer carrying a secret is never stored by a cache (RFC 9111 5.2.2.5).
const secretHeaders = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** The stored lines, one entry each, in the store's (resource, action, effect) order. */
function toPermissionSet(applicationId: string, permissions: readonly ApplicationPermission[]): z.infer<typeof permissionSet> {
  return { applicationId, permissions: permissions.map(toPermission) };
}

function notFoundOrBuiltin(row: Application | undefined, change: string): Application {
  if (!row) throw new ServiceError('NOT_FOUND');
  if (row.builtin) throw new ServiceError('BUILTIN_READ_ONLY', { message: `a built-in application's ${change} is managed by the bootstrap reconciler` });
  return row;
}

/**
 * Applications (products and machine clients) and their permission sets. Each application `app:<id>` holds
 * its own permission set `pset:<id>` (`g, app:<id>, pset:<id>, <tenant>`); the set's lines are
 * `p, pset:<id>, <tenant>, <resource>, <action>, <effect>`, kept in step with `application_permissions`.
 */
export function applicationsRoutes(deps: IdentityDeps): AnyRoute[] {
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
      responses: { 201: { description: 'Created, with the client secret (shown once; none for a public client)', schema: z.union([applicationWithSecret, application]) } },
      async handler({ body, caller, requestId }) {
        const clientSecret = body.publicClient ? undefined : generateClientSecret();
        const clientSecretHash = clientSecret === undefined ? null : await hashClientSecret(deps.passwords, clientSecret);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          try {
            const created = await insertApplication(tx.client, tx.tenantId, {
              name: body.name,
              description: body.description,
              clientId: generateClientId(),
              clientSecretHash,
              redirectUris: body.redirectUris,
            });
            tx.policy(linkLine('add', subjects.app(created.id), subjects.permissionSet(created.id), tx.tenantId));
            tx.audit({ action: 'application.create', targetType: 'application', targetId: created.id, after: toApplication(created) });
            return created;
          } catch (error) {
            const constraint = uniqueViolation(error);
            if (constraint === 'applications_client_id_key') throw new ServiceError('CLIENT_ID_TAKEN', { message: 'a generated client id collided; try again' });
            if (constraint) throw new ServiceError('NAME_TAKEN', { message: 'an application with this name exists', field: 'body.name' });
            throw error;
          }
        });
        return {
          status: 201,
          body: { ...toApplication(row), ...(clientSecret === undefined ? {} : { clientSecret }) },
          headers: { ETag: etagOf(row.version), ...secretHeaders, ...revisionHeaders(policyRevision) },
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
      responses: { 200: { description: 'A page of applications', schema: listPageSchema(application) } },
      async handler({ query, caller }) {
        const { rows, total } = await listApplications(deps.pool, caller.tenantId, pageStartOf(query));
        return { body: { items: rows.map(toApplication), page: query.page, limit: query.limit, total, ...nextCursorOf(rows, query.limit, (row) => row.name) } };
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
      responses: { 200: { description: 'The application', schema: application } },
      async handler({ params, caller }) {
        const row = await findApplication(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        return { body: toApplication(row), headers: { ETag: etagOf(row.version) } };
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
      responses: { 200: { description: 'The updated application', schema: application } },
      async handler({ params, body, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = notFoundOrBuiltin(await findApplication(tx.client, tx.tenantId, params.id, true), 'description');
          assertVersion(req, current.version);
          const updated = await updateApplication(tx.client, tx.tenantId, current.id, body);
          tx.audit({ action: 'application.update', targetType: 'application', targetId: current.id, before: toApplication(current), after: toApplication(updated) });
          return updated;
        });
        return { body: toApplication(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = notFoundOrBuiltin(await findApplication(tx.client, tx.tenantId, params.id, true), 'lifecycle');
          assertVersion(req, current.version);
          await tx.endSessions({ kind: 'application', tenantId: tx.tenantId, applicationId: current.id }, 'application_deleted');
          await deleteApplication(tx.client, tx.tenantId, current.id);
          // Its link to its permission set, the set's lines, and any line granted to `app:<id>` directly.
          await tx.removeSubjectLines(subjects.app(current.id));
          await tx.removeSubjectLines(subjects.permissionSet(current.id));
          tx.audit({ action: 'application.delete', targetType: 'application', targetId: current.id, before: toApplication(current) });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
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
        const clientSecret = generateClientSecret();
        const clientSecretHash = await hashClientSecret(deps.passwords, clientSecret);
        // Built-in applications may rotate too (credential hygiene must not wait for a redeploy), but only by holders
        // of the escalation permission: whoever learns the new secret acts as the product.
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findApplication(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          if (current.publicClient) throw new ServiceError('VALIDATION_FAILED', { message: 'a public client has no secret to rotate' });
          await assertMayChangeCredentials(deps, tx.policyTransaction, caller, { subject: subjects.app(current.id), builtin: current.builtin });
          const rotated = await replaceClientSecret(tx.client, tx.tenantId, current.id, clientSecretHash);
          await tx.endSessions({ kind: 'application', tenantId: tx.tenantId, applicationId: current.id }, 'secret_rotated');
          tx.audit({ action: 'application.rotate-secret', targetType: 'application', targetId: current.id, before: toApplication(current), after: toApplication(rotated) });
          return rotated;
        });
        return { body: { ...toApplication(row), clientSecret }, headers: { ETag: etagOf(row.version), ...secretHeaders, ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'The permission set', schema: permissionSet } },
      async handler({ params, caller }) {
        const row = await findApplication(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        const permissions = await listApplicationPermissions(deps.pool, caller.tenantId, row.id);
        return { body: toPermissionSet(row.id, permissions), headers: { ETag: etagOf(row.version) } };
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
      responses: { 200: { description: 'The new permission set', schema: permissionSet } },
      async handler({ params, body, caller, requestId, req }) {
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = notFoundOrBuiltin(await findApplication(tx.client, tx.tenantId, params.id, true), 'permission set');
          assertVersion(req, current.version);
          const before = await listApplicationPermissions(tx.client, tx.tenantId, current.id);
          const diff = permissionDiff(before, body.permissions);
          await deleteApplicationPermissions(tx.client, tx.tenantId, current.id, diff.removed);
          await insertApplicationPermissions(tx.client, tx.tenantId, current.id, diff.added);
          tx.policy(...permissionDiffLines(subjects.permissionSet(current.id), tx.tenantId, diff));
          if (isEmptyDiff(diff)) return { row: current, after: toPermissionSet(current.id, before) };
          const row = await touchApplication(tx.client, tx.tenantId, current.id);
          const after = toPermissionSet(current.id, await listApplicationPermissions(tx.client, tx.tenantId, current.id));
          tx.audit({ action: 'application.permissions.replace', targetType: 'application', targetId: current.id, before: toPermissionSet(current.id, before), after });
          return { row, after };
        });
        return { body: value.after, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
