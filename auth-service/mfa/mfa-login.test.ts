import nodemailer from 'nodemailer';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { createTotpSecret, totpCodeAt, totpPeriodSeconds } from '../../domain/totp.js';
import { endSessions } from '../../directory/sessions.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { startSmtpReceiver, type SmtpReceiver } from '../../test/support/local-receivers.js';
import { closedPortUrl } from '../../test/support/valkey.js';
import { createAuthApp } from '../app.js';
import { wireAuth, type AuthParts } from '../wiring.js';
import type { AuthDeps } from '../deps.js';
import type { ChallengeUser } from './challenge-store.js';
import type { MfaChallengeAnswer } from './mfa-gate.js';
import { newChallengeId, signMfaToken } from './mfa-token.js';
import supertest from 'supertest';

const clientId = 'console';
const testContext = { requestId: 'mfa-login-test', clientIp: '192.0.2.10' };

interface Enrolled {
  readonly user: ChallengeUser;
  readonly secret: string;
  readonly recoveryCodes: string[];
}

/** A code of a step next to none the server would accept now: a guaranteed wrong passcode. */
async function wrongCode(secret: string, nowMs: number): Promise<string> {
  const near = await Promise.all([-1, 0, 1].map((step) => totpCodeAt(secret, nowMs + step * totpPeriodSeconds * 1000)));
  let code = 0;
  while (near.includes(String(code).padStart(6, '0'))) code++;
  return String(code).padStart(6, '0');
}

async function challenged(answer: Promise<MfaChallengeAnswer | undefined>): Promise<MfaChallengeAnswer> {
  const value = await answer;
  if (!value) throw new Error('expected an MFA challenge');
  return value;
}

describe.each([
  { store: 'no-valkey', withValkey: false },
  { store: 'valkey', withValkey: true },
])('MFA login ($store deployment; challenges in PostgreSQL either way)', ({ store, withValkey }) => {
  let h: AuthHarness;
  let smtp: SmtpReceiver;
  let deps: AuthDeps;
  let parts: AuthParts;
  let http: () => supertest.Agent;
  let now = Date.now();

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    h = await createAuthHarness(`mfa-login-${store}`, { withValkey, clock: { nowMs: () => now } });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true, logger: false });
    deps = {
      ...h.deps,
      deliverMfaCode: async (message) => {
        await transport.sendMail({ from: 'no-reply@am.test', to: message.to, subject: 'Your sign-in code', text: `Your sign-in code is ${message.code}` });
      },
    };
    parts = wireAuth(deps);
    const app = createAuthApp(parts);
    http = () => supertest.agent(app);
  });

  afterAll(async () => {
    await h.close();
    await smtp.close();
  });

  async function newUser(orgSettings?: { required?: boolean; allowedMethods?: string[] }): Promise<ChallengeUser> {
    const org = await h.createOrganization();
    const created = await h.createUser(org.id);
    if (orgSettings) {
      await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, required, allowed_methods) VALUES ($1, $2, $3)', [
        org.id,
        orgSettings.required ?? false,
        orgSettings.allowedMethods ?? ['app', 'email', 'sms'],
      ]);
    }
    return { id: created.id, tenantId: org.id, tenantSlug: org.slug, username: created.username, displayName: 'Test User', email: `${created.username}@example.test` };
  }

  async function enrolledUser(): Promise<Enrolled> {
    const user = await newUser();
    const secret = createTotpSecret();
    const recoveryCodes = generateRecoveryCodes(3);
    await h.deps.pool.query(
      `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, recovery_code_hashes, preferred_type) VALUES ($1, $2, $3, true, $4, 'app')`,
      [user.tenantId, user.id, h.deps.secrets.seal(secret, user.id), recoveryCodes.map(hashRecoveryCode)],
    );
    return { user, secret, recoveryCodes };
  }

  function lastMailedCode(to: string): string {
    const mail = smtp.mails.filter((m) => m.rcptTo.includes(to)).at(-1);
    const match = mail ? /sign-in code is ([0-9]{6})/.exec(mail.data) : null;
    if (!match?.[1]) throw new Error(`no code mailed to ${to}`);
    return match[1];
  }

  describe('the gate', () => {
    it('lets a user without factors in an organization that does not require MFA through', async () => {
      expect(await parts.mfaGate.challengeFor(await newUser(), { clientId })).toBeUndefined();
      expect(await parts.mfaGate.challengeFor(await newUser({ required: false }), { clientId })).toBeUndefined();
    });

    it('challenges a user who enabled an authenticator, with a signed mfaToken', async () => {
      const { user } = await enrolledUser();
      const answer = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      expect(answer).toMatchObject({ mfaRequired: true, mfaTypes: ['app'], preferredType: 'app' });
      expect(answer.mfaToken).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      // The challenge lives as long as the organization's code lifetime allows (300 s by default), by the injected clock.
      const { rows } = await h.deps.pool.query<{ ttl_ms: number }>(
        `SELECT (extract(epoch FROM expires_at) * 1000 - $2)::float8 AS ttl_ms FROM mfa_challenges WHERE state->'user'->>'id' = $1`,
        [user.id, now],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.ttl_ms).toBeGreaterThan(299_000);
      expect(rows[0]?.ttl_ms).toBeLessThanOrEqual(300_000);
    });

    it('challenges a user of an organization that requires MFA: e-mail to the address on file when not enrolled', async () => {
      const user = await newUser({ required: true });
      expect(await challenged(parts.mfaGate.challengeFor(user, { clientId }))).toMatchObject({ mfaTypes: ['email'], preferredType: 'email' });
    });

    it('never lets a required sign-in through when no factor can be used (MFA_ENROLMENT_REQUIRED)', async () => {
      await expect(h.parts.mfaGate.challengeFor(await newUser({ required: true }), { clientId })).rejects.toMatchObject({ code: 'MFA_ENROLMENT_REQUIRED' });
      await expect(parts.mfaGate.challengeFor(await newUser({ required: true, allowedMethods: ['app'] }), { clientId })).rejects.toMatchObject({ code: 'MFA_ENROLMENT_REQUIRED' });
    });
  });

  describe('verify route', () => {
      it('POST /v1/login/mfa/verify answers the token answer and, with rememberDevice, a deviceToken', async () => {
        const { user, secret } = await enrolledUser();
        const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
        const res = await http().post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, now), rememberDevice: true });
        expect(res.status).toBe(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
        expect(await parts.mfaGate.challengeFor(user, { clientId, deviceToken: res.body.deviceToken })).toBeUndefined();
      });
  });

  describe('TOTP', () => {
    it('a right passcode completes the sign-in once; the challenge is single use', async () => {
      const { user, secret } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId, scope: 'openid' }));
      const signIn = await parts.mfaLogin.verify({ mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, now) }, testContext);
      expect(signIn).toMatchObject({ user: { id: user.id, tenantId: user.tenantId }, clientId, scope: 'openid', deviceToken: undefined });
      const { rows } = await h.deps.pool.query<{ step: number }>('SELECT last_totp_step::float8 AS step FROM user_mfa WHERE user_id = $1', [user.id]);
      expect(rows[0]?.step).toBeGreaterThan(0);
      await expect(parts.mfaLogin.verify({ mfaToken, passcode: await totpCodeAt(secret, now + 30_000) }, testContext)).rejects.toMatchObject({ code: 'MFA_TOKEN_INVALID' });
    });

    it('five wrong passcodes kill the challenge: the sixth, even right, is 429 MFA_ATTEMPTS_EXHAUSTED', async () => {
      const { user, secret } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const wrong = await wrongCode(secret, now);
      for (let i = 0; i < 5; i++) await expect(parts.mfaLogin.verify({ mfaToken, mfaType: 'app', passcode: wrong }, testContext)).rejects.toMatchObject({ code: 'MFA_CODE_INVALID' });
      const right = await totpCodeAt(secret, now);
      const res = await http().post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: right });
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ code: 'AUT-0108' });
      await expect(parts.mfaLogin.verify({ mfaToken, passcode: right }, testContext)).rejects.toMatchObject({ code: 'MFA_ATTEMPTS_EXHAUSTED' });
    });

    it('ten concurrent verifications of the right passcode: exactly one succeeds, at most maxAttempts are evaluated', async () => {
      const { user, secret } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const code = await totpCodeAt(secret, now);
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => parts.mfaLogin.verify({ mfaToken, mfaType: 'app', passcode: code }, testContext)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const codes = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code: string }).code] : []));
      expect(codes.every((c) => ['MFA_CODE_INVALID', 'MFA_TOKEN_INVALID', 'MFA_ATTEMPTS_EXHAUSTED'].includes(c))).toBe(true);
    });

    it('a passcode already used is refused in a later challenge, and so is an earlier step', async () => {
      const { user, secret } = await enrolledUser();
      const code = await totpCodeAt(secret, now);
      const first = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      await parts.mfaLogin.verify({ mfaToken: first.mfaToken, mfaType: 'app', passcode: code }, testContext);
      const second = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      await expect(parts.mfaLogin.verify({ mfaToken: second.mfaToken, mfaType: 'app', passcode: code }, testContext)).rejects.toMatchObject({
        code: 'MFA_CODE_INVALID',
        detail: expect.stringContaining('replayed') as unknown,
      });
      await expect(parts.mfaLogin.verify({ mfaToken: second.mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, now - 30_000) }, testContext)).rejects.toMatchObject({
        code: 'MFA_CODE_INVALID',
      });
    });

    it('a challenge past its TTL (300 s) is refused with MFA_TOKEN_INVALID', async () => {
      const { user, secret } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const started = now;
      try {
        now = started + 300_000;
        await expect(parts.mfaLogin.verify({ mfaToken, passcode: await totpCodeAt(secret, now) }, testContext)).rejects.toMatchObject({ code: 'MFA_TOKEN_INVALID' });
      } finally {
        now = started;
      }
    });
  });

  describe('recovery codes', () => {
    it('a recovery code completes one sign-in and is spent; two concurrent uses: exactly one succeeds', async () => {
      const { user, recoveryCodes } = await enrolledUser();
      const [first, second] = recoveryCodes as [string, string];
      const a = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      await parts.mfaLogin.verify({ mfaToken: a.mfaToken, recoveryCode: first.toLowerCase() }, testContext);
      const b = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      await expect(parts.mfaLogin.verify({ mfaToken: b.mfaToken, recoveryCode: first }, testContext)).rejects.toMatchObject({ code: 'MFA_CODE_INVALID' });
      const c = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const outcomes = await Promise.allSettled([b, c].map((challenge) => parts.mfaLogin.verify({ mfaToken: challenge.mfaToken, recoveryCode: second }, testContext)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const { rows } = await h.deps.pool.query<{ n: number }>('SELECT cardinality(recovery_code_hashes) AS n FROM user_mfa WHERE user_id = $1', [user.id]);
      expect(rows[0]?.n).toBe(1);
    });
  });

  describe('e-mailed codes', () => {
    it('a code sent through a real SMTP server completes the sign-in; a resend replaces it', async () => {
      const user = await newUser({ required: true });
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const sent = await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' });
      expect(sent.status).toBe(200);
      expect(sent.body).toEqual({ message: expect.any(String) as unknown });
      const firstCode = lastMailedCode(user.email);
      await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' }).expect(200);
      const secondCode = lastMailedCode(user.email);
      if (firstCode !== secondCode) await expect(parts.mfaLogin.verify({ mfaToken, mfaType: 'email', passcode: firstCode }, testContext)).rejects.toMatchObject({ code: 'MFA_CODE_INVALID' });
      const signIn = await parts.mfaLogin.verify({ mfaToken, mfaType: 'email', passcode: secondCode }, testContext);
      expect(signIn.user.id).toBe(user.id);
      await expect(parts.mfaLogin.verify({ mfaToken, mfaType: 'email', passcode: secondCode }, testContext)).rejects.toMatchObject({ code: 'MFA_TOKEN_INVALID' });
    });

    it('the fourth send of one challenge is 429 MFA_RESEND_LIMIT', async () => {
      const user = await newUser({ required: true });
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      for (let i = 0; i < 3; i++) await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' }).expect(200);
      const fourth = await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' });
      expect(fourth.status).toBe(429);
      expect(fourth.body).toMatchObject({ code: 'AUT-0109' });
    });

    it('a method the challenge does not offer, or no sender, is MFA_METHOD_UNAVAILABLE', async () => {
      const { user } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const res = await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'sms' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'AUT-0110' });
      expect((await http().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'app' }).expect(200)).body).toEqual({ message: expect.any(String) as unknown });
    });
  });

  describe('mfaToken', () => {
    it('a tampered, foreign or malformed mfaToken is 401 MFA_TOKEN_INVALID', async () => {
      const { user } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      const [id, signature] = mfaToken.split('.') as [string, string];
      const flipped = `${id}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      const forged = signMfaToken(Buffer.alloc(32, 7), id);
      for (const token of [flipped, forged, `${newChallengeId()}.${signature}`, 'x', `${mfaToken}x`]) {
        const res = await http().post('/v1/login/mfa/challenge').send({ mfaToken: token, mfaType: 'app' });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ code: 'AUT-0106' });
      }
      const unknown = signMfaToken(h.deps.settings.mfa.tokenSecret, newChallengeId());
      await expect(parts.mfaLogin.sendCode({ mfaToken: unknown, mfaType: 'app' })).rejects.toMatchObject({ code: 'MFA_TOKEN_INVALID' });
    });

    it('verify refuses a body with both or neither of passcode and recoveryCode, and non-ASCII digits', async () => {
      const { user } = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
      for (const body of [{ mfaToken }, { mfaToken, passcode: '123456', recoveryCode: 'ABCD' }, { mfaToken, passcode: '١٢٣٤٥٦' }, { mfaToken, passcode: '12345' }, { mfaToken, passcode: '123456', extra: 1 }]) {
        const res = await http().post('/v1/login/mfa/verify').send(body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'AUT-0001' });
      }
    });
  });

  describe('remember device', () => {
    it('a device token skips MFA for that user only, for 30 days', async () => {
      const a = await enrolledUser();
      const b = await enrolledUser();
      const { mfaToken } = await challenged(parts.mfaGate.challengeFor(a.user, { clientId }));
      const { deviceToken } = await parts.mfaLogin.verify({ mfaToken, passcode: await totpCodeAt(a.secret, now), rememberDevice: true }, testContext);
      expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const token = deviceToken as string;
      expect(await parts.mfaGate.challengeFor(a.user, { clientId, deviceToken: token })).toBeUndefined();
      expect(await parts.mfaGate.challengeFor(b.user, { clientId, deviceToken: token })).toMatchObject({ mfaRequired: true });
      expect(await parts.mfaGate.challengeFor(a.user, { clientId, deviceToken: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` })).toMatchObject({ mfaRequired: true });
      const { rows } = await h.deps.pool.query<{ token_hash: string }>('SELECT token_hash FROM remembered_devices WHERE user_id = $1', [a.user.id]);
      expect(rows.map((r) => r.token_hash)).not.toContain(token);
      const started = now;
      try {
        now = started + 30 * 86_400_000 - 1000;
        expect(await parts.mfaGate.challengeFor(a.user, { clientId, deviceToken: token })).toBeUndefined();
        now = started + 30 * 86_400_000 + 1000;
        expect(await parts.mfaGate.challengeFor(a.user, { clientId, deviceToken: token })).toMatchObject({ mfaRequired: true });
      } finally {
        now = started;
      }
    });

    it('a password change between the password step and the verify refuses the verify and remembers no device', async () => {
      const { user, secret } = await enrolledUser();
      const { rows: cut } = await h.deps.pool.query<{ valid_after: string }>('SELECT tokens_valid_after::text AS valid_after FROM users WHERE id = $1', [user.id]);
      const signingIn: ChallengeUser = { ...user, validAfter: cut[0]!.valid_after };
      const devices = async () => (await h.deps.pool.query('SELECT 1 FROM remembered_devices WHERE user_id = $1', [user.id])).rowCount;

      const unchanged = await challenged(parts.mfaGate.challengeFor(signingIn, { clientId }));
      const remembered = await parts.mfaLogin.verify({ mfaToken: unchanged.mfaToken, passcode: await totpCodeAt(secret, now), rememberDevice: true }, testContext);
      expect(remembered.deviceToken).toBeDefined();
      expect(await devices()).toBe(1);

      const changed = await challenged(parts.mfaGate.challengeFor(signingIn, { clientId }));
      // What Identity's password change does in its transaction: the cut-off moves and the remembered devices go.
      await withTransaction(h.deps.pool, (client) => endSessions(client, { kind: 'user', tenantId: user.tenantId, userId: user.id }, 'password_change'));
      expect(await devices()).toBe(0);
      await expect(
        parts.mfaLogin.verify({ mfaToken: changed.mfaToken, passcode: await totpCodeAt(secret, now + 30_000), rememberDevice: true }, testContext),
      ).rejects.toMatchObject({ code: 'INVALID_GRANT' });
      expect(await devices()).toBe(0);
    });
  });
});

describe('MFA login with a dependency unreachable', () => {
  let h: AuthHarness;
  const valkeyDown = createValkeyClient({ url: closedPortUrl, lazyConnect: true });

  beforeAll(async () => {
    h = await createAuthHarness('mfa-login-deps-down');
  });

  afterAll(async () => {
    valkeyDown.disconnect();
    await h.close();
  });

  async function enrolled(): Promise<{ user: ChallengeUser; secret: string }> {
    const org = await h.createOrganization();
    const created = await h.createUser(org.id);
    const secret = createTotpSecret();
    await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled) VALUES ($1, $2, $3, true)`, [org.id, created.id, h.deps.secrets.seal(secret, created.id)]);
    return { user: { id: created.id, tenantId: org.id, tenantSlug: org.slug, username: created.username, displayName: 'Test User', email: 'x@example.test' }, secret };
  }

  it('Valkey unreachable: the challenge is created, counted and passed in PostgreSQL, as without Valkey', async () => {
    const deps: AuthDeps = { ...h.deps, valkey: valkeyDown };
    const { user, secret } = await enrolled();
    const parts = wireAuth(deps);
    const { mfaToken } = await challenged(parts.mfaGate.challengeFor(user, { clientId }));
    const app = supertest(createAuthApp(parts));
    const wrong = await app.post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: await wrongCode(secret, Date.now()) });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'AUT-0107' });
    const right = await app.post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ accessToken: expect.any(String) });
  });

  it('PostgreSQL unreachable: fails closed, the gate and both routes answer 503, never a guess', async () => {
    const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    onTestFinished(() => pool.end());
    const deps: AuthDeps = { ...h.deps, pool };
    const { user } = await enrolled();
    const parts = wireAuth(deps);
    await expect(parts.mfaGate.challengeFor(user, { clientId })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const app = supertest(createAuthApp(parts));
    const mfaToken = signMfaToken(deps.settings.mfa.tokenSecret, newChallengeId());
    const verify = await app.post('/v1/login/mfa/verify').send({ mfaToken, passcode: '123456' });
    expect(verify.status).toBe(503);
    expect(verify.body).toMatchObject({ code: 'AUT-0017' });
    expect(JSON.stringify(verify.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    expect((await app.post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'app' })).status).toBe(503);
  });
});
