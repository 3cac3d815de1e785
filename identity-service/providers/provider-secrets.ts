import type { ProviderType } from '../../messaging/index.js';
import { destinationSettings, providerKinds } from '../../messaging/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { SecretBox } from '../../platform/secret-box.js';

// A provider's secret is sealed with the provider's id, stored only in `secret_ciphertext` and never answered,
// audited or logged.

export function invalid(field: string, message: string): ServiceError {
  return new ServiceError('VALIDATION_FAILED', { message: `${field}: ${message}`, field, detail: `${field}: ${message}` });
}

/** A type's secret rules: required where the API cannot work without it; an SMTP password needs its user name. */
export function assertSecretRules(type: ProviderType, settings: Record<string, unknown>, hasSecret: boolean): void {
  if (providerKinds[type].secretRequired && !hasSecret) throw invalid('body.clientSecret', `required for ${type}`);
  if (type === 'SMTP' && hasSecret && settings.clientId === undefined) throw invalid('body.clientId', 'the SMTP user name is required with a password');
}

/** Whether an update sends the stored secret somewhere else, or over a weaker connection. */
export function redirectsSecret(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  return destinationSettings.some((key) =>
    key === 'disableSsl' ? after.disableSsl === true && before.disableSsl !== true : JSON.stringify(before[key]) !== JSON.stringify(after[key]),
  );
}

// The row id is bound as associated data: a ciphertext copied to another provider does not open.
export function sealSecret(secrets: SecretBox, providerId: string, clientSecret: string): string {
  return secrets.seal(JSON.stringify({ clientSecret }), providerId);
}

export function openSecret(secrets: SecretBox, providerId: string, sealed: string): string {
  try {
    const opened: unknown = JSON.parse(secrets.open(sealed, providerId));
    const clientSecret = (opened as { clientSecret?: unknown } | null)?.clientSecret;
    if (typeof clientSecret === 'string') return clientSecret;
  } catch {
    // reported below without the reason: it could only be a wrong key or a tampered row
  }
  throw new ServiceError('INTERNAL', { detail: `provider ${providerId}: the stored secret does not open` });
}
