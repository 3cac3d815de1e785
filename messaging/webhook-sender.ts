import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../engine/index.js';
import { postOnce } from './http-post.js';
import type { MessageSender } from './message-sender.js';
import type { ProviderCategory, WebhookSettings } from './provider-settings.js';

export interface WebhookSenderOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/** `X-Signature` of a webhook body: `sha256=` and the hex HMAC-SHA256 of the exact body bytes under the secret. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * POSTs `{id, category, to, subject?, text, sentAt}` as JSON to the configured URL. The `id` and `sentAt`
 * inside the signed body let a receiver refuse replays.
 */
export function createWebhookSender(settings: WebhookSettings, category: ProviderCategory, signingKey: string | undefined, options: WebhookSenderOptions): MessageSender {
  return {
    async send(message) {
      const body = JSON.stringify({
        id: randomUUID(),
        category,
        to: message.to,
        ...(message.subject !== undefined ? { subject: message.subject } : {}),
        text: message.text,
        sentAt: new Date(options.clock.nowMs()).toISOString(),
      });
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (signingKey !== undefined) headers['X-Signature'] = webhookSignature(signingKey, body);
      await postOnce(options.fetch, { url: new URL(settings.url), headers, body }, 'webhook', options.timeoutMs);
    },
  };
}
