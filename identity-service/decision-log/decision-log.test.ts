// Reading the decision log through Identity: the caller's organization only (from the token), by subject, time
// range and decision, page by page, and only with `decision-log get`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionLogStore, utcDay, type StoredDecision } from '../../platform/decision-log/index.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let admin: { userId: string; token: string };
let otherOrg: string;
let otherAdmin: { userId: string; token: string };
const base = Date.parse('2030-06-15T10:00:00.000Z');

function entry(tenantId: string, i: number, overrides: Partial<StoredDecision> = {}): StoredDecision {
  return {
    atMs: base + i * 60_000,
    tenantId,
    subject: 'user:alice',
    resource: 'ledgers',
    action: 'get',
    product: undefined,
    allowed: true,
    reason: 'allowed_by_policy',
    revision: 3,
    rule: `p, role:reader, ${tenantId}, ledgers, get, allow`,
    requestId: `req-${i}`,
    clientIp: '10.0.0.1',
    ...overrides,
  };
}

const get = (token: string, query: string) => h.http().get(`/v1/decision-log${query}`).set('Authorization', `Bearer ${token}`);

beforeAll(async () => {
  h = await createIdentityHarness('decision_log_api');
  const org = h.deps.platformTenantId;
  admin = await h.admin(org);
  otherOrg = await h.createOrganization();
  otherAdmin = await h.admin(otherOrg);
  const store = new DecisionLogStore(h.deps.pool);
  await store.ensurePartitions(utcDay(base), utcDay(base + 86_400_000));
  await store.insert([
    ...Array.from({ length: 5 }, (_, i) => entry(org, i)),
    entry(org, 5, { subject: 'user:bob', allowed: false, reason: 'denied_by_policy', action: 'delete', rule: `p, role:reader, ${org}, ledgers, delete, deny` }),
    entry(otherOrg, 6, { subject: 'user:alice', requestId: 'other-org' }),
  ]);
});
afterAll(async () => h.close());

describe('GET /v1/decision-log', () => {
  it("lists the organization's decisions newest first, with every recorded field", async () => {
    const res = await get(admin.token, '');
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { requestId: string }) => item.requestId)).toEqual(['req-5', 'req-4', 'req-3', 'req-2', 'req-1', 'req-0']);
    expect(res.body.items[0]).toEqual({
      id: expect.any(String),
      at: '2030-06-15T10:05:00.000000Z',
      subject: 'user:bob',
      resource: 'ledgers',
      action: 'delete',
      product: null,
      allowed: false,
      reason: 'denied_by_policy',
      revision: 3,
      rule: `p, role:reader, ${h.deps.platformTenantId}, ledgers, delete, deny`,
      requestId: 'req-5',
      clientIp: '10.0.0.1',
    });
    expect(res.body.nextCursor).toBeUndefined();
  });

  it('filters by subject, time range (from inclusive, to exclusive) and decision', async () => {
    const bySubject = await get(admin.token, '?subject=user:bob');
    expect(bySubject.body.items.map((item: { requestId: string }) => item.requestId)).toEqual(['req-5']);
    const window = await get(admin.token, `?subject=user:alice&from=${new Date(base + 60_000).toISOString()}&to=${new Date(base + 3 * 60_000).toISOString()}`);
    expect(window.body.items.map((item: { requestId: string }) => item.requestId)).toEqual(['req-2', 'req-1']);
    const denied = await get(admin.token, '?decision=deny');
    expect(denied.body.items.map((item: { requestId: string }) => item.requestId)).toEqual(['req-5']);
  });

  it('pages with nextCursor until the end', async () => {
    const seen: string[] = [];
    let query = '?limit=2';
    for (let pages = 0; pages < 10; pages++) {
      const res = await get(admin.token, query);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((item: { requestId: string }) => item.requestId));
      if (!res.body.nextCursor) break;
      query = `?limit=2&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    expect(seen).toEqual(['req-5', 'req-4', 'req-3', 'req-2', 'req-1', 'req-0']);
  });

  it("never shows another organization's decisions, whatever the filter", async () => {
    const mine = await get(otherAdmin.token, '?subject=user:alice');
    expect(mine.body.items.map((item: { requestId: string }) => item.requestId)).toEqual(['other-org']);
    const theirs = await get(admin.token, '?subject=user:alice');
    expect(theirs.body.items.map((item: { requestId: string }) => item.requestId)).not.toContain('other-org');
  });

  it('needs decision-log get: a user of the organization without it is 403', async () => {
    const userId = await h.createUser(h.deps.platformTenantId);
    const token = await h.token({ sub: userId, tenantId: h.deps.platformTenantId });
    const res = await get(token, '');
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    await h.grant(h.deps.platformTenantId, `user:${userId}`, [['decision-log', 'get']]);
    expect((await get(token, '')).status).toBe(200);
  });

  it('bad input is a 400 problem: an unknown filter, a bad time, from not before to, a forged cursor, a limit out of range', async () => {
    for (const query of ['?tenant=x', '?from=yesterday', `?from=${new Date(base).toISOString()}&to=${new Date(base).toISOString()}`, '?cursor=bm90LWEtY3Vyc29y', `?cursor=${Buffer.from(JSON.stringify(["2030-01-01'; DROP TABLE x", '1'])).toString('base64url')}`, '?limit=0', '?limit=201', '?decision=maybe']) {
      const res = await get(admin.token, query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });
});
