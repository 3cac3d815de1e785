import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSilentServer, startSmtpReceiver, type SmtpReceiver } from '../test/support/local-receivers.js';
import { MessageSendError } from './message-sender.js';
import { smtpSettings } from './provider-settings.js';
import { createMessageSender } from './sender-factory.js';

const password = 'canary-smtp-password-7f3a';
let smtp: SmtpReceiver;

beforeAll(async () => {
  smtp = await startSmtpReceiver({ mailer: password });
});
afterAll(async () => smtp.close());

function sender(overrides: Record<string, unknown> = {}, clientSecret: string | undefined = password, timeoutMs = 2_000) {
  const settings = smtpSettings.parse({ host: '127.0.0.1', port: smtp.port, disableSsl: true, clientId: 'mailer', from: 'noreply@example.test', ...overrides });
  return createMessageSender({ type: 'SMTP', category: 'Email', settings, ...(clientSecret !== undefined ? { clientSecret } : {}) }, { timeoutMs });
}

async function failure(promise: Promise<unknown>): Promise<MessageSendError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MessageSendError);
  return error as MessageSendError;
}

describe('SMTP sender', () => {
  it('delivers one message, authenticating with the configured user name and password', async () => {
    const before = smtp.mails.length;
    await sender().send({ to: 'ada@example.test', subject: 'Your code', text: 'Code: 123456' });
    const mail = smtp.mails[before];
    expect(mail).toMatchObject({ mailFrom: 'noreply@example.test', rcptTo: ['ada@example.test'], user: 'mailer', secure: false });
    expect(mail?.data).toMatch(/^From: noreply@example\.test\r?$/m);
    expect(mail?.data).toMatch(/^To: ada@example\.test\r?$/m);
    expect(mail?.data).toMatch(/^Subject: Your code\r?$/m);
    expect(mail?.data).toContain('Code: 123456');
    expect(smtp.logins.at(-1)).toMatchObject({ username: 'mailer', password });
  });

  it('sends without AUTH when no user name is configured', async () => {
    const logins = smtp.logins.length;
    const before = smtp.mails.length;
    const settings = smtpSettings.parse({ host: '127.0.0.1', port: smtp.port, disableSsl: true, from: 'noreply@example.test' });
    await createMessageSender({ type: 'SMTP', category: 'Email', settings }).send({ to: 'ada@example.test', text: 'hello' });
    expect(smtp.logins.length).toBe(logins);
    expect(smtp.mails[before]?.user).toBeUndefined();
  });

  it('a wrong password is a non-retryable rejection naming no credential', async () => {
    const error = await failure(sender({}, 'not-the-password').send({ to: 'ada@example.test', text: 'x' }));
    expect(error).toMatchObject({ reason: 'rejected', retryable: false });
    expect(error.message).not.toContain('not-the-password');
  });

  it('with disableSsl false it insists on TLS: a server without STARTTLS never sees the password or the message', async () => {
    const logins = smtp.logins.length;
    const mails = smtp.mails.length;
    const error = await failure(sender({ disableSsl: false }).send({ to: 'ada@example.test', text: 'x' }));
    expect(error.reason).toBe('rejected');
    expect(smtp.logins.length).toBe(logins);
    expect(smtp.mails.length).toBe(mails);
  });

  it('a server that never greets is a timeout within the bound, not a hang', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const error = await failure(sender({ port: silent.port }, password, 300).send({ to: 'ada@example.test', text: 'x' }));
      expect(error).toMatchObject({ reason: 'timeout', retryable: true });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
    }
  });

  it('a closed port is unreachable', async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.close();
    const error = await failure(sender({ port }).send({ to: 'ada@example.test', text: 'x' }));
    expect(error).toMatchObject({ reason: 'unreachable', retryable: true });
  });

  it('a CRLF in the subject, a second recipient or a bad address is refused before connecting (header injection)', async () => {
    const mails = smtp.mails.length;
    for (const message of [
      { to: 'ada@example.test', subject: 'Hi\r\nBcc: eve@example.test', text: 'x' },
      { to: 'ada@example.test, eve@example.test', text: 'x' },
      { to: 'ada@example.test\r\nRCPT TO:<eve@example.test>', text: 'x' },
      { to: 'not-an-address', text: 'x' },
      { to: 'ada@example.test', text: 'nul\u0000byte' },
    ]) {
      const error = await failure(sender().send(message));
      expect(error.reason).toBe('invalid_message');
    }
    expect(smtp.mails.length).toBe(mails);
  });
});
