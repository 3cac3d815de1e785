// The `oidc` identity-provider mode end to end over HTTP, against a real OpenID Connect provider (oidc-provider):
// sign-in forwarded, Auth's own tokens issued, the provider's grant kept sealed beside the session and consulted
// at refresh, userinfo and logout.
import { decodeJwt } from 'jose';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthHarness, createAuthHarness } from '../../test/support/auth-harness.js';
import { startHostileOidcProvider, type HostileIdToken } from '../../test/support/oidc-hostile-provider.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../test/support/oidc-test-provider.js';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import { OidcIdentityProvider } from './oidc-identity-provider.js';
import { findOidcSession } from './oidc-session-store.js';

const amClient = { clientId: 'access-manager', clientSecret: 'am-secret-for-tests' };
const appSecret = 'app-secret-at-the-provider';
const password = 'provider-pw';

describe('oidc identity provider mode over HTTP', () => {
  let harness: AuthHarness;
  let external: TestOidcProvider;
  let tenantId: string;
  let app: { id: string; clientId: string };
  const users = new Map<string, { id: string; username: string; sub: string }>();
  // The identity provider's clock: moved forward to make the provider's access tokens expire.
  let clockOffsetMs = 0;
  let provider: OidcIdentityProvider;
  let http: () => supertest.Agent;

  const user = (name: string) => users.get(name) as { id: string; username: string; sub: string };
  /** A user is linked to one provider's (issuer, sub); a test that signs it in at another provider first clears the link, as an operator moving users would. */
  const unlink = (name: string) => harness.deps.pool.query('UPDATE users SET oidc_issuer = NULL, oidc_subject = NULL WHERE id = $1', [user(name).id]);

  beforeAll(async () => {
    harness = await createAuthHarness('oidc_sessions');
    tenantId = (await harness.createOrganization()).id;
    for (const name of ['ana', 'bia', 'caio', 'duda', 'edu', 'fabi', 'gabi', 'hugo', 'ines']) {
      const created = await harness.createUser(tenantId, { username: `${name}-${Date.now()}` });
      users.set(name, { ...created, sub: `ext-${name}` });
    }
    app = await harness.createApplication(tenantId);
    external = await startTestOidcProvider({
      accounts: [
        ...[...users.values()].map((u) => ({ sub: u.sub, username: u.username, password, email: `${u.username}@example.test`, emailVerified: true, picture: 'https://pics.example.test/a.png' })),
        { sub: 'ext-ghost', username: 'ghost-without-identity-row', password, email: 'ghost@example.test' },
      ],
      clients: [amClient, { clientId: app.clientId, clientSecret: appSecret }],
    });
    provider = new OidcIdentityProvider({
      issuerUrl: external.issuer,
      ...amClient,
      pool: harness.deps.pool,
      secrets: harness.deps.secrets,
      allowInsecureRequests: true,
      timeoutSeconds: 2,
      clock: { nowMs: () => Date.now() + clockOffsetMs },
    });
    const authApp = createAuthApp(wireAuth({ ...harness.deps, identityProvider: provider }));
    http = () => supertest.agent(authApp);
  });

  afterAll(async () => {
    await external.stop();
    await harness.close();
  });

  async function signIn(name: string): Promise<{ accessToken: string; refreshToken: string; idToken: string; sid: string }> {
    const res = await http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user(name).username, password });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sid = decodeJwt(res.body.accessToken as string).sid as string;
    return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, idToken: res.body.idToken, sid };
  }

  const sessionRow = async (sid: string) =>
    (await harness.deps.pool.query<{ revoked_reason: string | null }>('SELECT revoked_reason FROM sessions WHERE id = $1', [sid])).rows[0];

  it('signs in through /v1/login/oauth/access_token: the provider checks the password, Auth issues its own tokens for the mapped user', async () => {
    const session = await signIn('ana');
    const verified = await harness.deps.tokens.verify(session.accessToken);
    expect(verified.claims).toMatchObject({ sub: user('ana').id, tenantId, type: 'normal-user', iss: harness.deps.settings.issuer });
    expect(session.refreshToken).toEqual(expect.any(String));
  });

  it("keeps the provider's access and refresh tokens beside the session, sealed: never in clear in the database", async () => {
    const session = await signIn('ana');
    const upstream = await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid);
    expect(upstream).toMatchObject({ providerSubject: user('ana').sub, accessToken: expect.any(String), refreshToken: expect.any(String) });
    const raw = await harness.deps.pool.query('SELECT * FROM oidc_sessions WHERE session_id = $1', [session.sid]);
    const stored = JSON.stringify(raw.rows[0]);
    expect(stored).not.toContain(upstream?.accessToken);
    expect(stored).not.toContain(upstream?.refreshToken);
  });

  it('refuses a provider user without an Identity user exactly like a wrong password', async () => {
    const ghost = await http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: 'ghost-without-identity-row', password });
    const wrong = await http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ana').username, password: 'wrong' });
    expect(ghost.status).toBe(400);
    expect(wrong.status).toBe(400);
    const shape = (body: Record<string, unknown>) => ({ ...body, instance: undefined, requestId: undefined, traceId: undefined });
    expect(shape(ghost.body)).toEqual(shape(wrong.body));
  });

  it("answers 503, never a wrong password, when the provider refuses Access Manager's own client (a misconfiguration), and counts no sign-in failure", async () => {
    const failures = async () =>
      (await harness.deps.pool.query<{ failures: number }>('SELECT failures FROM sign_in_failures WHERE username_canonical = $1', [user('bia').username.toLowerCase()])).rows[0]?.failures ?? 0;
    const before = await failures();
    const misconfigured = createAuthApp(wireAuth({
      ...harness.deps,
      identityProvider: new OidcIdentityProvider({ issuerUrl: external.issuer, clientId: amClient.clientId, clientSecret: 'not-the-secret', pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, clock: harness.deps.clock }),
    }));
    const res = await supertest(misconfigured).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('bia').username, password });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('AUT-0111');
    expect(await failures()).toBe(before);
  });

  it('forwards client_credentials to the provider on /v1/login/oauth/access_token and /oauth/token', async () => {
    const v1 = await http().post('/v1/login/oauth/access_token').send({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: appSecret });
    expect(v1.status).toBe(200);
    expect((await harness.deps.tokens.verify(v1.body.accessToken as string)).claims).toMatchObject({ sub: app.id, type: 'application' });
    const oauth = await http().post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: appSecret });
    expect(oauth.status).toBe(200);
    expect(oauth.body.access_token).toEqual(expect.any(String));
    const wrong = await http().post('/oauth/token').type('form').send({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });

  it('forwards the provider refresh token at every refresh (contract route and /oauth/token) and keeps what the provider rotated', async () => {
    const session = await signIn('bia');
    const before = await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid);
    const forwarded = external.grantRequests('refresh_token');
    const v1 = await http().post('/v1/login/oauth/refresh_token').send({ refreshToken: session.refreshToken });
    expect(v1.status, JSON.stringify(v1.body)).toBe(200);
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 1);
    const after = await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    const oauth = await http().post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: v1.body.refreshToken });
    expect(oauth.status, JSON.stringify(oauth.body)).toBe(200);
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 2);
    expect((await harness.deps.tokens.verify(oauth.body.access_token as string)).claims.sub).toBe(user('bia').id);
  });

  it('forwards the provider refresh token once when one of our refresh tokens is presented concurrently, and revokes the provider grant with the reused family (RFC 9700 4.14)', async () => {
    const session = await signIn('hugo');
    const forwarded = external.grantRequests('refresh_token');
    const answers = await Promise.all(Array.from({ length: 4 }, () => http().post('/v1/login/oauth/refresh_token').send({ refreshToken: session.refreshToken })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(3);
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 1);
    // The reuse ended our session; the provider's grant goes with it.
    expect(external.revokedGrantsOf(user('hugo').sub)).toBe(1);
    expect(await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid)).toBeUndefined();
  });

  it('forwards the password grant of /oauth/token to the provider too, and a wrong password is invalid_grant', async () => {
    const asked = external.grantRequests('password');
    const res = await http().post('/oauth/token').type('form').send({ grant_type: 'password', username: user('ana').username, password, client_id: app.clientId, client_secret: appSecret });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
    expect(external.grantRequests('password')).toBe(asked + 1);
    const wrong = await http().post('/oauth/token').type('form').send({ grant_type: 'password', username: user('ana').username, password: 'not-her-password', client_id: app.clientId, client_secret: appSecret });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
  });

  it("ends the session when the provider refuses the refresh (grant revoked there): invalid_grant, and the session's access tokens stop working", async () => {
    const session = await signIn('caio');
    expect((await http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`)).status).toBe(200);
    await external.revokeGrantsOf(user('caio').sub);
    const refused = await http().post('/v1/login/oauth/refresh_token').send({ refreshToken: session.refreshToken });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('AUT-0100');
    expect((await sessionRow(session.sid))?.revoked_reason).toBe('provider_refused');
    expect(await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid)).toBeUndefined();
    expect((await http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`)).status).toBe(401);
  });

  it("answers userinfo through the provider: our contract fields stay, the provider adds the verified e-mail and picture", async () => {
    const session = await signIn('duda');
    const v1 = await http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`);
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ sub: user('duda').id, preferredUsername: user('duda').username, emailVerified: true, picture: 'https://pics.example.test/a.png' });
    const oidcInfo = await http().get('/oauth/userinfo').set('Authorization', `Bearer ${session.accessToken}`);
    expect(oidcInfo.status).toBe(200);
    expect(oidcInfo.body).toMatchObject({ sub: user('duda').id, email_verified: true, picture: 'https://pics.example.test/a.png' });
  });

  it("renews an expired provider access token with the provider refresh token before asking userinfo, once for concurrent requests", async () => {
    const session = await signIn('duda');
    const before = await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid);
    const forwarded = external.grantRequests('refresh_token');
    clockOffsetMs = 2 * 3600 * 1000;
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      clockOffsetMs = 0;
    }
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 1);
    expect((await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid))?.accessToken).not.toBe(before?.accessToken);
  });

  it("without a provider refresh token (no offline_access) a session lasts as long as the provider's access token", async () => {
    const online = createAuthApp(wireAuth({
      ...harness.deps,
      identityProvider: new OidcIdentityProvider({
        issuerUrl: external.issuer,
        ...amClient,
        scope: 'openid profile email',
        pool: harness.deps.pool,
        secrets: harness.deps.secrets,
        allowInsecureRequests: true,
        clock: { nowMs: () => Date.now() + clockOffsetMs },
      }),
    }));
    const login = await supertest(online).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ines').username, password });
    expect(login.status).toBe(200);
    const sid = decodeJwt(login.body.accessToken as string).sid as string;
    expect((await findOidcSession(harness.deps.pool, harness.deps.secrets, sid))?.refreshToken).toBeUndefined();
    const forwarded = external.grantRequests('refresh_token');
    const refreshed = await supertest(online).post('/v1/login/oauth/refresh_token').send({ refreshToken: login.body.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(external.grantRequests('refresh_token')).toBe(forwarded);
    clockOffsetMs = 2 * 3600 * 1000;
    try {
      const info = await supertest(online).get('/v1/userinfo').set('Authorization', `Bearer ${refreshed.body.accessToken as string}`);
      expect(info.status).toBe(401);
    } finally {
      clockOffsetMs = 0;
    }
    expect((await sessionRow(sid))?.revoked_reason).toBe('provider_refused');
    expect((await supertest(online).post('/v1/login/oauth/refresh_token').send({ refreshToken: refreshed.body.refreshToken })).status).toBe(400);
  });

  it('renews once, and answers, when the provider refuses an access token we thought still good (dropped alone there)', async () => {
    const session = await signIn('duda');
    const stored = await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid);
    await external.dropAccessToken(stored?.accessToken ?? '');
    const forwarded = external.grantRequests('refresh_token');
    const info = await http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`);
    expect(info.status).toBe(200);
    expect(info.body.emailVerified).toBe(true);
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 1);
    expect((await sessionRow(session.sid))?.revoked_reason).toBeNull();
  });

  it('refuses userinfo, and ends the session, for a user deleted at the provider', async () => {
    const session = await signIn('edu');
    external.removeAccount(user('edu').sub);
    const refused = await http().get('/v1/userinfo').set('Authorization', `Bearer ${session.accessToken}`);
    expect(refused.status).toBe(401);
    expect((await sessionRow(session.sid))?.revoked_reason).toBe('provider_refused');
    expect((await http().post('/v1/login/oauth/refresh_token').send({ refreshToken: session.refreshToken })).status).toBe(400);
  });

  it('revokes the provider grant at logout (RFC 7009) and forgets its tokens', async () => {
    const session = await signIn('fabi');
    const revokedBefore = external.revokedGrantsOf(user('fabi').sub);
    const out = await http().post('/v1/logout').type('form').send({ id_token_hint: session.idToken });
    expect(out.status).toBe(200);
    expect(external.revokedGrantsOf(user('fabi').sub)).toBe(revokedBefore + 1);
    expect(await findOidcSession(harness.deps.pool, harness.deps.secrets, session.sid)).toBeUndefined();
  });

  it("keeps the provider's grant through an MFA challenge (sealed in the challenge) for the session the verify step starts", async () => {
    const secret = createTotpSecret();
    await harness.deps.pool.query(`INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, preferred_type) VALUES ($1, $2, $3, true, 'app')`, [
      tenantId,
      user('gabi').id,
      harness.deps.secrets.seal(secret, user('gabi').id),
    ]);
    const challenge = await http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('gabi').username, password });
    expect(challenge.status).toBe(200);
    expect(challenge.body.mfaRequired).toBe(true);
    const verified = await http().post('/v1/login/mfa/verify').send({ mfaToken: challenge.body.mfaToken, passcode: await totpCodeAt(secret, Date.now()) });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const sid = decodeJwt(verified.body.accessToken as string).sid as string;
    expect(await findOidcSession(harness.deps.pool, harness.deps.secrets, sid)).toMatchObject({ providerSubject: user('gabi').sub, refreshToken: expect.any(String) });
    const forwarded = external.grantRequests('refresh_token');
    expect((await http().post('/v1/login/oauth/refresh_token').send({ refreshToken: verified.body.refreshToken })).status).toBe(200);
    expect(external.grantRequests('refresh_token')).toBe(forwarded + 1);
  });

  it('logs out against a provider without a revocation endpoint: our session ends, its tokens are forgotten, nothing fails', async () => {
    const plain = await startTestOidcProvider({ accounts: [{ sub: 'ext-ana', username: user('ana').username, password, email: 'a@example.test' }], clients: [amClient], revocation: false });
    await unlink('ana');
    try {
      const plainApp = createAuthApp(wireAuth({
        ...harness.deps,
        identityProvider: new OidcIdentityProvider({ issuerUrl: plain.issuer, ...amClient, pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, clock: harness.deps.clock }),
      }));
      const login = await supertest(plainApp).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ana').username, password });
      const sid = decodeJwt(login.body.accessToken as string).sid as string;
      const reportsBefore = harness.reports.length;
      expect((await supertest(plainApp).post('/v1/logout').type('form').send({ id_token_hint: login.body.idToken })).status).toBe(200);
      expect(await findOidcSession(harness.deps.pool, harness.deps.secrets, sid)).toBeUndefined();
      expect((await sessionRow(sid))?.revoked_reason).toBe('logout');
      expect(harness.reports.slice(reportsBefore).filter((r) => r.code === 'IDENTITY_PROVIDER_UNAVAILABLE')).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  describe('provider down', () => {
    it('answers 503 IDENTITY_PROVIDER_UNAVAILABLE, never a token, and consumes nothing', async () => {
      const down = await startTestOidcProvider({ accounts: [{ sub: 'ext-ana', username: user('ana').username, password, email: 'a@example.test' }], clients: [amClient] });
      await unlink('ana');
      const downProvider = new OidcIdentityProvider({ issuerUrl: down.issuer, ...amClient, pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, clock: harness.deps.clock, timeoutSeconds: 1 });
      const downApp = createAuthApp(wireAuth({ ...harness.deps, identityProvider: downProvider }));
      const login = await supertest(downApp).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ana').username, password });
      expect(login.status).toBe(200);
      await expect(downProvider.check()).resolves.toBeUndefined();
      await down.stop();
      await expect(downProvider.check()).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });

      const refresh = await supertest(downApp).post('/v1/login/oauth/refresh_token').send({ refreshToken: login.body.refreshToken });
      expect(refresh.status).toBe(503);
      expect(refresh.body.code).toBe('AUT-0111');
      expect(refresh.body.accessToken).toBeUndefined();
      const oauth = await supertest(downApp).post('/oauth/token').type('form').send({ grant_type: 'refresh_token', refresh_token: login.body.refreshToken });
      expect(oauth.status).toBe(503);
      expect(oauth.body.access_token).toBeUndefined();
      const used = await harness.deps.pool.query<{ used_at: Date | null }>('SELECT used_at FROM refresh_tokens WHERE session_id = $1', [decodeJwt(login.body.accessToken as string).sid]);
      expect(used.rows.map((r) => r.used_at)).toEqual([null]);

      const again = await supertest(downApp).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ana').username, password });
      expect(again.status).toBe(503);
      expect(again.body.accessToken).toBeUndefined();
      // Userinfo needs the provider in this mode: the session is vouched for by it, or not answered.
      const info = await supertest(downApp).get('/v1/userinfo').set('Authorization', `Bearer ${login.body.accessToken as string}`);
      expect(info.status).toBe(503);
      // Logout still ends our session; the provider's revocation is reported, not waited for by the client.
      const out = await supertest(downApp).post('/v1/logout').type('form').send({ id_token_hint: login.body.idToken });
      expect(out.status).toBe(200);
      expect(harness.reports.some((r) => r.code === 'IDENTITY_PROVIDER_UNAVAILABLE' && r.detail.includes('revocation'))).toBe(true);
      expect(JSON.stringify(harness.reports)).not.toContain(login.body.refreshToken as string);
    });
  });

  describe('ID tokens the provider must not be believed on', () => {
    const cases: [HostileIdToken, string][] = [
      ['wrong-audience', 'addressed to another client'],
      ['wrong-issuer', 'from another issuer'],
      ['foreign-key', 'signed by a key outside the JWKS'],
      ['expired', 'expired'],
    ];
    it.each(cases)('refuses an ID token %s (%s) with 503, never a sign-in', async (mode) => {
      const hostile = await startHostileOidcProvider({ clientId: amClient.clientId, sub: 'ext-ana', username: user('ana').username });
      await unlink('ana');
      try {
        const hostileApp = createAuthApp(wireAuth({
          ...harness.deps,
          identityProvider: new OidcIdentityProvider({ issuerUrl: hostile.issuer, ...amClient, pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, clock: harness.deps.clock, timeoutSeconds: 2 }),
        }));
        const login = () => supertest(hostileApp).post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user('ana').username, password });
        // The same provider with a correct ID token signs in: what follows is refused for the token alone.
        expect((await login()).status).toBe(200);
        hostile.mode = mode;
        const refused = await login();
        expect(refused.status).toBe(503);
        expect(refused.body.accessToken).toBeUndefined();
      } finally {
        await hostile.stop();
      }
    });
  });
});
