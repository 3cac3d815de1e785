import { z } from 'zod';
import { baseEndpoint, hostName, httpEndpoint, messageText, portNumber, providerCategories, providerKinds, providerTypes, secretText, sendGridSettings, smtpSettings, textLine, twilioSettings, webhookSettings } from '../../messaging/index.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { etagOf, expectedVersion } from '../etag.js';
import { listPageSchema, listQuery } from '../list-query.js';
import { changedHeaders } from '../record-change.js';
import { revisionHeaders } from '../write-transaction.js';
import { nextCursor, pageOf } from './provider-pages.js';
import { providerView } from './provider-view.js';
import { providersService } from './providers-service.js';

const name = textLine(100, { trim: true });
const idParams = z.object({ id: z.uuid() }).strict();

const createBody = z.discriminatedUnion('type', [
  smtpSettings.extend({ name, category: z.literal('Email'), type: z.literal('SMTP'), clientSecret: providerKinds.SMTP.secret.optional() }),
  webhookSettings.extend({ name, category: z.enum(providerCategories), type: z.literal('Webhook'), clientSecret: providerKinds.Webhook.secret.optional() }),
  sendGridSettings.extend({ name, category: z.literal('Email'), type: z.literal('SendGrid'), clientSecret: providerKinds.SendGrid.secret }),
  twilioSettings.extend({ name, category: z.literal('SMS'), type: z.literal('Twilio'), clientSecret: providerKinds.Twilio.secret }),
]);

// Field forms are checked here; which fields a type takes, and their finer forms, against the stored type.
const patchBody = z
  .object({
    name: name.optional(),
    category: z.enum(providerCategories).optional(),
    type: z.enum(providerTypes).optional(),
    clientId: textLine(256).nullable().optional(),
    clientSecret: secretText.nullable().optional(),
    host: hostName.optional(),
    port: portNumber.optional(),
    disableSsl: z.boolean().optional(),
    from: textLine(254).optional(),
    url: httpEndpoint.optional(),
    baseUrl: baseEndpoint.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

const testBody = z.object({ to: z.string().min(1).max(254), text: messageText.max(1_000).optional() }).strict();

/** The routes of communication providers (Email, SMS) and their test action (see providersService). */
export function providersRoutes(deps: IdentityDeps): AnyRoute[] {
  const providers = providersService(deps);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/providers',
      summary: 'Create a communication provider (SMTP, Webhook, SendGrid, Twilio)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'post' },
      body: createBody,
      responses: { 201: { description: 'Created; the secret is never returned', schema: providerView } },
      async handler({ body, caller, requestId }) {
        const { name: providerName, category, type, clientSecret, ...settings } = body;
        const created = await providers.create({ caller, requestId }, { name: providerName, category, type, clientSecret, settings });
        return { status: 201, body: created.view, headers: changedHeaders(created) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/providers',
      summary: 'List the providers of the caller’s organization (by name)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'get' },
      query: listQuery,
      responses: { 200: { description: 'A page of providers', schema: listPageSchema(providerView) } },
      async handler({ query, caller }) {
        const { items, rows, total } = await providers.list(caller.tenantId, pageOf(query));
        return { body: { items, page: query.page, limit: query.limit, total, ...nextCursor(rows, query.limit, (r) => [r.name, r.id]) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/providers/{id}',
      summary: 'Get a provider',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'get' },
      params: idParams,
      responses: { 200: { description: 'The provider', schema: providerView } },
      async handler({ params, caller }) {
        const { view, version } = await providers.get(caller.tenantId, params.id);
        return { body: view, headers: { ETag: etagOf(version) } };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/providers/{id}',
      summary: 'Change a provider’s name, settings or secret (category and type are fixed; If-Match for optimistic concurrency)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'patch' },
      params: idParams,
      body: patchBody,
      responses: { 200: { description: 'The updated provider', schema: providerView } },
      async handler({ params, body, caller, requestId, req }) {
        const changed = await providers.update({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id, body);
        return { body: changed.view, headers: changedHeaders(changed) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/providers/{id}',
      summary: 'Delete a provider and its application links (If-Match for optimistic concurrency)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'delete' },
      params: idParams,
      responses: { 204: { description: 'Deleted' } },
      async handler({ params, caller, requestId, req }) {
        const deleted = await providers.delete({ caller, requestId, expectedVersion: expectedVersion(req) }, params.id);
        return { status: 204, headers: revisionHeaders(deleted.policyRevision) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/providers/{id}/test',
      summary: 'Send a test message through a provider',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'post' },
      params: idParams,
      body: testBody,
      responses: { 200: { description: 'The provider accepted the message', schema: z.object({ delivered: z.literal(true) }) } },
      async handler({ params, body, caller, requestId }) {
        await providers.test({ caller, requestId }, params.id, body);
        return { body: { delivered: true } };
      },
    }),
  ];
}
