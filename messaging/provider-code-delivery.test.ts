// One-time codes go out through the organization's own provider, over a real SMTP server.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../platform/migrations.js';
import { SecretBox } from '../platform/secret-box.js';
import { startSmtpReceiver, type SmtpReceiver } from '../test/support/local-receivers.js';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
import { createProviderCodeDelivery } from './provider-code-delivery.js';

let schema: TestSchema;
let smtp: SmtpReceiver;
const secrets = new SecretBox(randomBytes(32));

beforeAll(async () => {
  schema = await createTestSchema('code_delivery');
  await runMigrations({ databaseUrl: schema.url });
  smtp = await startSmtpReceiver({ mailer: 'canary-smtp-password' });
});
afterAll(async () => {
  await smtp.close();
  await schema.drop();
});

async function organizationWithSmtp(): Promise<string> {
  const org = randomUUID();
  await schema.pool.query('INSERT INTO organizations (id, slug, name) VALUES ($1, $2, $3)', [org, `o-${org.slice(0, 8)}`, 'Org']);
  const provider = randomUUID();
  await schema.pool.query(
    `INSERT INTO providers (id, org_id, name, category, type, settings, secret_ciphertext) VALUES ($1, $2, 'mail', 'Email', 'SMTP', $3::jsonb, $4)`,
    [provider, org, JSON.stringify({ host: '127.0.0.1', port: smtp.port, disableSsl: true, clientId: 'mailer', from: 'no-reply@example.test' }), secrets.seal(JSON.stringify({ clientSecret: 'canary-smtp-password' }), provider)],
  );
  return org;
}

describe('provider code delivery', () => {
  it("sends the code through the organization's SMTP provider with its stored credentials", async () => {
    const org = await organizationWithSmtp();
    const deliver = createProviderCodeDelivery({ pool: schema.pool, secrets });
    await deliver({ tenantId: org, channel: 'email', to: 'alice@example.test', code: '482913' });
    const mail = smtp.mails.at(-1);
    expect(mail?.rcptTo).toEqual(['alice@example.test']);
    expect(mail?.user).toBe('mailer');
    expect(mail?.data).toContain('482913');
  });

  it('fails with a typed error when the organization has no provider for the channel', async () => {
    const org = await organizationWithSmtp();
    const deliver = createProviderCodeDelivery({ pool: schema.pool, secrets });
    await expect(deliver({ tenantId: org, channel: 'sms', to: '+15550001111', code: '123456' })).rejects.toMatchObject({ reason: 'misconfigured' });
  });
});
