import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerJson, answerNever, startHttpReceiver, type HttpReceiver } from '../test/support/local-receivers.js';
import { MessageSendError } from './message-sender.js';
import { webhookSettings } from './provider-settings.js';
import { createMessageSender } from './sender-factory.js';

const key = 'canary-webhook-key-91c2';
let receiver: HttpReceiver;
let elsewhere: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  elsewhere = await startHttpReceiver();
});
afterAll(async () => {
  await receiver.close();
  await elsewhere.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
  elsewhere.requests.length = 0;
  receiver.answer = answerJson(200);
});

function sender(options: { clientSecret?: string; timeoutMs?: number; category?: 'Email' | 'SMS'; path?: string } = {}) {
  const settings = webhookSettings.parse({ url: `${receiver.url}${options.path ?? '/hooks/messages?tenant=acme'}` });
  return createMessageSender(
    { type: 'Webhook', category: options.category ?? 'SMS', settings, ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}) },
    { timeoutMs: options.timeoutMs ?? 2_000, clock: { nowMs: () => Date.parse('2030-01-02T03:04:05.000Z') } },
  );
}

async function failure(promise: Promise<unknown>): Promise<MessageSendError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MessageSendError);
  return error as MessageSendError;
}

describe('webhook sender', () => {
  it('POSTs the message as JSON to the URL, signed with HMAC-SHA256 of the exact body in X-Signature', async () => {
    await sender({ clientSecret: key }).send({ to: '+15551234567', text: 'Code: 123456' });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hooks/messages?tenant=acme' });
    expect(request?.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request?.body ?? '{}');
    expect(body).toMatchObject({ category: 'SMS', to: '+15551234567', text: 'Code: 123456', sentAt: '2030-01-02T03:04:05.000Z' });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    const expected = `sha256=${createHmac('sha256', key).update(request?.body ?? '').digest('hex')}`;
    expect(request?.headers['x-signature']).toBe(expected);
    expect(JSON.stringify(request?.headers)).not.toContain(key);
  });

  it('sends no signature header without a key', async () => {
    await sender({ category: 'Email' }).send({ to: 'ada@example.test', subject: 'Hello', text: 'x' });
    expect(receiver.requests[0]?.headers['x-signature']).toBeUndefined();
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({ category: 'Email', subject: 'Hello' });
  });

  it('a 500 is a retryable rejection made once (no retry storm), carrying the status but not the receiver body', async () => {
    receiver.answer = answerJson(500, { error: 'receiver-internal-detail' });
    const error = await failure(sender({ clientSecret: key }).send({ to: '+15551234567', text: 'x' }));
    expect(error).toMatchObject({ reason: 'rejected', status: 500, retryable: true });
    expect(error.message).not.toContain('receiver-internal-detail');
    expect(receiver.requests).toHaveLength(1);
  });

  it('a 400 is a non-retryable rejection', async () => {
    receiver.answer = answerJson(400);
    expect(await failure(sender().send({ to: '+15551234567', text: 'x' }))).toMatchObject({ reason: 'rejected', status: 400, retryable: false });
  });

  it('a redirect is refused, not followed: the other host never receives the message or its signature', async () => {
    receiver.answer = (_request, res) => {
      res.writeHead(307, { Location: `${elsewhere.url}/steal` });
      res.end();
    };
    expect(await failure(sender({ clientSecret: key }).send({ to: '+15551234567', text: 'x' }))).toMatchObject({ reason: 'rejected', status: 307 });
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('a receiver that never answers is a timeout within the bound', async () => {
    receiver.answer = answerNever;
    const started = Date.now();
    expect(await failure(sender({ timeoutMs: 300 }).send({ to: '+15551234567', text: 'x' }))).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an SMS webhook refuses an e-mail recipient before sending', async () => {
    expect(await failure(sender().send({ to: 'ada@example.test', text: 'x' }))).toMatchObject({ reason: 'invalid_message' });
    expect(receiver.requests).toHaveLength(0);
  });
});
