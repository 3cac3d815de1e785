import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { sqlStateOf } from '../../engine/adapters/pg-connection-error.js';
import { applicationExists } from '../../directory/applications.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { validateInput } from '../../platform/http/validate-input.js';
import { uniqueViolation } from '../../platform/postgres-transaction.js';
import type { IdentityDeps } from '../deps.js';
import { assertVersion, etagOf } from '../etag.js';
import { decodeCursor, encodeCursor, listPageSchema, listQuery } from '../list-query.js';
import {
  baseEndpoint,
  createMessageSender,
  destinationSettings,
  hostName,
  httpEndpoint,
  MessageSendError,
  messageText,
  parseProviderConfig,
  portNumber,
  providerCategories,
  providerKinds,
  providerTypes,
  recipientOf,
  secretText,
  sendGridSettings,
  smtpSettings,
  textLine,
  twilioSettings,
  webhookSettings,
  type ProviderType,
} from '../../messaging/index.js';
import {
  deleteApplicationProvider,
  findApplicationProvider,
  insertApplicationProvider,
  listApplicationProviders,
  setDefaultProvider,
  updateApplicationProvider,
  type ApplicationProviderRow,
  type LinkFlags,
} from '../store/application-providers-store.js';
import {
  deleteProvider,
  findProvider,
  findProviderCiphertext,
  insertProvider,
  listProviders,
  updateProvider,
  type ProviderRow,
  type SecretChange,
} from '../store/providers-store.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

const name = textLine(100, { trim: true });
const idParams = z.object({ id: z.uuid() }).strict();
const linkParams = z.object({ id: z.uuid(), providerId: z.uuid() }).strict();
const linkLabel = textLine(100, { trim: true });

const provider = z
  .object({
    id: z.uuid(),
    name: z.string(),
    category: z.enum(providerCategories),
    type: z.enum(providerTypes),
    clientId: z.string().optional(),
    host: z.string().optional(),
    port: z.number().int().optional(),
    disableSsl: z.boolean().optional(),
    from: z.string().optional(),
    url: z.string().optional(),
    baseUrl: z.string().optional(),
    /** Whether a secret is stored; the secret itself is write-only. */
    hasSecret: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Provider' });
type Provider = z.infer<typeof provider>;

const createBody = z.discriminatedUnion('type', [
  smtpSettings.extend({ name, category: z.literal('Email'), type: z.literal('SMTP'), clientSecret: providerKinds.SMTP.secret.optional() }),
  webhookSettings.extend({ name, category: z.enum(providerCategories), type: z.literal('Webhook'), clientSecret: providerKinds.Webhook.secret.optional() }),
  sendGridSettings.extend({ name, category: z.literal('Email'), type: z.literal('SendGrid'), clientSecret: providerKinds.SendGrid.secret }),
  twilioSettings.extend({ name, category: z.literal('SMS'), type: z.literal('Twilio'), clientSecret: providerKinds.Twilio.secret }),
]);

const settingKeys = ['clientId', 'host', 'port', 'disableSsl', 'from', 'url', 'baseUrl'] as const;

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

const link = z
  .object({
    applicationId: z.uuid(),
    providerId: z.uuid(),
    providerName: z.string(),
    category: z.enum(providerCategories),
    type: z.enum(providerTypes),
    canSignIn: z.boolean(),
    canSignUp: z.boolean(),
    canUnlink: z.boolean(),
    prompted: z.boolean(),
    alertType: z.string().nullable(),
    rule: z.string().nullable(),
    /** The application's default provider for this category (at most one per category). */
    isDefault: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'ApplicationProvider' });
type Link = z.infer<typeof link>;

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

function toProvider(row: ProviderRow): Provider {
  const s = row.settings;
  const text = (key: string) => (typeof s[key] === 'string' ? { [key]: s[key] as string } : {});
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    type: row.type,
    ...text('clientId'),
    ...text('host'),
    ...(typeof s.port === 'number' ? { port: s.port } : {}),
    ...(typeof s.disableSsl === 'boolean' ? { disableSsl: s.disableSsl } : {}),
    ...text('from'),
    ...text('url'),
    ...text('baseUrl'),
    hasSecret: row.has_secret,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toLink(row: ApplicationProviderRow): Link {
  return {
    applicationId: row.application_id,
    providerId: row.provider_id,
    providerName: row.provider_name,
    category: row.category,
    type: row.type,
    canSignIn: row.can_sign_in,
    canSignUp: row.can_sign_up,
    canUnlink: row.can_unlink,
    prompted: row.prompted,
    alertType: row.alert_type,
    rule: row.rule,
    isDefault: row.is_default,
    createdAt: row.created_at.toISOString(),
  };
}

function invalid(field: string, message: string): ServiceError {
  return new ServiceError('VALIDATION_FAILED', { message: `${field}: ${message}`, field, detail: `${field}: ${message}` });
}

/** A type's secret rules: required where the API cannot work without it; an SMTP password needs its user name. */
function assertSecretRules(type: ProviderType, settings: Record<string, unknown>, hasSecret: boolean): void {
  if (providerKinds[type].secretRequired && !hasSecret) throw invalid('body.clientSecret', `required for ${type}`);
  if (type === 'SMTP' && hasSecret && settings.clientId === undefined) throw invalid('body.clientId', 'the SMTP user name is required with a password');
}

/** Whether an update sends the stored secret somewhere else, or over a weaker connection. */
function redirectsSecret(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  return destinationSettings.some((key) =>
    key === 'disableSsl' ? after.disableSsl === true && before.disableSsl !== true : JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
}

// The row id is bound as associated data: a ciphertext copied to another provider does not open.
function sealSecret(deps: IdentityDeps, providerId: string, clientSecret: string): string {
  return deps.secrets.seal(JSON.stringify({ clientSecret }), providerId);
}

function openSecret(deps: IdentityDeps, providerId: string, sealed: string): string {
  try {
    const opened: unknown = JSON.parse(deps.secrets.open(sealed, providerId));
    const clientSecret = (opened as { clientSecret?: unknown } | null)?.clientSecret;
    if (typeof clientSecret === 'string') return clientSecret;
  } catch {
    // reported below without the reason: it could only be a wrong key or a tampered row
  }
  throw new ServiceError('INTERNAL', { detail: `provider ${providerId}: the stored secret does not open` });
}

function pageOf(query: z.infer<typeof listQuery>): { limit: number; offset: number; afterName: string | undefined } {
  return { limit: query.limit, offset: (query.page - 1) * query.limit, afterName: query.cursor === undefined ? undefined : decodeCursor(query.cursor).sortValue };
}

function nextCursor<T>(rows: readonly T[], limit: number, key: (row: T) => [string, string]): { nextCursor?: string } {
  const last = rows[rows.length - 1];
  return rows.length === limit && last !== undefined ? { nextCursor: encodeCursor(...key(last)) } : {};
}

function linkFlags(current: LinkFlags, changes: Partial<{ [K in keyof LinkFlags]: LinkFlags[K] | undefined }>): LinkFlags {
  return {
    canSignIn: changes.canSignIn ?? current.canSignIn,
    canSignUp: changes.canSignUp ?? current.canSignUp,
    canUnlink: changes.canUnlink ?? current.canUnlink,
    prompted: changes.prompted ?? current.prompted,
    alertType: changes.alertType === undefined ? current.alertType : changes.alertType,
    rule: changes.rule === undefined ? current.rule : changes.rule,
  };
}

const testSubject = 'Access Manager test message';

/**
 * Communication providers (Email, SMS) of the caller's tenant, their test action, and the links between
 * applications and providers. Secrets are sealed with the row id, stored only in `secret_ciphertext` and
 * never answered, audited or logged.
 */
export function providersRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/providers',
      summary: 'Create a communication provider (SMTP, Webhook, SendGrid, Twilio)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'providers', action: 'post' },
      body: createBody,
      responses: { 201: { description: 'Created; the secret is never returned', schema: provider } },
      async handler({ body, caller, requestId }) {
        const { name: providerName, category, type, clientSecret, ...rest } = body;
        const settings = rest as Record<string, unknown>;
        assertSecretRules(type, settings, clientSecret !== undefined);
        const id = randomUUID();
        const secretCiphertext = clientSecret === undefined ? null : sealSecret(deps, id, clientSecret);
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          try {
            const created = await insertProvider(tx.client, { id, orgId: caller.tenantId, name: providerName, category, type, settings, secretCiphertext });
            tx.audit({ action: 'provider.create', targetType: 'provider', targetId: id, after: toProvider(created) });
            return created;
          } catch (error) {
            if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: 'body.name: a provider with this name exists', field: 'body.name' });
            throw error;
          }
        });
        return { status: 201, body: toProvider(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'A page of providers', schema: listPageSchema(provider) } },
      async handler({ query, caller }) {
        const { rows, total } = await listProviders(deps.pool, caller.tenantId, pageOf(query));
        const more = nextCursor(rows, query.limit, (r) => [r.name, r.id]);
        return { body: { items: rows.map(toProvider), page: query.page, limit: query.limit, total, ...more } };
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
      responses: { 200: { description: 'The provider', schema: provider } },
      async handler({ params, caller }) {
        const row = await findProvider(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        return { body: toProvider(row), headers: { ETag: etagOf(row.version) } };
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
      responses: { 200: { description: 'The updated provider', schema: provider } },
      async handler({ params, body, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findProvider(tx.client, caller.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          for (const field of ['category', 'type'] as const) {
            if (body[field] !== undefined && body[field] !== current[field]) {
              throw new ServiceError('PROVIDER_FIELD_IMMUTABLE', { message: `body.${field}: a provider keeps its ${field}; create another provider`, field: `body.${field}` });
            }
          }
          const kind = providerKinds[current.type];
          const merged: Record<string, unknown> = { ...current.settings };
          for (const key of settingKeys) {
            const value = body[key];
            if (value === null) delete merged[key];
            else if (value !== undefined) merged[key] = value;
          }
          const settings = validateInput<Record<string, unknown>>(kind.settings, merged, 'body');
          let secret: SecretChange = { kind: 'keep' };
          let hasSecret = current.has_secret;
          if (body.clientSecret === null) {
            secret = { kind: 'clear' };
            hasSecret = false;
          } else if (body.clientSecret !== undefined) {
            validateInput(z.object({ clientSecret: kind.secret }), { clientSecret: body.clientSecret }, 'body');
            secret = { kind: 'set', ciphertext: sealSecret(deps, current.id, body.clientSecret) };
            hasSecret = true;
          } else if (current.has_secret && redirectsSecret(current.settings, settings)) {
            throw invalid('body.clientSecret', 'send the secret again when changing where or how it is sent');
          }
          assertSecretRules(current.type, settings, hasSecret);
          try {
            const updated = await updateProvider(tx.client, caller.tenantId, current.id, { name: body.name ?? current.name, settings, secret });
            tx.audit({
              action: 'provider.update',
              targetType: 'provider',
              targetId: current.id,
              before: toProvider(current),
              after: { ...toProvider(updated), secretChange: secret.kind },
            });
            return updated;
          } catch (error) {
            if (uniqueViolation(error)) throw new ServiceError('NAME_TAKEN', { message: 'body.name: a provider with this name exists', field: 'body.name' });
            throw error;
          }
        });
        return { body: toProvider(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findProvider(tx.client, caller.tenantId, params.id, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          await deleteProvider(tx.client, caller.tenantId, current.id);
          tx.audit({ action: 'provider.delete', targetType: 'provider', targetId: current.id, before: toProvider(current) });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
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
        const row = await findProvider(deps.pool, caller.tenantId, params.id);
        if (!row) throw new ServiceError('NOT_FOUND');
        const { to } = validateInput(z.object({ to: recipientOf(row.category) }), { to: body.to }, 'body');
        const sealed = await findProviderCiphertext(deps.pool, caller.tenantId, row.id);
        const clientSecret = sealed === undefined ? undefined : openSecret(deps, row.id, sealed);
        const audit = (delivered: boolean) =>
          runWrite(deps, caller, requestId, async (tx) => {
            tx.audit({ action: 'provider.test', targetType: 'provider', targetId: row.id, after: { to, delivered } });
          });
        try {
          const config = parseProviderConfig({ type: row.type, category: row.category, settings: row.settings, clientSecret });
          const sender = createMessageSender(config, { fetch: deps.fetch, nowMs: deps.nowMs });
          await sender.send({ to, subject: testSubject, text: body.text ?? `${testSubject} from provider “${row.name}”.` });
        } catch (error) {
          if (!(error instanceof MessageSendError)) throw error;
          await audit(false);
          if (error.reason === 'misconfigured') throw new ServiceError('INTERNAL', { detail: `provider ${row.id}: ${error.message}` });
          throw new ServiceError('PROVIDER_SEND_FAILED', { detail: `${row.type} provider ${row.id}: ${error.message}`, cause: error });
        }
        await audit(true);
        return { body: { delivered: true } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/applications/{id}/providers',
      summary: 'List an application’s provider links (by provider name)',
      tags: ['providers'],
      auth: 'token',
      permission: { resource: 'applications', action: 'get' },
      params: idParams,
      query: listQuery,
      responses: { 200: { description: 'A page of links', schema: listPageSchema(link) } },
      async handler({ params, query, caller }) {
        if (!(await applicationExists(deps.pool, caller.tenantId, params.id))) throw new ServiceError('NOT_FOUND');
        const { rows, total } = await listApplicationProviders(deps.pool, caller.tenantId, params.id, pageOf(query));
        const more = nextCursor(rows, query.limit, (r) => [r.provider_name, r.provider_id]);
        return { body: { items: rows.map(toLink), page: query.page, limit: query.limit, total, ...more } };
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
      responses: { 201: { description: 'The link', schema: link } },
      async handler({ params, body, caller, requestId }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          if (!(await applicationExists(tx.client, caller.tenantId, params.id))) throw new ServiceError('NOT_FOUND');
          const notFound = () => new ServiceError('REFERENCE_NOT_FOUND', { message: 'body.providerId: no such provider', field: 'body.providerId' });
          if (!(await findProvider(tx.client, caller.tenantId, body.providerId))) throw notFound();
          try {
            const created = await insertApplicationProvider(tx.client, caller.tenantId, params.id, body.providerId, {
              ...body,
              alertType: body.alertType ?? null,
              rule: body.rule ?? null,
            });
            tx.audit({ action: 'application.provider.link', targetType: 'application', targetId: params.id, after: toLink(created) });
            return created;
          } catch (error) {
            if (uniqueViolation(error)) throw new ServiceError('CONFLICT', { message: 'body.providerId: this provider is already linked', field: 'body.providerId' });
            if (sqlStateOf(error) === '23503') throw notFound();
            throw error;
          }
        });
        return { status: 201, body: toLink(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
      responses: { 200: { description: 'The updated link', schema: link } },
      async handler({ params, body, caller, requestId, req }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findApplicationProvider(tx.client, caller.tenantId, params.id, params.providerId, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          const before = toLink(current);
          const updated = await updateApplicationProvider(tx.client, caller.tenantId, params.id, params.providerId, linkFlags(before, body));
          tx.audit({ action: 'application.provider.update', targetType: 'application', targetId: params.id, before, after: toLink(updated) });
          return updated;
        });
        return { body: toLink(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
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
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findApplicationProvider(tx.client, caller.tenantId, params.id, params.providerId, true);
          if (!current) throw new ServiceError('NOT_FOUND');
          assertVersion(req, current.version);
          await deleteApplicationProvider(tx.client, caller.tenantId, params.id, params.providerId);
          tx.audit({ action: 'application.provider.unlink', targetType: 'application', targetId: params.id, before: toLink(current) });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
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
      responses: { 200: { description: 'The link, now the default of its category', schema: link } },
      async handler({ params, caller, requestId }) {
        const { value: row, policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          const current = await findApplicationProvider(tx.client, caller.tenantId, params.id, params.providerId);
          if (!current) throw new ServiceError('NOT_FOUND');
          const updated = await setDefaultProvider(tx.client, caller.tenantId, params.id, params.providerId, current.category);
          tx.audit({ action: 'application.provider.default', targetType: 'application', targetId: params.id, before: toLink(current), after: toLink(updated) });
          return updated;
        });
        return { body: toLink(row), headers: { ETag: etagOf(row.version), ...revisionHeaders(policyRevision) } };
      },
    }),
  ];
}
