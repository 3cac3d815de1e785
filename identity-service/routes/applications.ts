import { z } from 'zod';
import { isResourcePattern, maxNameLength } from '../../engine/index.js';
import { isPlainName } from '../../engine/policy-names.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import { generateClientId, generateClientSecret, hashClientSecret } from '../client-secret.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { decodeCursor, encodeCursor, listPageSchema, listQuery } from '../list-query.js';
import { linkLine, permissionLine, subjects } from '../policy/policy-lines.js';
import {
  deleteApplication,
  deleteApplicationPermissions,
  findApplication,
  insertApplication,
  insertApplicationPermissions,
  listApplicationPermissions,
  listApplications,
  replaceClientSecret,
  touchApplication,
  updateApplication,
  type ApplicationPermission,
  type ApplicationRow,
} from '../store/applications-store.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

/** The product slug (`midaz`): also the `{slug}` a product declares its permissions under. */
export const applicationName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a product slug: lowercase letters, digits and -, at most 63');
const description = z.string().trim().max(1000);
const idParams = z.object({ id: z.uuid() }).strict();

/** An engine action: a plain verb (`get`, `post`, ...) or `*`. */
export const permissionAction = z
  .string()
  .min(1)
  .max(64)
  .refine((value) => value === '*' || isPlainName(value), 'an action is * or letters, digits and _ . : @ -');

const permissionResource = z
  .string()
  .min(1)
  .max(maxNameLength)
  .refine(isResourcePattern, 'a resource is * or segments of letters, digits and _ . : @ - separated by /, optionally ending in * or /*');

const effect = z.enum(['allow', 'deny']);

const permissionGrant = z
  .object({ resource: permissionResource, actions: z.array(permissionAction).min(1).max(32), effect: effect.default('allow') })
  .strict()
  .meta({ id: 'ApplicationPermission' });

const permissionSet = z
  .object({ applicationId: z.uuid(), permissions: z.array(permissionGrant) })
  .meta({ id: 'ApplicationPermissionSet', description: 'What the application may do: resource → actions, allow or deny (deny overrides allow)' });

const application = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    clientId: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Application' });

const applicationWithSecret = application
  .extend({ clientSecret: z.string().meta({ description: 'Shown only in this answer; only its hash is stored' }) })
  .meta({ id: 'ApplicationWithSecret' });

function toApplication(row: ApplicationRow): z.infer<typeof application> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    clientId: row.client_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

// An answer carrying a secret is never stored by a cache (RFC 9111 5.2.2.5).
const secretHeaders = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

const permissionKey = (p: ApplicationPermission) => JSON.stringify([p.resource, p.action, p.effect]);

/** One line per (resource, action, effect), duplicates dropped. */
function flatten(grants: readonly z.infer<typeof permissionGrant>[]): ApplicationPermission[] {
  const byKey = new Map<string, ApplicationPermission>();
  for (const grant of grants) {
    for (const action of grant.actions) {
      const permission = { resource: grant.resource, action, effect: grant.effect };
      byKey.set(permissionKey(permission), permission);
    }
  }
  return [...byKey.values()];
}

/** The stored lines as `resource → actions` per effect, in a stable order. */
function toPermissionSet(applicationId: string, permissions: readonly ApplicationPermission[]): z.infer<typeof permissionSet> {
  const grouped = new Map<string, { resource: string; actions: string[]; effect: ApplicationPermission['effect'] }>();
  for (const p of permissions) {
    const key = JSON.stringify([p.resource, p.effect]);
    const entry = grouped.get(key) ?? { resource: p.resource, actions: [], effect: p.effect };
    entry.actions.push(p.action);
    grouped.set(key, entry);
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const entries = [...grouped.values()].map((e) => ({ ...e, actions: e.actions.sort(order) }));
  entries.sort((a, b) => order(a.resource, b.resource) || order(a.effect, b.effect));
  return { applicationId, permissions: entries };
}

function notFoundOrBuiltin(row: ApplicationRow | undefined, change: string): ApplicationRow {
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
      summary: 'Create an application; its client secret is in this answer only',
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'post' },
      body: z.object({ name: applicationName, description: description.default('') }).strict(),
      responses: { 201: { description: 'Created, with the client secret (shown once)', schema: applicationWithSecret } },
      async handler({ body, caller, requestId }) {
        const clientSecret = generateClientSecret();
        const clientSecretHash = await hashClientSecret(deps.passwords, clientSecret);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          try {
            const created = await insertApplication(tx.client, tx.tenantId, { name: body.name, description: body.description, clientId: generateClientId(), clientSecretHash });
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
          body: { ...toApplication(row), clientSecret },
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
        const afterName = query.cursor === undefined ? undefined : decodeCursor(query.cursor).sortValue;
        const { rows, total } = await listApplications(deps.pool, caller.tenantId, { limit: query.limit, offset: (query.page - 1) * query.limit, afterName });
        const last = rows[rows.length - 1];
        return {
          body: {
            items: rows.map(toApplication),
            page: query.page,
            limit: query.limit,
            total,
            ...(last && rows.length === query.limit ? { nextCursor: encodeCursor(last.name, last.id) } : {}),
          },
        };
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
      summary: "Change an application's description (If-Match for optimistic concurrency)",
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: idParams,
      body: z
        .object({ description: description.optional() })
        .strict()
        .refine((b) => b.description !== undefined, 'nothing to change'),
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
      summary: 'Delete an application, its permission set and every policy line of it',
      tags: ['applications'],
      auth: 'token',
      permission: { resource: 'applications', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = notFoundOrBuiltin(await findApplication(tx.client, tx.tenantId, params.id, true), 'lifecycle');
          assertVersion(req, current.version);
          const permissions = await listApplicationPermissions(tx.client, tx.tenantId, current.id);
          await deleteApplication(tx.client, tx.tenantId, current.id);
          const set = subjects.permissionSet(current.id);
          tx.policy(
            linkLine('remove', subjects.app(current.id), set, tx.tenantId),
            ...permissions.map((p) => permissionLine('remove', set, tx.tenantId, p.resource, p.action, p.effect)),
          );
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
        // Built-in applications may rotate too: credential hygiene must not wait for a redeploy.
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findApplication(tx.client, tx.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          const rotated = await replaceClientSecret(tx.client, tx.tenantId, current.id, clientSecretHash);
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
      body: z.object({ permissions: z.array(permissionGrant).max(500) }).strict(),
      responses: { 200: { description: 'The new permission set', schema: permissionSet } },
      async handler({ params, body, caller, requestId, req }) {
        const wanted = flatten(body.permissions);
        if (wanted.length > 2000) throw new ServiceError('VALIDATION_FAILED', { message: 'body.permissions: at most 2000 resource/action pairs', field: 'body.permissions' });
        const { value, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = notFoundOrBuiltin(await findApplication(tx.client, tx.tenantId, params.id, true), 'permission set');
          assertVersion(req, current.version);
          const before = await listApplicationPermissions(tx.client, tx.tenantId, current.id);
          const wantedKeys = new Set(wanted.map(permissionKey));
          const beforeKeys = new Set(before.map(permissionKey));
          const removed = before.filter((p) => !wantedKeys.has(permissionKey(p)));
          const added = wanted.filter((p) => !beforeKeys.has(permissionKey(p)));
          await deleteApplicationPermissions(tx.client, tx.tenantId, current.id, removed);
          await insertApplicationPermissions(tx.client, tx.tenantId, current.id, added);
          const set = subjects.permissionSet(current.id);
          tx.policy(
            ...removed.map((p) => permissionLine('remove', set, tx.tenantId, p.resource, p.action, p.effect)),
            ...added.map((p) => permissionLine('add', set, tx.tenantId, p.resource, p.action, p.effect)),
          );
          const row = removed.length + added.length > 0 ? await touchApplication(tx.client, tx.tenantId, current.id) : current;
          const after = toPermissionSet(current.id, await listApplicationPermissions(tx.client, tx.tenantId, current.id));
          if (row !== current) {
            tx.audit({ action: 'application.permissions.replace', targetType: 'application', targetId: current.id, before: toPermissionSet(current.id, before), after });
          }
          return { row, after };
        });
        return { body: value.after, headers: { ETag: etagOf(value.row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
