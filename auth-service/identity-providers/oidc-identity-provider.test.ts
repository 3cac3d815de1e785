import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { type AuthHarness, createAuthHarness } from '../../test/support/auth-harness.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../test/support/oidc-test-provider.js';
import { createAuthApp } from '../app.js';
import { OidcIdentityProvider } from './oidc-identity-provider.js';

describe('OidcIdentityProvider against a real OpenID Connect provider', () => {
  let harness: AuthHarness;
  let external: TestOidcProvider;
  let orgId: string;
  let user: { id: string; username: string };
  let app: { id: string; clientId: string };
  const amClient = { clientId: 'access-manager', clientSecret: 'am-secret-for-tests' };
  const appSecret = 'app-secret-at-the-provider';

  beforeAll(async () => {
    harness = await createAuthHarness('oidc_idp');
    orgId = (await harness.createOrganization()).id;
    user = await harness.createUser(orgId, { username: `ana-${Date.now()}` });
    app = await harness.createApplication(orgId);
    external = await startTestOidcProvider({
      accounts: [
        { sub: 'ext-ana', username: user.username, password: 'provider-pw', email: 'ana@example.test' },
        { sub: 'ext-ghost', username: 'ghost-without-identity-row', password: 'provider-pw', email: 'ghost@example.test' },
      ],
      clients: [amClient, { clientId: app.clientId, clientSecret: appSecret }],
    });
  });

  afterAll(async () => {
    await external.stop();
    await harness.close();
  });

  const providerFor = (issuerUrl: string, timeoutSeconds = 2) =>
    new OidcIdentityProvider({ issuerUrl, ...amClient, pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, timeoutSeconds });

  it('maps a user the provider signs in to the Identity user of the same username', async () => {
    const signedIn = await providerFor(external.issuer).authenticatePassword(user.username, 'provider-pw');
    expect(signedIn).toMatchObject({ kind: 'user', id: user.id, orgId, username: user.username });
  });

  it('refuses a wrong password, and a provider user without an Identity user, alike', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.authenticatePassword(user.username, 'wrong')).resolves.toBeUndefined();
    await expect(provider.authenticatePassword('nobody', 'provider-pw')).resolves.toBeUndefined();
    await expect(provider.authenticatePassword('ghost-without-identity-row', 'provider-pw')).resolves.toBeUndefined();
  });

  it('forwards client credentials to the provider and maps the client to the application', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.authenticateClient(app.clientId, appSecret)).resolves.toMatchObject({ kind: 'application', id: app.id, orgId, clientId: app.clientId });
    await expect(provider.authenticateClient(app.clientId, 'wrong')).resolves.toBeUndefined();
    // The provider knows this client, Identity has no application for it.
    await expect(provider.authenticateClient(amClient.clientId, amClient.clientSecret)).resolves.toBeUndefined();
  });

  it('rereads subjects from Identity at refresh', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.findSubject('user', orgId, user.id)).resolves.toMatchObject({ id: user.id });
    await expect(provider.findSubject('application', orgId, app.id)).resolves.toMatchObject({ id: app.id });
  });

  it('answers IDENTITY_PROVIDER_UNAVAILABLE, fast, when the provider is stopped', async () => {
    const other = await startTestOidcProvider({ accounts: [], clients: [amClient] });
    const provider = providerFor(other.issuer);
    await expect(provider.authenticatePassword('x', 'y')).resolves.toBeUndefined(); // discovery done while it is up
    await other.stop();
    const started = Date.now();
    await expect(provider.authenticatePassword(user.username, 'provider-pw')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
    await expect(provider.authenticateClient(app.clientId, appSecret)).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
    await expect(providerFor(other.issuer).authenticatePassword('x', 'y')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('bounds a provider that accepts connections and never answers by the timeout', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const started = Date.now();
    await expect(providerFor(`http://127.0.0.1:${port}`, 1).authenticatePassword('x', 'y')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(3000);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('after a failure refuses at once instead of waiting the timeout again, and asks again once the cooldown has passed (I12)', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    let offsetMs = 0;
    const provider = new OidcIdentityProvider({
      issuerUrl: `http://127.0.0.1:${port}`,
      ...amClient,
      pool: harness.deps.pool,
      secrets: harness.deps.secrets,
      allowInsecureRequests: true,
      timeoutSeconds: 1,
      nowMs: () => Date.now() + offsetMs,
    });
    try {
      let started = Date.now();
      await expect(provider.authenticatePassword('x', 'y')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      started = Date.now();
      await expect(provider.authenticatePassword('x', 'y')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
      await expect(provider.check()).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(300);
      expect(sockets).toHaveLength(1);
      offsetMs = 1_500;
      started = Date.now();
      await expect(provider.authenticatePassword('x', 'y')).rejects.toMatchObject({ code: 'IDENTITY_PROVIDER_UNAVAILABLE' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(sockets.length).toBeGreaterThan(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('signs in end to end through /v1/login/oauth/access_token: the provider checks, Auth issues its own tokens for the mapped user', async () => {
    const authApp = createAuthApp({ ...harness.deps, identityProvider: providerFor(external.issuer) });
    const login = (body: Record<string, unknown>) => supertest(authApp).post('/v1/login/oauth/access_token').send(body);
    const ok = await login({ grantType: 'password', username: user.username, password: 'provider-pw' });
    expect(ok.status).toBe(200);
    const verified = await harness.deps.tokens.verify(ok.body.accessToken as string);
    expect(verified.claims.sub).toBe(user.id);
    // The Identity password (the harness default) is not what the oidc mode checks.
    const wrong = await login({ grantType: 'password', username: user.username, password: 'Correct-Horse-9-Battery' });
    expect(wrong.status).toBe(400);
    const cc = await login({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: appSecret });
    expect(cc.status).toBe(200);
  });
});
