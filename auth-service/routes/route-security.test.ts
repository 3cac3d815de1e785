// The shared hostile-token suite on every token-guarded Auth route, read from Auth's own route table (its
// OpenAPI document), with the verifier's Valkey tier on, so a token remembered by digest is still refused for its state;
// run on the listener as Auth runs (lean routes ahead of express) and on the express app alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenDigest } from '../../platform/auth/token-verifier.js';
import { createAuthHarness, servings, type AuthHarness } from '../../test/support/auth-harness.js';
import { runRouteTableSecurity, type RouteTableDocument, type SecuritySuiteContext } from '../../test/support/route-security.js';

for (const serving of servings) {
  // The route table is read before the tests are declared, so the harness is built while the file is collected.
  const h: AuthHarness = await createAuthHarness(`auth_route_security_${serving}`, { withValkey: true, sharedTokenCache: true, serving });
  const document = (await h.http().get('/openapi.json').expect(200)).body as RouteTableDocument;
  let org: { id: string; slug: string };
  let userId: string;
  let otherId: string;

  beforeAll(async () => {
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
    await h.close();
  });

  const context = (): SecuritySuiteContext => ({
    harness: h,
    tenantId: org.id,
    userId,
    mintToken: (options) => h.token(options),
    createSubject: async () => (await h.createUser(org.id)).id,
  });

  describe(`Auth token-guarded routes: hostile tokens (served by ${serving})`, () => {
    const covered = runRouteTableSecurity(document, context, {
      servedToAnyCaller: ['GET /v1/userinfo', 'GET /oauth/userinfo', 'GET /v1/permissions'],
      requests: {
        'POST /v1/authorize': () => ({
          route: { method: 'post', path: '/v1/authorize', body: { sub: `${org.slug}/${otherId}`, resource: 'accounts', action: 'get' } },
          stranger: 'forbidden',
        }),
        'POST /v1/authorize/batch': () => ({
          route: { method: 'post', path: '/v1/authorize/batch', body: { checks: [{ sub: `${org.slug}/${otherId}`, resource: 'accounts', action: 'get' }] } },
          stranger: 'forbidden',
        }),
      },
    });

    it('the table holds every token-guarded route of Auth, the OIDC userinfo included', () => {
      expect(covered.map((route) => route.name)).toEqual(expect.arrayContaining(['GET /v1/userinfo', 'GET /oauth/userinfo', 'GET /v1/permissions', 'POST /v1/authorize', 'POST /v1/authorize/batch']));
      expect(covered.every((route) => route.name !== 'POST /oauth/token')).toBe(true);
    });
  });

  describe(`Auth verifier wiring: the Valkey tier (served by ${serving})`, () => {
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
}
