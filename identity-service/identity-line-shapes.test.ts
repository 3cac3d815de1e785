// Identity writes `p` lines of 5 fields (roles, permission sets) and `g` lines of 3 (memberships, bindings). Under a
// model without one of those shapes it says so once at start and refuses the writes that need it, writing nothing.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelFile, parseModel } from '../engine/index.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { identityShapesNotice, lackedIdentityShapes } from './identity-line-shapes.js';

const invoicesModel = fileURLToPath(new URL('../policies/examples/invoices/model.conf', import.meta.url));

describe('the line shapes Identity writes, against the configured model', () => {
  it('the shipped model has both: no notice', async () => {
    const model = await loadModelFile();
    expect(lackedIdentityShapes(model)).toEqual([]);
    expect(identityShapesNotice(model)).toBeUndefined();
  });

  it('names the shape a model lacks and what it has instead, in one line', async () => {
    const notice = identityShapesNotice(await loadModelFile(invoicesModel)) ?? '';
    expect(notice).toContain('a 5-field p line');
    expect(notice).toContain('its p has 6 fields (sub, dom, obj, act, limit, eft)');
    expect(notice).not.toContain('g line');
    expect(notice).not.toContain('\n');
    const rbac = parseModel(`[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[role_definition]\ng = _, _\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act\n`);
    expect(lackedIdentityShapes(rbac).map(({ shape }) => shape.ptype)).toEqual(['p', 'g']);
    expect(identityShapesNotice(rbac)).toContain('its g has 2 fields');
  });
});

describe('Identity under the invoices model (p has 6 fields, g has 3)', () => {
  let h: IdentityHarness;
  let org: string;
  let auth: string;
  let member: string;

  beforeAll(async () => {
    h = await createIdentityHarness('identity_line_shapes', { modelPath: invoicesModel });
    org = await h.createOrganization();
    const admin = await h.createUser(org);
    member = await h.createUser(org);
    // The invoices matcher compares actions exactly: one line per right the test uses (limit "none": no amount condition).
    const right = (resource: string, action: string) => ({ op: 'add' as const, rule: { ptype: 'p', values: [`user:${admin}`, org, resource, action, 'none', 'allow'] } });
    await h.writePolicy(org, [right('roles', 'post'), right('roles', 'get'), right('groups', 'post'), right('groups', 'patch'), right('escalation', 'grant')]);
    auth = `Bearer ${await h.token({ sub: admin, tenantId: org })}`;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a role with permissions is refused with 409 naming the p shape, and nothing is written', async () => {
    const revision = h.deps.engine.revisionOf(org);
    const { rows: before } = await h.deps.pool.query('SELECT count(*)::int AS n FROM roles WHERE org_id = $1', [org]);
    const res = await h.http().post('/v1/roles').set('Authorization', auth).send({ name: 'clerks', permissions: [{ resource: 'invoices', action: 'pay' }] });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toContain('its p has 6 fields');
    const { rows: after } = await h.deps.pool.query('SELECT count(*)::int AS n FROM roles WHERE org_id = $1', [org]);
    expect(after[0].n).toBe(before[0].n);
    expect(h.deps.engine.revisionOf(org)).toBe(revision);
  });

  it('writes whose lines the model can read still work: a group and a membership (g, 3 fields)', async () => {
    const group = await h.http().post('/v1/groups').set('Authorization', auth).send({ name: 'clerks' });
    expect(group.status).toBe(201);
    const joined = await h.http().put(`/v1/groups/${group.body.id}/members/${member}`).set('Authorization', auth);
    expect(joined.status).toBeLessThan(300);
    expect(h.deps.engine.modelDefinition.hasLineShape('g', 3)).toBe(true);
    const lines = await h.deps.pool.query("SELECT rule FROM casbin WHERE ptype = 'g' AND rule->>0 = $1", [`user:${member}`]);
    expect(lines.rows).toEqual([{ rule: [`user:${member}`, `group:${group.body.id}`, org] }]);
  });
});
