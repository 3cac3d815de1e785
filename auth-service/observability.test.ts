// On the Auth app: license warnings on /health and /ready, Prometheus metrics of real requests, and logs
// that carry request ids and never a secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueLicense, parseLicensePrivateKey, parseLicensePublicKey, generateLicenseKeyPair, verifyLicense, type License } from '../licensing/index.js';
import { createLogger, logReporter } from '../platform/logger.js';
import { createServiceMetrics } from '../platform/metrics/index.js';
import { Secret } from '../platform/secret.js';
import { createAuthHarness, servedBy, servings, type AuthHarness } from '../test/support/auth-harness.js';
import { createAuthApp } from './app.js';
import { wireAuth } from './wiring.js';
import { parseAuthConfig } from './config.js';

const dayMs = 86_400_000;
const metricsToken = randomBytes(32).toString('hex');
let h: AuthHarness;
let org: { id: string; slug: string };
let user: { id: string; username: string; password: string };
let userToken: string;

async function licenseFor(days: number): Promise<License> {
  const vendor = generateLicenseKeyPair();
  const token = await issueLicense({ privateKey: parseLicensePrivateKey(vendor.privateKeyPem), licensee: 'Acme Bank', validForDays: days, nowMs: Date.now() });
  return verifyLicense({ token, publicKey: parseLicensePublicKey(vendor.publicKeyPem), nowMs: Date.now() });
}

beforeAll(async () => {
  h = await createAuthHarness('auth_observability');
  org = await h.createOrganization();
  user = await h.createUser(org.id);
  userToken = (await h.deps.issuer.accessToken({ kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug }, undefined, undefined)).token;
  await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
});
afterAll(async () => h?.close());

describe('license on /health and /ready', () => {
  it('an expiring license keeps /health\'s body exactly "healthy" and says so in X-License-Warning and in /ready', async () => {
    const license = await licenseFor(10);
    const app = createAuthApp(wireAuth({ ...h.deps, license }));
    const health = await supertest(app).get('/health');
    expect(health.status).toBe(200);
    expect(health.text).toBe('healthy');
    expect(health.headers['x-license-warning']).toBe(`license expires at ${license.expiresAt.toISOString()}`);
    const ready = await supertest(app).get('/ready');
    expect(ready.body.license).toEqual({ status: 'expiring', licensee: 'Acme Bank', expiresAt: license.expiresAt.toISOString() });
    expect(ready.body.ready).toBe(true);
  });

  it('a license with more than 14 days left adds no warning; once expired a running replica warns but stays ready', async () => {
    const license = await licenseFor(60);
    const app = createAuthApp(wireAuth({ ...h.deps, license }));
    expect((await supertest(app).get('/health')).headers['x-license-warning']).toBeUndefined();
    expect((await supertest(app).get('/ready')).body.license.status).toBe('valid');
    const later = createAuthApp(wireAuth({ ...h.deps, license, clock: { nowMs: () => Date.now() + 61 * dayMs } }));
    expect((await supertest(later).get('/health')).headers['x-license-warning']).toMatch(/^license expired at /);
    expect((await supertest(later).get('/readyz')).body.license.status).toBe('expired');
  });
});

describe('metrics and logs of the Auth app', () => {
  it.each(servings)('counts authorize allow / deny / error and times /v1/authorize by its route, served on /metrics to the token only (served by %s)', async (serving) => {
    const metrics = createServiceMetrics({ service: 'auth' });
    metrics.watchEngine(h.deps.engine);
    const app = servedBy(serving, { ...h.deps, metrics, metricsToken: new Secret(metricsToken) });
    const ask = (body: object) => supertest(app).post('/v1/authorize').set('Authorization', `Bearer ${userToken}`).send(body);
    const sub = `${org.slug}/${user.id}`;
    expect((await ask({ sub, resource: 'accounts', action: 'get' })).body.authorized).toBe(true);
    expect((await ask({ sub, resource: 'accounts', action: 'delete' })).body.authorized).toBe(false);
    expect((await ask({ sub, resource: 'accounts/../x', action: 'get' })).status).toBe(400);
    const batch = await supertest(app).post('/v1/authorize/batch').set('Authorization', `Bearer ${userToken}`)
      .send({ checks: [{ sub, resource: 'accounts', action: 'get' }, { sub, resource: 'ledgers', action: 'get' }] });
    expect(batch.status).toBe(200);
    expect((await supertest(app).get('/metrics')).status).toBe(401);
    const text = (await supertest(app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`)).text;
    expect(text).toMatch(/am_authorize_decisions_total\{decision="allow",service="auth"\} 2\n/);
    expect(text).toMatch(/am_authorize_decisions_total\{decision="deny",service="auth"\} 2\n/);
    expect(text).toMatch(/am_authorize_decisions_total\{decision="error",service="auth"\} 1\n/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/authorize"[^}]*status="200"[^}]*\} 2\n/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/authorize\/batch"[^}]*\} 1\n/);
    expect(text).toMatch(/am_decision_cache_requests_total\{tier="local",result="(hit|miss)"/);
    expect(text).not.toContain(user.id);
  });

  it('the license token and the metrics token never print: Secret-wrapped in the parsed config, redacted by name in the logger', () => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'auth', destination: new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(chunk.toString()); done(); } }) });
    const licenseKey = `eyJ${randomBytes(24).toString('base64url')}`;
    const token = randomBytes(32).toString('hex');
    const config = parseAuthConfig({
      DATABASE_URL: 'postgres://am@127.0.0.1:1/am', TOKEN_ISSUER: 'http://127.0.0.1:1', DEFAULT_ORGANIZATION_ID: randomUUID(),
      SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'), MFA_SECRET: randomBytes(32).toString('base64'), LICENSE_KEY: licenseKey, METRICS_TOKEN: token,
    });
    logger.info({ license: config.LICENSE_KEY, metrics: config.METRICS_TOKEN }, 'parsed');
    logger.info({ LICENSE_KEY: licenseKey, METRICS_TOKEN: token }, 'raw environment');
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain(licenseKey);
    expect(lines.join('')).not.toContain(token);
  });

  it.each(servings)('logs carry the request id (also in the problem body) and never a password, client secret or token (served by %s)', async (serving) => {
    const lines: string[] = [];
    const logger = createLogger({ name: 'auth', level: 'debug', destination: new Writable({ write: (chunk: Buffer, _e, done) => { lines.push(chunk.toString()); done(); } }) });
    const app = servedBy(serving, { ...h.deps, report: logReporter(logger), metrics: createServiceMetrics({ service: 'auth', logger }) });
    const wrongPassword = `Wrong-${randomBytes(12).toString('hex')}`;
    const clientSecret = randomBytes(24).toString('hex');
    const requestId = `req-${randomUUID()}`;
    const signIn = await supertest(app).post('/v1/login/oauth/access_token').set('X-Request-Id', requestId)
      .send({ grantType: 'password', username: user.username, password: wrongPassword });
    expect(signIn.status).toBeGreaterThanOrEqual(400);
    expect(signIn.headers['x-request-id']).toBe(requestId);
    await supertest(app).post('/v1/login/oauth/access_token').send({ grantType: 'client_credentials', clientId: 'am_nobody', clientSecret });
    await supertest(app).post('/v1/authorize').set('Authorization', `Bearer ${userToken}`).send({ sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'get', attributes: { note: wrongPassword } });
    const denied = await supertest(app).get(`/v1/userinfo?access_token=${userToken}`).set('Authorization', `Bearer ${userToken.slice(0, -4)}AAAA`);
    expect(denied.body.requestId).toBe(denied.headers['x-request-id']);
    const log = lines.join('');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.filter((e) => e.msg === 'request').every((e) => typeof e.requestId === 'string')).toBe(true);
    expect(entries.some((e) => e.requestId === requestId)).toBe(true);
    // The authorize request's access line names its route, whichever path served it.
    expect(entries.some((e) => e.msg === 'request' && e.route === '/v1/authorize' && e.status === 200)).toBe(true);
    for (const secret of [wrongPassword, clientSecret, userToken, userToken.split('.')[2] ?? '', user.password]) expect(log).not.toContain(secret);
  });
});
