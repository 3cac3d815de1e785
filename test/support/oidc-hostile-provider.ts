// A deliberately wrong OpenID provider on 127.0.0.1: discovery, JWKS and a token endpoint whose ID token is
// shaped by the test (another audience, another issuer, another key, expired). oidc-provider, being correct,
// cannot produce these; the `oidc` identity provider must refuse every one of them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type HostileIdToken = 'valid' | 'wrong-audience' | 'wrong-issuer' | 'foreign-key' | 'expired';

export interface HostileOidcProvider {
  readonly issuer: string;
  /** What the next ID tokens look like. */
  mode: HostileIdToken;
  stop(): Promise<void>;
}

export async function startHostileOidcProvider(options: { clientId: string; sub: string; username: string }): Promise<HostileOidcProvider> {
  const published = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: HostileOidcProvider = {
    issuer,
    mode: 'valid',
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const idToken = async (): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const exp = state.mode === 'expired' ? now - 600 : now + 600;
    return new SignJWT({ preferred_username: options.username })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject(options.sub)
      .setIssuer(state.mode === 'wrong-issuer' ? 'https://someone-else.example.test' : issuer)
      .setAudience(state.mode === 'wrong-audience' ? 'another-client' : options.clientId)
      .setIssuedAt(exp - 1200)
      .setExpirationTime(exp)
      .sign(state.mode === 'foreign-key' ? foreign.privateKey : published.privateKey);
  };
  server.on('request', (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      send(200, { issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'], response_types_supported: ['code'], subject_types_supported: ['public'] });
    } else if (req.url === '/jwks') {
      send(200, { keys: [jwk] });
    } else if (req.url === '/token' && req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        void idToken().then((token) => send(200, { access_token: 'opaque-access', token_type: 'Bearer', expires_in: 600, id_token: token }));
      });
    } else send(404, { error: 'not_found' });
  });
  return state;
}
