// Auth's OpenAPI 3.1 document is generated from the same route specs that serve the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';
import { authRoutes, oauthErrorPaths } from './app.js';

let h: AuthHarness;
beforeAll(async () => {
  h = await createAuthHarness('auth_openapi');
});
afterAll(async () => h?.close());

describe('auth OpenAPI document', () => {
  it('lists every route the app serves, with its request schemas and the problem response', async () => {
    const doc = (await h.http().get('/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    const routes = authRoutes(h.parts);
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const operation = doc.paths[route.path]?.[route.method];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      if (route.body) expect(operation.requestBody?.content, `${route.method} ${route.path} body`).toBeDefined();
      // The OAuth endpoints refuse with RFC 6749 bodies, every other route with problem+json.
      const refusalType = oauthErrorPaths.includes(route.path) ? 'application/json' : 'application/problem+json';
      expect(operation.responses.default.content[refusalType], `${route.method} ${route.path} problem`).toBeDefined();
      if (route.auth === 'token') expect(operation.security, `${route.method} ${route.path} security`).toEqual(route.bareToken ? [{ bearer: [] }, { rawToken: [] }] : [{ bearer: [] }]);
    }
    for (const contractPath of ['/v1/login/oauth/access_token', '/v1/authorize', '/v1/authorize/batch', '/v1/permissions', '/v1/userinfo', '/oauth/token', '/.well-known/jwks.json']) {
      expect(Object.keys(doc.paths)).toContain(contractPath);
    }
  });

  it('serves the interactive reference page', async () => {
    const page = await h.http().get('/docs').expect(200);
    expect(page.text).toContain('swagger-ui');
  });
});
