import { createHmac, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';
import { answerJson, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../../test/support/local-receivers.js';

// Canary secrets: none may appear in a response, in plain text in the database, in the audit or in reports.
const canaries = {
  smtp: 'canary-smtp-pass-a71f',
  webhook: 'canary-hook-key-b62e',
  sendgrid: 'SG.canary-sendgrid-c53d',
  twilio: 'canary-twilio-tok-d44c',
  rotated: 'canary-rotated-key-e35b',
};
const twilioSid = `AC${'0123456789abcdef'.repeat(2)}`;

let h: IdentityHarness;
let tenantId: string;
let admin: { userId: string; token: string };
let otherOrg: string;
let otherAdmin: { userId: string; token: string };
let smtp: SmtpReceiver;
let hooks: HttpReceiver;
const responses: string[] = [];

const auth = (token = admin.token) => `Bearer ${token}`;

function record<T extends { text: string }>(response: T): T {
  responses.push(response.text);
  return response;
}

async function createProvider(body: Record<string, unknown>, token = admin.token) {
  return record(await h.http().post('/v1/providers').set('Authorization', auth(token)).send(body));
}

async function sendTest(id: string, body: Record<string, unknown>, token = admin.token) {
  return record(await h.http().post(`/v1/providers/${id}/test`).set('Authorization', auth(token)).send(body));
}

async function createApplication(org: string): Promise<string> {
  const id = randomUUID();
  await h.deps.pool.query('INSERT INTO applications (id, org_id, name, client_id, client_secret_hash) VALUES ($1, $2, $3, $4, $5)', [
    id,
    org,
    `app-${id.slice(0, 8)}`,
    `client-${id}`,
    'not-a-real-hash',
  ]);
  return id;
}

function webhook(name: string, category: 'Email' | 'SMS' = 'SMS', extra: Record<string, unknown> = {}) {
  return { name, category, type: 'Webhook', url: `${hooks.url}/hook/${name}`, ...extra };
}

beforeAll(async () => {
  h = await createIdentityHarness('providers');
  tenantId = await h.createOrganization();
  admin = await h.admin(tenantId);
  otherOrg = await h.createOrganization();
  otherAdmin = await h.admin(otherOrg);
  smtp = await startSmtpReceiver({ 'mailer@example.test': canaries.smtp });
  hooks = await startHttpReceiver();
});
afterAll(async () => {
  await smtp?.close();
  await hooks?.close();
  await h?.close();
});

describe('providers', () => {
  it('an SMTP provider delivers the test message with its user name and password; the password is never answered', async () => {
    const created = await createProvider({
      name: 'mail',
      category: 'Email',
      type: 'SMTP',
      host: '127.0.0.1',
      port: smtp.port,
      disableSsl: true,
      clientId: 'mailer@example.test',
      clientSecret: canaries.smtp,
      from: 'noreply@example.test',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'mail', category: 'Email', type: 'SMTP', host: '127.0.0.1', port: smtp.port, disableSsl: true, hasSecret: true });
    expect(created.body.clientSecret).toBeUndefined();
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers['x-policy-revision']).toMatch(/^\d+$/);

    const sent = await sendTest(created.body.id, { to: 'ada@example.test', text: 'Hello from the test' });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ delivered: true });
    const mail = smtp.mails.at(-1);
    expect(mail).toMatchObject({ mailFrom: 'noreply@example.test', rcptTo: ['ada@example.test'], user: 'mailer@example.test' });
    expect(mail?.data).toMatch(/^From: noreply@example\.test\r?$/m);
    expect(mail?.data).toMatch(/^To: ada@example\.test\r?$/m);
    expect(mail?.data).toContain('Hello from the test');
    expect(smtp.logins.at(-1)).toMatchObject({ username: 'mailer@example.test', password: canaries.smtp });

    const { rows } = await h.deps.pool.query('SELECT action, after FROM audit_events WHERE target_id = $1 ORDER BY id', [created.body.id]);
    expect(rows.map((r) => r.action)).toEqual(['provider.create', 'provider.test']);
    expect(rows[1].after).toEqual({ to: 'ada@example.test', delivered: true });
  });

  it('a webhook provider POSTs the message signed with HMAC-SHA256 of the body in X-Signature', async () => {
    const created = await createProvider(webhook('sms-hook', 'SMS', { clientSecret: canaries.webhook }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ type: 'Webhook', category: 'SMS', url: `${hooks.url}/hook/sms-hook`, hasSecret: true });
    const before = hooks.requests.length;
    const sent = await sendTest(created.body.id, { to: '+15551234567', text: 'Your code is 123456' });
    expect(sent.status).toBe(200);
    const request = hooks.requests[before];
    expect(request?.path).toBe('/hook/sms-hook');
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ category: 'SMS', to: '+15551234567', text: 'Your code is 123456' });
    expect(request?.headers['x-signature']).toBe(`sha256=${createHmac('sha256', canaries.webhook).update(request?.body ?? '').digest('hex')}`);
  });

  it('a SendGrid provider calls {baseUrl}/v3/mail/send with the API key as Bearer and SendGrid’s JSON', async () => {
    const sendgrid = await startHttpReceiver(answerJson(202));
    try {
      const created = await createProvider({ name: 'sendgrid', category: 'Email', type: 'SendGrid', baseUrl: sendgrid.url, from: 'noreply@example.test', clientSecret: canaries.sendgrid });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ baseUrl: sendgrid.url, from: 'noreply@example.test', hasSecret: true });
      expect((await sendTest(created.body.id, { to: 'ada@example.test', text: 'hi' })).status).toBe(200);
      const [request] = sendgrid.requests;
      expect(request).toMatchObject({ method: 'POST', path: '/v3/mail/send' });
      expect(request?.headers.authorization).toBe(`Bearer ${canaries.sendgrid}`);
      expect(JSON.parse(request?.body ?? '{}')).toMatchObject({
        personalizations: [{ to: [{ email: 'ada@example.test' }] }],
        from: { email: 'noreply@example.test' },
        subject: expect.any(String),
        content: [{ type: 'text/plain', value: 'hi' }],
      });
    } finally {
      await sendgrid.close();
    }
  });

  it('a Twilio provider POSTs To/From/Body form-encoded to the Messages API with Basic SID:token', async () => {
    const twilio = await startHttpReceiver(answerJson(201, { sid: 'SM1' }));
    try {
      const created = await createProvider({ name: 'twilio', category: 'SMS', type: 'Twilio', baseUrl: twilio.url, clientId: twilioSid, from: '+15550001111', clientSecret: canaries.twilio });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ clientId: twilioSid, hasSecret: true });
      expect((await sendTest(created.body.id, { to: '+15551234567', text: 'Code 42' })).status).toBe(200);
      const [request] = twilio.requests;
      expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${twilioSid}/Messages.json` });
      expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${twilioSid}:${canaries.twilio}`).toString('base64')}`);
      expect(Object.fromEntries(new URLSearchParams(request?.body ?? ''))).toEqual({ To: '+15551234567', From: '+15550001111', Body: 'Code 42' });
    } finally {
      await twilio.close();
    }
  });

  it('a provider answering 500 is 502 PROVIDER_SEND_FAILED without the receiver’s body; the failure is audited', async () => {
    const failing = await startHttpReceiver(answerJson(500, { error: 'receiver-internal-detail', echoed: canaries.webhook }));
    try {
      const created = await createProvider({ name: 'failing-hook', category: 'Email', type: 'Webhook', url: `${failing.url}/x`, clientSecret: canaries.webhook });
      const sent = await sendTest(created.body.id, { to: 'ada@example.test' });
      expect(sent.status).toBe(502);
      expect(sent.body).toMatchObject({ code: 'IDE-0111', retryable: true });
      expect(sent.text).not.toContain('receiver-internal-detail');
      expect(sent.text).not.toContain(failing.url);
      expect(failing.requests).toHaveLength(1);
      const { rows } = await h.deps.pool.query("SELECT after FROM audit_events WHERE target_id = $1 AND action = 'provider.test'", [created.body.id]);
      expect(rows[0].after).toEqual({ to: 'ada@example.test', delivered: false });
      expect(inspect(h.reports, { depth: 8 })).not.toContain('receiver-internal-detail');
    } finally {
      await failing.close();
    }
  });

  it('an unreachable provider is 502 too, and a recipient of the wrong kind is 400 naming body.to', async () => {
    const closed = await startHttpReceiver();
    const url = closed.url;
    await closed.close();
    const created = await createProvider({ name: 'gone-hook', category: 'SMS', type: 'Webhook', url });
    expect((await sendTest(created.body.id, { to: '+15551234567' })).status).toBe(502);
    const wrong = await sendTest(created.body.id, { to: 'ada@example.test' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('body.to');
    const mail = await createProvider(webhook('mail-hook', 'Email'));
    const phone = await sendTest(mail.body.id, { to: '+15551234567' });
    expect(phone.status).toBe(400);
    expect(phone.body.field).toBe('body.to');
  });

  it('category and type never change (400 PROVIDER_FIELD_IMMUTABLE); sending the same values is accepted', async () => {
    const created = await createProvider(webhook('fixed-hook', 'Email'));
    const id = created.body.id as string;
    for (const [body, field] of [
      [{ category: 'SMS' }, 'body.category'],
      [{ type: 'SMTP' }, 'body.type'],
    ] as const) {
      const response = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send(body));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'IDE-0110', field });
    }
    const same = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send({ category: 'Email', type: 'Webhook', name: 'fixed-hook-2' }));
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ category: 'Email', type: 'Webhook', name: 'fixed-hook-2' });
    const { rows } = await h.deps.pool.query('SELECT category, type FROM providers WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ category: 'Email', type: 'Webhook' });
  });

  it('PATCH replaces the secret write-only, may remove it, and refuses to redirect a stored secret without it', async () => {
    const created = await createProvider(webhook('rotating-hook', 'SMS', { clientSecret: canaries.webhook }));
    const id = created.body.id as string;
    const rotated = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).set('If-Match', '"1"').send({ clientSecret: canaries.rotated }));
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ hasSecret: true });
    expect(rotated.headers.etag).toBe('"2"');
    const before = hooks.requests.length;
    await sendTest(id, { to: '+15551234567' });
    const request = hooks.requests[before];
    expect(request?.headers['x-signature']).toBe(`sha256=${createHmac('sha256', canaries.rotated).update(request?.body ?? '').digest('hex')}`);

    const elsewhere = `${hooks.url}/elsewhere`;
    const redirect = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send({ url: elsewhere }));
    expect(redirect.status).toBe(400);
    expect(redirect.body.field).toBe('body.clientSecret');
    const withSecret = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send({ url: elsewhere, clientSecret: canaries.rotated }));
    expect(withSecret.status).toBe(200);
    expect(withSecret.body.url).toBe(elsewhere);

    const cleared = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send({ clientSecret: null }));
    expect(cleared.status).toBe(200);
    expect(cleared.body.hasSecret).toBe(false);
    const unsigned = hooks.requests.length;
    await sendTest(id, { to: '+15551234567' });
    expect(hooks.requests[unsigned]?.headers['x-signature']).toBeUndefined();

    const stale = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).set('If-Match', '"1"').send({ name: 'late' }));
    expect(stale.status).toBe(412);

    const { rows } = await h.deps.pool.query("SELECT after->>'secretChange' AS change FROM audit_events WHERE target_id = $1 AND action = 'provider.update' ORDER BY id", [id]);
    expect(rows.map((r) => r.change)).toEqual(['set', 'set', 'clear']);
  });

  it('PATCH validates the merged settings against the stored type: fields of another type are refused', async () => {
    const created = await createProvider(webhook('strict-hook', 'SMS'));
    const id = created.body.id as string;
    for (const [body, field] of [
      [{ host: 'smtp.example.test' }, 'body'],
      [{ url: 'ftp://x.test' }, 'body.url'],
      [{ baseUrl: 'http://x.test' }, 'body'],
      [{}, 'body'],
      [{ clientSecret: 'bad\r\nkey' }, 'body.clientSecret'],
    ] as const) {
      const response = record(await h.http().patch(`/v1/providers/${id}`).set('Authorization', auth()).send(body));
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const sendgrid = await createProvider({ name: 'sg-required', category: 'Email', type: 'SendGrid', from: 'a@example.test', clientSecret: canaries.sendgrid });
    const removed = record(await h.http().patch(`/v1/providers/${sendgrid.body.id}`).set('Authorization', auth()).send({ clientSecret: null }));
    expect(removed.status).toBe(400);
    expect(removed.body.field).toBe('body.clientSecret');
  });

  it('invalid bodies are 400 naming the field, and nothing is written', async () => {
    const base = { category: 'Email', type: 'SMTP', host: 'smtp.example.test', port: 587, from: 'noreply@example.test' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, name: 'bad-1', host: 'smtp.example.test\r\nX: y' }, 'body.host'],
      [{ ...base, name: 'bad-2', port: 0 }, 'body.port'],
      [{ ...base, name: 'bad-3', port: 65536 }, 'body.port'],
      [{ ...base, name: 'bad-4', category: 'SMS' }, 'body.category'],
      [{ ...base, name: 'bad-5', from: 'not-an-address' }, 'body.from'],
      [{ ...base, name: 'bad-6', clientSecret: 'pw-without-user' }, 'body.clientId'],
      [{ ...base, name: 'bad-7', tenantId: otherOrg }, 'body'],
      [{ ...base, name: '   ' }, 'body.name'],
      [{ ...base, name: 'bad-8', type: 'Carrier-Pigeon' }, 'body.type'],
      [{ name: 'bad-9', category: 'SMS', type: 'Webhook', url: 'http://user:pass@hooks.example.test/x' }, 'body.url'],
      [{ name: 'bad-10', category: 'SMS', type: 'Webhook', url: 'gopher://hooks.example.test/x' }, 'body.url'],
      [{ name: 'bad-11', category: 'SMS', type: 'Webhook', url: 'http://hooks.example.test/x\r\nHost: evil' }, 'body.url'],
      [{ name: 'bad-12', category: 'Email', type: 'SendGrid', from: 'a@example.test' }, 'body.clientSecret'],
      [{ name: 'bad-13', category: 'Email', type: 'SendGrid', from: 'a@example.test', clientSecret: 'SG.x', baseUrl: 'https://api.sendgrid.com/?x=1' }, 'body.baseUrl'],
      [{ name: 'bad-14', category: 'SMS', type: 'Twilio', clientId: 'AC../../x', from: '+15550001111', clientSecret: 't' }, 'body.clientId'],
      [{ name: 'bad-15', category: 'SMS', type: 'Twilio', clientId: twilioSid, from: '+15550001111' }, 'body.clientSecret'],
    ];
    for (const [body, field] of cases) {
      const response = await createProvider(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.field, JSON.stringify(body)).toBe(field);
    }
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM providers WHERE name LIKE 'bad-%'");
    expect(rows[0].n).toBe(0);
  });

  it('a duplicate name in the organization is 409 NAME_TAKEN; another organization may reuse it', async () => {
    await createProvider(webhook('same-name')).then((r) => expect(r.status).toBe(201));
    const dup = await createProvider(webhook('same-name'));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'IDE-0102', field: 'body.name' });
    expect((await createProvider(webhook('same-name'), otherAdmin.token)).status).toBe(201);
  });

  it('lists the organization’s providers by name with page/limit and a keyset cursor', async () => {
    const first = record(await h.http().get('/v1/providers?limit=2').set('Authorization', auth()));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, limit: 2 });
    expect(first.body.items).toHaveLength(2);
    const all = record(await h.http().get('/v1/providers?limit=100').set('Authorization', auth()));
    const names = all.body.items.map((p: { name: string }) => p.name);
    expect(names).toEqual([...names].sort());
    expect(all.body.total).toBe(names.length);
    const next = record(await h.http().get(`/v1/providers?limit=2&cursor=${first.body.nextCursor}`).set('Authorization', auth()));
    expect(next.body.items.map((p: { name: string }) => p.name)).toEqual(names.slice(2, 4));
    expect((await h.http().get('/v1/providers?cursor=garbage').set('Authorization', auth())).status).toBe(400);
  });

  it('another organization’s provider is 404 for every route and absent from its lists', async () => {
    const mine = await createProvider(webhook('private-hook', 'SMS', { clientSecret: canaries.webhook }));
    const id = mine.body.id as string;
    const other = auth(otherAdmin.token);
    const before = hooks.requests.length;
    expect((await h.http().get(`/v1/providers/${id}`).set('Authorization', other)).status).toBe(404);
    expect((await h.http().patch(`/v1/providers/${id}`).set('Authorization', other).send({ name: 'taken-over' })).status).toBe(404);
    expect((await h.http().post(`/v1/providers/${id}/test`).set('Authorization', other).send({ to: '+15551234567' })).status).toBe(404);
    expect((await h.http().delete(`/v1/providers/${id}`).set('Authorization', other)).status).toBe(404);
    expect(hooks.requests.length).toBe(before);
    const list = await h.http().get('/v1/providers?limit=100').set('Authorization', other);
    expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(id);
    expect((await h.http().get(`/v1/providers/${id}`).set('Authorization', auth())).body.name).toBe('private-hook');
  });

  it('a ciphertext copied to another provider row does not open (the row id is bound): 500, nothing sent', async () => {
    const source = await createProvider(webhook('sealed-a', 'SMS', { clientSecret: canaries.webhook }));
    const target = await createProvider(webhook('sealed-b', 'SMS'));
    await h.deps.pool.query('UPDATE providers SET secret_ciphertext = (SELECT secret_ciphertext FROM providers WHERE id = $1) WHERE id = $2', [source.body.id, target.body.id]);
    const before = hooks.requests.length;
    const sent = await sendTest(target.body.id, { to: '+15551234567' });
    expect(sent.status).toBe(500);
    expect(hooks.requests.length).toBe(before);
  });

  it('deleting a provider removes it and its links (204, then 404)', async () => {
    const created = await createProvider(webhook('doomed-hook'));
    const app = await createApplication(tenantId);
    await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send({ providerId: created.body.id, canSignIn: true, canSignUp: false, canUnlink: true, prompted: false }).expect(201);
    const stale = await h.http().delete(`/v1/providers/${created.body.id}`).set('Authorization', auth()).set('If-Match', '"9"');
    expect(stale.status).toBe(412);
    const deleted = await h.http().delete(`/v1/providers/${created.body.id}`).set('Authorization', auth());
    expect(deleted.status).toBe(204);
    expect((await h.http().get(`/v1/providers/${created.body.id}`).set('Authorization', auth())).status).toBe(404);
    const links = await h.http().get(`/v1/applications/${app}/providers`).set('Authorization', auth());
    expect(links.body.items).toEqual([]);
  });
});

describe('application provider links', () => {
  let app: string;
  let emailA: string;
  let emailB: string;
  let sms: string;

  const link = (providerId: string, extra: Record<string, unknown> = {}) => ({ providerId, canSignIn: true, canSignUp: false, canUnlink: true, prompted: false, ...extra });

  beforeAll(async () => {
    app = await createApplication(tenantId);
    emailA = (await createProvider(webhook('link-email-a', 'Email'))).body.id;
    emailB = (await createProvider(webhook('link-email-b', 'Email'))).body.id;
    sms = (await createProvider(webhook('link-sms', 'SMS'))).body.id;
  });

  it('links providers with the contract’s fields, lists and changes them, and unlinks', async () => {
    const created = record(await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(emailA, { alertType: 'None', rule: 'All' })));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      applicationId: app,
      providerId: emailA,
      providerName: 'link-email-a',
      category: 'Email',
      type: 'Webhook',
      canSignIn: true,
      canSignUp: false,
      canUnlink: true,
      prompted: false,
      alertType: 'None',
      rule: 'All',
      isDefault: false,
    });
    await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(emailB)).expect(201);
    await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(sms)).expect(201);
    const dup = await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(emailA));
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('body.providerId');

    const list = await h.http().get(`/v1/applications/${app}/providers`).set('Authorization', auth());
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(3);
    expect(list.body.items.map((l: { providerName: string }) => l.providerName)).toEqual(['link-email-a', 'link-email-b', 'link-sms']);

    const changed = await h.http().patch(`/v1/applications/${app}/providers/${emailA}`).set('Authorization', auth()).set('If-Match', '"1"').send({ prompted: true, rule: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ prompted: true, rule: null, alertType: 'None', canSignIn: true });
    expect(changed.headers.etag).toBe('"2"');
    expect((await h.http().patch(`/v1/applications/${app}/providers/${emailA}`).set('Authorization', auth()).set('If-Match', '"1"').send({ prompted: false })).status).toBe(412);
    const bad = await h.http().patch(`/v1/applications/${app}/providers/${emailA}`).set('Authorization', auth()).send({ isDefault: true });
    expect(bad.status).toBe(400);

    const extra = await createProvider(webhook('link-temp', 'SMS'));
    await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(extra.body.id)).expect(201);
    expect((await h.http().delete(`/v1/applications/${app}/providers/${extra.body.id}`).set('Authorization', auth())).status).toBe(204);
    expect((await h.http().delete(`/v1/applications/${app}/providers/${extra.body.id}`).set('Authorization', auth())).status).toBe(404);

    const { rows } = await h.deps.pool.query("SELECT action FROM audit_events WHERE target_id = $1 AND action LIKE 'application.provider.%' ORDER BY id", [app]);
    expect(rows.map((r) => r.action)).toEqual([
      'application.provider.link',
      'application.provider.link',
      'application.provider.link',
      'application.provider.update',
      'application.provider.link',
      'application.provider.unlink',
    ]);
  });

  it('making a provider the default clears the previous default of that category only', async () => {
    const defaults = async () =>
      (await h.http().get(`/v1/applications/${app}/providers`).set('Authorization', auth())).body.items
        .filter((l: { isDefault: boolean }) => l.isDefault)
        .map((l: { providerName: string }) => l.providerName);
    const setDefault = (providerId: string) => h.http().patch(`/v1/applications/${app}/providers/${providerId}/default`).set('Authorization', auth());

    const smsDefault = await setDefault(sms);
    expect(smsDefault.status).toBe(200);
    expect(smsDefault.body).toMatchObject({ providerId: sms, isDefault: true });
    await setDefault(emailA).expect(200);
    expect(await defaults()).toEqual(['link-email-a', 'link-sms']);
    await setDefault(emailB).expect(200);
    expect(await defaults()).toEqual(['link-email-b', 'link-sms']);
    await setDefault(emailB).expect(200);
    expect(await defaults()).toEqual(['link-email-b', 'link-sms']);
    expect((await setDefault(randomUUID())).status).toBe(404);
  });

  it('concurrent default switches leave exactly one default for the category', async () => {
    const providers = [emailA, emailB];
    for (let i = 0; i < 3; i++) {
      const extra = await createProvider(webhook(`link-race-${i}`, 'Email'));
      await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(extra.body.id)).expect(201);
      providers.push(extra.body.id);
    }
    const results = await Promise.all(
      [...providers, ...providers].map((id) => h.http().patch(`/v1/applications/${app}/providers/${id}/default`).set('Authorization', auth())),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const { rows } = await h.deps.pool.query(
      `SELECT p.category, count(*)::int AS n FROM application_providers ap JOIN providers p ON p.id = ap.provider_id
        WHERE ap.application_id = $1 AND ap.is_default GROUP BY p.category ORDER BY p.category`,
      [app],
    );
    expect(rows).toEqual([
      { category: 'Email', n: 1 },
      { category: 'SMS', n: 1 },
    ]);
  });

  it('another organization’s application is 404, and another organization’s provider cannot be linked', async () => {
    const other = auth(otherAdmin.token);
    expect((await h.http().get(`/v1/applications/${app}/providers`).set('Authorization', other)).status).toBe(404);
    expect((await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', other).send(link(emailA))).status).toBe(404);
    expect((await h.http().patch(`/v1/applications/${app}/providers/${emailA}`).set('Authorization', other).send({ prompted: true })).status).toBe(404);
    expect((await h.http().patch(`/v1/applications/${app}/providers/${emailA}/default`).set('Authorization', other)).status).toBe(404);
    expect((await h.http().delete(`/v1/applications/${app}/providers/${emailA}`).set('Authorization', other)).status).toBe(404);

    const foreign = await createProvider(webhook('foreign-hook', 'SMS'), otherAdmin.token);
    const cross = await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth()).send(link(foreign.body.id));
    expect(cross.status).toBe(400);
    expect(cross.body).toMatchObject({ code: 'IDE-0108', field: 'body.providerId' });
    expect((await h.http().get(`/v1/applications/${randomUUID()}/providers`).set('Authorization', auth())).status).toBe(404);
  });

  it('link routes need applications permissions: patch to change, get to list', async () => {
    const reader = await h.createUser(tenantId);
    await h.grant(tenantId, `user:${reader}`, [['applications', 'get']]);
    const token = await h.token({ sub: reader, tenantId });
    expect((await h.http().get(`/v1/applications/${app}/providers`).set('Authorization', auth(token))).status).toBe(200);
    expect((await h.http().post(`/v1/applications/${app}/providers`).set('Authorization', auth(token)).send(link(sms))).status).toBe(403);
    expect((await h.http().patch(`/v1/applications/${app}/providers/${sms}/default`).set('Authorization', auth(token))).status).toBe(403);
    expect((await h.http().get('/v1/providers').set('Authorization', auth(token))).status).toBe(403);
  });
});

describe('secrets at rest and in logs', () => {
  it('no canary secret appears in any response, in plain text in the database, in the audit or in reports', async () => {
    const all = await h.http().get('/v1/providers?limit=100').set('Authorization', auth());
    responses.push(all.text);
    for (const item of all.body.items as { id: string }[]) responses.push((await h.http().get(`/v1/providers/${item.id}`).set('Authorization', auth())).text);
    const providerRows = await h.deps.pool.query('SELECT p::text AS row FROM providers p');
    const auditRows = await h.deps.pool.query('SELECT a::text AS row FROM audit_events a');
    const reports = inspect(h.reports, { depth: 12 });
    const haystacks = { responses: responses.join('\n'), providers: providerRows.rows.map((r) => r.row).join('\n'), audit: auditRows.rows.map((r) => r.row).join('\n'), reports };
    for (const secret of Object.values(canaries)) {
      for (const [where, text] of Object.entries(haystacks)) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
    }
    // Nor the sealed form: a response or audit row carries no ciphertext and no secret-named field but hasSecret.
    for (const [where, text] of Object.entries({ responses: haystacks.responses, audit: haystacks.audit })) {
      expect(text, where).not.toMatch(/v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\./);
      expect(text, where).not.toMatch(/\\?"(?:clientSecret|secret_ciphertext|password)\\?"\s*:/i);
    }
    const sealed = await h.deps.pool.query('SELECT count(*)::int AS n FROM providers WHERE secret_ciphertext LIKE $1', ['v1.%']);
    expect(sealed.rows[0].n).toBeGreaterThan(3);
  });
});
