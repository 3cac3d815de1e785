// Identity's OpenAPI 3.1 document is generated from the same route specs that serve the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { identityRouteFactories } from './app.js';

let h: IdentityHarness;
beforeAll(async () => {
  h = await createIdentityHarness('identity_openapi');
});
afterAll(async () => h.close());

describe('identity OpenAPI document', () => {
  it('lists every route the app serves, with its request schemas and the problem response', async () => {
    const doc = (await h.http().get('/openapi.json').expect(200)).body;
    expect(doc.openapi).toBe('3.1.0');
    const routes = identityRouteFactories.flatMap((factory) => factory(h.deps));
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      const operation = doc.paths[route.path]?.[route.method];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      if (route.body) expect(operation.requestBody.content['application/json'].schema, `${route.method} ${route.path} body`).toBeDefined();
      expect(operation.responses.default.content['application/problem+json']).toBeDefined();
      if (route.auth === 'token') expect(operation.security).toEqual([{ bearer: [] }]);
    }
    for (const contractPath of ['/v1/users', '/v1/users/{id}', '/v1/users/{id}/update-password', '/v1/users/{id}/reset-password', '/v1/groups', '/v1/applications', '/v1/declarations/{slug}', '/v1/users/{id}/mfa/setup']) {
      expect(Object.keys(doc.paths)).toContain(contractPath);
    }
  });

  it('serves the interactive reference page', async () => {
    const page = await h.http().get('/docs').expect(200);
    expect(page.text).toContain('swagger-ui');
  });
});
