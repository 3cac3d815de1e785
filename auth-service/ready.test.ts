// Auth's `/ready` includes the external identity provider: a replica that cannot reach it cannot sign anyone in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';
import { createAuthApp } from './app.js';
import { wireAuth } from './wiring.js';
import { OidcIdentityProvider } from './identity-providers/oidc-identity-provider.js';
import supertest from 'supertest';

let harness: AuthHarness;

beforeAll(async () => {
  harness = await createAuthHarness('auth_ready', { withValkey: true });
});
afterAll(async () => harness.close());

describe('Auth /ready', () => {
  it('checks PostgreSQL, the engine and the configured Valkey; builtin sign-in adds no provider check', async () => {
    const response = await harness.http().get('/ready');
    expect(response.status).toBe(200);
    expect(Object.keys(response.body.checks).sort()).toEqual(['engine', 'postgres', 'valkey']);
  });

  it('answers 503 naming identityProvider when the OIDC provider does not answer', async () => {
    const identityProvider = new OidcIdentityProvider({
      issuerUrl: 'http://127.0.0.1:1/realm',
      clientId: 'access-manager',
      clientSecret: 'not-used-here',
      pool: harness.deps.pool,
      secrets: harness.deps.secrets,
      clock: harness.deps.clock,
      timeoutSeconds: 1,
      allowInsecureRequests: true,
    });
    const app = createAuthApp(wireAuth({ ...harness.deps, identityProvider }));
    const response = await supertest(app).get('/ready');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ ready: false, failing: ['identityProvider'], checks: { identityProvider: { status: 'down' }, postgres: { status: 'up' } } });
  });
});
