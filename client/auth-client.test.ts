import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';
import { freePort } from '../local-start/free-port.js';
import { createAuthClient, type AuthClient } from './auth-client.js';
import type { AuthClientOptions } from './auth-client-options.js';
import { AuthClientError } from './errors.js';

/**
 * The real Auth app behind a loopback server that counts what reaches it and can be told to fail the next
 * requests with a status (a proxy in front of Auth answering 5xx), so retries and the breaker are observable.
 */
interface Front {
  readonly url: string;
  readonly paths: string[];
  connections: number;
  failNext: { count: number; status: number };
  close(): Promise<void>;
}

async function frontOf(h: AuthHarness): Promise<Front> {
  const front: Front = {
    url: '',
    paths: [],
    connections: 0,
    failNext: { count: 0, status: 503 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    front.paths.push(req.url ?? '');
    if (front.failNext.count > 0) {
      front.failNext.count -= 1;
      res.writeHead(front.failNext.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'AUT-0017' }));
      return;
    }
    h.app(req, res);
  });
  server.on('connection', () => (front.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(front, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return front;
}

let h: AuthHarness;
let front: Front;
let org: { id: string; slug: string };
let user: { id: string; username: string };
let token: string;
const clients: AuthClient[] = [];

function client(options: Partial<AuthClientOptions> = {}): AuthClient {
  const c = createAuthClient({ url: front.url, retryBaseDelayMs: 5, ...options });
  clients.push(c);
  return c;
}

const authorizeCalls = () => front.paths.filter((path) => path.startsWith('/v1/authorize')).length;

beforeAll(async () => {
  h = await createAuthHarness('auth-client');
  front = await frontOf(h);
  org = await h.createOrganization();
  user = await h.createUser(org.id);
  token = (await h.deps.issuer.accessToken({ kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug }, undefined, undefined)).token;
  await h.grant(org.id, `user:${user.id}`, [
    ['accounts', 'get'],
    ['ledger/transactions', 'post'],
  ]);
});

beforeEach(() => {
  front.paths.length = 0;
  front.failNext = { count: 0, status: 503 };
});

afterAll(async () => {
  for (const c of clients) c.close();
  await front?.close();
  await h?.close();
});

describe('decisions from a real Auth', () => {
  it('an allow and a deny are values; a denial carries Auth reason', async () => {
    const c = client();
    expect(await c.authorize(token, 'accounts', 'get')).toMatchObject({ allowed: true, cached: false });
    expect(await c.authorize(token, 'accounts', 'delete')).toMatchObject({ allowed: false, reason: 'permission', cached: false });
  });

  it('product scoping: with a product, <product>/<resource> is what Auth decides', async () => {
    const c = client({ product: 'ledger' });
    expect((await c.authorize(token, 'transactions', 'post')).allowed).toBe(true);
    expect((await client().authorize(token, 'transactions', 'post')).allowed).toBe(false);
  });

  it('a forged token is refused by Auth with 401 (unauthenticated), asked once, never retried', async () => {
    const forged = await h.token({ sub: user.id, tenantId: org.id, foreignKey: true, claims: { owner: org.slug } });
    const error = await client().authorize(forged, 'accounts', 'get').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthClientError);
    expect(error).toMatchObject({ kind: 'unauthenticated', status: 401 });
    expect(authorizeCalls()).toBe(1);
  });

  it('a token that is not a JWT is refused without asking Auth', async () => {
    await expect(client().authorize('not-a-token', 'accounts', 'get')).rejects.toMatchObject({ kind: 'unauthenticated' });
    expect(authorizeCalls()).toBe(0);
  });

  it('batch answers in order, asking Auth once for what the cache does not hold', async () => {
    const c = client();
    await c.authorize(token, 'accounts', 'get');
    const decisions = await c.batch(token, [
      { resource: 'accounts', action: 'get' },
      { resource: 'accounts', action: 'post' },
      { resource: 'transactions', action: 'post', product: 'ledger' },
    ]);
    expect(decisions.map((d) => [d.allowed, d.cached])).toEqual([
      [true, true],
      [false, false],
      [true, false],
    ]);
    expect(front.paths.filter((p) => p === '/v1/authorize/batch')).toHaveLength(1);
    expect(authorizeCalls()).toBe(2);
  });

  it('permissions(token) is the caller map of resource → actions', async () => {
    expect(await client().permissions(token)).toEqual({ accounts: ['get'], 'ledger/transactions': ['post'] });
  });
});

describe('the decision cache', () => {
  it('a repeated question is answered from the cache without calling Auth again', async () => {
    const c = client();
    await c.authorize(token, 'accounts', 'get');
    const second = await c.authorize(token, 'accounts', 'get');
    expect(second).toMatchObject({ allowed: true, cached: true });
    expect(authorizeCalls()).toBe(1);
  });

  it('its keys hold a digest of the token, never the token or any part of it', async () => {
    const c = client();
    await c.authorize(token, 'accounts', 'get');
    const keys = c.cache.keys().join('\n');
    expect(keys).not.toBe('');
    for (const part of [token, ...token.split('.')]) expect(keys).not.toContain(part);
  });

  it('is bounded in entries and in time (injected clock)', async () => {
    let now = Date.now();
    const c = client({ cacheMaxEntries: 2, cacheTtlMs: 1_000, nowMs: () => now });
    for (const action of ['get', 'post', 'patch']) await c.authorize(token, 'accounts', action);
    expect(c.cache.size).toBe(2);
    front.paths.length = 0;
    expect((await c.authorize(token, 'accounts', 'patch')).cached).toBe(true);
    now += 1_001;
    expect((await c.authorize(token, 'accounts', 'patch')).cached).toBe(false);
    expect(authorizeCalls()).toBe(1);
  });

  it('a newer policy revision makes every older decision unreachable, and Auth answers from it (minRevision)', async () => {
    const c = client();
    expect((await c.authorize(token, 'ledgers', 'get')).allowed).toBe(false);
    const revision = await h.grant(org.id, `user:${user.id}`, [['ledgers', 'get']]);
    expect((await c.authorize(token, 'ledgers', 'get')).cached).toBe(true);
    c.noteRevision(org.id, revision);
    const after = await c.authorize(token, 'ledgers', 'get');
    expect(after).toMatchObject({ allowed: true, cached: false });
    expect(after.revision).toBeGreaterThanOrEqual(revision);
    expect(authorizeCalls()).toBe(2);
  });

  it('a check passing minRevision never takes a cached decision from before it', async () => {
    const c = client();
    const first = await c.authorize(token, 'accounts', 'get');
    const revision = await h.grant(org.id, `user:${user.id}`, [['assets', 'get']]);
    expect(revision).toBeGreaterThan(first.revision);
    expect((await c.authorize(token, 'accounts', 'get', { minRevision: revision })).cached).toBe(false);
  });
});

describe('failures: fail closed, retry only what is transient, within one deadline', () => {
  it('Auth unreachable (a closed port) is unavailable (503), quickly', async () => {
    const closed = client({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000 });
    const started = Date.now();
    await expect(closed.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a transient 503 is retried and the call succeeds within the deadline', async () => {
    front.failNext = { count: 1, status: 503 };
    expect(await client({ cacheTtlMs: 0 }).authorize(token, 'accounts', 'get')).toMatchObject({ allowed: true });
    expect(authorizeCalls()).toBe(2);
  });

  it('transient failures past the attempts are unavailable; a 500 is not retried', async () => {
    front.failNext = { count: 5, status: 502 };
    await expect(client({ maxAttempts: 3 }).authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(authorizeCalls()).toBe(3);
    front.paths.length = 0;
    front.failNext = { count: 5, status: 500 };
    await expect(client().authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable', status: 503 });
    expect(authorizeCalls()).toBe(1);
  });

  it('a 4xx is never retried: Auth 400 (a resource it refuses) is unavailable per Lerian rule, asked once', async () => {
    await expect(client().authorize(token, 'a/../b', 'get')).rejects.toMatchObject({ kind: 'unavailable', upstreamStatus: 400 });
    expect(authorizeCalls()).toBe(1);
    front.paths.length = 0;
    front.failNext = { count: 5, status: 429 };
    await expect(client().authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable', upstreamStatus: 429 });
    expect(authorizeCalls()).toBe(1);
  });

  it('the deadline bounds retries: a slow Auth gives up at the budget', async () => {
    const slow = http.createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const c = client({ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, timeoutMs: 300, maxAttempts: 5 });
      const started = Date.now();
      await expect(c.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});

describe('circuit breaker (injected clock)', () => {
  it('opens after N failed calls, refuses without calling Auth, half-opens after openMs and closes on success', async () => {
    let now = 1_000_000;
    const c = client({ cacheTtlMs: 0, maxAttempts: 1, circuitBreaker: { failureThreshold: 2, openMs: 5_000 }, nowMs: () => now });
    front.failNext = { count: 2, status: 500 };
    for (let i = 0; i < 2; i++) await expect(c.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(c.circuit.state).toBe('open');
    await expect(c.authorize(token, 'accounts', 'get')).rejects.toThrow(/circuit open/);
    expect(authorizeCalls()).toBe(2);
    now += 5_000;
    expect(c.circuit.state).toBe('half-open');
    expect((await c.authorize(token, 'accounts', 'get')).allowed).toBe(true);
    expect(c.circuit.state).toBe('closed');
    expect(authorizeCalls()).toBe(3);
  });

  it('a failed half-open probe opens the circuit again', async () => {
    let now = 2_000_000;
    const c = client({ cacheTtlMs: 0, maxAttempts: 1, circuitBreaker: { failureThreshold: 1, openMs: 1_000 }, nowMs: () => now });
    front.failNext = { count: 2, status: 500 };
    await expect(c.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
    now += 1_000;
    await expect(c.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
    expect(c.circuit.state).toBe('open');
    expect(authorizeCalls()).toBe(2);
  });
});

describe('connections', () => {
  it('reuses one keep-alive connection for sequential calls', async () => {
    const before = front.connections;
    const c = client({ cacheTtlMs: 0 });
    for (let i = 0; i < 5; i++) await c.authorize(token, 'accounts', 'get');
    expect(front.connections - before).toBe(1);
  });
});

describe('local verification against Auth JWKS', () => {
  it('refuses a forged token without asking Auth; a genuine one is decided', async () => {
    const c = client({ localVerification: { issuer: h.deps.settings.issuer, audience: h.deps.settings.audience } });
    const forged = await h.token({ sub: user.id, tenantId: org.id, foreignKey: true, claims: { owner: org.slug } });
    await expect(c.authorize(forged, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unauthenticated' });
    expect(authorizeCalls()).toBe(0);
    expect(front.paths).toContain('/.well-known/jwks');
    expect((await c.authorize(token, 'accounts', 'get')).allowed).toBe(true);
    expect(await c.identify(token)).toMatchObject({ subject: user.id, tenantId: org.id, kind: 'user' });
  });

  it('refuses an expired token, a wrong audience and an ID-token typ locally', async () => {
    const c = client({ localVerification: { issuer: h.deps.settings.issuer, audience: h.deps.settings.audience } });
    const claims = { owner: org.slug };
    for (const bad of [
      await h.token({ sub: user.id, tenantId: org.id, claims, issuedAtSeconds: Math.floor(Date.now() / 1000) - 7200 }),
      await h.token({ sub: user.id, tenantId: org.id, claims, audience: 'someone-else' }),
      await h.token({ sub: user.id, tenantId: org.id, claims, typ: 'JWT' }),
    ]) {
      await expect(c.authorize(bad, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unauthenticated' });
    }
    expect(authorizeCalls()).toBe(0);
  });

  it('JWKS unreachable is unavailable, not a refused token', async () => {
    const c = client({ localVerification: { jwksUrl: `http://127.0.0.1:${await freePort()}/.well-known/jwks`, issuer: h.deps.settings.issuer, audience: h.deps.settings.audience } });
    await expect(c.authorize(token, 'accounts', 'get')).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
