import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerJson, startHttpReceiver, type HttpReceiver } from '../test/support/local-receivers.js';
import { MessageSendError } from './message-sender.js';
import { twilioSettings } from './provider-settings.js';
import { createMessageSender } from './sender-factory.js';

const sid = `AC${'0123456789abcdef'.repeat(2)}`;
const token = 'canary-twilio-token-3b8e';
let twilio: HttpReceiver;

beforeAll(async () => {
  twilio = await startHttpReceiver(answerJson(201, { sid: 'SM1' }));
});
afterAll(async () => twilio.close());
beforeEach(() => {
  twilio.requests.length = 0;
  twilio.answer = answerJson(201, { sid: 'SM1' });
});

function sender() {
  const settings = twilioSettings.parse({ baseUrl: twilio.url, clientId: sid, from: '+15550001111' });
  return createMessageSender({ type: 'Twilio', category: 'SMS', settings, clientSecret: token }, { timeoutMs: 2_000 });
}

describe('Twilio sender', () => {
  it('POSTs form-encoded To/From/Body to /2010-04-01/Accounts/{sid}/Messages.json with Basic auth SID:token', async () => {
    await sender().send({ to: '+15551234567', subject: 'ignored for SMS', text: 'Code: 123456 & more' });
    expect(twilio.requests).toHaveLength(1);
    const [request] = twilio.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${sid}/Messages.json` });
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`);
    const form = new URLSearchParams(request?.body ?? '');
    expect(Object.fromEntries(form)).toEqual({ To: '+15551234567', From: '+15550001111', Body: 'Code: 123456 & more' });
  });

  it('a 429 is a retryable rejection; an e-mail recipient is refused before sending', async () => {
    twilio.answer = answerJson(429);
    const error = await sender().send({ to: '+15551234567', text: 'x' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MessageSendError);
    expect(error).toMatchObject({ reason: 'rejected', status: 429, retryable: true });
    const count = twilio.requests.length;
    await expect(sender().send({ to: 'ada@example.test', text: 'x' })).rejects.toMatchObject({ reason: 'invalid_message' });
    expect(twilio.requests.length).toBe(count);
  });
});
