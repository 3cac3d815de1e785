import type { IdentityDeps } from '../deps.js';
import { generate } from 'otplib';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { delegate, expectEscalationRefused } from '../../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';
import { createIdentityApp } from '../app.js';

let h: IdentityHarness;
let http: () => supertest.Agent;
let admin: { tenantId: string; userId: string; token: string };
/** Identity's clock for MFA (tokens keep real time): a fixed instant 5 s into a TOTP step. */
let clockMs = 1_800_000_000_000 + 5_000;
const stepMs = 30_000;
const sent: { email: string; code: string }[] = [];

beforeAll(async () => {
  h = await createIdentityHarness('mfa');
  const deps: IdentityDeps = {
    ...h.deps,
    clock: { nowMs: () => clockMs },
    deliverMfaCode: async ({ to: email, code }) => {
      sent.push({ email, code });
    },
  };
  const app = createIdentityApp(deps);
  http = () => supertest.agent(app);
  const tenantId = await h.createOrganization();
  admin = { tenantId, ...(await h.admin(tenantId)) };
});
afterAll(async () => h.close());

interface Member {
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly auth: string;
}

async function member(tenantId?: string): Promise<Member> {
  const org = tenantId ?? (await h.createOrganization());
  const userId = await h.createUser(org);
  const { rows } = await h.deps.pool.query('SELECT email FROM users WHERE id = $1', [userId]);
  return { tenantId: org, userId, email: rows[0].email, auth: `Bearer ${await h.token({ sub: userId, tenantId: org })}` };
}

/** A fresh token for a user whose tokens were just revoked (iat must be after tokens_valid_after). */
async function freshAuth(m: Member): Promise<string> {
  return `Bearer ${await h.token({ sub: m.userId, tenantId: m.tenantId, issuedAtSeconds: Math.floor(Date.now() / 1000) + 1 })}`;
}

const codeAt = (secret: string, ms: number) => generate({ secret, epoch: Math.floor(ms / 1000) });
const lastSentTo = (email: string) => [...sent].reverse().find((s) => s.email === email)?.code as string;

/** Sets up the authenticator app; `proof` of a current factor is needed while one is enabled. */
async function setupApp(m: Member, proof: { passcode?: string; emailCode?: string; recoveryCode?: string } = {}) {
  const response = await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'app', ...proof });
  expect(response.status).toBe(200);
  return response.body as { secret: string; url: string; recoveryCodes: string[]; mfaType: string; enabled: boolean };
}

/** Setup, verify and enable the authenticator app; returns the secret and the recovery codes (the first one spent). */
async function enrolApp(m: Member, proof: { passcode?: string; emailCode?: string; recoveryCode?: string } = {}) {
  const setup = await setupApp(m, proof);
  await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(setup.secret, clockMs), mfaType: 'app' }).expect(200);
  await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: setup.recoveryCodes[0], mfaType: 'app' }).expect(200);
  return setup;
}

function advance(steps: number): void {
  clockMs += steps * stepMs;
}

describe('MFA: authenticator app (TOTP)', () => {
  it('setup returns a secret, an otpauth URL and ten recovery codes; verify then enable turns the factor on', async () => {
    const m = await member();
    const setup = await setupApp(m);
    expect(setup).toMatchObject({ mfaType: 'app', enabled: false });
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(setup.url);
    expect(url.protocol).toBe('otpauth:');
    expect(url.searchParams.get('secret')).toBe(setup.secret);
    expect(setup.recoveryCodes).toHaveLength(10);
    expect(new Set(setup.recoveryCodes).size).toBe(10);

    const before = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth);
    expect(before.body).toEqual({ enabled: false, preferredType: null, methods: [], totpEnabled: false, emailEnabled: false, smsEnabled: false });

    const verified = await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(setup.secret, clockMs), mfaType: 'app', secret: setup.secret });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ verified: true });
    const enabled = await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: setup.recoveryCodes[4], mfaType: 'app' });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toEqual({ enabled: true });

    const after = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth);
    expect(after.body).toEqual({ enabled: true, preferredType: 'app', methods: ['app'], totpEnabled: true, emailEnabled: false, smsEnabled: false });

    // The enabled secret now verifies codes of later steps.
    advance(1);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(setup.secret, clockMs), mfaType: 'app' }).expect(200);
    const { rows } = await h.deps.pool.query('SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id', [m.userId]);
    expect(rows.map((r) => r.action)).toEqual(['mfa.setup', 'mfa.verify', 'mfa.enable']);
  });

  it('a wrong code is 400 MFA_CODE_INVALID naming body.passcode; malformed codes are 400 before any check', async () => {
    const m = await member();
    const setup = await setupApp(m);
    const right = await codeAt(setup.secret, clockMs);
    const wrong = right === '000000' ? '000001' : '000000';
    const response = await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: wrong, mfaType: 'app' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'IDE-0112', field: 'body.passcode' });
    for (const passcode of ['abcdef', '12345', '1234567', '١٢٣٤٥٦', ' 12345', 123456]) {
      const malformed = await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ code: 'IDE-0001', field: 'body.passcode' });
    }
    const wrongSecret = await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: right, mfaType: 'app', secret: 'A'.repeat(32) });
    expect(wrongSecret.body).toMatchObject({ code: 'IDE-0112', field: 'body.secret' });
  });

  it('a code is accepted once: the same step again, or an earlier step, is refused and logged; ±2 steps never', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const verify = (passcode: string) => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' });
    const current = await codeAt(setup.secret, clockMs);
    expect((await verify(current)).status).toBe(200);
    const replay = await verify(current);
    expect(replay.status).toBe(400);
    expect(replay.body.code).toBe('IDE-0112');
    expect(h.reports.some((r) => r.requestId === replay.headers['x-request-id'] && /replayed/.test(r.detail))).toBe(true);
    expect((await verify(await codeAt(setup.secret, clockMs - stepMs))).status).toBe(400);
    expect((await verify(await codeAt(setup.secret, clockMs + 2 * stepMs))).status).toBe(400);
    expect((await verify(await codeAt(setup.secret, clockMs + stepMs))).status).toBe(200);
  });

  it('ten concurrent verifications of one code: exactly one succeeds (SELECT ... FOR UPDATE on the last step)', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const passcode = await codeAt(setup.secret, clockMs);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
  });

  it('the same pending code verified ten times at once also succeeds once', async () => {
    const m = await member();
    const setup = await setupApp(m);
    const passcode = await codeAt(setup.secret, clockMs);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('enable is refused without a verified code, with a recovery code of another setup, or for another method', async () => {
    const m = await member();
    const nothing = await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: 'AAAA-BBBB-CCCC-DDDD', mfaType: 'app' });
    expect(nothing.status).toBe(409);
    expect(nothing.body.code).toBe('IDE-0113');
    const first = await setupApp(m);
    const unverified = await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: first.recoveryCodes[0], mfaType: 'app' });
    expect(unverified.status).toBe(409);
    expect(unverified.body).toMatchObject({ code: 'IDE-0113', field: 'body.mfaType' });

    // A second setup replaces the pending secret and its recovery codes.
    const second = await setupApp(m);
    expect(second.secret).not.toBe(first.secret);
    expect((await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(first.secret, clockMs), mfaType: 'app' })).status).toBe(400);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(second.secret, clockMs), mfaType: 'app' }).expect(200);
    const stale = await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: first.recoveryCodes[0], mfaType: 'app' });
    expect(stale.status).toBe(400);
    expect(stale.body).toMatchObject({ code: 'IDE-0112', field: 'body.recoveryCode' });
    const otherMethod = await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: second.recoveryCodes[0], mfaType: 'email' });
    expect(otherMethod.status).toBe(409);
    await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: second.recoveryCodes[0], mfaType: 'app' }).expect(200);
  });

  it('setting up again while enabled keeps the enabled secret in force until the new one is enabled', async () => {
    const m = await member();
    const first = await enrolApp(m);
    const enabledSecret = async () => {
      const { rows } = await h.deps.pool.query('SELECT totp_secret_ciphertext FROM user_mfa WHERE user_id = $1', [m.userId]);
      return h.deps.secrets.open(rows[0].totp_secret_ciphertext, m.userId);
    };
    advance(1);
    const next = await setupApp(m, { passcode: await codeAt(first.secret, clockMs) });
    expect(await enabledSecret()).toBe(first.secret);
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth)).body.totpEnabled).toBe(true);
    advance(1);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: await codeAt(next.secret, clockMs), mfaType: 'app' }).expect(200);
    expect(await enabledSecret()).toBe(first.secret);
    await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: next.recoveryCodes[0], mfaType: 'app', secret: next.secret }).expect(200);
    expect(await enabledSecret()).toBe(next.secret);
    // A replaced factor ends the user's sessions: the token used so far is refused.
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth)).status).toBe(401);
    const auth = await freshAuth(m);
    advance(1);
    const verify = (passcode: string) => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', auth).send({ passcode, mfaType: 'app' });
    expect((await verify(await codeAt(first.secret, clockMs))).status).toBe(400);
    expect((await verify(await codeAt(next.secret, clockMs))).status).toBe(200);
    // The first setup's recovery codes were replaced with the new ones.
    const old = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', auth).send({ recoveryCode: first.recoveryCodes[1] });
    expect(old.status).toBe(400);
  });

  it('the code that verified a setup cannot be replayed once the factor is enabled', async () => {
    const m = await member();
    const setup = await setupApp(m);
    const passcode = await codeAt(setup.secret, clockMs);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' }).expect(200);
    await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: setup.recoveryCodes[0], mfaType: 'app' }).expect(200);
    expect((await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ passcode })).status).toBe(400);
  });
});

/** A six-digit code that no step in the ±1 window around `ms` produces: certainly wrong, never a replay. */
async function wrongCodeAt(secret: string, ms: number): Promise<string> {
  const near = new Set(await Promise.all([-1, 0, 1].map((d) => codeAt(secret, ms + d * stepMs))));
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

async function attemptState(userId: string): Promise<{ failed_attempts: number; locked_until: Date | null }> {
  const { rows } = await h.deps.pool.query('SELECT failed_attempts, locked_until FROM user_mfa WHERE user_id = $1', [userId]);
  return rows[0];
}

describe('MFA: wrong authenticator codes are counted', () => {
  const verify = (m: Member, passcode: string) => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'app' });
  const disable = (m: Member, body: object) => http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send(body);

  it('five wrong codes lock verify and disable for 15 minutes: even the right code is then 429 RATE_LIMITED with Retry-After', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(setup.secret, clockMs);
    for (let i = 1; i <= 5; i += 1) {
      const response = await verify(m, wrong);
      expect(response.status, `wrong code ${i}`).toBe(400);
      expect(response.body.code).toBe('IDE-0112');
    }
    const lockedAt = clockMs;
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 0, locked_until: new Date(lockedAt + 15 * 60_000) });

    const right = await verify(m, await codeAt(setup.secret, clockMs));
    expect(right.status).toBe(429);
    expect(right.body).toMatchObject({ code: 'IDE-0015', status: 429 });
    expect(right.headers['retry-after']).toBe('900');
    // Every proof of disable is refused too while locked, and nothing is spent.
    for (const body of [{ passcode: await codeAt(setup.secret, clockMs) }, { recoveryCode: setup.recoveryCodes[1] }]) {
      const refused = await disable(m, body);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('900');
    }
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'mfa.lock'", [m.userId]);
    expect(rows[0].n).toBe(1);

    advance(10);
    expect((await verify(m, await codeAt(setup.secret, clockMs))).headers['retry-after']).toBe('600');
    clockMs = lockedAt + 15 * 60_000;
    expect((await verify(m, await codeAt(setup.secret, clockMs))).status).toBe(200);
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth)).body).toMatchObject({ enabled: true, totpEnabled: true });
  });

  it('a right code resets the count, a replayed code does not count, and wrong codes at verify and disable add up to the organization’s maxAttempts', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(setup.secret, clockMs);
    for (let i = 0; i < 4; i += 1) expect((await verify(m, wrong)).status).toBe(400);
    const right = await codeAt(setup.secret, clockMs);
    expect((await verify(m, right)).status).toBe(200);
    expect((await attemptState(m.userId)).failed_attempts).toBe(0);
    for (let i = 0; i < 6; i += 1) expect((await verify(m, right)).status).toBe(400); // replays
    for (let i = 0; i < 4; i += 1) expect((await verify(m, wrong)).status).toBe(400);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 4, locked_until: null });
    advance(1);
    expect((await verify(m, await codeAt(setup.secret, clockMs))).status).toBe(200);

    // An organization allowing 3: two wrong at verify and one wrong passcode at disable lock the user.
    const strictOrg = await h.createOrganization();
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, max_attempts) VALUES ($1, 3)', [strictOrg]);
    const strict = await member(strictOrg);
    const strictSetup = await enrolApp(strict);
    advance(1);
    const strictWrong = await wrongCodeAt(strictSetup.secret, clockMs);
    expect((await verify(strict, strictWrong)).status).toBe(400);
    expect((await verify(strict, strictWrong)).status).toBe(400);
    expect((await disable(strict, { passcode: strictWrong })).status).toBe(400);
    expect((await disable(strict, { passcode: await codeAt(strictSetup.secret, clockMs) })).status).toBe(429);
    expect((await http().get(`/v1/users/${strict.userId}/mfa`).set('Authorization', strict.auth)).body).toMatchObject({ enabled: true });
  });

  it('wrong codes for a pending authenticator setup count too', async () => {
    const m = await member();
    const setup = await setupApp(m);
    const wrong = await wrongCodeAt(setup.secret, clockMs);
    for (let i = 0; i < 5; i += 1) expect((await verify(m, wrong)).status).toBe(400);
    expect((await verify(m, await codeAt(setup.secret, clockMs))).status).toBe(429);
  });

  it('wrong codes for a pending e-mail setup count too', async () => {
    const m = await member();
    await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'email' }).expect(200);
    const code = lastSentTo(m.email);
    const wrong = code === '000000' ? '000001' : '000000';
    const verifyEmail = (passcode: string) => http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode, mfaType: 'email' });
    for (let i = 0; i < 4; i += 1) expect((await verifyEmail(wrong)).status).toBe(400);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 4, locked_until: null });
    expect((await verifyEmail(wrong)).status).toBe(400);
    expect((await verifyEmail(code)).status).toBe(429);
  });

  it('ten concurrent wrong codes: exactly maxAttempts are evaluated (400), the rest are 429, and the user ends locked', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(setup.secret, clockMs);
    const results = await Promise.all(Array.from({ length: 10 }, () => verify(m, wrong)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429, 429, 429]);
    expect((await attemptState(m.userId)).locked_until).toEqual(new Date(clockMs + 15 * 60_000));
    const right = await verify(m, await codeAt(setup.secret, clockMs));
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBe('900');
  });

  it('an administrator reset lifts the lock', async () => {
    const m = await member(admin.tenantId);
    const setup = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(setup.secret, clockMs);
    for (let i = 0; i < 5; i += 1) await verify(m, wrong);
    expect((await attemptState(m.userId)).locked_until).not.toBeNull();
    expect((await http().post(`/v1/users/${m.userId}/mfa/reset`).set('Authorization', `Bearer ${admin.token}`)).status).toBe(200);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 0, locked_until: null });
  });
});

describe('MFA: setting up a factor while one is enabled needs proof of a current one', () => {
  const setup = (m: Member, body: object) => http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send(body);
  const rowOf = async (userId: string) => (await h.deps.pool.query('SELECT * FROM user_mfa WHERE user_id = $1', [userId])).rows[0];

  it('without proof: 403 IDE-0118 for replacing the authenticator and for adding e-mail beside it; nothing is written', async () => {
    const m = await member();
    await enrolApp(m);
    const before = await rowOf(m.userId);
    for (const mfaType of ['app', 'email']) {
      const refused = await setup(m, { mfaType });
      expect(refused.status, mfaType).toBe(403);
      expect(refused.body).toMatchObject({ code: 'IDE-0118', status: 403 });
      expect(refused.body).not.toHaveProperty('secret');
    }
    expect(await rowOf(m.userId)).toEqual(before);
    // Two proofs at once are a malformed request.
    expect((await setup(m, { mfaType: 'app', passcode: '123456', recoveryCode: 'ABCD-EFGH' })).status).toBe(400);
  });

  it('a current passcode proves it once: the step is spent, so the same code cannot prove a second setup or a disable', async () => {
    const m = await member();
    const first = await enrolApp(m);
    advance(1);
    const passcode = await codeAt(first.secret, clockMs);
    const next = await setup(m, { mfaType: 'app', passcode });
    expect(next.status).toBe(200);
    expect(next.body.secret).toEqual(expect.any(String));
    const again = await setup(m, { mfaType: 'app', passcode });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 'IDE-0112', field: 'body.passcode' });
    expect((await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ passcode })).status).toBe(400);
    // A replay is refused but not counted as a guess.
    expect((await attemptState(m.userId)).failed_attempts).toBe(0);
  });

  it('a recovery code proves it once and is spent; an e-mailed code from /mfa/challenge proves it once', async () => {
    const m = await member();
    const first = await enrolApp(m);
    expect((await setup(m, { mfaType: 'app', recoveryCode: first.recoveryCodes[1] })).status).toBe(200);
    expect((await rowOf(m.userId)).recovery_code_hashes).toHaveLength(8);
    expect((await setup(m, { mfaType: 'app', recoveryCode: first.recoveryCodes[1] })).status).toBe(400);

    await http().post(`/v1/users/${m.userId}/mfa/challenge`).set('Authorization', m.auth).expect(200);
    const emailCode = lastSentTo(m.email);
    expect((await setup(m, { mfaType: 'app', emailCode })).status).toBe(200);
    const reused = await setup(m, { mfaType: 'app', emailCode });
    expect(reused.status).toBe(400);
    expect(reused.body.field).toBe('body.emailCode');
  });

  it('wrong proofs count into the one wrong-code lock: the fifth locks, then even a right proof is 429 and no setup is stored', async () => {
    const m = await member();
    const first = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(first.secret, clockMs);
    for (let i = 0; i < 4; i += 1) expect((await setup(m, { mfaType: 'app', passcode: wrong })).status).toBe(400);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 4, locked_until: null });
    await http().post(`/v1/users/${m.userId}/mfa/challenge`).set('Authorization', m.auth).expect(200);
    const sentCode = lastSentTo(m.email);
    expect((await setup(m, { mfaType: 'app', emailCode: sentCode === '000000' ? '000001' : '000000' })).status).toBe(400);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 0, locked_until: new Date(clockMs + 15 * 60_000) });
    const pendingBefore = (await rowOf(m.userId)).totp_pending_ciphertext;
    for (const proof of [{ passcode: await codeAt(first.secret, clockMs) }, { emailCode: sentCode }, { recoveryCode: first.recoveryCodes[1] }]) {
      const locked = await setup(m, { mfaType: 'app', ...proof });
      expect(locked.status).toBe(429);
      expect(locked.headers['retry-after']).toBe('900');
    }
    expect((await rowOf(m.userId)).totp_pending_ciphertext).toBe(pendingBefore);
  });

  it('eight concurrent wrong proofs at setup, with the organization allowing 10: the count is exactly eight; four more at once lock at the tenth, once', async () => {
    const roomy = await h.createOrganization();
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, max_attempts) VALUES ($1, 10)', [roomy]);
    const m = await member(roomy);
    const first = await enrolApp(m);
    advance(1);
    const wrong = await wrongCodeAt(first.secret, clockMs);
    const burst = (n: number) => Promise.all(Array.from({ length: n }, () => setup(m, { mfaType: 'app', passcode: wrong })));
    expect((await burst(8)).map((r) => r.status)).toEqual(Array(8).fill(400));
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 8, locked_until: null });
    const statuses = (await burst(4)).map((r) => r.status).sort();
    expect(statuses).toEqual([400, 400, 429, 429]);
    expect(await attemptState(m.userId)).toEqual({ failed_attempts: 0, locked_until: new Date(clockMs + 15 * 60_000) });
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'mfa.lock'", [m.userId]);
    expect(rows[0].n).toBe(1);
  });

  it('a user without an enabled factor sets one up with no proof (the first enrolment), and the lock does not apply to it', async () => {
    const m = await member();
    expect((await setup(m, { mfaType: 'app' })).status).toBe(200);
    expect((await setup(m, { mfaType: 'email' })).status).toBe(200);
  });
});

describe('MFA: recovery codes and disabling', () => {
  it('recovery codes are one-time: the acknowledged one is spent, another proves a disable once', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    const spent = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ recoveryCode: setup.recoveryCodes[0] });
    expect(spent.status).toBe(400);
    expect(spent.body).toMatchObject({ code: 'IDE-0112', field: 'body.recoveryCode' });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ recoveryCode: setup.recoveryCodes[1]?.toLowerCase() })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others lost the race: MFA is already off (409), or their token was revoked by the winner (401).
    expect(statuses.every((s) => s === 200 || s === 409 || s === 401)).toBe(true);
  });

  it('disable with a current passcode turns everything off and revokes the user’s tokens', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    const wrong = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ passcode: (await codeAt(setup.secret, clockMs - 3 * stepMs)) });
    expect(wrong.status).toBe(400);
    const twoProofs = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ passcode: '123456', recoveryCode: setup.recoveryCodes[1] });
    expect(twoProofs.status).toBe(400);
    expect(twoProofs.body.code).toBe('IDE-0001');
    const response = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ passcode: await codeAt(setup.secret, clockMs) });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ enabled: false, methods: [] });
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth)).status).toBe(401);
    const status = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', await freshAuth(m));
    expect(status.body).toMatchObject({ enabled: false, totpEnabled: false });
    const { rows } = await h.deps.pool.query('SELECT totp_secret_ciphertext, recovery_code_hashes FROM user_mfa WHERE user_id = $1', [m.userId]);
    expect(rows[0]).toEqual({ totp_secret_ciphertext: null, recovery_code_hashes: [] });
  });

  it('disable with an e-mailed code: a wrong code is refused, the sent one works once; attempts are bounded', async () => {
    const m = await member();
    await enrolApp(m);
    const challenge = await http().post(`/v1/users/${m.userId}/mfa/disable/challenge`).set('Authorization', m.auth);
    expect(challenge.status).toBe(200);
    expect(challenge.body).toMatchObject({ expiresIn: 300 });
    const code = lastSentTo(m.email);
    expect(code).toMatch(/^[0-9]{6}$/);
    const wrong = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ emailCode: code === '000000' ? '000001' : '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('body.emailCode');
    const ok = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ emailCode: code });
    expect(ok.status).toBe(200);

    const n = await member();
    await enrolApp(n);
    await http().post(`/v1/users/${n.userId}/mfa/disable/challenge`).set('Authorization', n.auth).expect(200);
    const sentCode = lastSentTo(n.email);
    const other = sentCode === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) await http().post(`/v1/users/${n.userId}/mfa/disable`).set('Authorization', n.auth).send({ emailCode: other }).expect(400);
    // Wrong e-mailed codes count into the user's one wrong-code lock: the fifth locked the user, so even the sent code is now 429.
    const locked = await http().post(`/v1/users/${n.userId}/mfa/disable`).set('Authorization', n.auth).send({ emailCode: sentCode });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBe(900);
    expect((await http().get(`/v1/users/${n.userId}/mfa`).set('Authorization', n.auth)).body).toMatchObject({ enabled: true });
    // Resends are bounded while a code is live (1 + 3 by default).
    const resends = [];
    for (let i = 0; i < 4; i++) resends.push((await http().post(`/v1/users/${n.userId}/mfa/disable/challenge`).set('Authorization', n.auth)).status);
    expect(resends).toEqual([200, 200, 200, 429]);
  });

  it('an e-mailed code expires with the organization’s code TTL', async () => {
    const m = await member();
    await enrolApp(m);
    await http().post(`/v1/users/${m.userId}/mfa/disable/challenge`).set('Authorization', m.auth).expect(200);
    const code = lastSentTo(m.email);
    clockMs += 300_000;
    expect((await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ emailCode: code })).status).toBe(400);
  });

  it('without an e-mail sender the challenge answers 503 and nothing is stored; without MFA it is 409', async () => {
    const m = await member();
    const noMfa = await http().post(`/v1/users/${m.userId}/mfa/disable/challenge`).set('Authorization', m.auth);
    expect(noMfa.status).toBe(409);
    await enrolApp(m);
    const response = await h.http().post(`/v1/users/${m.userId}/mfa/disable/challenge`).set('Authorization', m.auth);
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('IDE-0017');
    const disable = await http().post(`/v1/users/${m.userId}/mfa/disable`).set('Authorization', m.auth).send({ emailCode: '123456' });
    expect(disable.status).toBe(400);
  });

  it('an administrator resets a user’s MFA (mfa delete): factors gone, tokens revoked; others cannot', async () => {
    const m = await member(admin.tenantId);
    await enrolApp(m);
    const self = await http().post(`/v1/users/${m.userId}/mfa/reset`).set('Authorization', m.auth);
    expect(self.status).toBe(403);
    const reset = await http().post(`/v1/users/${m.userId}/mfa/reset`).set('Authorization', `Bearer ${admin.token}`);
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ enabled: false, methods: [] });
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth)).status).toBe(401);
    const { rows } = await h.deps.pool.query("SELECT actor, after FROM audit_events WHERE target_id = $1 AND action = 'mfa.reset'", [m.userId]);
    expect(rows).toEqual([{ actor: `user:${admin.userId}`, after: expect.objectContaining({ enabled: false }) }]);
  });
});

describe('MFA: no escalation (removing a user\'s factors helps take it over)', () => {
  async function enrolled(grants: readonly (readonly [string, string])[], builtin = false): Promise<Member & { setup: Awaited<ReturnType<typeof enrolApp>> }> {
    const m = await member(admin.tenantId);
    if (grants.length > 0) await h.grant(admin.tenantId, `user:${m.userId}`, grants);
    if (builtin) await h.deps.pool.query('UPDATE users SET builtin = true WHERE id = $1', [m.userId]);
    return { ...m, setup: await enrolApp(m) };
  }

  it('a reset by a writer holding less than the user is 403 naming what is missing; the built-in administrator\'s only by an escalation holder', async () => {
    const desk = await delegate(h, admin.tenantId, [['mfa', 'delete'], ['ledgers', 'get']]);
    const boss = await enrolled([['*', '*']]);
    const reader = await enrolled([['ledgers', 'get']]);
    const builtin = await enrolled([['ledgers', 'get']], true);
    await expectEscalationRefused(h, () => http().post(`/v1/users/${boss.userId}/mfa/reset`).set('Authorization', desk.auth), [{ resource: '*', action: '*' }]);
    await expectEscalationRefused(h, () => http().post(`/v1/users/${builtin.userId}/mfa/reset`).set('Authorization', desk.auth), [{ ...escalationPermission }]);
    expect((await http().post(`/v1/users/${reader.userId}/mfa/reset`).set('Authorization', desk.auth)).status).toBe(200);
    expect((await http().post(`/v1/users/${builtin.userId}/mfa/reset`).set('Authorization', `Bearer ${admin.token}`)).status).toBe(200);
  });

  it("the built-in administrator turns its own MFA off only while it holds the escalation permission", async () => {
    const builtin = await enrolled([['ledgers', 'get']], true);
    await expectEscalationRefused(
      h,
      async () => http().post(`/v1/users/${builtin.userId}/mfa/disable`).set('Authorization', builtin.auth).send({ passcode: await codeAt(builtin.setup.secret, clockMs + stepMs) }),
      [{ ...escalationPermission }],
    );
    await h.grant(admin.tenantId, `user:${builtin.userId}`, [[escalationPermission.resource, escalationPermission.action]]);
    advance(1);
    const disabled = await http().post(`/v1/users/${builtin.userId}/mfa/disable`).set('Authorization', builtin.auth).send({ passcode: await codeAt(builtin.setup.secret, clockMs) });
    expect(disabled.status).toBe(200);
  });
});

describe('MFA: e-mail factor, preferred method, settings', () => {
  it('e-mail setup sends a code (no secret or URL), verify and enable turn it on; preferred type can switch', async () => {
    const m = await member();
    const setup = await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'email' });
    expect(setup.status).toBe(200);
    expect(setup.body).not.toHaveProperty('secret');
    expect(setup.body).not.toHaveProperty('url');
    expect(setup.body.recoveryCodes).toHaveLength(10);
    const code = lastSentTo(m.email);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: code, mfaType: 'email' }).expect(200);
    await http().post(`/v1/users/${m.userId}/mfa/enable`).set('Authorization', m.auth).send({ recoveryCode: setup.body.recoveryCodes[0], mfaType: 'email' }).expect(200);
    await enrolApp(m, { recoveryCode: setup.body.recoveryCodes[1] });
    const status = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth);
    expect(status.body).toEqual({ enabled: true, preferredType: 'email', methods: ['app', 'email'], totpEnabled: true, emailEnabled: true, smsEnabled: false });
    const preferred = await http().patch(`/v1/users/${m.userId}/mfa/preferred`).set('Authorization', m.auth).send({ mfaType: 'app' });
    expect(preferred.body.preferredType).toBe('app');
    const sms = await http().patch(`/v1/users/${m.userId}/mfa/preferred`).set('Authorization', m.auth).send({ mfaType: 'sms' });
    expect(sms.status).toBe(409);
  });

  it('sms needs the user\'s phone number (400 without one); e-mail or sms without a sender is 503', async () => {
    const m = await member();
    const noPhone = await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'sms' });
    expect(noPhone.status).toBe(400);
    expect(noPhone.body.field).toBe('body.mfaType');
    await h.deps.pool.query('UPDATE users SET phone_number = $2 WHERE id = $1', [m.userId, '+15551239999']);
    expect((await h.http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'sms' })).status).toBe(503);
    expect((await h.http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'email' })).status).toBe(503);
  });

  it('organization settings: defaults, replacement with If-Match, methods the organization disallows are refused', async () => {
    const org = await h.createOrganization();
    const orgAdmin = await h.admin(org);
    const auth = `Bearer ${orgAdmin.token}`;
    const defaults = await http().get('/v1/mfa/settings').set('Authorization', auth);
    expect(defaults.status).toBe(200);
    expect(defaults.body).toMatchObject({ required: false, allowedMethods: ['app', 'email', 'sms'], codeTtlSeconds: 300, maxAttempts: 5, maxResends: 3, rememberDeviceDays: 30 });
    expect(defaults.headers.etag).toBe('"1"');
    const settings = { required: true, allowedMethods: ['email', 'app'], codeTtlSeconds: 120, maxAttempts: 3, maxResends: 1, rememberDeviceDays: 0 };
    const put = await http().put('/v1/mfa/settings').set('Authorization', auth).set('If-Match', '"1"').send(settings);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ ...settings, allowedMethods: ['app', 'email'] });
    expect(put.headers.etag).toBe('"2"');
    expect((await http().put('/v1/mfa/settings').set('Authorization', auth).set('If-Match', '"1"').send(settings)).status).toBe(412);
    expect((await http().get('/v1/mfa/settings').set('Authorization', auth)).body.codeTtlSeconds).toBe(120);

    const m = await member(org);
    const refused = await http().post(`/v1/users/${m.userId}/mfa/setup`).set('Authorization', m.auth).send({ mfaType: 'sms' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'IDE-0114', field: 'body.mfaType' });
    const { rows } = await h.deps.pool.query("SELECT before, after FROM audit_events WHERE org_id = $1 AND action = 'mfa.settings.update'", [org]);
    expect(rows[0].after).toMatchObject({ required: true, codeTtlSeconds: 120 });
  });

  it('out-of-range or malformed settings are 400 naming the field; nothing changes', async () => {
    const org = await h.createOrganization();
    const auth = `Bearer ${(await h.admin(org)).token}`;
    const good = { required: false, allowedMethods: ['app'], codeTtlSeconds: 300, maxAttempts: 5, maxResends: 3, rememberDeviceDays: 30 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, codeTtlSeconds: 59 }, 'body.codeTtlSeconds'],
      [{ ...good, codeTtlSeconds: 901 }, 'body.codeTtlSeconds'],
      [{ ...good, codeTtlSeconds: 300.5 }, 'body.codeTtlSeconds'],
      [{ ...good, maxAttempts: 0 }, 'body.maxAttempts'],
      [{ ...good, maxAttempts: 11 }, 'body.maxAttempts'],
      [{ ...good, maxResends: -1 }, 'body.maxResends'],
      [{ ...good, maxResends: 11 }, 'body.maxResends'],
      [{ ...good, rememberDeviceDays: 366 }, 'body.rememberDeviceDays'],
      [{ ...good, rememberDeviceDays: '30' }, 'body.rememberDeviceDays'],
      [{ ...good, allowedMethods: [] }, 'body.allowedMethods'],
      [{ ...good, allowedMethods: ['app', 'app'] }, 'body.allowedMethods'],
      [{ ...good, allowedMethods: ['voice'] }, 'body.allowedMethods.0'],
      [{ ...good, required: 'yes' }, 'body.required'],
      [{ ...good, tenantId: 'other' }, 'body'],
      [{ required: false }, 'body.allowedMethods'],
    ];
    for (const [body, field] of cases) {
      const response = await http().put('/v1/mfa/settings').set('Authorization', auth).send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const { rows } = await h.deps.pool.query('SELECT count(*)::int AS n FROM organization_mfa_settings WHERE org_id = $1', [org]);
    expect(rows[0].n).toBe(0);
  });
});

describe('MFA: who may do what', () => {
  it('self-service routes refuse other users, even administrators; GET status needs mfa get for others', async () => {
    const m = await member(admin.tenantId);
    const adminAuth = `Bearer ${admin.token}`;
    for (const [method, path, body] of [
      ['post', 'setup', { mfaType: 'app' }],
      ['post', 'verify', { passcode: '123456', mfaType: 'app' }],
      ['post', 'enable', { recoveryCode: 'AAAA', mfaType: 'app' }],
      ['patch', 'preferred', { mfaType: 'app' }],
      ['post', 'disable', { passcode: '123456' }],
      ['post', 'disable/challenge', undefined],
    ] as const) {
      const request = http()[method](`/v1/users/${m.userId}/mfa/${path}`).set('Authorization', adminAuth);
      const response = body === undefined ? await request : await request.send(body);
      expect(response.status, path).toBe(403);
    }
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', adminAuth)).status).toBe(200);
    const peer = await member(admin.tenantId);
    expect((await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', peer.auth)).status).toBe(403);
  });

  it("another tenant's user id is 404 for administrators and users alike", async () => {
    const victim = await member();
    await enrolApp(victim);
    const adminAuth = `Bearer ${admin.token}`;
    expect((await http().get(`/v1/users/${victim.userId}/mfa`).set('Authorization', adminAuth)).status).toBe(404);
    expect((await http().post(`/v1/users/${victim.userId}/mfa/reset`).set('Authorization', adminAuth)).status).toBe(404);
    expect((await http().post(`/v1/users/${victim.userId}/mfa/setup`).set('Authorization', adminAuth).send({ mfaType: 'app' })).status).toBe(404);
    const status = await http().get(`/v1/users/${victim.userId}/mfa`).set('Authorization', victim.auth);
    expect(status.body.enabled).toBe(true);
  });
});

describe('MFA: secrets stay secret', () => {
  it('the TOTP secret and recovery codes appear only in the setup answer: not in GET, audit rows, reports or the database in clear', async () => {
    const m = await member();
    const setup = await enrolApp(m);
    advance(1);
    await http().post(`/v1/users/${m.userId}/mfa/verify`).set('Authorization', m.auth).send({ passcode: '000000', mfaType: 'app' });
    const canaries = [setup.secret, ...setup.recoveryCodes, ...setup.recoveryCodes.map((c) => c.replace(/-/g, ''))];
    const status = await http().get(`/v1/users/${m.userId}/mfa`).set('Authorization', m.auth);
    const audit = await h.deps.pool.query('SELECT * FROM audit_events WHERE target_id = $1', [m.userId]);
    const stored = await h.deps.pool.query('SELECT * FROM user_mfa WHERE user_id = $1', [m.userId]);
    const haystacks = { get: JSON.stringify(status.body), audit: JSON.stringify(audit.rows), reports: JSON.stringify(h.reports), db: JSON.stringify(stored.rows) };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const canary of canaries) expect(text.includes(canary), `${where} contains a secret`).toBe(false);
    }
    expect(stored.rows[0].totp_secret_ciphertext).toMatch(/^v1\./);
    // Sealed to this user: the ciphertext copied to another row does not open.
    expect(() => h.deps.secrets.open(stored.rows[0].totp_secret_ciphertext, admin.userId)).toThrow();
    expect(h.deps.secrets.open(stored.rows[0].totp_secret_ciphertext, m.userId)).toBe(setup.secret);
  });
});
