// Identity's shared hostile-token suite (SECURITY-CHECKLIST A, B) on every protected Auth route, with the
// verifier's Valkey tier on, so a token remembered by digest is still refused for its state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../platform/auth/token-verifier.js';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { runCommonRouteTests, type SecuritySuiteContext } from '../../test/support/route-security.js';

let h: AuthHarness;
let org: { id: string; slug: string };
let userId: string;
let otherId: string;

beforeAll(async () => {
  h = await createAuthHarness('auth_route_security', { withValkey: true, sharedTokenCache: true });
  org = await h.createOrganization();
  userId = (await h.createUser(org.id)).id;
  otherId = (await h.createUser(org.id)).id;
  // Asking about another subject needs `authorize post`: a stranger without it gets 403 on /v1/authorize.
  await h.grant(org.id, `user:${userId}`, [
    ['authorize', 'post'],
    ['accounts', 'get'],
  ]);
});

afterAll(async () => {
  await h?.close();
});

const context = (extra: Partial<SecuritySuiteContext> = {}) => (): SecuritySuiteContext => ({
  harness: h,
  orgId: org.id,
  userId,
  mintToken: (options) => h.token(options),
  createSubject: async () => (await h.createUser(org.id)).id,
  ...extra,
});

describe('Auth protected routes: hostile tokens', () => {
  runCommonRouteTests('GET /v1/userinfo', context({ anyAuthenticatedCaller: true }), () => ({ method: 'get', path: '/v1/userinfo' }));
  runCommonRouteTests('GET /v1/permissions', context({ anyAuthenticatedCaller: true }), () => ({ method: 'get', path: '/v1/permissions' }));
  runCommonRouteTests('POST /v1/authorize', context({ bareToken: true }), () => ({
    method: 'post',
    path: '/v1/authorize',
    body: { sub: `${org.slug}/${otherId}`, resource: 'accounts', action: 'get' },
  }));
  runCommonRouteTests('POST /v1/authorize/batch', context({ bareToken: true }), () => ({
    method: 'post',
    path: '/v1/authorize/batch',
    body: { checks: [{ sub: `${org.slug}/${otherId}`, resource: 'accounts', action: 'get' }] },
  }));
  runCommonRouteTests('POST /v1/authorize/explain', context(), () => ({
    method: 'post',
    path: '/v1/authorize/explain',
    body: { sub: `${org.slug}/${otherId}`, resource: 'accounts', action: 'get' },
  }));
});

describe('Auth verifier wiring: the Valkey tier', () => {
  it("a verified token is shared under <keyPrefix>token:v1:<digest>, authenticated, never beyond the token's life", async () => {
    const token = await h.token({ sub: userId, tenantId: org.id, expiresInSeconds: 300 });
    await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${token}`).expect(200);
    const key = `${h.deps.keyPrefix}token:v1:${tokenDigest(token)}`;
    const valkey = h.deps.valkey!;
    const entry = (await valkey.get(key)) ?? '';
    expect(entry).toMatch(/^v1\.[A-Za-z0-9_-]{43}\.\{/);
    expect(JSON.parse(entry.slice(entry.indexOf('{')))).toMatchObject({ sub: userId, tenantId: org.id });
    const ttl = await valkey.ttl(key);
    expect(ttl).toBeGreaterThanOrEqual(1);
    expect(ttl).toBeLessThanOrEqual(300);
  });
});
