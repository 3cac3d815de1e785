// Valkey configured but unreachable, with a private redis-server per test that the test kills (never the shared
// server on 6379): sign-in, refresh and MFA keep working under stricter per-replica limits, token revocation keeps
// refusing, nothing hangs.
import { randomBytes } from 'node:crypto';
import type { Valkey } from 'iovalkey';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../platform/auth/token-verifier.js';
import { ValkeyTokenCache } from '../../platform/auth/valkey-token-cache.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { createValkeyClient } from '../../platform/valkey-client.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { startPrivateValkey, type PrivateValkey } from '../../test/support/private-valkey.js';
import { testKeyPrefix } from '../../test/support/valkey.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import type { AuthDeps } from '../deps.js';

let h: AuthHarness;
let org: { id: string; slug: string };
const servers: PrivateValkey[] = [];
const clients: Valkey[] = [];

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function privateServer(options: { running?: boolean } = {}): Promise<PrivateValkey> {
  const server = await startPrivateValkey(options);
  servers.push(server);
  return server;
}

function clientOf(url: string): Valkey {
  const client = createValkeyClient({ url, maxReconnectDelayMs: 200 });
  clients.push(client);
  return client;
}

async function killed(server: PrivateValkey, client: Valkey): Promise<void> {
  await server.stop();
  await until('the client to notice the outage', () => client.status !== 'ready');
}

/** Auth on the harness database with `client` as its Valkey (rate limits, MFA challenges), and its own key prefix. */
function depsWith(client: Valkey, settings: Partial<AuthDeps['settings']> = {}): AuthDeps {
  return { ...h.deps, valkey: client, keyPrefix: testKeyPrefix('outage'), settings: { ...h.deps.settings, ...settings } };
}

const noLeak = /ECONNREFUSED|Connection is closed|Stream isn't writeable|127\.0\.0\.1|redis/i;

beforeAll(async () => {
  h = await createAuthHarness('valkey-outage');
  org = await h.createOrganization();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await Promise.all(servers.map((server) => server.close()));
  await h?.close();
});

describe('sign-in with Valkey unreachable: the token routes count in process, stricter', () => {
  it('password sign-in, refresh and the MFA step all work with Valkey killed, each answered at once', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const app = createAuthApp(wireAuth(depsWith(client)));
    const user = await h.createUser(org.id);
    const mfaUser = await h.createUser(org.id);
    const secret = createTotpSecret();
    await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled) VALUES ($1, $2, $3, true)`, [org.id, mfaUser.id, h.deps.secrets.seal(secret, mfaUser.id)]);
    const before = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
    expect(before.status).toBe(200);

    await killed(server, client);
    const started = performance.now();
    const signIn = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(signIn.status).toBe(200);
    expect(signIn.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    expect((await supertest(app).get('/v1/userinfo').set('Authorization', `Bearer ${signIn.body.accessToken}`)).status).toBe(200);

    const refreshed = await supertest(app).post('/v1/login/oauth/refresh_token').send({ refreshToken: before.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(before.body.refreshToken);
    const oauth = await supertest(app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: refreshed.body.refreshToken });
    expect(oauth.status).toBe(200);
    expect(oauth.body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer' });

    const login = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: mfaUser.username, password: mfaUser.password });
    expect(login.body).toMatchObject({ mfaRequired: true, mfaToken: expect.any(String) });
    expect((await supertest(app).post('/v1/login/mfa/challenge').send({ mfaToken: login.body.mfaToken, mfaType: 'app' })).status).toBe(200);
    const passcode = await totpCodeAt(secret, Date.now());
    const verified = await supertest(app).post('/v1/login/mfa/verify').send({ mfaToken: login.body.mfaToken, mfaType: 'app', passcode });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String) });
    // The challenge is single use and the TOTP step spent, with no cache to remember either.
    expect((await supertest(app).post('/v1/login/mfa/verify').send({ mfaToken: login.body.mfaToken, mfaType: 'app', passcode })).status).toBe(401);
    const sessions = await h.deps.pool.query('SELECT 1 FROM sessions WHERE subject_id = $1', [mfaUser.id]);
    expect(sessions.rows).toHaveLength(1);
    // Operators are told once that counting moved into the process, with no connection detail in the answer.
    expect(h.reports.filter((r) => r.level === 'warn' && /counted in this process/.test(r.detail)).length).toBeGreaterThanOrEqual(1);
  });

  it('a burst of 12 from one address with Valkey killed lets exactly the stricter per-replica limit (5 of 10) through; the rest are 429 with Retry-After', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const app = createAuthApp(wireAuth(depsWith(client, { tokenRateLimit: { limit: 10, windowSeconds: 60 } })));
    await killed(server, client);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      i % 2 ? supertest(app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'unknown' }) : supertest(app).post('/v1/login/oauth/refresh_token').send({ refreshToken: 'x'.repeat(43) }),
    ));
    expect(answers.filter((r) => r.status === 429)).toHaveLength(7);
    expect(answers.filter((r) => r.status === 400 || r.status === 401)).toHaveLength(5);
    for (const limited of answers.filter((r) => r.status === 429)) {
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.stringify(limited.body)).not.toMatch(noLeak);
    }
    // RATE_LIMIT_TOKEN_FALLBACK_MAX chooses the in-process limit.
    const configured = createAuthApp(wireAuth(depsWith(client, { tokenRateLimit: { limit: 10, windowSeconds: 60, fallbackLimit: 2 } })));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await supertest(configured).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'unknown' })).status);
    expect(statuses).toEqual([400, 400, 429]);
  });

  it('Valkey down when Auth starts: counted in process (stricter) until it is reachable, then in Valkey again (no stale script load)', async () => {
    const server = await privateServer({ running: false });
    const client = clientOf(server.url);
    const app = createAuthApp(wireAuth(depsWith(client, { tokenRateLimit: { limit: 4, windowSeconds: 60 } })));
    const attempt = () => supertest(app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'unknown' });
    const down: number[] = [];
    for (let i = 0; i < 3; i++) down.push((await attempt()).status);
    expect(down).toEqual([400, 400, 429]);

    await server.start();
    await until('the client to reconnect', () => client.status === 'ready');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
    expect((await client.keys(`*rl:token:*`)).length).toBe(1);
  });
});

describe('MFA challenge state with Valkey killed mid-sign-in', () => {
  it('a challenge started while Valkey was up is finished after it died: it lives in PostgreSQL', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const app = createAuthApp(wireAuth(depsWith(client)));
    const user = await h.createUser(org.id);
    const secret = createTotpSecret();
    await h.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, failed_attempts) VALUES ($1, $2, $3, true, 2)`, [
      org.id,
      user.id,
      h.deps.secrets.seal(secret, user.id),
    ]);
    const login = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
    expect(login.body).toMatchObject({ mfaRequired: true, mfaToken: expect.any(String) });

    await killed(server, client);
    const wrong = await supertest(app).post('/v1/login/mfa/verify').send({ mfaToken: login.body.mfaToken, mfaType: 'app', passcode: '000000' === (await totpCodeAt(secret, Date.now())) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    const verify = await supertest(app).post('/v1/login/mfa/verify').send({ mfaToken: login.body.mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(verify.status).toBe(200);
    const sessions = await h.deps.pool.query('SELECT 1 FROM sessions WHERE subject_id = $1', [user.id]);
    expect(sessions.rows).toHaveLength(1);
    const { rows } = await h.deps.pool.query<{ attempts: number }>('SELECT count(*)::int AS attempts FROM mfa_challenges WHERE state->\'user\'->>\'id\' = $1', [user.id]);
    expect(rows[0]?.attempts).toBe(0);
  });
});

describe('token revocation with the shared token cache down', () => {
  it('a logged-out token stays refused on another replica while Valkey is down; a live one still works', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const keyPrefix = testKeyPrefix('outage-tokens');
    // One entry key for both replicas, as every replica derives the same one from SECRETS_ENCRYPTION_KEY.
    const tokenCacheEntryKey = randomBytes(32);
    const sharedDeps = (): AuthDeps => ({
      ...depsWith(client),
      keyPrefix,
      tokens: createTokenVerifier({
        keys: h.deps.keys.keyResolver(),
        issuer: h.deps.settings.issuer,
        audience: h.deps.settings.audience,
        tokenType: 'at+jwt',
        clock: h.deps.clock,
        shared: new ValkeyTokenCache({ client, keyPrefix, entryKey: tokenCacheEntryKey }),
      }),
    });
    const replicaA = createAuthApp(wireAuth(sharedDeps()));
    const replicaB = createAuthApp(wireAuth(sharedDeps()));
    const user = await h.createUser(org.id);
    const signIn = async () => (await supertest(replicaA).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password })).body as { accessToken: string; idToken: string };
    const ended = await signIn();
    const live = await signIn();
    // Both tokens verified once, through the shared tier, while Valkey was up.
    expect((await supertest(replicaB).get('/v1/userinfo').set('Authorization', `Bearer ${ended.accessToken}`)).status).toBe(200);
    expect((await client.keys(`${keyPrefix}token:*`)).length).toBeGreaterThan(0);

    await killed(server, client);
    expect((await supertest(replicaA).post('/v1/logout').type('form').send({ id_token_hint: ended.idToken })).status).toBe(200);
    const started = performance.now();
    const refused = await supertest(createAuthApp(wireAuth(sharedDeps()))).get('/v1/userinfo').set('Authorization', `Bearer ${ended.accessToken}`);
    expect(refused.status).toBe(401);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await supertest(createAuthApp(wireAuth(sharedDeps()))).get('/v1/userinfo').set('Authorization', `Bearer ${live.accessToken}`)).status).toBe(200);
  });
});
