import { z } from 'zod';
import { providerCategories, providerTypes } from '../../messaging/index.js';
import type { ApplicationProviderRow } from './application-providers-store.js';
import type { ProviderRow } from './providers-store.js';

export const providerView = z
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
export type ProviderView = z.infer<typeof providerView>;

export const linkView = z
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
export type LinkView = z.infer<typeof linkView>;

export function toProviderView(row: ProviderRow): ProviderView {
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
    hasSecret: row.hasSecret,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toLinkView(row: ApplicationProviderRow): LinkView {
  return {
    applicationId: row.applicationId,
    providerId: row.providerId,
    providerName: row.providerName,
    category: row.category,
    type: row.type,
    canSignIn: row.canSignIn,
    canSignUp: row.canSignUp,
    canUnlink: row.canUnlink,
    prompted: row.prompted,
    alertType: row.alertType,
    rule: row.rule,
    isDefault: row.isDefault,
    createdAt: row.createdAt.toISOString(),
  };
}
