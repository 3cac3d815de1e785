import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerJson, startHttpReceiver, type HttpReceiver } from '../test/support/local-receivers.js';
import { MessageSendError } from './message-sender.js';
import { sendGridSettings } from './provider-settings.js';
import { createMessageSender } from './sender-factory.js';

const apiKey = 'SG.canary-sendgrid-key.5d1e';
let sendgrid: HttpReceiver;

beforeAll(async () => {
  sendgrid = await startHttpReceiver(answerJson(202));
});
afterAll(async () => sendgrid.close());
beforeEach(() => {
  sendgrid.requests.length = 0;
  sendgrid.answer = answerJson(202);
});

function sender(baseUrl = sendgrid.url) {
  const settings = sendGridSettings.parse({ baseUrl, from: 'noreply@example.test' });
  return createMessageSender({ type: 'SendGrid', category: 'Email', settings, clientSecret: apiKey }, { timeoutMs: 2_000 });
}

describe('SendGrid sender', () => {
  it('POSTs SendGrid v3 Mail Send JSON to {baseUrl}/v3/mail/send with the API key as Bearer token', async () => {
    await sender().send({ to: 'ada@example.test', subject: 'Your code', text: 'Code: 123456' });
    expect(sendgrid.requests).toHaveLength(1);
    const [request] = sendgrid.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v3/mail/send' });
    expect(request?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '{}')).toEqual({
      personalizations: [{ to: [{ email: 'ada@example.test' }] }],
      from: { email: 'noreply@example.test' },
      subject: 'Your code',
      content: [{ type: 'text/plain', value: 'Code: 123456' }],
    });
  });

  it('keeps a path prefix of the base URL (a proxy in front of SendGrid) and gives a subject when none is passed', async () => {
    await sender(`${sendgrid.url}/relay`).send({ to: 'ada@example.test', text: 'x' });
    expect(sendgrid.requests[0]?.path).toBe('/relay/v3/mail/send');
    expect(JSON.parse(sendgrid.requests[0]?.body ?? '{}').subject).toEqual(expect.any(String));
  });

  it('a 401 is a rejection without the key in the error', async () => {
    sendgrid.answer = answerJson(401, { errors: [{ message: 'bad key' }] });
    const error = await sender().send({ to: 'ada@example.test', text: 'x' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MessageSendError);
    expect(error).toMatchObject({ reason: 'rejected', status: 401, retryable: false });
    expect((error as Error).message).not.toContain(apiKey);
  });
});
