// MULTI_TENANT_ENABLED=false: every caller belongs to the default organization, whatever its token names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../test/support/auth-harness.js';

let h: AuthHarness;
let defaultSlug: string;
let user: { id: string; username: string };
let other: { id: string; slug: string };
let outsider: { id: string; username: string };

beforeAll(async () => {
  h = await createAuthHarness('single_tenant', { multiTenant: false });
  const { rows } = await h.deps.pool.query<{ slug: string }>('SELECT slug FROM organizations WHERE id = $1', [h.defaultTenantId]);
  defaultSlug = rows[0]!.slug;
  user = await h.createUser(h.defaultTenantId);
  other = await h.createOrganization();
  outsider = await h.createUser(other.id);
  await h.grant(h.defaultTenantId, `user:${user.id}`, [['ledgers', 'get']]);
  // The same subject holds more in another organization: single-tenant mode must never decide there.
  await h.grant(other.id, `user:${user.id}`, [['accounts', 'get']]);
  await h.grant(other.id, `user:${outsider.id}`, [['accounts', 'get']]);
});

afterAll(async () => {
  await h?.close();
});

const self = () => `${defaultSlug}/${user.id}`;

describe('single-tenant mode', () => {
  it('a token without tenantId works and the caller is in the default organization', async () => {
    const token = await h.token({ sub: user.id, claims: { owner: defaultSlug } });
    const info = await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${token}`).expect(200);
    expect(info.body).toMatchObject({ sub: user.id, preferredUsername: user.username });
    const permissions = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`).expect(200);
    expect(permissions.body).toEqual({ ledgers: ['get'] });
    const allowed = await h.http().post('/v1/authorize').set('Authorization', `Bearer ${token}`).send({ sub: self(), resource: 'ledgers', action: 'get' }).expect(200);
    expect(allowed.body.authorized).toBe(true);
  });

  it("a token naming another tenant is decided in the default organization only", async () => {
    const token = await h.token({ sub: user.id, tenantId: other.id, claims: { owner: defaultSlug } });
    const denied = await h.http().post('/v1/authorize').set('Authorization', `Bearer ${token}`).send({ sub: self(), resource: 'accounts', action: 'get' }).expect(200);
    expect(denied.body).toMatchObject({ authorized: false, reason: 'permission' });
    const allowed = await h.http().post('/v1/authorize').set('Authorization', `Bearer ${token}`).send({ sub: self(), resource: 'ledgers', action: 'get' }).expect(200);
    expect(allowed.body.authorized).toBe(true);
    const permissions = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`).expect(200);
    expect(permissions.body).toEqual({ ledgers: ['get'] });
  });

  it("a user of another organization cannot get in by naming it: the subject is looked up in the default one", async () => {
    const token = await h.token({ sub: outsider.id, tenantId: other.id, claims: { owner: other.slug } });
    const res = await h.http().post('/v1/authorize').set('Authorization', `Bearer ${token}`).send({ sub: `${other.slug}/${outsider.id}`, resource: 'accounts', action: 'get' });
    expect(res.status).toBe(401);
    await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('tokens the issuer signs in single-tenant mode carry no tenantSlug and are accepted', async () => {
    const issued = await h.deps.issuer.accessToken({ kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: h.defaultTenantId, tenantSlug: defaultSlug }, undefined, undefined);
    const info = await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${issued.token}`).expect(200);
    expect(info.body.sub).toBe(user.id);
  });
});
