// Auth with tenants loaded on first use and a budget so small that each tenant loaded evicts the others: authorize,
// asking about another subject, and the permission map answer on a tenant evicted just before, with what changed
// while it was out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import type { TokenSubject } from '../tokens/token-issuer.js';

let h: AuthHarness;

beforeAll(async () => {
  h = await createAuthHarness('authorize_tenant_memory', { tenantMemoryBytes: 1 });
});

afterAll(async () => {
  await h?.close();
});

async function userOf(org: { id: string; slug: string }): Promise<{ subject: string; sub: string; token: string }> {
  const user = await h.createUser(org.id);
  const subject: TokenSubject = { kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug };
  return { subject: `user:${user.id}`, sub: `${org.slug}/${user.id}`, token: (await h.deps.issuer.accessToken(subject, undefined, undefined)).token };
}

describe('Auth on tenants evicted just before', () => {
  it('authorize, authorize for another subject and permissions answer from the policy read back, never a deny from an empty tenant', async () => {
    const org = await h.createOrganization();
    const other = await h.createOrganization();
    const alice = await userOf(org);
    const bob = await userOf(org);
    const stranger = await userOf(other);
    await h.grant(org.id, alice.subject, [['accounts', 'get'], ['authorize', 'post']]);
    await h.grant(org.id, bob.subject, [['ledgers', 'get']]);
    const authorize = (token: string, body: object) => h.http().post('/v1/authorize').set('Authorization', `Bearer ${token}`).send(body);
    const evictOrg = async () => {
      expect((await authorize(stranger.token, { sub: stranger.sub, resource: 'accounts', action: 'get' })).body.authorized).toBe(false);
      expect(h.deps.engine.isTenantLoaded(org.id)).toBe(false);
    };

    await evictOrg();
    expect((await authorize(alice.token, { sub: alice.sub, resource: 'accounts', action: 'get' })).body).toMatchObject({ authorized: true });
    await evictOrg();
    expect((await authorize(alice.token, { sub: bob.sub, resource: 'ledgers', action: 'get' })).body).toMatchObject({ authorized: true });
    await evictOrg();
    const map = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${bob.token}`);
    expect(map.status).toBe(200);
    expect(map.body).toEqual({ ledgers: ['get'] });

    // Changed while out: read fresh on the next use.
    await evictOrg();
    await h.grant(org.id, bob.subject, [['accounts', 'post']]);
    expect(h.deps.engine.isTenantLoaded(org.id)).toBe(false);
    await evictOrg();
    expect((await authorize(bob.token, { sub: bob.sub, resource: 'accounts', action: 'post' })).body).toMatchObject({ authorized: true });
    expect(h.deps.engine.health().stats.tenantEvictions).toBeGreaterThan(0);
  });
});
