// /v1/policy-lines under the invoices model: resource roles (g2) and the model's own 6-field p lines, written by a
// policy author of one organization, validated against the model, audited, revisioned, under the no-escalation rule.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

const invoicesModel = fileURLToPath(new URL('../../policies/examples/invoices/model.conf', import.meta.url));

let h: IdentityHarness;
let org: string;
let other: string;
let author: string;
let authorAuth: string;
let helper: string;
let helperAuth: string;
let otherAuth: string;

const right = (tenantId: string, subject: string, resource: string, action: string) => ({
  op: 'add' as const,
  rule: { ptype: 'p', values: [subject, tenantId, resource, action, 'none', 'allow'] },
});

beforeAll(async () => {
  h = await createIdentityHarness('policy_lines', { modelPath: invoicesModel });
  org = await h.createOrganization();
  other = await h.createOrganization();
  author = await h.createUser(org);
  helper = await h.createUser(org);
  const otherAuthor = await h.createUser(other);
  // The invoices matcher compares actions exactly: one line per right.
  await h.writePolicy(org, [
    ...['get', 'post', 'delete'].map((action) => right(org, `user:${author}`, 'roles', action)),
    right(org, `user:${author}`, 'escalation', 'grant'),
    right(org, `user:${author}`, 'audit', 'get'),
    // The helper may edit lines but does not hold the escalation permission.
    ...['get', 'post', 'delete'].map((action) => right(org, `user:${helper}`, 'roles', action)),
  ]);
  await h.writePolicy(other, [...['get', 'post', 'delete'].map((action) => right(other, `user:${otherAuthor}`, 'roles', action)), right(other, `user:${otherAuthor}`, 'escalation', 'grant')]);
  authorAuth = `Bearer ${await h.token({ sub: author, tenantId: org })}`;
  helperAuth = `Bearer ${await h.token({ sub: helper, tenantId: org })}`;
  otherAuth = `Bearer ${await h.token({ sub: otherAuthor, tenantId: other })}`;
});

afterAll(async () => {
  await h?.close();
});

const g2 = (tenantId: string, invoice: string, group: string) => ({ ptype: 'g2', values: [invoice, group, tenantId] });
const pay = (tenantId: string, member: string, amount: number) =>
  h.deps.engine.decideRequestSync({ sub: member, dom: tenantId, obj: 'invoice:2024-001', act: 'pay', attrs: { amount } }).allowed;

describe('/v1/policy-lines: a policy author writes the lines Identity does not manage', () => {
  it('adds g2 and 6-field p lines in one revision (X-Policy-Revision), and the engine decides with them', async () => {
    const before = h.deps.engine.revisionOf(org);
    const res = await h
      .http()
      .post('/v1/policy-lines')
      .set('Authorization', authorAuth)
      .send({
        lines: [
          g2(org, 'invoice:2024-001', 'group:supplier-invoices'),
          { ptype: 'p', values: [`user:${helper}`, org, 'group:supplier-invoices', 'pay', '1000', 'allow'] },
        ],
      });
    expect(res.status).toBe(201);
    expect(Number(res.headers['x-policy-revision'])).toBe(before + 1);
    expect(res.body.revision).toBe(before + 1);
    expect(pay(org, `user:${helper}`, 500)).toBe(true);
    expect(pay(org, `user:${helper}`, 5000)).toBe(false);
  });

  it("lists the organization's lines of one type, paged, never another organization's", async () => {
    await h.http().post('/v1/policy-lines').set('Authorization', otherAuth).send({ lines: [g2(other, 'invoice:9', 'group:secret')] }).expect(201);
    const res = await h.http().get('/v1/policy-lines?ptype=g2').set('Authorization', authorAuth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ items: [g2(org, 'invoice:2024-001', 'group:supplier-invoices')], total: 1 });
    const theirs = await h.http().get('/v1/policy-lines?ptype=g2&limit=1').set('Authorization', otherAuth);
    expect(theirs.body.items).toEqual([g2(other, 'invoice:9', 'group:secret')]);
  });

  it('every write is audited with the line', async () => {
    const { rows } = await h.deps.pool.query("SELECT actor, action, target_id FROM audit_events WHERE org_id = $1 AND target_type = 'policy-line' ORDER BY id", [org]);
    expect(rows).toContainEqual({ actor: `user:${author}`, action: 'policy-line.add', target_id: `g2, invoice:2024-001, group:supplier-invoices, ${org}` });
  });

  it('removes one line (values comma-separated): a new revision, and it no longer decides', async () => {
    await h.http().post('/v1/policy-lines').set('Authorization', authorAuth).send({ lines: [g2(org, 'invoice:2024-002', 'group:supplier-invoices')] }).expect(201);
    const before = h.deps.engine.revisionOf(org);
    const res = await h.http().delete(`/v1/policy-lines?ptype=g2&values=invoice:2024-001,group:supplier-invoices,${org}`).set('Authorization', authorAuth);
    expect(res.status).toBe(204);
    expect(Number(res.headers['x-policy-revision'])).toBe(before + 1);
    expect(pay(org, `user:${helper}`, 500)).toBe(false);
    const listed = await h.http().get('/v1/policy-lines?ptype=g2').set('Authorization', authorAuth);
    expect(listed.body.items).toEqual([g2(org, 'invoice:2024-002', 'group:supplier-invoices')]);
  });
});

describe('/v1/policy-lines: refusals change nothing', () => {
  async function expectRefused(auth: string, send: () => Promise<{ status: number; body: Record<string, unknown> }>, status: number): Promise<Record<string, unknown>> {
    const revisions = [h.deps.engine.revisionOf(org), h.deps.engine.revisionOf(other)];
    const res = await send();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect([h.deps.engine.revisionOf(org), h.deps.engine.revisionOf(other)]).toEqual(revisions);
    return res.body;
  }
  const post = (auth: string, lines: object[]) => () => h.http().post('/v1/policy-lines').set('Authorization', auth).send({ lines }).then((r) => r);

  it('lines of the shape Identity manages (g with 3 fields) are written through groups and roles, not here', async () => {
    const body = await expectRefused(authorAuth, post(authorAuth, [{ ptype: 'g', values: [`user:${helper}`, 'role:manager', org] }]), 400);
    expect(body.detail).toContain('Identity writes them through roles, groups and permission sets');
  });

  it('a type the model lacks, a wrong field count, or a bad value is 400 naming it', async () => {
    expect((await expectRefused(authorAuth, post(authorAuth, [{ ptype: 'g3', values: ['a', 'b', org] }]), 400)).detail).toContain('no "g3"');
    await expectRefused(authorAuth, post(authorAuth, [{ ptype: 'g2', values: ['invoice:1', org] }]), 400);
    await expectRefused(authorAuth, post(authorAuth, [{ ptype: 'g2', values: ['invoice:1', 'a,b', org] }]), 400);
    await expectRefused(authorAuth, post(authorAuth, [{ ptype: 'p', values: [`user:${helper}`, org, 'invoices', 'pay', 'lots', 'allow'].slice(0, 5) }]), 400);
  });

  it("a line naming another organization is refused, whoever's token", async () => {
    expect((await expectRefused(authorAuth, post(authorAuth, [g2(other, 'invoice:9', 'group:mine')]), 400)).field).toBe('body.lines.0.values');
    await expectRefused(otherAuth, () => h.http().delete(`/v1/policy-lines?ptype=g2&values=invoice:2024-002,group:supplier-invoices,${org}`).set('Authorization', otherAuth).then((r) => r), 400);
  });

  it('without the escalation permission a policy change is refused (403 ESCALATION_REFUSED): under a custom model any line may give anything', async () => {
    const body = await expectRefused(helperAuth, post(helperAuth, [g2(org, 'invoice:7', 'group:supplier-invoices')]), 403);
    expect(body.missing).toEqual([{ resource: '*', action: '*' }]);
  });

  it('a caller without the roles permissions is 403', async () => {
    const stranger = await h.createUser(org);
    const auth = `Bearer ${await h.token({ sub: stranger, tenantId: org })}`;
    await expectRefused(auth, post(auth, [g2(org, 'invoice:7', 'group:supplier-invoices')]), 403);
    expect((await h.http().get('/v1/policy-lines?ptype=g2').set('Authorization', auth)).status).toBe(403);
  });
});

describe('/v1/policy-lines under the shipped model', () => {
  let shipped: IdentityHarness;
  afterAll(async () => shipped?.close());

  it('has no author-managed line type: p and g are Identity\'s (400), g2 does not exist (400)', async () => {
    shipped = await createIdentityHarness('policy_lines_shipped');
    const tenant = await shipped.createOrganization();
    const { token } = await shipped.admin(tenant);
    for (const ptype of ['p', 'g', 'g2']) {
      const res = await shipped.http().get(`/v1/policy-lines?ptype=${ptype}`).set('Authorization', `Bearer ${token}`);
      expect(res.status, ptype).toBe(400);
    }
  });
});
