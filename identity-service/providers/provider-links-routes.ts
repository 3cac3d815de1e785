import { z } from 'zod';
import { textLine } from '../../messaging/index.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { expectedVersion } from '../etag.js';
import { listPageSchema, listQuery } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { revisionHeaders } from '../write-transaction.js';
import { nextCursor, pageOf } from './provider-pages.js';
import { providerLinksService } from './provider-links-service.js';
import { linkView } from './provider-view.js';

const idParams = z.object({ id: z.uuid() }).strict();
const linkParams = z.object({ id: z.uuid(), providerId: z.uuid() }).strict();
const linkLabel = textLine(100, { trim: true });

const linkBody = z
  .object({
    providerId: z.uuid(),
    canSignIn: z.boolean(),
    canSignUp: z.boolean(),
    canUnlink: z.boolean(),
    prompted: z.boolean(),
    alertType: linkLabel.nullable().optional(),
    rule: linkLabel.nullable().optional(),
  })
  .strict();

const linkPatchBody = z
  .object({
    canSignIn: z.boolean().optional(),
    canSignUp: z.boolean().optional(),
    canUnlink: z.boolean().optional(),
    prompted: z.boolean().optional(),
    alertType: linkLabel.nullable().optional(),
    rule: linkLabel.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

/** The routes of an application's provider links (see providerLinksService). */
export function providerLinksRoutes(deps: IdentityDeps): AnyRoute[] {
  const links = providerLinksService(deps);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/applications/{id}/providers',
      summary: 'List an application’s provider links (by provider name)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'get' },
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'A page of links', schema: listPageSchema(linkView) } },
      async handler({ params, query, caller }) {
        const { items, rows, total } = await links.list(caller.tenantId, params.id, pageOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursor(rows, query.limit, (r) => [r.providerName, r.providerId]) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/applications/{id}/providers',
      summary: 'Link a provider to an application',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: idParams,
      body: linkBody,
      responses: { 201: { description: 'The link', schema: linkView } },
      async handler({ params, body, caller, requestId }) {
        const created = await links.link({ caller, requestId }, params.id, body);
        return { status: 201, body: created.view, headers: changedHeaders(created) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/applications/{id}/providers/{providerId}',
      summary: 'Change a provider link (If-Match for optimistic concurrency)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: linkParams,
      body: linkPatchBody,
      responses: { 200: { description: 'The updated link', schema: linkView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await links.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, params.providerId, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/applications/{id}/providers/{providerId}',
      summary: 'Unlink a provider from an application',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: linkParams,
      responses: { 204: { description: 'Unlinked' } },
      async handler({ params, caller, requestId, req }) {
        const unlinked = await links.unlink({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, params.providerId);
        return { status: 204, headers: revisionHeaders(unlinked.policyRevision) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/applications/{id}/providers/{providerId}/default',
      summary: 'Make a linked provider the application’s default for its category (clears the previous default)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'patch' },
      params: linkParams,
      responses: { 200: { description: 'The link, now the default of its category', schema: linkView } },
      async handler({ params, caller, requestId }) {
        const changed = await links.makeDefault({ caller, requestId }, params.id, params.providerId);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
  ];
}
