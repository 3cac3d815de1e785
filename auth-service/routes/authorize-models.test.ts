// /v1/authorize and /v1/authorize/explain under models other than the shipped one, over HTTP: the body is put into
// the model's request by field name (sub, dom, obj, act, and the attribute object), so an amount condition and an
// ipMatch on the trusted client address decide.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';

const casbinDomainsModel = fileURLToPath(new URL('../../engine/compiler/fixtures/casbin-examples/rbac_with_domains_model.conf', import.meta.url));
const invoicesModel = fileURLToPath(new URL('../../policies/examples/invoices/model.conf', import.meta.url));

// Lines decide only from an address inside their network; no eft field, so a matching line allows.
const networkModel = `[request_definition]
r = sub, dom, obj, act, attrs
[policy_definition]
p = sub, dom, obj, act, net
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.dom == p.dom && g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act && ipMatch(r.attrs.ip, p.net)
`;

/** A token as Auth issues it: its owner and name claims let a body's `<owner>/<id>` name the caller itself. */
async function tokenOf(h: AuthHarness, user: { id: string; username: string }, org: { id: string; slug: string }): Promise<string> {
  const subject = { kind: 'user' as const, id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug };
  return (await h.deps.issuer.accessToken(subject, undefined, undefined)).token;
}

function post(h: AuthHarness, route: string, token: string, body: object): supertest.Test {
  return h.http().post(route).set('Authorization', `Bearer ${token}`).send(body);
}

describe('the invoices model (resource roles g2, an amount limit): attributes reach r.attrs', () => {
  let h: AuthHarness;
  let org: { id: string; slug: string };
  let other: { id: string; slug: string };
  let clerk: { id: string; username: string };
  let auditor: { id: string; username: string };
  let outsider: { id: string; username: string };
  let clerkToken: string;
  let auditorToken: string;
  let otherToken: string;

  beforeAll(async () => {
    h = await createAuthHarness('authorize_model_invoices', { modelPath: invoicesModel });
    org = await h.createOrganization();
    other = await h.createOrganization();
    clerk = await h.createUser(org.id);
    auditor = await h.createUser(org.id);
    outsider = await h.createUser(other.id);
    const line = (ptype: string, ...values: string[]) => ({ op: 'add' as const, rule: { ptype, values } });
    await h.writePolicy(org.id, [
      line('p', 'role:clerk', org.id, 'group:supplier-invoices', 'pay', '1000', 'allow'),
      line('p', `user:${auditor.id}`, org.id, 'authorize', 'post', 'none', 'allow'),
      line('g', `user:${clerk.id}`, 'role:clerk', org.id),
      line('g2', 'invoice:2024-001', 'group:supplier-invoices', org.id),
    ]);
    // The same names in another tenant with no limit: never reached from org, and org's never from there.
    await h.writePolicy(other.id, [line('g', `user:${outsider.id}`, 'role:clerk', other.id)]);
    clerkToken = await tokenOf(h, clerk, org);
    auditorToken = await tokenOf(h, auditor, org);
    otherToken = await tokenOf(h, outsider, other);
  });

  afterAll(async () => {
    await h?.close();
  });

  const pay = (amount: number | undefined) => ({
    sub: `${org.slug}/${clerk.id}`,
    resource: 'invoice:2024-001',
    action: 'pay',
    ...(amount === undefined ? {} : { attributes: { amount } }),
  });

  it('a payment within the clerk line limit is allowed, one above it denied (r.attrs.amount <= p.limit)', async () => {
    expect((await post(h, '/v1/authorize', clerkToken, pay(250))).body).toMatchObject({ authorized: true });
    expect((await post(h, '/v1/authorize', clerkToken, pay(1000))).body).toMatchObject({ authorized: true });
    expect((await post(h, '/v1/authorize', clerkToken, pay(5000))).body).toMatchObject({ authorized: false, reason: 'permission' });
  });

  it('without attributes the condition has no amount to compare: denied, as casbin decides it', async () => {
    expect((await post(h, '/v1/authorize', clerkToken, pay(undefined))).body).toMatchObject({ authorized: false, reason: 'permission' });
  });

  it('an invoice outside the group, another tenant, or another action is denied', async () => {
    expect((await post(h, '/v1/authorize', clerkToken, { ...pay(10), resource: 'invoice:2024-999' })).body.authorized).toBe(false);
    expect((await post(h, '/v1/authorize', clerkToken, { ...pay(10), action: 'read' })).body.authorized).toBe(false);
    const res = await post(h, '/v1/authorize/batch', otherToken, { checks: [{ ...pay(10), sub: `${other.slug}/${outsider.id}` }] });
    expect(res.body.results).toEqual([{ authorized: false, reason: 'permission' }]);
  });

  it('the batch route decides each check through the same mapping', async () => {
    const res = await post(h, '/v1/authorize/batch', clerkToken, { checks: [pay(999), pay(1001)] });
    expect(res.body.results).toEqual([{ authorized: true }, { authorized: false, reason: 'permission' }]);
  });

  it('explain shows the request as the model reads it and both role chains (g and g2)', async () => {
    const res = await post(h, '/v1/authorize/explain', auditorToken, pay(250));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      authorized: true,
      outcome: 'allowed_by_policy',
      request: { sub: `user:${clerk.id}`, dom: org.id, obj: 'invoice:2024-001', act: 'pay', attrs: { amount: 250, ip: '127.0.0.1' } },
      decidingRules: [{ ptype: 'p', values: ['role:clerk', org.id, 'group:supplier-invoices', 'pay', '1000', 'allow'] }],
      roleChain: [`user:${clerk.id}`, 'role:clerk'],
    });
    expect(res.body.matchedRules[0].roleChains).toEqual([
      { ptype: 'g', domain: org.id, path: [`user:${clerk.id}`, 'role:clerk'] },
      { ptype: 'g2', domain: org.id, path: ['invoice:2024-001', 'group:supplier-invoices'] },
    ]);
    const over = await post(h, '/v1/authorize/explain', auditorToken, pay(5000));
    expect(over.body).toMatchObject({ authorized: false, outcome: 'no_matching_policy', matchedRules: [] });
  });

  it('GET /v1/permissions cannot list what depends on request attributes: 409 naming why, never a 503', async () => {
    const res = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${clerkToken}`);
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('AUT-0019');
    expect(res.body.detail).toContain('r.attrs');
  });

  it('explain needs authorize post under this model too (403 for the clerk)', async () => {
    expect((await post(h, '/v1/authorize/explain', clerkToken, pay(250))).status).toBe(403);
  });
});

describe('a model with ipMatch: the trusted client address is attributes.ip, never the body', () => {
  let h: AuthHarness;
  let dir: string;
  let org: { id: string; slug: string };
  let user: { id: string; username: string };
  let token: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'am-network-model-'));
    await writeFile(path.join(dir, 'model.conf'), networkModel);
    // The test client connects from loopback, which is the trusted proxy here: X-Forwarded-For is believed.
    h = await createAuthHarness('authorize_model_network', { modelPath: path.join(dir, 'model.conf'), settings: { trustedProxies: ['127.0.0.0/8', '::1'] } });
    org = await h.createOrganization();
    user = await h.createUser(org.id);
    const line = (ptype: string, ...values: string[]) => ({ op: 'add' as const, rule: { ptype, values } });
    await h.writePolicy(org.id, [
      line('p', `user:${user.id}`, org.id, 'ledgers', 'get', '127.0.0.0/8'),
      line('p', `user:${user.id}`, org.id, 'reports', 'get', '10.0.0.0/8'),
      line('p', `user:${user.id}`, org.id, 'authorize', 'post', '0.0.0.0/0'),
    ]);
    token = await tokenOf(h, user, org);
  });

  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (resource: string, extra: object = {}) => ({ sub: `${org.slug}/${user.id}`, resource, action: 'get', ...extra });

  it('the socket address decides when no trusted proxy forwards another', async () => {
    expect((await post(h, '/v1/authorize', token, check('ledgers'))).body.authorized).toBe(true);
    expect((await post(h, '/v1/authorize', token, check('reports'))).body.authorized).toBe(false);
  });

  it('behind a trusted proxy the forwarded client address decides', async () => {
    const forwarded = (resource: string) => post(h, '/v1/authorize', token, check(resource)).set('X-Forwarded-For', '10.1.2.3');
    expect((await forwarded('reports')).body.authorized).toBe(true);
    expect((await forwarded('ledgers')).body.authorized).toBe(false);
  });

  it('a body that sets attributes.ip is refused (400) and decides nothing', async () => {
    const res = await post(h, '/v1/authorize', token, check('reports', { attributes: { ip: '10.1.2.3' } }));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.attributes.ip');
  });

  it('explain takes attributes.ip as a what-if, and defaults it to the caller address', async () => {
    const whatIf = await post(h, '/v1/authorize/explain', token, check('reports', { attributes: { ip: '10.9.9.9' } }));
    expect(whatIf.body).toMatchObject({ authorized: true, request: { attrs: { ip: '10.9.9.9' } } });
    const own = await post(h, '/v1/authorize/explain', token, check('reports'));
    expect(own.body).toMatchObject({ authorized: false, request: { attrs: { ip: '127.0.0.1' } } });
  });
});

describe("casbin's rbac_with_domains model verbatim (compiled, no request attributes)", () => {
  let h: AuthHarness;
  let org: { id: string; slug: string };
  let user: { id: string; username: string };
  let token: string;

  beforeAll(async () => {
    h = await createAuthHarness('authorize_model_casbin_domains', { modelPath: casbinDomainsModel });
    org = await h.createOrganization();
    user = await h.createUser(org.id);
    const other = await h.createOrganization();
    const line = (ptype: string, ...values: string[]) => ({ op: 'add' as const, rule: { ptype, values } });
    await h.writePolicy(org.id, [
      line('g', `user:${user.id}`, 'role:reader', org.id),
      line('p', 'role:reader', org.id, 'ledgers', 'get'),
      line('p', 'role:reader', org.id, 'accounts', 'get'),
      line('p', 'role:writer', org.id, 'accounts', 'post'),
    ]);
    await h.writePolicy(other.id, [line('g', `user:${user.id}`, 'role:reader', other.id), line('p', 'role:reader', other.id, 'payroll', 'get')]);
    token = await tokenOf(h, user, org);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('GET /v1/permissions lists exactly the pairs the subject is allowed, in its own tenant', async () => {
    const res = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accounts: ['get'], ledgers: ['get'] });
  });

  it('a new line shows in the next answer (the map is cached by revision)', async () => {
    await h.writePolicy(org.id, [{ op: 'add', rule: { ptype: 'g', values: [`user:${user.id}`, 'role:writer', org.id] } }]);
    const res = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`);
    expect(res.body).toEqual({ accounts: ['get', 'post'], ledgers: ['get'] });
  });

  it('/v1/authorize decides through the same model', async () => {
    const decide = (resource: string, action: string) => post(h, '/v1/authorize', token, { sub: `${org.slug}/${user.id}`, resource, action });
    expect((await decide('ledgers', 'get')).body.authorized).toBe(true);
    expect((await decide('payroll', 'get')).body.authorized).toBe(false);
  });
});
