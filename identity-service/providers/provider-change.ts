import { z } from 'zod';
import { providerKinds, type ProviderCategory, type ProviderType } from '../../messaging/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { validateInput } from '../../platform/http/validate-input.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { assertSecretRules, invalid, redirectsSecret, sealSecret } from './provider-secrets.js';
import type { ProviderRow, SecretChange } from './providers-store.js';

/** The settings a change may set or (with null) remove. */
export const settingKeys = ['clientId', 'host', 'port', 'disableSsl', 'from', 'url', 'baseUrl'] as const;

/** A change of a provider as its body states it (field forms already checked; what the type takes is checked here). */
export type ProviderChange = {
  readonly name?: string | undefined;
  readonly category?: ProviderCategory | undefined;
  readonly type?: ProviderType | undefined;
  readonly clientSecret?: string | null | undefined;
} & { readonly [K in (typeof settingKeys)[number]]?: unknown };

/**
 * The settings and secret a change leaves a provider with, checked against its stored type: category and type
 * are fixed, the merged settings must be the type's, a new secret must be the type's and is sealed to the
 * provider, and a change of where or how the stored secret is sent must carry the secret again.
 */
export function planProviderChange(secrets: SecretBox, current: ProviderRow, change: ProviderChange): { settings: Record<string, unknown>; secret: SecretChange } {
  for (const field of ['category', 'type'] as const) {
    if (change[field] !== undefined && change[field] !== current[field]) {
      throw new ServiceError('PROVIDER_FIELD_IMMUTABLE', { message: `body.${field}: a provider keeps its ${field}; create another provider`, field: `body.${field}` });
    }
  }
  const kind = providerKinds[current.type];
  const merged: Record<string, unknown> = { ...current.settings };
  for (const key of settingKeys) {
    const value = change[key];
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  const settings = validateInput<Record<string, unknown>>(kind.settings, merged, 'body');
  let secret: SecretChange = { kind: 'keep' };
  let hasSecret = current.hasSecret;
  if (change.clientSecret === null) {
    secret = { kind: 'clear' };
    hasSecret = false;
  } else if (change.clientSecret !== undefined) {
    validateInput(z.object({ clientSecret: kind.secret }), { clientSecret: change.clientSecret }, 'body');
    secret = { kind: 'set', ciphertext: sealSecret(secrets, current.id, change.clientSecret) };
    hasSecret = true;
  } else if (current.hasSecret && redirectsSecret(current.settings, settings)) {
    throw invalid('body.clientSecret', 'send the secret again when changing where or how it is sent');
  }
  assertSecretRules(current.type, settings, hasSecret);
  return { settings, secret };
}
