import type pg from 'pg';
import { codeProviderFor } from '../directory/code-providers.js';
import type { SecretBox } from '../platform/secret-box.js';
import { MessageSendError } from './message-sender.js';
import { createMessageSender, parseProviderConfig } from './sender-factory.js';

export interface CodeMessage {
  readonly tenantId: string;
  readonly channel: 'email' | 'sms';
  readonly to: string;
  readonly code: string;
  /** The application the person signs in to: its default provider for the channel is preferred. */
  readonly clientId?: string;
}

/**
 * Delivers one-time codes (MFA sign-in, MFA disable proof) through the organization's communication providers:
 * the application's default provider for the channel, else any default of the organization, else its oldest
 * provider of that category. Used by Auth and Identity alike; the provider is read through directory/code-providers.ts.
 */
export function createProviderCodeDelivery(options: { pool: pg.Pool; secrets: SecretBox; fetch?: typeof fetch; timeoutMs?: number }) {
  return async (message: CodeMessage): Promise<void> => {
    const category = message.channel === 'email' ? 'Email' : 'SMS';
    const provider = await codeProviderFor(options.pool, message.tenantId, category, message.clientId);
    if (!provider) throw new MessageSendError('misconfigured', { detail: `no ${category} provider in the organization` });
    let clientSecret: string | undefined;
    if (provider.secretCiphertext !== null) {
      const opened = JSON.parse(options.secrets.open(provider.secretCiphertext, provider.id)) as { clientSecret?: unknown };
      if (typeof opened.clientSecret === 'string') clientSecret = opened.clientSecret;
    }
    const sender = createMessageSender(parseProviderConfig({ type: provider.type, category: provider.category, settings: provider.settings, clientSecret }), {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    await sender.send({
      to: message.to,
      ...(message.channel === 'email' ? { subject: 'Your Access Manager verification code' } : {}),
      text: `Your verification code is ${message.code}. Do not share it.`,
    });
  };
}
