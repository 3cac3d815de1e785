// A license names limits; Identity refuses a create past them (403 IDE-0117) and writes nothing.
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { License } from '../licensing/index.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { createIdentityApp } from './app.js';

let h: IdentityHarness;
let admin: { userId: string; token: string };

const license = (limits: License['limits']): License => ({
  licensee: 'Test Co',
  issuedAt: new Date(),
  expiresAt: new Date(Date.now() + 86_400_000),
  limits,
  expiringSoon: false,
});

beforeAll(async () => {
  h = await createIdentityHarness('license_limits');
  admin = await h.admin(h.deps.platformTenantId);
});
afterAll(async () => h?.close());

const count = async (table: 'users' | 'organizations') => (await h.deps.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

const newUser = (i: number) => ({ firstName: 'Lic', lastName: 'Ensed', username: `licensed-${i}`, email: `licensed-${i}@example.com`, password: 'Correct-Horse-9-battery' });

describe('license limits', () => {
  it('maxUsers: creates up to the cap, then 403 IDE-0117 with nothing written, even for concurrent creates', async () => {
    const existing = await count('users');
    const app = createIdentityApp({ ...h.deps, license: license({ maxUsers: existing + 2 }) });
    const auth = `Bearer ${admin.token}`;
    const statuses = await Promise.all([1, 2, 3, 4].map((i) => supertest(app).post('/v1/users').set('Authorization', auth).send(newUser(i))));
    expect(statuses.map((r) => r.status).sort()).toEqual([201, 201, 403, 403]);
    const refused = statuses.find((r) => r.status === 403)!;
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ code: 'IDE-0117', status: 403 });
    expect(refused.body.message).toContain(`${existing + 2} users`);
    expect(await count('users')).toBe(existing + 2);
  });

  it('maxOrganizations: the next organization past the cap is refused; without limits nothing is capped', async () => {
    const existing = await count('organizations');
    const auth = `Bearer ${admin.token}`;
    const capped = createIdentityApp({ ...h.deps, license: license({ maxOrganizations: existing }) });
    const refused = await supertest(capped).post('/v1/organizations').set('Authorization', auth).send({ slug: 'one-too-many', name: 'Over' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('IDE-0117');
    expect(await count('organizations')).toBe(existing);
    const unlimited = createIdentityApp({ ...h.deps, license: license({}) });
    await supertest(unlimited).post('/v1/organizations').set('Authorization', auth).send({ slug: 'under-no-cap', name: 'Free' }).expect(201);
    await supertest(unlimited).post('/v1/users').set('Authorization', auth).send(newUser(99)).expect(201);
  });
});
