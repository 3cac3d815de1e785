// The shared hostile-token suite on every Identity route, read from Identity's own route table (its OpenAPI
// document): a new route is covered without naming it here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { runRouteTableSecurity, type RouteTableDocument, type SecuritySuiteContext } from '../test/support/route-security.js';

// The route table is read before the tests are declared, so the harness is built while the file is collected.
const h: IdentityHarness = await createIdentityHarness('identity_route_security');
const document = (await h.http().get('/openapi.json').expect(200)).body as RouteTableDocument;
let tenantId: string;
let userId: string;

beforeAll(async () => {
  tenantId = await h.createOrganization();
  userId = await h.createUser(tenantId);
});

afterAll(async () => {
  await h.close();
});

const context = (): SecuritySuiteContext => ({ harness: h, tenantId, userId });

describe('Identity routes: hostile tokens', () => {
  const covered = runRouteTableSecurity(document, context);

  it('the table holds every API route of Identity (all of /v1), each guarded by a token', () => {
    const api = Object.entries(document.paths).flatMap(([path, operations]) => (path.startsWith('/v1/') ? Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`) : []));
    expect(covered.map((route) => route.name).sort()).toEqual(api.sort());
    expect(covered.map((route) => route.name)).toEqual(expect.arrayContaining(['GET /v1/users', 'PUT /v1/groups/{id}/members/{userId}', 'PUT /v1/declarations/{slug}', 'GET /v1/organizations']));
  });
});
