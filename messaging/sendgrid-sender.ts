import { endpointUrl, postOnce } from './http-post.js';
import type { MessageSender } from './message-sender.js';
import type { SendGridSettings } from './provider-settings.js';

export interface SendGridSenderOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly defaultSubject: string;
}

/** SendGrid v3 Mail Send: `POST {baseUrl}/v3/mail/send` with the API key as a Bearer token, one plain-text message. */
export function createSendGridSender(settings: SendGridSettings, apiKey: string, options: SendGridSenderOptions): MessageSender {
  return {
    async send(message) {
      const body = JSON.stringify({
        personalizations: [{ to: [{ email: message.to }] }],
        from: { email: settings.from },
        subject: message.subject ?? options.defaultSubject,
        content: [{ type: 'text/plain', value: message.text }],
      });
      await postOnce(
        options.fetch,
        { url: endpointUrl(settings.baseUrl, 'v3/mail/send'), headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` }, body },
        'sendgrid',
        options.timeoutMs,
      );
    },
  };
}
