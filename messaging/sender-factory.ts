import { z } from 'zod';
import { systemClock, type Clock } from '../engine/index.js';
import { checkMessage, MessageSendError, type MessageSender } from './message-sender.js';
import { providerKinds, type ProviderCategory, type ProviderConfig } from './provider-settings.js';
import { createSendGridSender } from './sendgrid-sender.js';
import { createSmtpSender } from './smtp-sender.js';
import { createTwilioSender } from './twilio-sender.js';
import { createWebhookSender } from './webhook-sender.js';

/** Every outbound call gives up after this long unless the caller asks otherwise. */
export const defaultSendTimeoutMs = 5_000;
export const defaultSubject = 'Message from Access Manager';

export interface SenderOptions {
  /** Outbound HTTP (SendGrid, Twilio, webhooks); injected so tests reach local receivers. */
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  /** Default: the wall clock. */
  readonly clock?: Clock;
}

/** A provider as stored: its type and category, its non-secret settings, and its secret once opened. */
export interface StoredProvider {
  readonly type: string;
  readonly category: string;
  readonly settings: unknown;
  readonly clientSecret?: string | undefined;
}

function misconfigured(detail: string): MessageSendError {
  return new MessageSendError('misconfigured', { detail });
}

/**
 * Validates a stored provider again before anything is contacted (settings are data from the database:
 * an endpoint with credentials, a CRLF host or a category the type does not serve is refused here too).
 */
export function parseProviderConfig(stored: StoredProvider): ProviderConfig {
  const type = stored.type;
  if (!Object.hasOwn(providerKinds, type)) throw misconfigured(`unknown provider type`);
  const kind = providerKinds[type as keyof typeof providerKinds];
  if (!(kind.categories as readonly string[]).includes(stored.category)) throw misconfigured(`${type} does not serve ${stored.category}`);
  const settings = kind.settings.safeParse(stored.settings);
  if (!settings.success) throw misconfigured(`${type} settings invalid at ${settings.error.issues[0]?.path.join('.') || 'settings'}`);
  if (stored.clientSecret !== undefined && !kind.secret.safeParse(stored.clientSecret).success) throw misconfigured(`${type} secret has an invalid form`);
  if (kind.secretRequired && stored.clientSecret === undefined) throw misconfigured(`${type} needs a secret`);
  const secret = stored.clientSecret !== undefined ? { clientSecret: stored.clientSecret } : {};
  const category = z.enum(kind.categories).parse(stored.category);
  return { type, category, settings: settings.data, ...secret } as ProviderConfig;
}

/**
 * The sender for a provider, chosen by its type. Each message is checked against the provider's category
 * first (an e-mail address for Email, an E.164 number for SMS; no control characters in the subject).
 *
 * @example
 * const sender = createMessageSender(parseProviderConfig(stored), { fetch, timeoutMs: 5_000 });
 * await sender.send({ to: '+15551234567', text: 'Your code is 123456' });
 */
export function createMessageSender(config: ProviderConfig, options: SenderOptions = {}): MessageSender {
  const timeoutMs = options.timeoutMs ?? defaultSendTimeoutMs;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const sender = senderOf(config, { fetch: fetchFn, timeoutMs, clock: options.clock ?? systemClock, defaultSubject });
  const category: ProviderCategory = config.category;
  return {
    async send(message) {
      await sender.send(checkMessage(category, message));
    },
  };
}

function senderOf(config: ProviderConfig, options: Required<SenderOptions> & { defaultSubject: string }): MessageSender {
  switch (config.type) {
    case 'SMTP':
      return createSmtpSender(config.settings, config.clientSecret, options);
    case 'Webhook':
      return createWebhookSender(config.settings, config.category, config.clientSecret, options);
    case 'SendGrid':
      return createSendGridSender(config.settings, config.clientSecret, options);
    case 'Twilio':
      return createTwilioSender(config.settings, config.clientSecret, options);
    default: {
      const unknown: never = config;
      throw misconfigured(`unknown provider type ${String((unknown as { type?: unknown }).type)}`);
    }
  }
}
