import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let platformAdmin: { userId: string; token: string };

beforeAll(async () => {
  h = await createIdentityHarness('organizations');
  platformAdmin = await h.admin(h.deps.platformTenantId);
});
afterAll(async () => h.close());

describe('organizations', () => {
  it('a platform administrator creates, lists, reads and renames an organization; every change is audited', async () => {
    const created = await h.http().post('/v1/organizations').set('Authorization', `Bearer ${platformAdmin.token}`).send({ slug: 'acme-corp', name: 'Acme' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ slug: 'acme-corp', name: 'Acme', status: 'active' });
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers['x-policy-revision']).toMatch(/^\d+$/);

    const list = await h.http().get('/v1/organizations?limit=100').set('Authorization', `Bearer ${platformAdmin.token}`);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ page: 1, limit: 100 });
    expect(list.body.items.map((o: { slug: string }) => o.slug)).toContain('acme-corp');

    const renamed = await h.http().patch(`/v1/organizations/${created.body.id}`).set('Authorization', `Bearer ${platformAdmin.token}`).set('If-Match', '"1"').send({ name: 'Acme Inc' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Acme Inc');
    const { rows } = await h.deps.pool.query('SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id', [created.body.id]);
    expect(rows.map((r) => r.action)).toEqual(['organization.create', 'organization.update']);
  });

  it('a duplicate slug is 409 and a bad body is 400 naming the field; nothing is written', async () => {
    const auth = `Bearer ${platformAdmin.token}`;
    await h.http().post('/v1/organizations').set('Authorization', auth).send({ slug: 'dup-org', name: 'One' }).expect(201);
    const dup = await h.http().post('/v1/organizations').set('Authorization', auth).send({ slug: 'dup-org', name: 'Two' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'IDE-0102', field: 'body.slug' });
    for (const [body, field] of [
      [{ slug: 'Bad Slug', name: 'x' }, 'body.slug'],
      [{ slug: 'ok-slug' }, 'body.name'],
      [{ slug: 'ok-slug', name: 'x', tenantId: 'other' }, 'body'],
    ] as const) {
      const response = await h.http().post('/v1/organizations').set('Authorization', auth).send(body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM organizations WHERE slug = 'ok-slug'");
    expect(rows[0].n).toBe(0);
  });

  it('a concurrent update with a stale If-Match loses with 412 (optimistic concurrency)', async () => {
    const auth = `Bearer ${platformAdmin.token}`;
    const created = await h.http().post('/v1/organizations').set('Authorization', auth).send({ slug: 'race-org', name: 'Race' });
    const results = await Promise.all(
      ['A', 'B', 'C'].map((n) => h.http().patch(`/v1/organizations/${created.body.id}`).set('Authorization', auth).set('If-Match', '"1"').send({ name: `Race ${n}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
  });

  it('administrators of an ordinary organization cannot manage organizations, even holding the permission there', async () => {
    const org = await h.createOrganization();
    const tenantAdmin = await h.admin(org);
    const response = await h.http().get('/v1/organizations').set('Authorization', `Bearer ${tenantAdmin.token}`);
    expect(response.status).toBe(403);
  });

  it('an unknown organization id is 404; a malformed one 400', async () => {
    const auth = `Bearer ${platformAdmin.token}`;
    expect((await h.http().get('/v1/organizations/00000000-0000-4000-8000-000000000000').set('Authorization', auth)).status).toBe(404);
    expect((await h.http().get('/v1/organizations/not-a-uuid').set('Authorization', auth)).status).toBe(400);
  });
});
