// POST /v1/authorize/explain on the shipped model: the decision, the rules behind it and the role chain, for a
// caller holding `authorize post` only, inside the caller's own tenant.
import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';

let h: AuthHarness;
let org: { id: string; slug: string };
let other: { id: string; slug: string };
let admin: { id: string };
let member: { id: string; username: string };
let stranger: { id: string };
let outsider: { id: string };
let adminToken: string;
let strangerToken: string;

function explain(token: string, body: object): supertest.Test {
  return h.http().post('/v1/authorize/explain').set('Authorization', `Bearer ${token}`).send(body);
}

const p = (tenantId: string, ...values: string[]) => ({ op: 'add' as const, rule: { ptype: 'p', values: [values[0] as string, tenantId, ...values.slice(1)] } });
const g = (tenantId: string, member: string, role: string) => ({ op: 'add' as const, rule: { ptype: 'g', values: [member, role, tenantId] } });

beforeAll(async () => {
  h = await createAuthHarness('authorize_explain');
  org = await h.createOrganization();
  other = await h.createOrganization();
  admin = await h.createUser(org.id);
  member = await h.createUser(org.id);
  stranger = await h.createUser(org.id);
  outsider = await h.createUser(other.id);
  await h.grant(org.id, `user:${admin.id}`, [['authorize', 'post']]);
  await h.writePolicy(org.id, [
    g(org.id, `user:${member.id}`, 'group:tellers'),
    g(org.id, 'group:tellers', 'role:teller'),
    p(org.id, 'role:teller', 'accounts', '*', 'allow'),
    p(org.id, 'group:tellers', 'accounts', 'delete', 'deny'),
    p(org.id, 'role:teller', 'midaz/ledgers', 'get', 'allow'),
  ]);
  // The same names in another tenant, allowing everything: never seen from org.
  await h.writePolicy(other.id, [g(other.id, `user:${member.id}`, 'group:tellers'), p(other.id, 'group:tellers', '*', '*', 'allow')]);
  adminToken = await h.token({ sub: admin.id, tenantId: org.id });
  strangerToken = await h.token({ sub: stranger.id, tenantId: org.id });
});

afterAll(async () => {
  await h?.close();
});

describe('POST /v1/authorize/explain: why a decision is what it is', () => {
  it('an allow names the deciding rule and the role chain user → group → role', async () => {
    const res = await explain(adminToken, { sub: `${org.slug}/${member.id}`, resource: 'accounts', action: 'get' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      authorized: true,
      outcome: 'allowed_by_policy',
      subject: `user:${member.id}`,
      request: { sub: `user:${member.id}`, dom: org.id, obj: 'accounts', act: 'get' },
      decidingRules: [{ ptype: 'p', values: ['role:teller', org.id, 'accounts', '*', 'allow'] }],
      roleChain: [`user:${member.id}`, 'group:tellers', 'role:teller'],
    });
    expect(res.body.matchedRules).toEqual([
      { ptype: 'p', values: ['role:teller', org.id, 'accounts', '*', 'allow'], roleChains: [{ ptype: 'g', domain: org.id, path: [`user:${member.id}`, 'group:tellers', 'role:teller'] }] },
    ]);
    expect(res.body.revision).toBe(h.deps.engine.revisionOf(org.id));
  });

  it('a deny that overrides an allow is the deciding rule; both matched rules are listed with their chains', async () => {
    const res = await explain(adminToken, { sub: `${org.slug}/${member.username}`, resource: 'accounts', action: 'delete' });
    expect(res.body).toMatchObject({
      authorized: false,
      reason: 'permission',
      outcome: 'denied_by_policy',
      decidingRules: [{ ptype: 'p', values: ['group:tellers', org.id, 'accounts', 'delete', 'deny'] }],
      roleChain: [`user:${member.id}`, 'group:tellers'],
    });
    expect(res.body.matchedRules.map((rule: { values: string[] }) => rule.values[0]).sort()).toEqual(['group:tellers', 'role:teller']);
  });

  it('nothing matching is a deny with no deciding rule, and nothing of another tenant shows', async () => {
    const res = await explain(adminToken, { sub: `${org.slug}/${member.id}`, resource: 'ledgers', action: 'post' });
    expect(res.body).toMatchObject({ authorized: false, reason: 'permission', outcome: 'no_matching_policy', decidingRules: [], matchedRules: [], roleChain: [] });
    expect(JSON.stringify(res.body)).not.toContain(other.id);
  });

  it('sub may name a subject as the policy writes it (a role), and defaults to the caller', async () => {
    const role = await explain(adminToken, { sub: 'role:teller', resource: 'accounts', action: 'post' });
    expect(role.body).toMatchObject({ authorized: true, subject: 'role:teller', roleChain: ['role:teller'] });
    const self = await explain(adminToken, { resource: 'authorize', action: 'post' });
    expect(self.body).toMatchObject({ authorized: true, subject: `user:${admin.id}`, decidingRules: [{ values: [`user:${admin.id}`, org.id, 'authorize', 'post', 'allow'] }] });
  });

  it('with product it explains the name that decided, as /v1/authorize decides it', async () => {
    const scoped = await explain(adminToken, { sub: `${org.slug}/${member.id}`, product: 'midaz', resource: 'ledgers', action: 'get' });
    expect(scoped.body).toMatchObject({ authorized: true, request: { obj: 'midaz/ledgers' } });
    const bare = await explain(adminToken, { sub: `${org.slug}/${member.id}`, product: 'midaz', resource: 'accounts', action: 'get' });
    expect(bare.body).toMatchObject({ authorized: true, request: { obj: 'accounts' } });
    const decided = await h.http().post('/v1/authorize').set('Authorization', adminToken).send({ sub: `${org.slug}/${member.id}`, product: 'midaz', resource: 'accounts', action: 'get' });
    expect(decided.body.authorized).toBe(true);
  });

  it('minRevision from a write is honoured: the new rule is explained', async () => {
    const { revision } = await h.writePolicy(org.id, [p(org.id, 'role:teller', 'reports', 'get', 'allow')]);
    const res = await explain(adminToken, { sub: `${org.slug}/${member.id}`, resource: 'reports', action: 'get', minRevision: revision });
    expect(res.body).toMatchObject({ authorized: true, revision, decidingRules: [{ values: ['role:teller', org.id, 'reports', 'get', 'allow'] }] });
  });
});

describe('POST /v1/authorize/explain: refusals', () => {
  it('a caller without authorize post is 403, even about itself', async () => {
    for (const body of [{ resource: 'accounts', action: 'get' }, { sub: `${org.slug}/${member.id}`, resource: 'accounts', action: 'get' }]) {
      const res = await explain(strangerToken, body);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it("another organization's user is no subject here (404), and a token of that organization sees only its own policy", async () => {
    const res = await explain(adminToken, { sub: `${other.slug}/${outsider.id}`, resource: 'accounts', action: 'get' });
    expect(res.status).toBe(404);
    expect(res.body.field).toBe('body.sub');
    const otherAdminToken = await h.token({ sub: outsider.id, tenantId: other.id });
    expect((await explain(otherAdminToken, { sub: `user:${member.id}`, resource: 'accounts', action: 'get' })).status).toBe(403);
  });

  it('bad input is 400 naming the field and decides nothing', async () => {
    const cases: [object, string][] = [
      [{ resource: 'accounts', action: 'get', extra: 1 }, 'body'],
      [{ resource: 'accounts/../admin', action: 'get' }, 'body.resource'],
      [{ resource: 'accounts', action: 'get', sub: 'user:a b' }, 'body.sub'],
      [{ resource: 'accounts', action: 'get', attributes: { n: [{}] } }, 'body.attributes.n'],
      [{ resource: 'accounts', action: 'get', minRevision: -1 }, 'body.minRevision'],
    ];
    const decisions = h.deps.engine.health().stats.decisions;
    for (const [body, field] of cases) {
      const res = await explain(adminToken, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String(res.body.field ?? 'body'), JSON.stringify(body)).toContain(field);
    }
    // Only the guard's own permission checks ran (one per request), no explained decision.
    expect(h.deps.engine.health().stats.decisions - decisions).toBeLessThanOrEqual(cases.length);
  });
});
