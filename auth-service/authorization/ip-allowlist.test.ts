// IP allowlists through a PostgreSQL outage (authorize keeps answering while PostgreSQL is down): on the
// real database, whose pool is then closed, so every read fails as it does when the server is gone.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../platform/migrations.js';
import { createTestSchema, type TestSchema } from '../../test/support/postgres.js';
import { IpAllowlists } from './ip-allowlist.js';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('ip_allowlist');
  await runMigrations({ databaseUrl: schema.url });
});
afterAll(async () => schema.drop());

async function tenantWithList(cidrs: string[]): Promise<string> {
  const tenantId = randomUUID();
  await schema.pool.query(`INSERT INTO organizations (id, slug, name) VALUES ($1, $2, 'Org')`, [tenantId, `org-${tenantId.slice(0, 8)}`]);
  await schema.pool.query(`INSERT INTO ip_allowlists (org_id, surface, cidrs) VALUES ($1, 'auth', $2)`, [tenantId, cidrs]);
  return tenantId;
}

describe('IP allowlists while PostgreSQL cannot be read', () => {
  it("keep the tenant's last lists (they can only change through PostgreSQL), and a tenant never read gets 503", async () => {
    const known = await tenantWithList(['10.0.0.0/8']);
    const unseen = await tenantWithList(['192.168.0.0/16']);
    const pool = schema.newPool({ max: 1 });
    const lists = new IpAllowlists({ pool, ttlMs: 1 });
    const before = await lists.rangesFor(known, undefined);
    expect(before).toHaveLength(1);
    await pool.end();
    // Past the 1 ms TTL: the next lookup has to read PostgreSQL.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await lists.rangesFor(known, undefined)).toEqual(before);
    await expect(lists.rangesFor(unseen, undefined)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
