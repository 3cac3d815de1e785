import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTotpSecret, totpCodeAt } from '../../domain/totp.js';
import { authAudience, createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';

let h: AuthHarness;
let server: http.Server;
let issuer: string;
let org: { id: string; slug: string };
let app: { id: string; clientId: string; clientSecret: string };

const token = (form: Record<string, string>) => h.http().post('/oauth/token').type('form').send(form);
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

beforeAll(async () => {
  // The issuer must be the address clients discover, so the port is taken before the app exists.
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await createAuthHarness('oauth-token', { settings: { issuer } });
  server.on('request', h.app);
  org = await h.createOrganization();
  app = await h.createApplication(org.id, 'midaz');
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('discovery', () => {
  it('/.well-known/openid-configuration points at /authorize, /oauth/token, the JWKS, userinfo and logout', async () => {
    const res = await h.http().get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/.well-known/jwks`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      end_session_endpoint: `${issuer}/v1/logout`,
      grant_types_supported: ['authorization_code', 'password', 'client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
    });
  });

  it.each(['/.well-known/jwks', '/.well-known/jwks.json'])('%s serves the public keys, cacheable for 300 s, no private parts', async (path) => {
    const res = await h.http().get(path);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('max-age=300');
    expect(res.body.keys.length).toBeGreaterThan(0);
    for (const key of res.body.keys) expect(key).not.toHaveProperty('d');
  });
});

describe('openid-client 6 against the app on a loopback port', () => {
  it('client_credentials with client_secret_basic: the token verifies against the discovered JWKS', async () => {
    const config = await client.discovery(new URL(issuer), app.clientId, app.clientSecret, client.ClientSecretBasic(app.clientSecret), {
      execute: [client.allowInsecureRequests],
    });
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    const jwks = (await (await fetch(`${issuer}/.well-known/jwks`)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { issuer, audience: authAudience, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: app.id, type: 'application', tenantId: org.id, azp: app.clientId });
  });

  it('refreshTokenGrant (client_secret_post) after a password login via the contract route; the old refresh token is then refused', async () => {
    const user = await h.createUser(org.id);
    const login = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password, clientId: app.clientId, clientSecret: app.clientSecret });
    expect(login.status).toBe(200);
    const config = await client.discovery(new URL(issuer), app.clientId, app.clientSecret, undefined, { execute: [client.allowInsecureRequests] });
    const refreshed = await client.refreshTokenGrant(config, login.body.refreshToken);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(login.body.refreshToken);
    expect(refreshed.claims()?.sub).toBe(user.id);
    await expect(client.refreshTokenGrant(config, login.body.refreshToken)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('POST /oauth/token (RFC 6749)', () => {
  it('client_credentials with client_secret_basic answers snake_case tokens with Cache-Control: no-store', async () => {
    const res = await token({ grant_type: 'client_credentials' }).set('Authorization', basic(app.clientId, app.clientSecret));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  });

  it('password grant with client_secret_basic answers snake_case tokens with Cache-Control: no-store', async () => {
    const user = await h.createUser(org.id);
    const res = await token({ grant_type: 'password', username: user.username, password: user.password }).set('Authorization', basic(app.clientId, app.clientSecret));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'refresh_token', 'token_type']);
    const jwks = (await h.http().get('/.well-known/jwks')).body as JSONWebKeySet;
    const { payload } = await jwtVerify(res.body.access_token as string, createLocalJWKSet(jwks), { issuer, audience: authAudience, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: user.id, tenantId: org.id, owner: org.slug });
  });

  it('wrong credentials: RFC 6749 body invalid_grant, the same for an unknown user; no session starts', async () => {
    const user = await h.createUser(org.id);
    const sessionsBefore = await h.deps.pool.query('SELECT count(*)::int AS n FROM sessions');
    const wrong = await token({ grant_type: 'password', username: user.username, password: 'nope-nope' });
    const unknown = await token({ grant_type: 'password', username: `ghost-${user.id}`, password: 'nope-nope' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers['cache-control']).toBe('no-store');
    expect(wrong.body).toMatchObject({ error: 'invalid_grant', error_description: expect.any(String) });
    expect({ ...unknown.body, requestId: undefined }).toEqual({ ...wrong.body, requestId: undefined });
    expect((await token({ grant_type: 'password', username: 'a' })).body.error).toBe('invalid_request');
    expect((await h.deps.pool.query('SELECT count(*)::int AS n FROM sessions')).rows).toEqual(sessionsBefore.rows);
  });

  it('a user who must pass MFA gets 403 {"error":"mfa_required","mfa_token"} and no tokens; the token completes at /v1/login/mfa/verify', async () => {
    const user = await h.createUser(org.id);
    const secret = createTotpSecret();
    await h.deps.pool.query(
      `INSERT INTO user_mfa (org_id, user_id, totp_secret_ciphertext, totp_enabled, recovery_code_hashes, preferred_type) VALUES ($1, $2, $3, true, '{}', 'app')`,
      [org.id, user.id, h.deps.secrets.seal(secret, user.id)],
    );
    const res = await token({ grant_type: 'password', username: user.username, password: user.password }).set('Authorization', basic(app.clientId, app.clientSecret));
    expect(res.status).toBe(403);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ error: 'mfa_required', mfa_token: expect.any(String), mfa_types: expect.arrayContaining(['app']) });
    expect(res.body.access_token).toBeUndefined();
    const verified = await h.http().post('/v1/login/mfa/verify').send({ mfaToken: res.body.mfa_token, mfaType: 'app', passcode: await totpCodeAt(secret, Date.now()) });
    expect(verified.status).toBe(200);
    expect(verified.body.accessToken).toEqual(expect.any(String));
  });

  it('the implicit flow and other grants are unsupported_grant_type, refused before the client is checked', async () => {
    for (const grant of ['implicit', 'token', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const res = await token({ grant_type: grant }).set('Authorization', basic(app.clientId, 'wrong'));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'unsupported_grant_type', error_description: expect.any(String) });
    }
  });

  it('unknown grant type is unsupported_grant_type; client_credentials without or with a wrong client is 401 invalid_client', async () => {
    expect((await token({ grant_type: 'urn:example:unknown', code: 'x' })).body.error).toBe('unsupported_grant_type');
    const none = await token({ grant_type: 'client_credentials' });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_client');
    const wrong = await token({ grant_type: 'client_credentials' }).set('Authorization', basic(app.clientId, 'wrong'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    expect((await token({ grant_type: 'refresh_token' })).body.error).toBe('invalid_request');
  });

  it('refresh_token grant: a session issued to a client needs that client; rotation and reuse as on the contract route', async () => {
    const user = await h.createUser(org.id);
    const other = await h.createApplication(org.id);
    const login = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password, clientId: app.clientId, clientSecret: app.clientSecret });
    const rt = login.body.refreshToken as string;
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt })).body.error).toBe('invalid_grant');
    expect((await token({ grant_type: 'refresh_token', refresh_token: rt }).set('Authorization', basic(other.clientId, other.clientSecret))).body.error).toBe('invalid_grant');
    const wider = await token({ grant_type: 'refresh_token', refresh_token: rt, scope: 'admin' }).set('Authorization', basic(app.clientId, app.clientSecret));
    expect(wider.body.error).toBe('invalid_scope');
    const ok = await token({ grant_type: 'refresh_token', refresh_token: rt }).set('Authorization', basic(app.clientId, app.clientSecret));
    expect(ok.status).toBe(200);
  });

  it('no secret, password or refresh token reaches the reporter', () => {
    const reported = JSON.stringify(h.reports);
    expect(reported).not.toContain(app.clientSecret);
    expect(reported).not.toContain('nope-nope');
  });
});
