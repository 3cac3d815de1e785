// The trigger-kept user count (migration 0004) answers unfiltered list totals; it must stay exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
beforeAll(async () => {
  h = await createIdentityHarness('user_counts');
});
afterAll(async () => h.close());

async function counted(org: string): Promise<number> {
  const { rows } = await h.deps.pool.query('SELECT users::int AS n FROM organization_user_counts WHERE org_id = $1', [org]);
  return rows[0]?.n ?? 0;
}

describe('organization user counts', () => {
  it('follow inserts and deletes, single and bulk, per organization, and roll back with their transaction', async () => {
    const [a, b] = [await h.createOrganization(), await h.createOrganization()];
    const [a1] = [await h.createUser(a), await h.createUser(a), await h.createUser(b)];
    expect([await counted(a), await counted(b)]).toEqual([2, 1]);
    await h.deps.pool.query('DELETE FROM users WHERE id = $1', [a1]);
    expect(await counted(a)).toBe(1);
    const client = await h.deps.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("INSERT INTO users (org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash) SELECT $1, 'bulk' || i, 'bulk' || i, i || '@x.test', i || '@x.test', 'B', 'U', 'h' FROM generate_series(1, 50) i", [b]);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect(await counted(b)).toBe(1);
    const list = await h.http().get('/v1/users').set('Authorization', `Bearer ${(await h.admin(b)).token}`);
    expect(list.body.total).toBe(2); // the admin the harness just made, and the one user
  });
});
