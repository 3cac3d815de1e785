import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSecurityEvent } from '../../platform/security-events.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let admin: { userId: string; token: string };

beforeAll(async () => {
  h = await createIdentityHarness('audit');
  admin = await h.admin(h.deps.platformTenantId);
});
afterAll(async () => h.close());

describe('audit events', () => {
  it("lists the organization's changes newest first, with who, what, when and before/after, filterable by target", async () => {
    const auth = `Bearer ${admin.token}`;
    const created = await h.http().post('/v1/organizations').set('Authorization', auth).set('X-Request-Id', 'audit-req-0001').send({ slug: 'audited-org', name: 'Audited' });
    await h.http().patch(`/v1/organizations/${created.body.id}`).set('Authorization', auth).send({ name: 'Audited 2' }).expect(200);
    const list = await h.http().get(`/v1/audit-events?targetId=${created.body.id}`).set('Authorization', auth);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    const [update, create] = list.body.items;
    expect(update).toMatchObject({ action: 'organization.update', actor: `user:${admin.userId}`, targetType: 'organization', before: { name: 'Audited' }, after: { name: 'Audited 2' } });
    expect(create).toMatchObject({ action: 'organization.create', requestId: 'audit-req-0001' });
    expect(Date.parse(create.at)).not.toBeNaN();
    const page = await h.http().get(`/v1/audit-events?limit=1&before=${update.id}`).set('Authorization', auth);
    expect(page.body.items.map((e: { id: string }) => e.id)).toEqual([create.id]);
  });

  it("shows Auth's security events with their outcome and client address; ordinary changes carry neither", async () => {
    const auth = `Bearer ${admin.token}`;
    const userId = await h.createUser(h.deps.platformTenantId);
    await writeSecurityEvent(h.deps.pool, {
      tenantId: h.deps.platformTenantId,
      actor: `user:${userId}`,
      action: 'auth.sign-in',
      outcome: 'failure',
      targetType: 'user',
      targetId: userId,
      clientIp: '192.0.2.44',
      requestId: 'auth-req-0001',
      atMs: Date.now(),
    });
    const list = await h.http().get(`/v1/audit-events?targetId=${userId}&action=auth.sign-in`).set('Authorization', auth);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ action: 'auth.sign-in', outcome: 'failure', clientIp: '192.0.2.44', requestId: 'auth-req-0001' });
    const changes = await h.http().get('/v1/audit-events?action=organization.create').set('Authorization', auth);
    for (const event of changes.body.items) {
      expect(event).not.toHaveProperty('outcome');
      expect(event).not.toHaveProperty('clientIp');
    }
  });

  it("never shows another organization's events", async () => {
    const other = await h.createOrganization();
    const otherAdmin = await h.admin(other);
    const list = await h.http().get('/v1/audit-events?limit=100').set('Authorization', `Bearer ${otherAdmin.token}`);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    expect(list.body.total).toBe(0);
  });
});
