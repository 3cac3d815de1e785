// Identity with tenants loaded on first use and a budget so small that each tenant loaded evicts the others: every
// write's no-escalation check, and every guard, works on a tenant evicted just before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegate, expectEscalationRefused, helpDeskGrants } from '../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';

let h: IdentityHarness;

beforeAll(async () => {
  h = await createIdentityHarness('identity_tenant_memory', { tenantMemoryBytes: 1 });
});

afterAll(async () => {
  await h?.close();
});

/** Another organization's request: loading its tenant evicts every other one. */
async function useAnotherTenant(): Promise<void> {
  const other = await h.createOrganization();
  const admin = await h.admin(other);
  expect((await h.http().get('/v1/roles').set('Authorization', `Bearer ${admin.token}`)).status).toBe(200);
}

describe('Identity on tenants evicted just before', () => {
  it('no escalation holds on an evicted tenant: within its holdings a writer creates a role, beyond them it is refused; the administrator may', async () => {
    const tenantId = await h.createOrganization();
    const desk = await delegate(h, tenantId, [...helpDeskGrants, ['ledgers', 'get']]);
    const admin = await h.admin(tenantId);

    await useAnotherTenant();
    expect(h.deps.engine.isTenantLoaded(tenantId)).toBe(false);
    const created = await h.http().post('/v1/roles').set('Authorization', desk.auth).send({ name: 'readers', permissions: [{ resource: 'ledgers', action: 'get' }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(Number(created.headers['x-policy-revision'])).toBeGreaterThan(0);

    await useAnotherTenant();
    await expectEscalationRefused(h, () => h.http().post('/v1/roles').set('Authorization', desk.auth).send({ name: 'writers', permissions: [{ resource: 'ledgers', action: 'post' }] }), [
      { resource: 'ledgers', action: 'post' },
    ]);

    await useAnotherTenant();
    const widened = await h.http().post('/v1/roles').set('Authorization', `Bearer ${admin.token}`).send({ name: 'writers', permissions: [{ resource: 'ledgers', action: 'post' }] });
    expect(widened.status, JSON.stringify(widened.body)).toBe(201);
    expect(h.deps.engine.health().stats.tenantEvictions).toBeGreaterThan(0);
  });
});
