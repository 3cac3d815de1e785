import { describe, expect, it } from 'vitest';
import { MessageSendError } from './message-sender.js';
import { endpointProblem, isHostName } from './provider-settings.js';
import { parseProviderConfig } from './sender-factory.js';

function misconfigured(stored: Parameters<typeof parseProviderConfig>[0]): MessageSendError {
  try {
    parseProviderConfig(stored);
  } catch (error) {
    expect(error).toBeInstanceOf(MessageSendError);
    return error as MessageSendError;
  }
  throw new Error('expected parseProviderConfig to refuse');
}

describe('provider configuration', () => {
  it('applies the defaults of each type (SMTP port 587 with TLS required; SendGrid and Twilio public base URLs)', () => {
    expect(parseProviderConfig({ type: 'SMTP', category: 'Email', settings: { host: 'smtp.example.test', from: 'a@example.test' } })).toMatchObject({
      settings: { port: 587, disableSsl: false },
    });
    expect(parseProviderConfig({ type: 'SendGrid', category: 'Email', settings: { from: 'a@example.test' }, clientSecret: 'SG.x' }).settings).toMatchObject({
      baseUrl: 'https://api.sendgrid.com',
    });
    const sid = `AC${'a'.repeat(32)}`;
    expect(parseProviderConfig({ type: 'Twilio', category: 'SMS', settings: { clientId: sid, from: '+15550001111' }, clientSecret: 't' }).settings).toMatchObject({
      baseUrl: 'https://api.twilio.com',
    });
  });

  it('stored settings are validated again before anything is contacted (database rows are not trusted)', () => {
    const cases: Parameters<typeof parseProviderConfig>[0][] = [
      { type: 'FTP', category: 'Email', settings: {} },
      { type: 'SMTP', category: 'SMS', settings: { host: 'smtp.example.test', from: 'a@example.test' } },
      { type: 'SMTP', category: 'Email', settings: { host: 'smtp.example.test\r\nRCPT', from: 'a@example.test' } },
      { type: 'Webhook', category: 'SMS', settings: { url: 'http://user:pass@hooks.example.test/x' } },
      { type: 'Webhook', category: 'SMS', settings: { url: 'file:///etc/passwd' } },
      { type: 'SendGrid', category: 'Email', settings: { from: 'a@example.test' } },
      { type: 'SendGrid', category: 'Email', settings: { from: 'a@example.test' }, clientSecret: 'SG.key\r\nX-Injected: 1' },
      { type: 'Twilio', category: 'SMS', settings: { clientId: 'AC../../evil', from: '+15550001111' }, clientSecret: 't' },
    ];
    for (const stored of cases) expect(misconfigured(stored).reason).toBe('misconfigured');
  });

  it('endpoints: http(s) only, no credentials, fragments, whitespace or control characters (CRLF survives no parser)', () => {
    expect(endpointProblem('https://api.example.test/v1?x=1', { allowQuery: true })).toBeUndefined();
    for (const bad of ['ftp://x.test', 'javascript:alert(1)', 'http://u@x.test', 'http://u:p@x.test', 'http://x.test/a#b', 'http://x.test/\r\nHost: y', 'http://x .test', '//x.test', 'x.test']) {
      expect(endpointProblem(bad, { allowQuery: true })).toBeDefined();
    }
    expect(endpointProblem('https://x.test/?a=1', { allowQuery: false })).toBeDefined();
  });

  it('hosts: names and IP literals only', () => {
    for (const good of ['smtp.example.test', '127.0.0.1', '::1', 'mail-1.example.test.']) expect(isHostName(good)).toBe(true);
    for (const bad of ['', 'smtp.example.test\r\n', 'a b', 'host:25', '-bad.test', 'x/y', 'a..b']) expect(isHostName(bad)).toBe(false);
  });
});
