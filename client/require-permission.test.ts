import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';
import { freePort } from '../local-start/free-port.js';
import { createAuthClient, type AuthClient } from './auth-client.js';
import type { AuthClientOptions } from './auth-client-options.js';
import { authOf, requirePermission } from './require-permission.js';

let h: AuthHarness;
let auth: http.Server;
let authUrl: string;
let failing: http.Server;
let failingUrl: string;
let org: { id: string; slug: string };
let user: { id: string; username: string };
let token: string;
let reached: number;
const clients: AuthClient[] = [];

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const tokenFor = async (u: { id: string; username: string }, o: { id: string; slug: string }) =>
  (await h.deps.issuer.accessToken({ kind: 'user', id: u.id, name: u.username, displayName: u.username, tenantId: o.id, tenantSlug: o.slug }, undefined, undefined)).token;

/** A product: two routes behind the middleware; the handler reports who it saw (and counts that it ran). */
function product(options: Partial<AuthClientOptions> = {}): Express {
  const client = createAuthClient({ url: authUrl, retryBaseDelayMs: 5, ...options });
  clients.push(client);
  const app = express();
  app.set('trust proxy', false);
  app.get('/accounts', client.requirePermission('accounts', 'get'), (req, res) => {
    reached += 1;
    const seen = authOf(req);
    res.json({ subject: seen?.subject, tenantId: seen?.tenantId });
  });
  app.delete('/accounts', requirePermission(client, 'accounts', 'delete'), (_req, res) => {
    reached += 1;
    res.status(204).end();
  });
  return app;
}

function expectProblem(res: supertest.Response, status: number, code: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code: expect.stringMatching(code), title: expect.any(String), message: expect.any(String) });
  expect(reached).toBe(0);
}

beforeAll(async () => {
  h = await createAuthHarness('require-permission');
  auth = http.createServer(h.app);
  authUrl = await listen(auth);
  failing = http.createServer((_req, res) => res.writeHead(500, { 'content-type': 'application/problem+json' }).end('{"code":"AUT-0018"}'));
  failingUrl = await listen(failing);
  org = await h.createOrganization();
  user = await h.createUser(org.id);
  token = await tokenFor(user, org);
  await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  auth?.closeAllConnections();
  failing?.closeAllConnections();
  await new Promise((resolve) => auth?.close(resolve));
  await new Promise((resolve) => failing?.close(resolve));
  await h?.close();
});

describe('requirePermission', () => {
  it('an allowed request reaches the handler with the verified subject and tenant on the request', async () => {
    reached = 0;
    const res = await supertest(product()).get('/accounts').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: user.id, tenantId: org.id });
    expect(reached).toBe(1);
  });

  it('no token, or a header that is not Bearer, is 401 without asking Auth', async () => {
    reached = 0;
    const app = product({ url: `http://127.0.0.1:${await freePort()}` });
    expectProblem(await supertest(app).get('/accounts'), 401, /^ACL-0001$/);
    expectProblem(await supertest(app).get('/accounts').set('Authorization', `Basic ${token}`), 401, /^ACL-0001$/);
    expect((await supertest(app).get('/accounts')).headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('a token Auth refuses is 401 with Auth code', async () => {
    reached = 0;
    const forged = await h.token({ sub: user.id, tenantId: org.id, foreignKey: true, claims: { owner: org.slug } });
    expectProblem(await supertest(product()).get('/accounts').set('Authorization', `Bearer ${forged}`), 401, /^AUT-\d{4}$/);
    expectProblem(await supertest(product()).get('/accounts').set('Authorization', 'Bearer garbage'), 401, /^ACL-0002$/);
  });

  it('a denied request is 403', async () => {
    reached = 0;
    expectProblem(await supertest(product()).delete('/accounts').set('Authorization', `Bearer ${token}`), 403, /^ACL-0003$/);
  });

  it('Auth unreachable (closed port) is 503, never next()', async () => {
    reached = 0;
    const res = await supertest(product({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 500 })).get('/accounts').set('Authorization', `Bearer ${token}`);
    expectProblem(res, 503, /^ACL-0005$/);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('Auth answering 5xx is 503, never next()', async () => {
    reached = 0;
    expectProblem(await supertest(product({ url: failingUrl })).get('/accounts').set('Authorization', `Bearer ${token}`), 503, /^ACL-0005$/);
  });

  it('with PLUGIN_AUTH_ENABLED=false every request passes (as Lerian client)', async () => {
    reached = 0;
    expect((await supertest(product({ enabled: false })).delete('/accounts')).status).toBe(204);
  });
});

describe('requirePermission: the end user address for the tenant IP allowlist (TRUSTED_PROXIES)', () => {
  let ipToken: string;

  beforeAll(async () => {
    const ipOrg = await h.createOrganization();
    const ipUser = await h.createUser(ipOrg.id);
    await h.grant(ipOrg.id, `user:${ipUser.id}`, [['accounts', 'get']]);
    await h.deps.pool.query(`INSERT INTO ip_allowlists (org_id, surface, cidrs) VALUES ($1, 'auth', ARRAY['203.0.113.0/24'])`, [ipOrg.id]);
    ipToken = await tokenFor(ipUser, ipOrg);
  });

  const call = (app: Express, forwardedFor?: string) => {
    const request = supertest(app).get('/accounts').set('Authorization', `Bearer ${ipToken}`);
    return forwardedFor === undefined ? request : request.set('X-Forwarded-For', forwardedFor);
  };

  it('X-Forwarded-For from a trusted proxy names the client Auth checks', async () => {
    reached = 0;
    const behindProxy = product({ trustedProxies: ['127.0.0.1'], cacheTtlMs: 0 });
    expect((await call(behindProxy, '203.0.113.9')).status).toBe(200);
    reached = 0;
    expectProblem(await call(behindProxy, '192.0.2.1'), 403, /^AUT-0105$/);
    expectProblem(await call(behindProxy, '203.0.113.9, 192.0.2.1'), 403, /^AUT-0105$/);
  });

  it('X-Forwarded-For is ignored when the caller is not a trusted proxy', async () => {
    reached = 0;
    expectProblem(await call(product({ trustedProxies: [] }), '203.0.113.9'), 403, /^AUT-0105$/);
  });

  it('a forwarded address that is not an address is refused with 400', async () => {
    reached = 0;
    expectProblem(await call(product({ trustedProxies: ['127.0.0.1'] }), 'garbage'), 400, /^ACL-0006$/);
  });
});
