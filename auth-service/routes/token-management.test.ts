import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { insertRefreshToken, insertSession } from '../../directory/session-tokens.js';

let h: AuthHarness;
let server: http.Server;
let issuer: string;
let org: { id: string; slug: string };
let app: { id: string; clientId: string; clientSecret: string };

const insecure = { execute: [client.allowInsecureRequests] };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** openid-client configured as the given confidential client, everything discovered. */
async function relyingParty(c: { clientId: string; clientSecret: string }, auth: 'basic' | 'post' = 'basic'): Promise<client.Configuration> {
  const method = auth === 'basic' ? client.ClientSecretBasic(c.clientSecret) : client.ClientSecretPost(c.clientSecret);
  return client.discovery(new URL(issuer), c.clientId, c.clientSecret, method, insecure);
}

/** A person signed in through /oauth/token by `c` (password grant): the session is bound to that client. */
async function signIn(c: { clientId: string; clientSecret: string }, tenantId = org.id): Promise<{ user: { id: string }; access: string; refresh: string }> {
  const user = await h.createUser(tenantId);
  const res = await h
    .http()
    .post('/oauth/token')
    .type('form')
    .set('Authorization', basic(c.clientId, c.clientSecret))
    .send({ grant_type: 'password', username: user.username, password: user.password });
  expect(res.status).toBe(200);
  return { user, access: res.body.access_token as string, refresh: res.body.refresh_token as string };
}

async function sessionsSnapshot(): Promise<unknown[]> {
  const { rows } = await h.deps.pool.query('SELECT id, revoked_at, revoked_reason FROM sessions ORDER BY id');
  return rows;
}

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await createAuthHarness('token_management', { settings: { issuer } });
  server.on('request', h.app);
  org = await h.createOrganization();
  app = await h.createApplication(org.id, 'resource-server');
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('discovery names what is served', () => {
  it('revocation (RFC 7009) and introspection (RFC 7662) endpoints with their auth methods; userinfo with standard claims', async () => {
    const config = await relyingParty(app);
    const metadata = config.serverMetadata();
    expect(metadata).toMatchObject({
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint: `${issuer}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: ['code'],
      scopes_supported: expect.arrayContaining(['openid']),
      request_uri_parameter_supported: false,
    });
    expect(metadata.claims_supported).not.toContain('displayName');
  });

  it('openid-client fetchUserInfo gets snake_case OIDC claims; POST answers the same; the contract route stays camelCase', async () => {
    const { user, access } = await signIn(app);
    const config = await relyingParty(app);
    const info = await client.fetchUserInfo(config, access, user.id);
    expect(info).toMatchObject({ sub: user.id, preferred_username: expect.any(String), email: expect.stringContaining('@'), email_verified: false });
    expect(info).not.toHaveProperty('preferredUsername');
    const posted = await h.http().post('/oauth/userinfo').set('Authorization', `Bearer ${access}`);
    expect(posted.status).toBe(200);
    expect(posted.body).toEqual(info);
    const contract = await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${access}`);
    expect(contract.body).toMatchObject({ sub: user.id, preferredUsername: info.preferred_username });
    expect((await h.http().post('/oauth/userinfo')).status).toBe(401);
  });
});

describe('introspection (RFC 7662) with openid-client as the resource server', () => {
  it('a live access token is active with its subject, client, tenant and times; a live refresh token is active for its own client', async () => {
    const { user, access, refresh } = await signIn(app);
    const config = await relyingParty(app);
    const answer = await client.tokenIntrospection(config, access);
    expect(answer).toMatchObject({ active: true, token_type: 'Bearer', sub: user.id, client_id: app.clientId, iss: issuer, tenantId: org.id, jti: expect.any(String), sid: expect.any(String) });
    expect(answer.exp).toBeGreaterThan(Math.floor(Date.now() / 1000));
    const refreshAnswer = await client.tokenIntrospection(await relyingParty(app, 'post'), refresh, { token_type_hint: 'refresh_token' });
    expect(refreshAnswer).toMatchObject({ active: true, token_type: 'refresh_token', sub: user.id, client_id: app.clientId, sid: answer.sid });
  });

  it('anything not valid is {"active":false} and nothing more: garbage, expired, foreign-signed, disabled subject, ended session, used refresh token', async () => {
    const config = await relyingParty(app);
    const inactive = async (token: string) => expect(await client.tokenIntrospection(config, token)).toEqual({ active: false });
    await inactive('not-a-token');
    await inactive('a.b.c');
    const user = await h.createUser(org.id);
    await inactive(await h.token({ sub: user.id, tenantId: org.id, issuedAtSeconds: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 }));
    await inactive(await h.token({ sub: user.id, tenantId: org.id, foreignKey: true }));
    // An ID token is not an access token (typ JWT, another audience).
    const signedIn = await signIn(app);
    const idToken = (await h.http().post('/oauth/token').type('form').set('Authorization', basic(app.clientId, app.clientSecret)).send({ grant_type: 'refresh_token', refresh_token: signedIn.refresh })).body;
    await inactive(idToken.id_token as string);
    // The refresh token just rotated: the used one is inactive, its successor active.
    await inactive(signedIn.refresh);
    expect((await client.tokenIntrospection(config, idToken.refresh_token as string)).active).toBe(true);
    // A disabled user's tokens.
    const other = await signIn(app);
    await h.deps.pool.query("UPDATE users SET status = 'disabled' WHERE id = $1", [other.user.id]);
    await inactive(other.access);
    await inactive(other.refresh);
  });

  it('another tenant’s tokens are inactive to a client of this tenant; a client of the platform organization sees them', async () => {
    const otherOrg = await h.createOrganization();
    const otherApp = await h.createApplication(otherOrg.id);
    const theirs = await signIn(otherApp, otherOrg.id);
    expect(await client.tokenIntrospection(await relyingParty(app), theirs.access)).toEqual({ active: false });
    const platformApp = await h.createApplication(h.defaultTenantId);
    expect(await client.tokenIntrospection(await relyingParty(platformApp), theirs.access)).toMatchObject({ active: true, tenantId: otherOrg.id });
    // A refresh token is only ever shown to its own client, whatever the organization.
    expect(await client.tokenIntrospection(await relyingParty(platformApp), theirs.refresh)).toEqual({ active: false });
  });

  it('client authentication is required: none, a wrong secret and a public client are 401 invalid_client; no token is 400 invalid_request', async () => {
    const { access } = await signIn(app);
    const none = await h.http().post('/oauth/introspect').type('form').send({ token: access });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'invalid_client' });
    const wrong = await h.http().post('/oauth/introspect').type('form').set('Authorization', basic(app.clientId, 'wrong-secret')).send({ token: access });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client' });
    const publicClient = await createPublicClient();
    const asPublic = await h.http().post('/oauth/introspect').type('form').send({ token: access, client_id: publicClient.clientId });
    expect(asPublic.status).toBe(401);
    const missing = await h.http().post('/oauth/introspect').type('form').set('Authorization', basic(app.clientId, app.clientSecret)).send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'invalid_request' });
    const json = await h.http().post('/oauth/introspect').set('Authorization', basic(app.clientId, app.clientSecret)).send({ token: access });
    expect(json.status).toBe(200);
    expect(json.headers['cache-control']).toBe('no-store');
  });
});

async function createPublicClient(): Promise<{ id: string; clientId: string }> {
  const id = randomUUID();
  const clientId = `am_${randomBytes(12).toString('hex')}`;
  await h.deps.pool.query(`INSERT INTO applications (id, org_id, name, client_id, client_secret_hash, redirect_uris) VALUES ($1, $2, $3, $4, NULL, ARRAY['http://127.0.0.1/cb'])`, [
    id,
    org.id,
    `spa-${id.slice(0, 8)}`,
    clientId,
  ]);
  return { id, clientId };
}

describe('revocation (RFC 7009) with openid-client', () => {
  it('revoking a refresh token ends its session (RFC 7009 2.1): the refresh token and the session’s access token stop working', async () => {
    const { access, refresh } = await signIn(app);
    const config = await relyingParty(app);
    await client.tokenRevocation(config, refresh, { token_type_hint: 'refresh_token' });
    expect(await client.tokenIntrospection(config, refresh)).toEqual({ active: false });
    expect(await client.tokenIntrospection(config, access)).toEqual({ active: false });
    await expect(client.refreshTokenGrant(config, refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await h.http().get('/oauth/userinfo').set('Authorization', `Bearer ${access}`)).status).toBe(401);
    const { rows } = await h.deps.pool.query('SELECT revoked_reason FROM sessions WHERE id = $1', [(await h.deps.tokens.verify(access)).claims.sid]);
    expect(rows[0]).toEqual({ revoked_reason: 'token_revoked' });
  });

  it('revoking an access token (client_secret_post) revokes that token only: the refresh token still works', async () => {
    const { access, refresh } = await signIn(app);
    const config = await relyingParty(app, 'post');
    await client.tokenRevocation(config, access);
    expect(await client.tokenIntrospection(config, access)).toEqual({ active: false });
    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${access}`)).status).toBe(401);
    const refreshed = await client.refreshTokenGrant(config, refresh);
    expect((await client.tokenIntrospection(config, refreshed.access_token)).active).toBe(true);
  });

  it('a token of another client is left alone with the same 200: nothing changes', async () => {
    const other = await h.createApplication(org.id);
    const { access, refresh } = await signIn(app);
    const before = await sessionsSnapshot();
    for (const token of [access, refresh]) {
      const res = await h.http().post('/oauth/revoke').type('form').set('Authorization', basic(other.clientId, other.clientSecret)).send({ token });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
    }
    expect(await sessionsSnapshot()).toEqual(before);
    const config = await relyingParty(app);
    expect((await client.tokenIntrospection(config, access)).active).toBe(true);
    expect((await client.tokenIntrospection(config, refresh)).active).toBe(true);
  });

  it('an unknown, malformed or expired token is 200 too (RFC 7009 2.2); bad client authentication is 401 and changes nothing', async () => {
    const config = await relyingParty(app);
    await expect(client.tokenRevocation(config, 'unknown-token')).resolves.toBeUndefined();
    const user = await h.createUser(org.id);
    await expect(client.tokenRevocation(config, await h.token({ sub: user.id, tenantId: org.id, issuedAtSeconds: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 }))).resolves.toBeUndefined();
    const { refresh } = await signIn(app);
    const before = await sessionsSnapshot();
    const wrong = await h.http().post('/oauth/revoke').type('form').set('Authorization', basic(app.clientId, 'not-the-secret')).send({ token: refresh });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'invalid_client' });
    // A confidential client that leaves its secret out is not taken for a public client.
    const bare = await h.http().post('/oauth/revoke').type('form').send({ token: refresh, client_id: app.clientId });
    expect(bare.status).toBe(401);
    expect(await sessionsSnapshot()).toEqual(before);
  });

  it('a public client revokes its own refresh token naming itself by client_id (auth method none)', async () => {
    const spa = await createPublicClient();
    const user = await h.createUser(org.id);
    const session = await insertSession(h.deps.pool, { tenantId: org.id, subjectKind: 'user', subjectId: user.id, clientId: spa.clientId, scope: undefined, nowMs: Date.now(), absoluteTtlSeconds: 3600 });
    const refresh = await insertRefreshToken(h.deps.pool, session.id, Date.now(), 3600, session.absoluteExpiresMs);
    const config = await client.discovery(new URL(issuer), spa.clientId, undefined, client.None(), insecure);
    await client.tokenRevocation(config, refresh);
    const { rows } = await h.deps.pool.query('SELECT revoked_reason FROM sessions WHERE id = $1', [session.id]);
    expect(rows[0]).toEqual({ revoked_reason: 'token_revoked' });
    // ...and cannot reach another client's tokens that way.
    const { refresh: theirs } = await signIn(app);
    await client.tokenRevocation(config, theirs);
    expect((await client.tokenIntrospection(await relyingParty(app), theirs)).active).toBe(true);
  });
});
