// What a decision tester asks for comes from the configured model's request definition.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryPolicyStore } from '../../engine/adapters/index.js';
import { loadModelFile, PolicyEngine } from '../../engine/index.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';
import { runCommonRouteTests } from '../../test/support/route-security.js';
import { policyModelRoutes } from './policy-model-routes.js';

let h: IdentityHarness;
let admin: { userId: string; token: string };

beforeAll(async () => {
  h = await createIdentityHarness('policy_model');
  admin = await h.admin(h.deps.platformTenantId);
});
afterAll(async () => h.close());

describe('GET /v1/policy-model', () => {
  it("names the shipped model's request fields in order and what Auth fills each from", async () => {
    const res = await h.http().get('/v1/policy-model').set('Authorization', `Bearer ${admin.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      requestFields: [
        { name: 'sub', source: 'subject' },
        { name: 'dom', source: 'tenant' },
        { name: 'obj', source: 'resource' },
        { name: 'act', source: 'action' },
      ],
      supported: true,
      shipped: true,
    });
  });

  it('needs roles get: a user without it is 403 problem+json', async () => {
    const userId = await h.createUser(h.deps.platformTenantId);
    const res = await h.http().get('/v1/policy-model').set('Authorization', `Bearer ${await h.token({ sub: userId, tenantId: h.deps.platformTenantId })}`);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  runCommonRouteTests('GET /v1/policy-model', () => ({ harness: h, tenantId: h.deps.platformTenantId, userId: admin.userId }), () => ({ method: 'get', path: '/v1/policy-model' }));
});

describe('GET /v1/policy-model under another model', () => {
  it("a model with an attributes field: the tester asks for sub, obj, act and the attribute object, never the tenant", async () => {
    const model = await loadModelFile(fileURLToPath(new URL('../../policies/examples/invoices/model.conf', import.meta.url)));
    const engine = await PolicyEngine.start({ model, store: new MemoryPolicyStore(model.tenantOf), resyncIntervalMs: 0 });
    try {
      const [route] = policyModelRoutes({ ...h.deps, engine });
      const result = await route!.handler({ params: {}, query: {}, body: undefined } as never);
      expect(result.body).toEqual({
        requestFields: [
          { name: 'sub', source: 'subject' },
          { name: 'dom', source: 'tenant' },
          { name: 'obj', source: 'resource' },
          { name: 'act', source: 'action' },
          { name: 'attrs', source: 'attributes' },
        ],
        supported: true,
        shipped: false,
      });
    } finally {
      engine.stop();
    }
  });
});
