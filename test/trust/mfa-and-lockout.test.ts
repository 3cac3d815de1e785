// Trust boundaries: second factors and password guesses. Over HTTP, Auth and Identity on one real PostgreSQL schema
// (and Valkey for MFA challenges): setting up a factor while one is enabled needs proof of a current one; every
// wrong one-time code, at Auth's sign-in or at Identity, counts into one per-user lock; a wrong current password at
// Identity counts into Auth's sign-in lockout; an unknown client id never reaches the database in clear; in oidc
// mode a username from another provider account opens nothing. Each refusal answers its status and changes
// nothing but the counter it is meant to move (table digests).
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthApp } from '../../auth-service/app.js';
import { wireAuth } from '../../auth-service/wiring.js';
import { OidcIdentityProvider } from '../../auth-service/identity-providers/oidc-identity-provider.js';
import { totpCodeAt, totpPeriodSeconds } from '../../domain/totp.js';
import { createAuthHarness, defaultPassword, type AuthHarness } from '../support/auth-harness.js';
import { databaseDigest } from '../support/database-digest.js';
import { identityBesideAuth } from '../support/identity-beside-auth.js';
import { startTestOidcProvider, type TestOidcProvider } from '../support/oidc-test-provider.js';

let h: AuthHarness;
let org: { id: string; slug: string };
/** Both services' clock: moved a TOTP step at a time, so each right code is a fresh one. */
let now = Date.now();
const mailed: { to: string; code: string }[] = [];
let auth: () => supertest.Agent;
let identity: () => supertest.Agent;

interface Person {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  /** `Bearer <access token>` from Auth's password sign-in, taken before any factor was enabled. */
  readonly bearer: string;
}

interface Enrolled extends Person {
  readonly secret: string;
  /** The setup's recovery codes; the first was spent by enable. */
  readonly recoveryCodes: string[];
}

const stepMs = totpPeriodSeconds * 1000;
const nextStep = () => {
  now += stepMs;
};
const lastMailedTo = (email: string) => mailed.findLast((m) => m.to === email)?.code as string;
const otherThan = (code: string) => (code === '000000' ? '000001' : '000000');

async function wrongCode(secret: string): Promise<string> {
  const near = new Set(await Promise.all([-1, 0, 1].map((d) => totpCodeAt(secret, now + d * stepMs))));
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

const signIn = (username: string, password: string) => auth().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });

async function person(): Promise<Person> {
  const user = await h.createUser(org.id, { username: `trust-${randomUUID().slice(0, 8)}` });
  const res = await signIn(user.username, defaultPassword);
  expect(res.status, res.text).toBe(200);
  return { id: user.id, username: user.username, email: `${user.username}@example.test`, bearer: `Bearer ${res.body.accessToken as string}` };
}

/** Sets up, verifies and enables the authenticator app over Identity. */
async function enrolled(options: { email?: boolean } = {}): Promise<Enrolled> {
  const p = await person();
  const setup = await identity().post(`/v1/users/${p.id}/mfa/setup`).set('Authorization', p.bearer).send({ mfaType: 'app' });
  expect(setup.status, setup.text).toBe(200);
  const { secret, recoveryCodes } = setup.body as { secret: string; recoveryCodes: string[] };
  await identity().post(`/v1/users/${p.id}/mfa/verify`).set('Authorization', p.bearer).send({ mfaType: 'app', passcode: await totpCodeAt(secret, now) }).expect(200);
  await identity().post(`/v1/users/${p.id}/mfa/enable`).set('Authorization', p.bearer).send({ mfaType: 'app', recoveryCode: recoveryCodes[0] }).expect(200);
  if (options.email) {
    nextStep();
    const email = await identity().post(`/v1/users/${p.id}/mfa/setup`).set('Authorization', p.bearer).send({ mfaType: 'email', passcode: await totpCodeAt(secret, now) });
    expect(email.status, email.text).toBe(200);
    await identity().post(`/v1/users/${p.id}/mfa/verify`).set('Authorization', p.bearer).send({ mfaType: 'email', passcode: lastMailedTo(p.email) }).expect(200);
    await identity().post(`/v1/users/${p.id}/mfa/enable`).set('Authorization', p.bearer).send({ mfaType: 'email', recoveryCode: email.body.recoveryCodes[0] }).expect(200);
    nextStep();
    return { ...p, secret, recoveryCodes: email.body.recoveryCodes as string[] };
  }
  nextStep();
  return { ...p, secret, recoveryCodes };
}

async function attemptsOf(userId: string): Promise<{ failed_attempts: number; locked: boolean }> {
  const { rows } = await h.deps.pool.query('SELECT failed_attempts, locked_until IS NOT NULL AS locked FROM user_mfa WHERE user_id = $1', [userId]);
  return rows[0];
}

async function signInFailuresOf(username: string): Promise<{ failures: number; locked: boolean } | undefined> {
  const { rows } = await h.deps.pool.query('SELECT failures, locked_until IS NOT NULL AS locked FROM sign_in_failures WHERE username_canonical = $1', [username.toLowerCase()]);
  return rows[0];
}

/** The user's MFA row without what a counted guess moves (the count, the row version, the time of the change). */
async function mfaRowBesidesCount(userId: string): Promise<Record<string, unknown>> {
  const { rows } = await h.deps.pool.query('SELECT * FROM user_mfa WHERE user_id = $1', [userId]);
  const { failed_attempts: _count, version: _version, updated_at: _at, ...rest } = rows[0];
  return rest;
}

/** An MFA challenge of a password sign-in, its code e-mailed: the mfaToken and the code. */
async function emailChallenge(p: Enrolled): Promise<{ mfaToken: string; code: string }> {
  const res = await signIn(p.username, defaultPassword);
  expect(res.body).toMatchObject({ mfaRequired: true });
  const mfaToken = res.body.mfaToken as string;
  await auth().post('/v1/login/mfa/challenge').send({ mfaToken, mfaType: 'email' }).expect(200);
  return { mfaToken, code: lastMailedTo(p.email) };
}

beforeAll(async () => {
  h = await createAuthHarness('trust_mfa_lockout', { withValkey: true, clock: { nowMs: () => now } });
  const deliver = async ({ to, code }: { to: string; code: string }) => void mailed.push({ to, code });
  const authApp = createAuthApp(wireAuth({ ...h.deps, deliverMfaCode: deliver }));
  const identityApp = identityBesideAuth(h, { deliverMfaCode: deliver });
  auth = () => supertest.agent(authApp);
  identity = () => supertest.agent(identityApp);
  org = await h.createOrganization();
  // Lerian's seed: every user may change their own password.
  await h.writePolicy(org.id, [{ op: 'add', rule: { ptype: 'p', values: ['*', org.id, 'update-password', 'patch', 'allow'] } }]);
});

afterAll(async () => h?.close());

describe('setting up a factor while one is enabled needs proof of a current one', () => {
  const setup = (p: Person, body: object) => identity().post(`/v1/users/${p.id}/mfa/setup`).set('Authorization', p.bearer).send(body);

  it('without proof, replacing the authenticator or adding e-mail beside it is 403 IDE-0118 and changes nothing', async () => {
    const p = await enrolled();
    const before = await databaseDigest(h.deps.pool);
    for (const mfaType of ['app', 'email']) {
      const refused = await setup(p, { mfaType });
      expect(refused.status, mfaType).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({ code: 'IDE-0118' });
      expect(refused.body).not.toHaveProperty('secret');
    }
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a wrong passcode is 400 IDE-0112 and moves only the wrong-code count; a stolen token cannot swap in a factor', async () => {
    const p = await enrolled();
    const before = await databaseDigest(h.deps.pool, { except: ['user_mfa'] });
    const rowBefore = await mfaRowBesidesCount(p.id);
    const refused = await setup(p, { mfaType: 'app', passcode: await wrongCode(p.secret) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'IDE-0112', field: 'body.passcode' });
    expect(await databaseDigest(h.deps.pool, { except: ['user_mfa'] })).toEqual(before);
    expect(await mfaRowBesidesCount(p.id)).toEqual(rowBefore);
    expect(await attemptsOf(p.id)).toEqual({ failed_attempts: 1, locked: false });
    // The enabled secret still signs in.
    const challenge = await signIn(p.username, defaultPassword);
    expect((await auth().post('/v1/login/mfa/verify').send({ mfaToken: challenge.body.mfaToken, mfaType: 'app', passcode: await totpCodeAt(p.secret, now) })).status).toBe(200);
  });

  it('a right proof while the user is locked is 429 with Retry-After and changes nothing', async () => {
    const p = await enrolled();
    const wrong = await wrongCode(p.secret);
    for (let i = 0; i < 5; i++) expect((await setup(p, { mfaType: 'app', passcode: wrong })).status).toBe(400);
    expect(await attemptsOf(p.id)).toEqual({ failed_attempts: 0, locked: true });
    const before = await databaseDigest(h.deps.pool);
    for (const proof of [{ passcode: await totpCodeAt(p.secret, now) }, { recoveryCode: p.recoveryCodes[1] }]) {
      const locked = await setup(p, { mfaType: 'app', ...proof });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBe(900);
    }
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });
});

describe('one lock for every wrong one-time code, across Auth and Identity', () => {
  it('wrong e-mailed sign-in codes lock the user at Identity too: a right passcode there, and a right code at Auth, are then 429 and change nothing', async () => {
    const p = await enrolled({ email: true });
    const { mfaToken, code } = await emailChallenge(p);
    for (let i = 0; i < 5; i++) {
      const wrong = await auth().post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'email', passcode: otherThan(code) });
      expect(wrong.status, `wrong code ${i + 1}`).toBe(400);
    }
    expect(await attemptsOf(p.id)).toEqual({ failed_attempts: 0, locked: true });

    const before = await databaseDigest(h.deps.pool);
    const atIdentity = await identity().post(`/v1/users/${p.id}/mfa/setup`).set('Authorization', p.bearer).send({ mfaType: 'app', passcode: await totpCodeAt(p.secret, now) });
    expect(atIdentity.status).toBe(429);
    expect(atIdentity.body).toMatchObject({ code: 'IDE-0015' });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);

    // At Auth a refusal is recorded as a security event and spends an attempt of its challenge; nothing else changes, and no session starts.
    const fresh = await emailChallenge(p);
    const beforeAuth = await databaseDigest(h.deps.pool, { except: ['audit_events', 'mfa_challenges'] });
    const atAuth = await auth().post('/v1/login/mfa/verify').send({ mfaToken: fresh.mfaToken, mfaType: 'email', passcode: fresh.code });
    expect(atAuth.status).toBe(429);
    expect(atAuth.body).toMatchObject({ code: 'AUT-0015' });
    expect(Number(atAuth.headers['retry-after'])).toBeGreaterThan(0);
    expect(await databaseDigest(h.deps.pool, { except: ['audit_events', 'mfa_challenges'] })).toEqual(beforeAuth);
  });

  it('wrong codes sent at once to both services count exactly: 3 e-mailed at Auth + 3 passcodes at Identity = 6 (limit 10); 6 more lock at the tenth', async () => {
    await h.deps.pool.query('INSERT INTO organization_mfa_settings (org_id, max_attempts) VALUES ($1, 10) ON CONFLICT (org_id) DO UPDATE SET max_attempts = 10', [org.id]);
    try {
      const p = await enrolled({ email: true });
      const wrongTotp = await wrongCode(p.secret);
      const burst = async (each: number) => {
        const challenges = [];
        for (let i = 0; i < each; i++) challenges.push(await emailChallenge(p));
        return Promise.all([
          ...challenges.map(({ mfaToken, code }) => auth().post('/v1/login/mfa/verify').send({ mfaToken, mfaType: 'email', passcode: otherThan(code) })),
          ...Array.from({ length: each }, () => identity().post(`/v1/users/${p.id}/mfa/setup`).set('Authorization', p.bearer).send({ mfaType: 'app', passcode: wrongTotp })),
        ]);
      };
      expect((await burst(3)).map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);
      expect(await attemptsOf(p.id)).toEqual({ failed_attempts: 6, locked: false });

      const statuses = (await burst(3)).map((r) => r.status).sort();
      expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
      expect(await attemptsOf(p.id)).toEqual({ failed_attempts: 0, locked: true });
      const { rows } = await h.deps.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'mfa.lock'", [p.id]);
      expect(rows[0]?.n).toBe(1);
    } finally {
      await h.deps.pool.query('DELETE FROM organization_mfa_settings WHERE org_id = $1', [org.id]);
    }
  });
});

describe('a wrong current password at update-password counts into the sign-in lockout', () => {
  const change = (p: Person, oldPassword: string) =>
    identity().patch(`/v1/users/${p.id}/update-password`).set('Authorization', p.bearer).send({ oldPassword, newPassword: 'Fresh-Kite-Orbit-77' });

  it('a wrong oldPassword is 400 IDE-0105 and moves only the account counter (and its security event)', async () => {
    const p = await person();
    const before = await databaseDigest(h.deps.pool, { except: ['sign_in_failures', 'audit_events'] });
    const refused = await change(p, 'Not-The-Password-1');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'IDE-0105', field: 'body.oldPassword' });
    expect(await databaseDigest(h.deps.pool, { except: ['sign_in_failures', 'audit_events'] })).toEqual(before);
    expect(await signInFailuresOf(p.username)).toEqual({ failures: 1, locked: false });
  });

  it('locked by failed sign-ins at Auth: the right oldPassword is 429 IDE-0119 with Retry-After, as sign-in answers, and nothing changes', async () => {
    const p = await person();
    for (let i = 0; i < 5; i++) expect((await signIn(p.username, `wrong-${i}`)).status).toBe(400);
    const before = await databaseDigest(h.deps.pool);
    const locked = await change(p, defaultPassword);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: 'IDE-0119', retryable: true });
    expect(Number(locked.headers['retry-after'])).toBe(900);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
    const atAuth = await signIn(p.username, defaultPassword);
    expect(atAuth.status).toBe(429);
    expect(atAuth.headers['retry-after']).toBe(locked.headers['retry-after']);
  });

  it('locked by wrong current passwords at Identity: the right password at Auth is 429 AUT-0104 and starts no session', async () => {
    const p = await person();
    for (let i = 0; i < 5; i++) expect((await change(p, `Wrong-Guess-${i}-Pass`)).status).toBe(400);
    const before = await databaseDigest(h.deps.pool, { except: ['audit_events'] });
    const refused = await signIn(p.username, defaultPassword);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'AUT-0104' });
    expect(await databaseDigest(h.deps.pool, { except: ['audit_events'] })).toEqual(before);
  });

  it('guesses at both places at once count exactly: 3 failed sign-ins and 3 wrong current passwords (limit 5) lock, no guess lost', async () => {
    const p = await person();
    const answers = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => signIn(p.username, `wrong-sign-in-${i}`)),
      ...Array.from({ length: 3 }, (_, i) => change(p, `Wrong-Current-${i}-Pass`)),
    ]);
    // Each guess was either checked and counted (400) or refused as locked (429) before any check.
    const counted = answers.filter((r) => r.status === 400).length;
    expect(answers.every((r) => r.status === 400 || r.status === 429)).toBe(true);
    expect(counted).toBeGreaterThanOrEqual(5);
    expect(await signInFailuresOf(p.username)).toEqual({ failures: counted, locked: true });
  });
});

describe('an unknown client id never reaches the database in clear', () => {
  it('a client_credentials attempt with a random client id is 401 and no table holds the id as typed', async () => {
    const typed = `am_${randomUUID().replace(/-/g, '')}`;
    const before = await databaseDigest(h.deps.pool, { except: ['audit_events'] });
    const refused = await auth().post('/v1/login/oauth/access_token').send({ grantType: 'client_credentials', clientId: typed, clientSecret: 'whatever-secret' });
    expect(refused.status).toBe(401);
    expect(await databaseDigest(h.deps.pool, { except: ['audit_events'] })).toEqual(before);
    const { rows: tables } = await h.deps.pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    );
    for (const { name } of tables) {
      const { rows } = await h.deps.pool.query(`SELECT 1 FROM "${name}" t WHERE t::text LIKE '%' || $1 || '%' LIMIT 1`, [typed]);
      expect(rows, name).toEqual([]);
    }
    const { rows } = await h.deps.pool.query("SELECT target_id FROM audit_events WHERE target_type = 'client' AND after->>'reason' = 'invalid_client' ORDER BY id DESC LIMIT 1");
    expect(rows[0]?.target_id).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
});

describe('oidc mode: the same username from another provider account opens nothing', () => {
  let provider: TestOidcProvider;
  let oidcAuth: () => supertest.Agent;
  const amClient = { clientId: 'access-manager', clientSecret: 'am-secret-for-trust-tests' };

  beforeAll(async () => {
    provider = await startTestOidcProvider({ accounts: [], clients: [amClient] });
    const oidc = new OidcIdentityProvider({ issuerUrl: provider.issuer, ...amClient, pool: h.deps.pool, secrets: h.deps.secrets, allowInsecureRequests: true, clock: h.deps.clock, timeoutSeconds: 2 });
    const app = createAuthApp(wireAuth({ ...h.deps, identityProvider: oidc }));
    oidcAuth = () => supertest.agent(app);
  });
  afterAll(async () => provider?.stop());

  it('linked at the first sign-in; a recycled username is 400 invalid_grant and changes only the failure count; the renamed account still signs in', async () => {
    const user = await h.createUser(org.id, { username: `linked-${randomUUID().slice(0, 8)}` });
    const login = (username: string, password: string) => oidcAuth().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
    provider.setAccount({ sub: 'sub-original', username: user.username, password: 'provider-pw', email: 'o@example.test' });
    expect((await login(user.username, 'provider-pw')).status).toBe(200);

    provider.setAccount({ sub: 'sub-original', username: `${user.username}-renamed`, password: 'provider-pw', email: 'o@example.test' });
    provider.setAccount({ sub: 'sub-newcomer', username: user.username, password: 'newcomer-pw', email: 'n@example.test' });
    const before = await databaseDigest(h.deps.pool, { except: ['sign_in_failures', 'tenant_sign_in_failures', 'audit_events'] });
    const refused = await login(user.username, 'newcomer-pw');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'AUT-0100' });
    expect(await databaseDigest(h.deps.pool, { except: ['sign_in_failures', 'tenant_sign_in_failures', 'audit_events'] })).toEqual(before);

    const renamed = await login(`${user.username}-renamed`, 'provider-pw');
    expect(renamed.status).toBe(200);
    expect((await h.deps.tokens.verify(renamed.body.accessToken as string)).claims.sub).toBe(user.id);
  });
});
