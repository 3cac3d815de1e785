// A second factor by SMS, end to end: the user's phone number, the organization's SMS provider (Twilio's API,
// here a local receiver), the code in the text message, and the same limits and lock as e-mailed codes.
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderCodeDelivery } from '../../messaging/index.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { startHttpReceiver, type HttpReceiver } from '../../test/support/local-receivers.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';

let h: AuthHarness;
let twilio: HttpReceiver;
let http: () => supertest.Agent;
const accountSid = `AC${'0123456789abcdef'.repeat(2)}`;

beforeAll(async () => {
  twilio = await startHttpReceiver((_request, res) => {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sid: `SM${'1'.repeat(32)}`, status: 'queued' }));
  });
  h = await createAuthHarness('sms-login');
  const deliver = createProviderCodeDelivery({ pool: h.deps.pool, secrets: h.deps.secrets });
  const app = createAuthApp(wireAuth({ ...h.deps, deliverMfaCode: ({ tenantId, channel, to, code }) => deliver({ tenantId, channel, to, code }) }));
  http = () => supertest.agent(app);
});

afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

/** A user who enabled SMS, with `phoneNumber`, in an organization whose SMS provider is Twilio (the local receiver). */
async function smsUser(phoneNumber: string | null, options: { provider?: boolean } = {}) {
  const org = await h.createOrganization();
  const user = await h.createUser(org.id);
  await h.deps.pool.query('UPDATE users SET phone_number = $3 WHERE org_id = $1 AND id = $2', [org.id, user.id, phoneNumber]);
  await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, sms_enabled, preferred_type) VALUES ($1, $2, true, 'sms')`, [org.id, user.id]);
  if (options.provider !== false) {
    const provider = randomUUID();
    await h.deps.pool.query(
      `INSERT INTO providers (id, org_id, name, category, type, settings, secret_ciphertext) VALUES ($1, $2, 'texts', 'SMS', 'Twilio', $3::jsonb, $4)`,
      [provider, org.id, JSON.stringify({ baseUrl: twilio.url, clientId: accountSid, from: '+15550000000' }), h.deps.secrets.seal(JSON.stringify({ clientSecret: 'twilio-auth-token' }), provider)],
    );
  }
  return { org, user };
}

async function passwordStep(user: { username: string; password: string }) {
  return http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
}

/** The code of the last text message Twilio was asked to send to `to`. */
function lastTextedCode(to: string): string {
  const request = twilio.requests.filter((r) => new URLSearchParams(r.body).get('To') === to).at(-1);
  const match = request ? /code is ([0-9]{6})/.exec(new URLSearchParams(request.body).get('Body') ?? '') : null;
  if (!match?.[1]) throw new Error(`no code texted to ${to}`);
  return match[1];
}

describe('MFA by SMS at sign-in', () => {
  it('offers sms, texts the code through the organization\'s Twilio provider, and the code completes the sign-in', async () => {
    const { user } = await smsUser('+15551230001');
    const challenge = await passwordStep(user);
    expect(challenge.status).toBe(200);
    expect(challenge.body).toMatchObject({ mfaRequired: true, mfaTypes: ['sms'], preferredType: 'sms' });
    const sent = await http().post('/v1/login/mfa/challenge').send({ mfaToken: challenge.body.mfaToken, mfaType: 'sms' });
    expect(sent.status).toBe(200);
    const request = twilio.requests.at(-1)!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:twilio-auth-token`).toString('base64')}`);
    expect(new URLSearchParams(request.body).get('From')).toBe('+15550000000');
    const code = lastTextedCode('+15551230001');
    const verified = await http().post('/v1/login/mfa/verify').send({ mfaToken: challenge.body.mfaToken, mfaType: 'sms', passcode: code });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) as unknown });
    // Single use: the same code does not sign in twice.
    expect((await http().post('/v1/login/mfa/verify').send({ mfaToken: challenge.body.mfaToken, mfaType: 'sms', passcode: code })).status).toBe(401);
  });

  it('the fourth text of one challenge is 429, as for e-mailed codes', async () => {
    const { user } = await smsUser('+15551230002');
    const { mfaToken } = (await passwordStep(user)).body as { mfaToken: string };
    for (let i = 0; i < 3; i++) expect((await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'sms' })).status).toBe(200);
    const fourth = await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'sms' });
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ code: 'AUT-0109' });
  });

  it('a wrong texted code counts into the user\'s one wrong-code counter, as an e-mailed code does', async () => {
    const { org, user } = await smsUser('+15551230003');
    const { mfaToken } = (await passwordStep(user)).body as { mfaToken: string };
    await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'sms' }).expect(200);
    const code = lastTextedCode('+15551230003');
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const refused = await http().post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'sms', passcode: wrong });
    expect(refused.status).toBe(400);
    const { rows } = await h.deps.pool.query<{ failed_attempts: number }>('SELECT failed_attempts FROM user_mfa WHERE org_id = $1 AND user_id = $2', [org.id, user.id]);
    expect(rows[0]?.failed_attempts).toBe(1);
  });

  it('a user who enabled SMS but has no phone number is not offered it', async () => {
    const { user } = await smsUser(null);
    const answer = await passwordStep(user);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'AUT-0110' });
  });

  it('an organization without an SMS provider: the send is 503 MFA_DELIVERY_FAILED and nothing is texted', async () => {
    const { user } = await smsUser('+15551230004', { provider: false });
    const { mfaToken } = (await passwordStep(user)).body as { mfaToken: string };
    const before = twilio.requests.length;
    const sent = await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'sms' });
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ code: 'AUT-0113' });
    expect(twilio.requests.length).toBe(before);
  });
});
