// A real OpenID Connect provider (oidc-provider, certified) on 127.0.0.1, for the `oidc` identity provider's tests.
// oidc-provider has no resource-owner password grant: it is registered here as the custom grant `password`, which
// issues what an authorization-code grant would (access token, ID token, and a refresh token for offline_access).
// Refresh, userinfo and revocation (RFC 7009) are oidc-provider's own.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { errors, Provider } from 'oidc-provider';

export interface TestOidcAccount {
  readonly sub: string;
  readonly username: string;
  readonly password: string;
  readonly email: string;
  readonly emailVerified?: boolean;
  readonly picture?: string;
}

export interface TestOidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface TestOidcProvider {
  readonly issuer: string;
  /** Grants revoked at the provider (RFC 7009 revocation, refresh-token reuse, `revokeGrantsOf`), by account. */
  readonly revokedGrantsOf: (sub: string) => number;
  /** The account is deleted at the provider: its refresh and userinfo are refused from now on. */
  removeAccount(sub: string): void;
  /**
   * Adds an account, or changes the one with this `sub` (a renamed user); the username signs in as this account
   * from now on, even if another account had it before (usernames are not stable at a provider).
   */
  setAccount(account: TestOidcAccount): void;
  /** The provider drops one access token alone (its grant and refresh token live on), e.g. lost in a restart. */
  dropAccessToken(accessToken: string): Promise<void>;
  /** An administrator ends every grant of the account at the provider. */
  revokeGrantsOf(sub: string): Promise<void>;
  /** Token requests seen, by grant type (`password`, `refresh_token`, ...). */
  readonly grantRequests: (grantType: string) => number;
  stop(): Promise<void>;
}

const defaultScope = 'openid profile email';

export async function startTestOidcProvider(options: {
  accounts: readonly TestOidcAccount[];
  clients: readonly TestOidcClient[];
  /** Without it, the provider serves no revocation endpoint. */
  revocation?: boolean;
  accessTokenTtlSeconds?: number;
}): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const byUsername = new Map(options.accounts.map((account) => [account.username, account]));
  const bySub = new Map(options.accounts.map((account) => [account.sub, account]));
  const grantsBySub = new Map<string, string[]>();
  const subByGrant = new Map<string, string>();
  const revoked = new Map<string, number>();
  const grantRequests = new Map<string, number>();
  const signingKey = { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'test-idp', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_types: ['password', 'client_credentials', 'refresh_token'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      // A client may revoke only its own tokens (RFC 7009 2.1).
      revocation: {
        enabled: options.revocation ?? true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
    },
    ttl: { AccessToken: options.accessTokenTtlSeconds ?? 3600, RefreshToken: 86_400, Grant: 86_400, IdToken: 3600, ClientCredentials: 600 },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'picture'], email: ['email', 'email_verified'] },
    findAccount(_ctx: unknown, id: string) {
      const account = bySub.get(id);
      if (!account) return undefined;
      const claims = {
        sub: id,
        preferred_username: account.username,
        email: account.email,
        email_verified: account.emailVerified ?? false,
        ...(account.picture ? { picture: account.picture } : {}),
      };
      return { accountId: id, claims: () => claims };
    },
  });
  provider.on('grant.revoked', (_ctx: unknown, grantId: unknown) => {
    const sub = subByGrant.get(grantId as string);
    if (sub) revoked.set(sub, (revoked.get(sub) ?? 0) + 1);
  });
  provider.on('grant.success', (ctx: unknown) => {
    const grantType = (ctx as { oidc: { params: { grant_type?: string } } }).oidc.params.grant_type ?? '';
    grantRequests.set(grantType, (grantRequests.get(grantType) ?? 0) + 1);
  });
  provider.on('grant.error', (ctx: unknown) => {
    const grantType = (ctx as { oidc: { params: { grant_type?: string } } }).oidc.params.grant_type ?? '';
    grantRequests.set(grantType, (grantRequests.get(grantType) ?? 0) + 1);
  });
  provider.registerGrantType(
    'password',
    async (ctx) => {
      const { username, password } = ctx.oidc.params;
      const requested = typeof ctx.oidc.params.scope === 'string' ? ctx.oidc.params.scope : defaultScope;
      const account = typeof username === 'string' ? byUsername.get(username) : undefined;
      if (!account || account.password !== password || !bySub.has(account.sub)) throw new errors.InvalidGrant('invalid credentials');
      const { Grant, AccessToken, IdToken, RefreshToken } = ctx.oidc.provider;
      const grant = new Grant({ accountId: account.sub, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope(requested);
      const grantId = await grant.save();
      grantsBySub.set(account.sub, [...(grantsBySub.get(account.sub) ?? []), grantId]);
      subByGrant.set(grantId, account.sub);
      const at = new AccessToken({ accountId: account.sub, client: ctx.oidc.client, grantId, gty: 'password', scope: requested });
      const accessToken = await at.save();
      const refreshToken = requested.split(' ').includes('offline_access')
        ? await new RefreshToken({ accountId: account.sub, client: ctx.oidc.client, grantId, gty: 'password', scope: requested }).save()
        : undefined;
      const idToken = new IdToken({ sub: account.sub, preferred_username: account.username, email: account.email }, { ctx });
      idToken.scope = requested;
      ctx.body = {
        access_token: accessToken,
        id_token: await idToken.issue({ use: 'idtoken' }),
        token_type: 'Bearer',
        expires_in: at.expiration,
        scope: requested,
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
      };
    },
    ['username', 'password', 'scope'],
  );
  server.on('request', provider.callback());
  return {
    issuer,
    revokedGrantsOf: (sub) => revoked.get(sub) ?? 0,
    grantRequests: (grantType) => grantRequests.get(grantType) ?? 0,
    removeAccount(sub) {
      bySub.delete(sub);
    },
    setAccount(account) {
      const previous = bySub.get(account.sub);
      if (previous && byUsername.get(previous.username) === previous) byUsername.delete(previous.username);
      bySub.set(account.sub, account);
      byUsername.set(account.username, account);
    },
    async dropAccessToken(accessToken) {
      await (await provider.AccessToken.find(accessToken))?.destroy();
    },
    async revokeGrantsOf(sub) {
      for (const grantId of grantsBySub.get(sub) ?? []) {
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
