// A real OpenID Connect provider (oidc-provider, certified) on 127.0.0.1, for the `oidc` identity provider's tests.
// oidc-provider has no resource-owner password grant: it is registered here as the custom grant `password`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, Provider } from 'oidc-provider';

export interface TestOidcAccount {
  readonly sub: string;
  readonly username: string;
  readonly password: string;
  readonly email: string;
}

export interface TestOidcClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface TestOidcProvider {
  readonly issuer: string;
  stop(): Promise<void>;
}

const scope = 'openid profile email';

export async function startTestOidcProvider(options: { accounts: readonly TestOidcAccount[]; clients: readonly TestOidcClient[] }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const byUsername = new Map(options.accounts.map((account) => [account.username, account]));
  const bySub = new Map(options.accounts.map((account) => [account.sub, account]));
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_types: ['password', 'client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
    findAccount(_ctx: unknown, id: string) {
      const account = bySub.get(id);
      return account ? { accountId: id, claims: () => ({ sub: id, preferred_username: account.username, email: account.email }) } : undefined;
    },
  });
  provider.registerGrantType(
    'password',
    async (ctx) => {
      const { username, password } = ctx.oidc.params;
      const account = typeof username === 'string' ? byUsername.get(username) : undefined;
      if (!account || account.password !== password) throw new errors.InvalidGrant('invalid credentials');
      const { Grant, AccessToken, IdToken } = ctx.oidc.provider;
      const grant = new Grant({ accountId: account.sub, clientId: ctx.oidc.client.clientId });
      grant.addOIDCScope(scope);
      const grantId = await grant.save();
      const at = new AccessToken({ accountId: account.sub, client: ctx.oidc.client, grantId, gty: 'password', scope });
      const accessToken = await at.save();
      const idToken = new IdToken({ sub: account.sub, preferred_username: account.username, email: account.email }, { ctx });
      idToken.scope = scope;
      ctx.body = { access_token: accessToken, id_token: await idToken.issue({ use: 'idtoken' }), token_type: 'Bearer', expires_in: at.expiration, scope };
    },
    ['username', 'password', 'scope'],
  );
  server.on('request', provider.callback());
  return {
    issuer,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
