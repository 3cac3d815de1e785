import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { type AuthHarness, createAuthHarness } from '../../test/support/auth-harness.js';
import { startTestOidcProvider, type TestOidcProvider } from '../../test/support/oidc-test-provider.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import { OidcIdentityProvider } from './oidc-identity-provider.js';

describe('OidcIdentityProvider against a real OpenID Connect provider', () => {
  let harness: AuthHarness;
  let external: TestOidcProvider;
  let tenantId: string;
  let user: { id: string; username: string };
  let app: { id: string; clientId: string };
  const amClient = { clientId: 'access-manager', clientSecret: 'am-secret-for-tests' };
  const appSecret = 'app-secret-at-the-provider';

  beforeAll(async () => {
    harness = await createAuthHarness('oidc_idp');
    tenantId = (await harness.createOrganization()).id;
    user = await harness.createUser(tenantId, { username: `ana-${Date.now()}` });
    app = await harness.createApplication(tenantId);
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
    new OidcIdentityProvider({ issuerUrl, ...amClient, pool: harness.deps.pool, secrets: harness.deps.secrets, allowInsecureRequests: true, clock: harness.deps.clock, timeoutSeconds });

  it('maps a user the provider signs in to the Identity user of the same username', async () => {
    const signedIn = await providerFor(external.issuer).authenticatePassword(user.username, 'provider-pw');
    expect(signedIn).toMatchObject({ kind: 'user', id: user.id, tenantId, username: user.username });
  });

  it('refuses a wrong password, and a provider user without an Identity user, alike', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.authenticatePassword(user.username, 'wrong')).resolves.toBeUndefined();
    await expect(provider.authenticatePassword('nobody', 'provider-pw')).resolves.toBeUndefined();
    await expect(provider.authenticatePassword('ghost-without-identity-row', 'provider-pw')).resolves.toBeUndefined();
  });

  it('forwards client credentials to the provider and maps the client to the application', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.authenticateClient(app.clientId, appSecret)).resolves.toMatchObject({ kind: 'application', id: app.id, tenantId, clientId: app.clientId });
    await expect(provider.authenticateClient(app.clientId, 'wrong')).resolves.toBeUndefined();
    // The provider knows this client, Identity has no application for it.
    await expect(provider.authenticateClient(amClient.clientId, amClient.clientSecret)).resolves.toBeUndefined();
  });

  it('rereads subjects from Identity at refresh', async () => {
    const provider = providerFor(external.issuer);
    await expect(provider.findSubject('user', tenantId, user.id)).resolves.toMatchObject({ id: user.id });
    await expect(provider.findSubject('application', tenantId, app.id)).resolves.toMatchObject({ id: app.id });
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

  it('after a failure refuses at once instead of waiting the timeout again, and asks again once the cooldown has passed', async () => {
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
      clock: { nowMs: () => Date.now() + offsetMs },
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

  describe("links a user by the provider's issuer and sub, pinned at the first sign-in (OIDC Core 5.7)", () => {
    const linkOf = async (userId: string) =>
      (await harness.deps.pool.query<{ oidc_issuer: string | null; oidc_subject: string | null }>('SELECT oidc_issuer, oidc_subject FROM users WHERE id = $1', [userId])).rows[0];
    const fresh = async (label: string) => {
      const row = await harness.createUser(tenantId, { username: `${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}` });
      return { ...row, sub: `ext-${row.id}` };
    };

    it('the first sign-in links the user named by the username claim to the issuer and sub', async () => {
      const u = await fresh('first');
      expect(await linkOf(u.id)).toEqual({ oidc_issuer: null, oidc_subject: null });
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'first@example.test' });
      await expect(providerFor(external.issuer).authenticatePassword(u.username, 'provider-pw')).resolves.toMatchObject({ id: u.id });
      expect(await linkOf(u.id)).toEqual({ oidc_issuer: external.issuer, oidc_subject: u.sub });
    });

    it('the same username from another provider account (another sub) is refused once the user is linked, and the link stays', async () => {
      const u = await fresh('pinned');
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'pinned@example.test' });
      const provider = providerFor(external.issuer);
      await expect(provider.authenticatePassword(u.username, 'provider-pw')).resolves.toMatchObject({ id: u.id });
      // The provider gives the name to a new account (the old one renamed or deleted, the name recycled).
      external.setAccount({ sub: `${u.sub}-impostor`, username: u.username, password: 'impostor-pw', email: 'impostor@example.test' });
      await expect(provider.authenticatePassword(u.username, 'impostor-pw')).resolves.toBeUndefined();
      expect(await linkOf(u.id)).toEqual({ oidc_issuer: external.issuer, oidc_subject: u.sub });
    });

    it('a changed preferred_username with the same sub still finds the user, even when another user has the new name', async () => {
      const u = await fresh('renamed');
      const bystander = await fresh('bystander');
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'renamed@example.test' });
      const provider = providerFor(external.issuer);
      await expect(provider.authenticatePassword(u.username, 'provider-pw')).resolves.toMatchObject({ id: u.id });
      // Renamed at the provider to a name no Identity user has...
      external.setAccount({ sub: u.sub, username: `${u.username}-new`, password: 'provider-pw', email: 'renamed@example.test' });
      await expect(provider.authenticatePassword(`${u.username}-new`, 'provider-pw')).resolves.toMatchObject({ id: u.id, username: u.username });
      // ...and to the name of another, unlinked Identity user: still this user, and the bystander stays unlinked.
      external.setAccount({ sub: u.sub, username: bystander.username, password: 'provider-pw', email: 'renamed@example.test' });
      await expect(provider.authenticatePassword(bystander.username, 'provider-pw')).resolves.toMatchObject({ id: u.id });
      expect(await linkOf(bystander.id)).toEqual({ oidc_issuer: null, oidc_subject: null });
    });

    it('another issuer with the same username and the same sub is refused: the link is (issuer, sub)', async () => {
      const u = await fresh('issuer');
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'issuer@example.test' });
      await expect(providerFor(external.issuer).authenticatePassword(u.username, 'provider-pw')).resolves.toMatchObject({ id: u.id });
      const other = await startTestOidcProvider({ accounts: [{ sub: u.sub, username: u.username, password: 'provider-pw', email: 'issuer@example.test' }], clients: [amClient] });
      try {
        await expect(providerFor(other.issuer).authenticatePassword(u.username, 'provider-pw')).resolves.toBeUndefined();
      } finally {
        await other.stop();
      }
      expect(await linkOf(u.id)).toEqual({ oidc_issuer: external.issuer, oidc_subject: u.sub });
    });

    it('a disabled user is not linked; five concurrent first sign-ins of one account link it once and all find it', async () => {
      const disabled = await harness.createUser(tenantId, { username: `off-${Date.now()}`, status: 'disabled' });
      external.setAccount({ sub: `ext-${disabled.id}`, username: disabled.username, password: 'provider-pw', email: 'off@example.test' });
      await expect(providerFor(external.issuer).authenticatePassword(disabled.username, 'provider-pw')).resolves.toBeUndefined();
      expect(await linkOf(disabled.id)).toEqual({ oidc_issuer: null, oidc_subject: null });

      const u = await fresh('race');
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'race@example.test' });
      const provider = providerFor(external.issuer);
      const signedIn = await Promise.all(Array.from({ length: 5 }, () => provider.authenticatePassword(u.username, 'provider-pw')));
      expect(signedIn.map((user) => user?.id)).toEqual(Array(5).fill(u.id));
      expect(await linkOf(u.id)).toEqual({ oidc_issuer: external.issuer, oidc_subject: u.sub });
    });

    it('the link is unique per organization: a second user of the organization cannot hold the same (issuer, sub); another organization may', async () => {
      const a = await fresh('unique-a');
      const b = await fresh('unique-b');
      const link = (userId: string) => harness.deps.pool.query('UPDATE users SET oidc_issuer = $2, oidc_subject = $3 WHERE id = $1', [userId, 'https://idp.example', 'same-sub']);
      await link(a.id);
      await expect(link(b.id)).rejects.toMatchObject({ code: '23505' });
      const elsewhere = await harness.createUser((await harness.createOrganization()).id);
      await expect(link(elsewhere.id)).resolves.toMatchObject({ rowCount: 1 });
      await expect(harness.deps.pool.query("UPDATE users SET oidc_issuer = 'https://idp.example' WHERE id = $1", [b.id])).rejects.toMatchObject({ code: '23514' });
    });

    it('over HTTP: the recycled username signs in as nobody (400 invalid_grant), the linked account still as its user', async () => {
      const u = await fresh('http');
      external.setAccount({ sub: u.sub, username: u.username, password: 'provider-pw', email: 'http@example.test' });
      const authApp = createAuthApp(wireAuth({ ...harness.deps, identityProvider: providerFor(external.issuer) }));
      const login = (username: string, password: string) => supertest(authApp).post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
      expect((await login(u.username, 'provider-pw')).status).toBe(200);
      external.setAccount({ sub: u.sub, username: `${u.username}-moved`, password: 'provider-pw', email: 'http@example.test' });
      external.setAccount({ sub: `${u.sub}-recycled`, username: u.username, password: 'recycled-pw', email: 'recycled@example.test' });
      const refused = await login(u.username, 'recycled-pw');
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'AUT-0100' });
      const moved = await login(`${u.username}-moved`, 'provider-pw');
      expect(moved.status).toBe(200);
      expect((await harness.deps.tokens.verify(moved.body.accessToken as string)).claims.sub).toBe(u.id);
    });
  });

  it('signs in end to end through /v1/login/oauth/access_token: the provider checks, Auth issues its own tokens for the mapped user', async () => {
    const authApp = createAuthApp(wireAuth({ ...harness.deps, identityProvider: providerFor(external.issuer) }));
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
