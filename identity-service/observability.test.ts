// On the Identity app: license warning on /health and /ready, request metrics on /metrics behind its token.
import { randomBytes } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLicenseKeyPair, issueLicense, parseLicensePrivateKey, parseLicensePublicKey, verifyLicense } from '../licensing/index.js';
import { createServiceMetrics } from '../platform/metrics/index.js';
import { Secret } from '../platform/secret.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { createIdentityApp } from './app.js';

let h: IdentityHarness;
beforeAll(async () => {
  h = await createIdentityHarness('identity_observability');
});
afterAll(async () => h?.close());

describe('Identity: license and metrics', () => {
  it('an expiring license: /health stays exactly "healthy" with X-License-Warning, /ready reports it', async () => {
    const vendor = generateLicenseKeyPair();
    const token = await issueLicense({ privateKey: parseLicensePrivateKey(vendor.privateKeyPem), licensee: 'Acme', validForDays: 3, nowMs: Date.now() });
    const license = await verifyLicense({ token, publicKey: parseLicensePublicKey(vendor.publicKeyPem), nowMs: Date.now() });
    const app = createIdentityApp({ ...h.deps, license });
    const health = await supertest(app).get('/health');
    expect(health.text).toBe('healthy');
    expect(health.headers['x-license-warning']).toBe(`license expires at ${license.expiresAt.toISOString()}`);
    expect((await supertest(app).get('/ready')).body.license).toMatchObject({ status: 'expiring', licensee: 'Acme' });
  });

  it('times requests by route pattern and serves /metrics only with the token', async () => {
    const metricsToken = randomBytes(32).toString('hex');
    const metrics = createServiceMetrics({ service: 'identity' });
    metrics.watchEngine(h.deps.engine);
    const app = createIdentityApp({ ...h.deps, metrics, metricsToken: new Secret(metricsToken) });
    expect((await supertest(app).get('/v1/users/3f1c2a9e-0000-4000-8000-000000000001')).status).toBe(401);
    expect((await supertest(app).get('/metrics')).status).toBe(401);
    const text = (await supertest(app).get('/metrics').set('Authorization', `Bearer ${metricsToken}`)).text;
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/users\/:id"[^}]*status="401"[^}]*service="identity"\} 1\n/);
    expect(text).toContain('am_engine_ready{service="identity"} 1');
    expect(text).not.toContain('3f1c2a9e');
  });
});
