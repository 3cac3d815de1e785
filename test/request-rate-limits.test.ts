// The overall and permission-route request limits of Lerian's chart (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW_SEC,
// RATE_LIMIT_PERMISSION_MAX / RATE_LIMIT_PERMISSION_WINDOW_SEC): per client address, shared by every replica
// through Valkey, and never open while Valkey is down (each replica counts alone against half the limit). Real Valkey (a private server where it is stopped).
import type { Valkey } from 'iovalkey';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthApp } from '../auth-service/app.js';
import { wireAuth } from '../auth-service/wiring.js';
import { parseAuthConfig } from '../auth-service/config.js';
import type { AuthDeps } from '../auth-service/deps.js';
import { createIdentityApp } from '../identity-service/app.js';
import { parseIdentityConfig } from '../identity-service/config.js';
import { requestRateLimitsOf } from '../platform/rate-limit-config.js';
import { createValkeyClient } from '../platform/valkey-client.js';
import { createAuthHarness, type AuthHarness } from './support/auth-harness.js';
import { createIdentityHarness, type IdentityHarness } from './support/identity-harness.js';
import { startPrivateValkey, type PrivateValkey } from './support/private-valkey.js';
import { testKeyPrefix, testValkeyUrl } from './support/valkey.js';

let auth: AuthHarness;
let identity: IdentityHarness;
let valkey: Valkey;
const clients: Valkey[] = [];
let prefixes = 0;

/**
 * A client that has connected: with no offline queue, a command sent before the connection is ready fails at once,
 * which the limiter takes for an outage (and counts in the process against half the limit). A loaded machine
 * connects slowly, so wait; and give commands more than the production 200 ms before they count as an outage.
 */
async function clientOf(url: string): Promise<Valkey> {
  const client = createValkeyClient({ url, maxReconnectDelayMs: 200, commandTimeoutMs: 2_000 });
  clients.push(client);
  const deadline = Date.now() + 10_000;
  while (client.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  if (client.status !== 'ready') throw new Error(`Valkey at ${url} did not connect within 10 s (${client.status})`);
  return client;
}

/** An Auth replica on the harness database with these limits; replicas built with the same `prefix` share counts. */
function authReplica(limits: { overall: number; permission?: number }, prefix: string, client: Valkey | undefined = valkey) {
  const deps: AuthDeps = {
    ...auth.deps,
    valkey: client,
    keyPrefix: prefix,
    settings: {
      ...auth.deps.settings,
      trustedProxies: ['127.0.0.1'],
      requestRateLimits: { overall: { max: limits.overall, windowSeconds: 60 }, ...(limits.permission ? { permission: { max: limits.permission, windowSeconds: 60 } } : {}) },
    },
  };
  return supertest(createAuthApp(wireAuth(deps)));
}

const freshPrefix = () => testKeyPrefix(`request-limits-${++prefixes}`);
const from = (address: string) => ({ 'X-Forwarded-For': address });

beforeAll(async () => {
  auth = await createAuthHarness('request-rate-limits-auth');
  identity = await createIdentityHarness('request-rate-limits-identity');
  valkey = await clientOf(testValkeyUrl);
});

afterAll(async () => {
  await auth?.close();
  await identity?.close();
  for (const client of clients) client.disconnect();
});

describe('configuration under Lerian\'s names', () => {
  const base = { DATABASE_URL: 'postgres://x/y', TOKEN_ISSUER: 'https://auth.example.test', SECRETS_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), MFA_SECRET: 'm'.repeat(48), DEFAULT_ORGANIZATION_ID: '00000000-0000-4000-8000-000000000000' };

  it('defaults to the chart\'s 100 per 60 s overall and 60 per 60 s on the permission routes', () => {
    expect(requestRateLimitsOf(parseAuthConfig(base))).toEqual({ overall: { max: 100, windowSeconds: 60 }, permission: { max: 60, windowSeconds: 60 } });
  });

  it('reads RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_SEC, RATE_LIMIT_PERMISSION_MAX and RATE_LIMIT_PERMISSION_WINDOW_SEC; RATE_LIMIT_ENABLED=false turns both off', () => {
    const env = { ...base, RATE_LIMIT_MAX: '500', RATE_LIMIT_WINDOW_SEC: '10', RATE_LIMIT_PERMISSION_MAX: '7', RATE_LIMIT_PERMISSION_WINDOW_SEC: '30' };
    expect(requestRateLimitsOf(parseAuthConfig(env))).toEqual({ overall: { max: 500, windowSeconds: 10 }, permission: { max: 7, windowSeconds: 30 } });
    expect(requestRateLimitsOf(parseAuthConfig({ ...env, RATE_LIMIT_ENABLED: 'false' }))).toBeUndefined();
    expect(() => parseAuthConfig({ ...base, RATE_LIMIT_MAX: '0' })).toThrow(/RATE_LIMIT_MAX/);
  });

  it('Identity reads the same names', () => {
    const config = parseIdentityConfig({ DATABASE_URL: 'postgres://x/y', TOKEN_ISSUER: 'https://auth.example.test', SECRETS_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), DEFAULT_ORGANIZATION_ID: '00000000-0000-4000-8000-000000000000', RATE_LIMIT_MAX: '42' });
    expect(requestRateLimitsOf(config)?.overall).toEqual({ max: 42, windowSeconds: 60 });
  });
});

describe('the overall limit (Auth)', () => {
  it('refuses the request past RATE_LIMIT_MAX from one address with 429 problem+json, Retry-After and RateLimit headers', async () => {
    const http = authReplica({ overall: 3 }, freshPrefix());
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await http.get('/v1/userinfo').set(from('203.0.113.1'))).status);
    expect(statuses).toEqual([401, 401, 401]);
    const refused = await http.get('/v1/userinfo').set(from('203.0.113.1'));
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 429, code: 'AUT-0015' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit-policy']).toMatch(/"overall"; q=3; w=60/);
    // Another client address has its own count.
    expect((await http.get('/v1/userinfo').set(from('203.0.113.2'))).status).toBe(401);
  });

  it('passes by the decisions, the sign-in routes, public metadata and the probes', async () => {
    const http = authReplica({ overall: 1 }, freshPrefix());
    await http.get('/v1/userinfo').set(from('203.0.113.3'));
    expect((await http.get('/v1/userinfo').set(from('203.0.113.3'))).status).toBe(429);
    for (let i = 0; i < 3; i++) {
      for (const request of [
        http.post('/v1/authorize').set(from('203.0.113.3')).send({ sub: 'a/b', resource: 'accounts', action: 'get' }),
        http.post('/v1/login/oauth/access_token').set(from('203.0.113.3')).send({ grantType: 'password', username: 'nobody', password: 'x' }),
        http.get('/.well-known/openid-configuration').set(from('203.0.113.3')),
        http.get('/health').set(from('203.0.113.3')),
        http.get('/version').set(from('203.0.113.3')),
        http.get('/openapi.json').set(from('203.0.113.3')),
      ]) {
        expect((await request).status).not.toBe(429);
      }
    }
  });

  it('is shared by every replica through Valkey: what one replica counted, the other refuses', async () => {
    const prefix = freshPrefix();
    const [a, b] = [authReplica({ overall: 4 }, prefix), authReplica({ overall: 4 }, prefix)];
    for (const replica of [a, b, a, b]) expect((await replica.get('/v1/userinfo').set(from('203.0.113.4'))).status).toBe(401);
    expect((await a.get('/v1/userinfo').set(from('203.0.113.4'))).status).toBe(429);
    expect((await b.get('/v1/userinfo').set(from('203.0.113.4'))).status).toBe(429);
  });

  it('lets exactly RATE_LIMIT_MAX of 20 simultaneous requests through', async () => {
    const prefix = freshPrefix();
    const replicas = [authReplica({ overall: 5 }, prefix), authReplica({ overall: 5 }, prefix)];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.get('/v1/userinfo').set(from('203.0.113.5'))));
    expect(answers.filter((r) => r.status !== 429)).toHaveLength(5);
  });

  it('never fails open: while Valkey cannot be reached each replica counts alone against half the limit, and shares again once Valkey is back', async () => {
    const server: PrivateValkey = await startPrivateValkey();
    try {
      const client = await clientOf(server.url);
      const http = authReplica({ overall: 10 }, freshPrefix(), client);
      expect((await http.get('/v1/userinfo').set(from('203.0.113.6'))).status).toBe(401);
      await server.stop();
      const deadline = Date.now() + 10_000;
      while (client.status === 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // The API keeps answering (401 here: no token), and no more than half the limit (10 / 2) passes in the process
      // before the address is refused.
      const answers = [];
      for (let i = 0; i < 8; i++) answers.push(await http.get('/v1/userinfo').set(from('203.0.113.6')));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(4);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const refused = answers[7]!;
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ status: 429 });
      expect(JSON.stringify(refused.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|redis/i);
      // Another address has its own count in the fallback too.
      expect((await http.get('/v1/userinfo').set(from('203.0.113.60'))).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('the permission-route limit (Auth)', () => {
  it('refuses GET /v1/permissions past RATE_LIMIT_PERMISSION_MAX while other routes still have overall quota', async () => {
    const http = authReplica({ overall: 10, permission: 2 }, freshPrefix());
    expect((await http.get('/v1/permissions').set(from('203.0.113.7'))).status).toBe(401);
    expect((await http.get('/v1/permissions').set(from('203.0.113.7'))).status).toBe(401);
    const refused = await http.get('/v1/permissions').set(from('203.0.113.7'));
    expect(refused.status).toBe(429);
    expect(refused.headers['ratelimit-policy']).toMatch(/"permission"; q=2; w=60/);
    expect((await http.get('/v1/userinfo').set(from('203.0.113.7'))).status).toBe(401);
  });
});

describe('the overall limit (Identity)', () => {
  it('counts every API route per client address, shared through Valkey, and passes by the probes', async () => {
    const prefix = freshPrefix();
    const replica = () =>
      supertest(
        createIdentityApp({
          ...identity.deps,
          valkey,
          network: { trustedProxies: ['127.0.0.1'], platformInternalCidrs: [] },
          requestRateLimits: { limits: { overall: { max: 2, windowSeconds: 60 } }, keyPrefix: prefix },
        }),
      );
    const [a, b] = [replica(), replica()];
    expect((await a.get('/v1/users').set(from('203.0.113.8'))).status).toBe(401);
    expect((await b.get('/v1/groups').set(from('203.0.113.8'))).status).toBe(401);
    const refused = await a.get('/v1/users').set(from('203.0.113.8'));
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, code: 'IDE-0015' });
    expect((await b.get('/health').set(from('203.0.113.8'))).status).toBe(200);
    expect((await b.get('/version').set(from('203.0.113.8'))).status).toBe(200);
    expect((await b.get('/v1/users').set(from('203.0.113.9'))).status).toBe(401);
  });
});
