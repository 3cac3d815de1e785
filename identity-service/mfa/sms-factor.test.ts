// Setting up SMS as a factor: the code goes to the user's phone number through the organization's SMS provider
// (Twilio's API, here a local receiver); verify and enable turn it on; wrong codes count as e-mailed ones do.
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderCodeDelivery } from '../../messaging/index.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';
import { startHttpReceiver, type HttpReceiver } from '../../test/support/local-receivers.js';
import { createIdentityApp } from '../app.js';

let h: IdentityHarness;
let twilio: HttpReceiver;
let http: () => supertest.Agent;
const accountSid = `AC${'fedcba9876543210'.repeat(2)}`;

beforeAll(async () => {
  twilio = await startHttpReceiver((_request, res) => {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sid: `SM${'2'.repeat(32)}`, status: 'queued' }));
  });
  h = await createIdentityHarness('sms-factor');
  const deliver = createProviderCodeDelivery({ pool: h.deps.pool, secrets: h.deps.secrets });
  const app = createIdentityApp({ ...h.deps, deliverMfaCode: (message) => deliver(message) });
  http = () => supertest.agent(app);
});

afterAll(async () => {
  await h?.close();
  await twilio?.close();
});

/** A user with `phoneNumber` in an organization whose SMS provider is Twilio (the local receiver). */
async function smsMember(phoneNumber: string) {
  const tenantId = await h.createOrganization();
  const provider = randomUUID();
  await h.deps.pool.query(
    `INSERT INTO providers (id, org_id, name, category, type, settings, secret_ciphertext) VALUES ($1, $2, 'texts', 'SMS', 'Twilio', $3::jsonb, $4)`,
    [provider, tenantId, JSON.stringify({ baseUrl: twilio.url, clientId: accountSid, from: '+15550000000' }), h.deps.secrets.seal(JSON.stringify({ clientSecret: 'twilio-auth-token' }), provider)],
  );
  const userId = await h.createUser(tenantId);
  await h.deps.pool.query('UPDATE users SET phone_number = $2 WHERE id = $1', [userId, phoneNumber]);
  return { tenantId, userId, auth: `Bearer ${await h.token({ sub: userId, tenantId })}` };
}

function lastTextedCode(to: string): string {
  const request = twilio.requests.filter((r) => new URLSearchParams(r.body).get('To') === to).at(-1);
  const match = request ? /code is ([0-9]{6})/.exec(new URLSearchParams(request.body).get('Body') ?? '') : null;
  if (!match?.[1]) throw new Error(`no code texted to ${to}`);
  return match[1];
}

describe('MFA: the SMS factor', () => {
  it('setup texts a code to the user\'s number through the organization\'s provider; verify and enable turn sms on', async () => {
    const m = await smsMember('+15551240001');
    const setup = await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'sms' });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ mfaType: 'sms', enabled: false });
    expect(setup.body).not.toHaveProperty('secret');
    expect(twilio.requests.at(-1)?.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    const code = lastTextedCode('+15551240001');
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: code, mfaType: 'sms' }).expect(200);
    await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: setup.body.recoveryCodes[0], mfaType: 'sms' }).expect(200);
    const status = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth);
    expect(status.body).toMatchObject({ enabled: true, preferredType: 'sms', methods: ['sms'], smsEnabled: true, emailEnabled: false, totpEnabled: false });
  });

  it('a wrong texted code is refused and counts into the user\'s one wrong-code counter; the right one still works once', async () => {
    const m = await smsMember('+15551240002');
    await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'sms' }).expect(200);
    const code = lastTextedCode('+15551240002');
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect((await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: wrong, mfaType: 'sms' })).status).toBe(400);
    const { rows } = await h.deps.pool.query<{ failed_attempts: number }>('SELECT failed_attempts FROM user_mfa WHERE user_id = $1', [m.userId]);
    expect(rows[0]?.failed_attempts).toBe(1);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: code, mfaType: 'sms' }).expect(200);
  });
});
