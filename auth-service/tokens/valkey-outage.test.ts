// Valkey configured but unreachable, with a private redis-server per test that the test kills (never the shared
// server on 6379): the token routes, MFA challenges and token revocation fail closed or keep refusing, never hang.
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

describe('token rate limit with Valkey unreachable (SECURITY-CHECKLIST I2, I3)', () => {
  it('every token route answers 503 problem+json (RFC 6749 body on /oauth/token) at once, and the grant never runs', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const app = createAuthApp(depsWith(client));
    const user = await h.createUser(org.id);
    expect((await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password })).status).toBe(200);

    await killed(server, client);
    const started = performance.now();
    const res = await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: 'wrong-password-1' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({ status: 503, code: 'AUT-0017', retryable: true, requestId: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toMatch(noLeak);
    // The limiter refused before the grant: the wrong password was never checked nor counted.
    const { rows } = await h.deps.pool.query('SELECT 1 FROM sign_in_failures WHERE username_canonical = $1', [user.username.toLowerCase()]);
    expect(rows).toHaveLength(0);

    const refresh = await supertest(app).post('/v1/login/oauth/refresh_token').send({ refreshToken: 'x'.repeat(43) });
    expect(refresh.status).toBe(503);
    expect(refresh.body).toMatchObject({ code: 'AUT-0017' });
    const oauth = await supertest(app).post('/oauth/token').type('form').send({ grant_type: 'client_credentials' });
    expect(oauth.status).toBe(503);
    expect(oauth.headers['cache-control']).toBe('no-store');
    expect(oauth.body).toMatchObject({ error: 'server_error', code: 'AUT-0017' });
    expect(JSON.stringify(oauth.body)).not.toMatch(noLeak);
    // Routes without the token limit are not taken down with it.
    expect((await supertest(app).get('/health')).status).toBe(200);
    expect((await supertest(app).get('/.well-known/jwks')).status).toBe(200);
  });

  it('Valkey down when Auth starts: 503 until it is reachable, then the limit counts again (no stale script load)', async () => {
    const server = await privateServer({ running: false });
    const client = clientOf(server.url);
    const app = createAuthApp(depsWith(client, { tokenRateLimit: { limit: 3, windowSeconds: 60 } }));
    const attempt = () => supertest(app).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: 'unknown' });
    expect((await attempt()).status).toBe(503);

    await server.start();
    await until('the client to reconnect', () => client.status === 'ready');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
  });
});

describe('MFA challenge state with Valkey killed mid-sign-in (I3)', () => {
  it('verify and challenge answer 503: no session, no TOTP step or wrong-code count spent', async () => {
    const server = await privateServer();
    const client = clientOf(server.url);
    await until('the client to connect', () => client.status === 'ready');
    const app = createAuthApp(depsWith(client));
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
    const verify = await supertest(app).post('/v1/login/mfa/verify').send({ mfaToken: login.body.mfaToken, mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(verify.status).toBe(503);
    expect(verify.body).toMatchObject({ code: 'AUT-0017', retryable: true });
    expect(JSON.stringify(verify.body)).not.toMatch(noLeak);
    const challenge = await supertest(app).post('/v1/login/mfa/challenge').send({ mfaToken: login.body.mfaToken, mfaType: 'app' });
    expect(challenge.status).toBe(503);
    const sessions = await h.deps.pool.query('SELECT 1 FROM sessions WHERE subject_id = $1', [user.id]);
    expect(sessions.rows).toHaveLength(0);
    const mfa = await h.deps.pool.query<{ step: number; failed_attempts: number }>('SELECT last_totp_step::float8 AS step, failed_attempts FROM user_mfa WHERE user_id = $1', [user.id]);
    expect(mfa.rows[0]).toEqual({ step: 0, failed_attempts: 2 });
  });
});

describe('token revocation with the shared token cache down (I4)', () => {
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
        nowMs: h.deps.nowMs,
        shared: new ValkeyTokenCache({ client, keyPrefix, entryKey: tokenCacheEntryKey }),
      }),
    });
    const replicaA = createAuthApp(sharedDeps());
    const replicaB = createAuthApp(sharedDeps());
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
    const refused = await supertest(createAuthApp(sharedDeps())).get('/v1/userinfo').set('Authorization', `Bearer ${ended.accessToken}`);
    expect(refused.status).toBe(401);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await supertest(createAuthApp(sharedDeps())).get('/v1/userinfo').set('Authorization', `Bearer ${live.accessToken}`)).status).toBe(200);
  });
});
