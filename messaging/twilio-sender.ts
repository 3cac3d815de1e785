import { endpointUrl, postOnce } from './http-post.js';
import type { MessageSender } from './message-sender.js';
import type { TwilioSettings } from './provider-settings.js';

export interface TwilioSenderOptions {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}

/** Twilio Messages: `POST {baseUrl}/2010-04-01/Accounts/{sid}/Messages.json`, form fields To/From/Body, Basic auth SID:token. */
export function createTwilioSender(settings: TwilioSettings, authToken: string, options: TwilioSenderOptions): MessageSender {
  const url = endpointUrl(settings.baseUrl, `2010-04-01/Accounts/${encodeURIComponent(settings.clientId)}/Messages.json`);
  const authorization = `Basic ${Buffer.from(`${settings.clientId}:${authToken}`, 'utf8').toString('base64')}`;
  return {
    async send(message) {
      const body = new URLSearchParams({ To: message.to, From: settings.from, Body: message.text }).toString();
      await postOnce(
        options.fetch,
        { url, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: authorization }, body },
        'twilio',
        options.timeoutMs,
      );
    },
  };
}
