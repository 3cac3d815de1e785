import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegate, expectEscalationRefused, helpDeskGrants } from '../../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;

beforeAll(async () => {
  h = await createIdentityHarness('roles');
  // Fault injection for the atomicity test: the audit insert of a role named `fail-audit-*` fails, after the
  // role, its permissions and their policy lines were written in the same transaction.
  await h.deps.pool.query(`
    CREATE FUNCTION fail_marked_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.after->>'name' LIKE 'fail-audit-%' THEN RAISE EXCEPTION 'injected audit failure'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fail_marked_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_marked_audit();`);
});
afterAll(async () => h.close());

interface Tenant {
  readonly tenantId: string;
  readonly auth: string;
}

interface Permission {
  readonly resource: string;
  readonly action: string;
  readonly effect?: 'allow' | 'deny';
}

async function tenant(): Promise<Tenant> {
  const tenantId = await h.createOrganization();
  const admin = await h.admin(tenantId);
  return { tenantId, auth: `Bearer ${admin.token}` };
}

async function createRole(t: Tenant, permissions: Permission[], name = `role-${randomUUID().slice(0, 8)}`): Promise<{ id: string; revision: number }> {
  const response = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name, permissions });
  expect(response.status).toBe(201);
  return { id: response.body.id, revision: Number(response.headers['x-policy-revision']) };
}

/** A user holding `roleIds` through one new group; answers the user id and the revision of the last write. */
async function userHolding(t: Tenant, roleIds: string[]): Promise<{ userId: string; groupId: string; revision: number }> {
  const group = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name: `holders-${randomUUID().slice(0, 8)}`, roles: roleIds });
  expect(group.status).toBe(201);
  const userId = await h.createUser(t.tenantId);
  const member = await h.http().put(`/v1/groups/${group.body.id}/members/${userId}`).set('Authorization', t.auth);
  expect(member.status).toBe(201);
  return { userId, groupId: group.body.id, revision: Number(member.headers['x-policy-revision']) };
}

async function may(tenantId: string, subject: string, obj: string, act: string, minRevision?: number): Promise<boolean> {
  const decision = await h.deps.engine.decide({ sub: subject, dom: tenantId, obj, act }, minRevision === undefined ? {} : { minRevision });
  return decision.allowed;
}

async function revisionOf(tenantId: string): Promise<number> {
  const { rows } = await h.deps.pool.query('SELECT revision FROM policy_revision WHERE tenant_id = $1', [tenantId]);
  return Number(rows[0]?.revision ?? 0);
}

async function changesAt(tenantId: string, revision: number): Promise<unknown[]> {
  const { rows } = await h.deps.pool.query('SELECT changes FROM policy_change WHERE tenant_id = $1 AND revision = $2', [tenantId, revision]);
  return rows[0]?.changes ?? [];
}

/** Stored policy lines that name `subject` on either side (`p` subject, `g` member or role). */
async function linesNaming(subject: string): Promise<unknown[][]> {
  const { rows } = await h.deps.pool.query(`SELECT rule FROM casbin WHERE rule->>0 = $1 OR (ptype = 'g' AND rule->>1 = $1) ORDER BY id`, [subject]);
  return rows.map((row) => row.rule);
}

async function countRows(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await h.deps.pool.query(`SELECT count(*)::int AS n FROM ${sql}`, values);
  return rows[0].n;
}

describe('roles: permissions become policy', () => {
  it('a role’s permissions are p lines of role:<id> in the tenant; a member of a group holding it is allowed at the answered revision', async () => {
    const t = await tenant();
    const created = await h.http().post('/v1/roles').set('Authorization', t.auth).send({
      name: 'ledger-editor',
      description: 'edits ledgers',
      permissions: [
        { resource: 'ledgers', action: 'get' },
        { resource: 'ledgers', action: 'post', effect: 'allow' },
        { resource: 'midaz/accounts/*', action: '*' },
        { resource: 'ledgers', action: 'get' },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    const roleId: string = created.body.id;
    expect(created.body).toMatchObject({
      name: 'ledger-editor',
      description: 'edits ledgers',
      builtin: false,
      permissions: [
        { resource: 'ledgers', action: 'get', effect: 'allow' },
        { resource: 'ledgers', action: 'post', effect: 'allow' },
        { resource: 'midaz/accounts/*', action: '*', effect: 'allow' },
      ],
    });
    expect(await linesNaming(`role:${roleId}`)).toEqual([
      [`role:${roleId}`, t.tenantId, 'ledgers', 'get', 'allow'],
      [`role:${roleId}`, t.tenantId, 'ledgers', 'post', 'allow'],
      [`role:${roleId}`, t.tenantId, 'midaz/accounts/*', '*', 'allow'],
    ]);

    const { userId, revision } = await userHolding(t, [roleId]);
    const subject = `user:${userId}`;
    expect(await may(t.tenantId, subject, 'ledgers', 'get', revision)).toBe(true);
    expect(await may(t.tenantId, subject, 'midaz/accounts/42', 'delete')).toBe(true);
    expect(await may(t.tenantId, subject, 'ledgers', 'delete')).toBe(false);
    expect(await may(t.tenantId, subject, 'midaz/portfolios', 'get')).toBe(false);

    const read = await h.http().get(`/v1/roles/${roleId}/permissions`).set('Authorization', t.auth);
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(read.body.permissions).toEqual(created.body.permissions);
  });

  it('PUT permissions replaces the set and writes exactly the changed p lines; removing a permission denies', async () => {
    const t = await tenant();
    const role = await createRole(t, [
      { resource: 'ledgers', action: 'get' },
      { resource: 'ledgers', action: 'post' },
      { resource: 'accounts', action: 'get' },
    ]);
    const { userId, groupId } = await userHolding(t, [role.id]);
    const put = await h
      .http()
      .put(`/v1/roles/${role.id}/permissions`)
      .set('Authorization', t.auth)
      .set('If-Match', '"1"')
      .send({ permissions: [{ resource: 'accounts', action: 'get' }, { resource: 'ledgers', action: 'post' }, { resource: 'assets', action: 'get' }] });
    expect(put.status).toBe(200);
    expect(put.headers.etag).toBe('"2"');
    const revision = Number(put.headers['x-policy-revision']);
    expect(put.body.policyRevision).toBe(revision);
    expect(put.body.permissions).toEqual([
      { resource: 'accounts', action: 'get', effect: 'allow' },
      { resource: 'assets', action: 'get', effect: 'allow' },
      { resource: 'ledgers', action: 'post', effect: 'allow' },
    ]);
    const subject = `role:${role.id}`;
    expect(await changesAt(t.tenantId, revision)).toEqual([
      { op: 'remove', rule: { ptype: 'p', values: [subject, t.tenantId, 'ledgers', 'get', 'allow'] } },
      { op: 'add', rule: { ptype: 'p', values: [subject, t.tenantId, 'assets', 'get', 'allow'] } },
    ]);
    expect(await may(t.tenantId, `user:${userId}`, 'ledgers', 'get', revision)).toBe(false);
    expect(await may(t.tenantId, `user:${userId}`, 'assets', 'get', revision)).toBe(true);

    const same = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send({ permissions: put.body.permissions });
    expect(same.status).toBe(200);
    expect(same.headers.etag).toBe('"2"');
    expect(Number(same.headers['x-policy-revision'])).toBe(revision);
    const stale = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).set('If-Match', '"1"').send({ permissions: [] });
    expect(stale.status).toBe(412);
    const emptied = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).set('If-Match', '"2"').send({ permissions: [] });
    expect(emptied.status).toBe(200);
    // The role keeps its holders (the g line); it simply grants nothing any more.
    expect(await linesNaming(subject)).toEqual([[`group:${groupId}`, subject, t.tenantId]]);
    expect(await may(t.tenantId, `user:${userId}`, 'accounts', 'get', Number(emptied.headers['x-policy-revision']))).toBe(false);
    const { rows } = await h.deps.pool.query('SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id', [role.id]);
    expect(rows.map((r) => r.action)).toEqual(['role.create', 'role.permissions.replace', 'role.permissions.replace']);
  });

  it('a deny permission overrides an allow of another role, through another group or the same one', async () => {
    const t = await tenant();
    const allow = await createRole(t, [{ resource: 'ledgers', action: '*' }]);
    const deny = await createRole(t, [{ resource: 'ledgers', action: 'delete', effect: 'deny' }]);
    const { userId, revision } = await userHolding(t, [allow.id]);
    expect(await may(t.tenantId, `user:${userId}`, 'ledgers', 'delete', revision)).toBe(true);
    const denyGroup = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name: 'no deletes', roles: [deny.id] });
    const member = await h.http().put(`/v1/groups/${denyGroup.body.id}/members/${userId}`).set('Authorization', t.auth);
    const after = Number(member.headers['x-policy-revision']);
    expect(await may(t.tenantId, `user:${userId}`, 'ledgers', 'delete', after)).toBe(false);
    expect(await may(t.tenantId, `user:${userId}`, 'ledgers', 'get', after)).toBe(true);

    const both = await userHolding(t, [allow.id, deny.id]);
    expect(await may(t.tenantId, `user:${both.userId}`, 'ledgers', 'delete', both.revision)).toBe(false);
    expect(await may(t.tenantId, `user:${both.userId}`, 'ledgers', 'post', both.revision)).toBe(true);
  });

  it('deleting a role removes its permission lines and every group’s link to it; the engine denies afterwards', async () => {
    const t = await tenant();
    const role = await createRole(t, [
      { resource: 'ledgers', action: 'get' },
      { resource: 'ledgers', action: 'patch', effect: 'deny' },
    ]);
    const first = await userHolding(t, [role.id]);
    const second = await userHolding(t, [role.id]);
    expect(await may(t.tenantId, `user:${second.userId}`, 'ledgers', 'get', second.revision)).toBe(true);

    const deleted = await h.http().delete(`/v1/roles/${role.id}`).set('Authorization', t.auth);
    expect(deleted.status).toBe(204);
    const revision = Number(deleted.headers['x-policy-revision']);
    expect(revision).toBe(second.revision + 1);
    expect(await changesAt(t.tenantId, revision)).toHaveLength(4);
    expect(await linesNaming(`role:${role.id}`)).toEqual([]);
    for (const holder of [first, second]) {
      expect(await may(t.tenantId, `user:${holder.userId}`, 'ledgers', 'get', revision)).toBe(false);
      const group = await h.http().get(`/v1/groups/${holder.groupId}`).set('Authorization', t.auth);
      expect(group.body.roles).toEqual([]);
    }
    expect(await countRows('role_permissions WHERE role_id = $1', [role.id])).toBe(0);
    expect((await h.http().get(`/v1/roles/${role.id}`).set('Authorization', t.auth)).status).toBe(404);
    expect((await h.http().delete(`/v1/roles/${role.id}`).set('Authorization', t.auth)).status).toBe(404);
    const { rows } = await h.deps.pool.query(`SELECT before FROM audit_events WHERE target_id = $1 AND action = 'role.delete'`, [role.id]);
    expect([...rows[0].before.groups].sort()).toEqual([first.groupId, second.groupId].sort());
  });

  it('PATCH renames, re-describes and replaces permissions in one write, honouring If-Match', async () => {
    const t = await tenant();
    const role = await createRole(t, [{ resource: 'ledgers', action: 'get' }], 'before');
    const patched = await h
      .http()
      .patch(`/v1/roles/${role.id}`)
      .set('Authorization', t.auth)
      .set('If-Match', '"1"')
      .send({ name: 'after', description: 'new text', permissions: [{ resource: 'accounts', action: 'get' }] });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.body).toMatchObject({ name: 'after', description: 'new text', permissions: [{ resource: 'accounts', action: 'get', effect: 'allow' }] });
    expect(await changesAt(t.tenantId, Number(patched.headers['x-policy-revision']))).toHaveLength(2);
    const nameOnly = await h.http().patch(`/v1/roles/${role.id}`).set('Authorization', t.auth).send({ name: 'after again' });
    expect(nameOnly.status).toBe(200);
    expect(nameOnly.body.permissions).toEqual(patched.body.permissions);
    expect(Number(nameOnly.headers['x-policy-revision'])).toBe(Number(patched.headers['x-policy-revision']));
  });
});

describe('roles: no escalation (a role gets only what its writer holds, unless it holds the escalation permission)', () => {
  // The help desk reads, creates and changes users, groups, roles and applications, reads ledgers and every account.
  const deskGrants = [...helpDeskGrants, ['ledgers', 'get'], ['accounts/*', 'get']] as const;

  it('creating a role with */* or with any pair its writer lacks is 403 IDE-0120 naming what is missing; nothing is written', async () => {
    const t = await tenant();
    const desk = await delegate(h, t.tenantId, deskGrants);
    await expectEscalationRefused(h, () => h.http().post('/v1/roles').set('Authorization', desk.auth).send({ name: 'everything', permissions: [{ resource: '*', action: '*' }] }), [
      { resource: '*', action: '*' },
    ]);
    const mixed = [
      { resource: 'ledgers', action: 'get' },
      { resource: 'ledgers', action: 'post' },
      { resource: 'accounts/*', action: 'get' },
      { resource: 'accounts/*', action: '*' },
      { resource: 'accounts*', action: 'get' },
      { resource: 'users', action: 'delete' },
    ];
    await expectEscalationRefused(h, () => h.http().post('/v1/roles').set('Authorization', desk.auth).send({ name: 'mixed', permissions: mixed }), [
      { resource: 'ledgers', action: 'post' },
      { resource: 'accounts/*', action: '*' },
      { resource: 'accounts*', action: 'get' },
      { resource: 'users', action: 'delete' },
    ]);
  });

  it('within its holdings a writer creates roles: pairs it holds, narrower patterns than it holds, and deny lines of any reach', async () => {
    const t = await tenant();
    const desk = await delegate(h, t.tenantId, deskGrants);
    const permissions = [
      { resource: 'ledgers', action: 'get' },
      { resource: 'accounts/7', action: 'get' },
      { resource: 'accounts/eu/*', action: 'get' },
      { resource: 'users', action: 'patch' },
      { resource: '*', action: '*', effect: 'deny' },
    ];
    const created = await h.http().post('/v1/roles').set('Authorization', desk.auth).send({ name: 'desk-made', permissions });
    expect(created.status).toBe(201);
    expect(await linesNaming(`role:${created.body.id}`)).toHaveLength(5);
  });

  it('widening a role, the writer\'s own included, through PATCH or PUT permissions is refused the same way', async () => {
    const t = await tenant();
    // The help desk holds its rights through its own role, as an administrator would set it up.
    const deskRole = await createRole(t, deskGrants.map(([resource, action]) => ({ resource, action })));
    const { userId } = await userHolding(t, [deskRole.id]);
    const auth = `Bearer ${await h.token({ sub: userId, tenantId: t.tenantId })}`;
    const current = (await h.http().get(`/v1/roles/${deskRole.id}`).set('Authorization', auth)).body.permissions as Permission[];
    await expectEscalationRefused(h, () => h.http().patch(`/v1/roles/${deskRole.id}`).set('Authorization', auth).send({ permissions: [...current, { resource: '*', action: '*' }] }), [
      { resource: '*', action: '*' },
    ]);
    await expectEscalationRefused(h, () => h.http().put(`/v1/roles/${deskRole.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'organizations', action: 'get' }] }), [
      { resource: 'organizations', action: 'get' },
    ]);
    // Narrowing is giving nothing: allowed.
    const narrowed = await h.http().put(`/v1/roles/${deskRole.id}/permissions`).set('Authorization', auth).send({ permissions: current.filter((p) => p.resource !== 'ledgers') });
    expect(narrowed.status).toBe(200);
  });

  it('removing a deny gives back what it blocked: refused unless the writer holds that', async () => {
    const t = await tenant();
    const desk = await delegate(h, t.tenantId, deskGrants);
    const fenced = await createRole(t, [
      { resource: 'ledgers', action: 'get' },
      { resource: 'audit', action: 'get', effect: 'deny' },
      { resource: 'accounts/frozen', action: 'get', effect: 'deny' },
    ]);
    await expectEscalationRefused(h, () => h.http().put(`/v1/roles/${fenced.id}/permissions`).set('Authorization', desk.auth).send({ permissions: [{ resource: 'ledgers', action: 'get' }] }), [
      { resource: 'audit', action: 'get' },
    ]);
    // The desk reads every account, so lifting the deny on one of them gives nothing it lacks.
    const lifted = await h.http().put(`/v1/roles/${fenced.id}/permissions`).set('Authorization', desk.auth).send({
      permissions: [{ resource: 'ledgers', action: 'get' }, { resource: 'audit', action: 'get', effect: 'deny' }],
    });
    expect(lifted.status).toBe(200);
  });

  it('deleting a role lifts its denies only for the groups holding it: an unbound one goes, a held one needs what its denies blocked', async () => {
    const t = await tenant();
    const desk = await delegate(h, t.tenantId, [...deskGrants, ['roles', 'delete']]);
    const unbound = await createRole(t, [{ resource: 'audit', action: 'get', effect: 'deny' }]);
    expect((await h.http().delete(`/v1/roles/${unbound.id}`).set('Authorization', desk.auth)).status).toBe(204);
    const held = await createRole(t, [{ resource: 'audit', action: 'get', effect: 'deny' }]);
    await userHolding(t, [held.id]);
    await expectEscalationRefused(h, () => h.http().delete(`/v1/roles/${held.id}`).set('Authorization', desk.auth), [{ resource: 'audit', action: 'get' }]);
    expect((await h.http().delete(`/v1/roles/${held.id}`).set('Authorization', t.auth)).status).toBe(204);
    expect(await linesNaming(`role:${held.id}`)).toEqual([]);
  });

  it('an escalation holder (the administrator) creates and widens roles beyond its own holdings', async () => {
    const t = await tenant();
    const role = await createRole(t, [{ resource: '*', action: '*' }]);
    const widened = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send({ permissions: [{ resource: '*', action: '*' }, { resource: 'midaz/*', action: 'delete' }] });
    expect(widened.status).toBe(200);
  });
});

describe('roles: validation', () => {
  it('a resource outside the grammar is 400 naming the field, and nothing is written', async () => {
    const t = await tenant();
    const role = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const before = await revisionOf(t.tenantId);
    for (const resource of ['accounts/../x', '../x', 'accounts/./x', 'a*b', '*x', 'a,b', '', ' accounts', 'a//b', '/accounts', 'acc ounts', 'a(b', 'é', 'x'.repeat(300), 7]) {
      const response = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send({ permissions: [{ resource: 'ledgers', action: 'get' }, { resource, action: 'get' }] });
      expect(response.status, JSON.stringify(resource)).toBe(400);
      expect(response.body.field, JSON.stringify(resource)).toBe('body.permissions.1.resource');
    }
    for (const action of ['', 'a,b', 'get post', '**', 'g*', 'x'.repeat(257), 'ＧＥＴ']) {
      const response = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send({ permissions: [{ resource: 'ledgers', action }] });
      expect(response.status, action).toBe(400);
      expect(response.body.field).toBe('body.permissions.0.action');
    }
    for (const [body, field] of [
      [{ permissions: [{ resource: 'ledgers', action: 'get', effect: 'maybe' }] }, 'body.permissions.0.effect'],
      [{ permissions: [{ resource: 'ledgers', action: 'get', subject: '*' }] }, 'body.permissions.0'],
      [{ permissions: [{ resource: 'ledgers' }] }, 'body.permissions.0.action'],
      [{ permissions: Array.from({ length: 101 }, (_, i) => ({ resource: `r${i}`, action: 'get' })) }, 'body.permissions'],
      [{ permissions: { ledgers: ['get'] } }, 'body.permissions'],
      [{}, 'body.permissions'],
      [{ permissions: [], tenantId: randomUUID() }, 'body'],
    ] as const) {
      const response = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send(body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const post = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name: 'bad', permissions: [{ resource: 'a*b', action: 'get' }] });
    expect(post.body.field).toBe('body.permissions.0.resource');
    expect(await countRows(`roles WHERE org_id = $1 AND name = 'bad'`, [t.tenantId])).toBe(0);
    expect(await linesNaming(`role:${role.id}`)).toEqual([[`role:${role.id}`, t.tenantId, 'ledgers', 'get', 'allow']]);
    expect(await revisionOf(t.tenantId)).toBe(before);
  });

  it('every pattern of the grammar is accepted: plain, product-prefixed, prefix wildcards and * alone; 100 entries at once', async () => {
    const t = await tenant();
    const permissions = ['accounts', 'midaz/accounts', 'accounts/*', 'accounts*', '*', 'users/password', 'a.b:c@d_e-f'].map((resource) => ({ resource, action: '*' }));
    const role = await createRole(t, permissions);
    expect((await linesNaming(`role:${role.id}`)).length).toBe(permissions.length);
    const hundred = Array.from({ length: 100 }, (_, i) => ({ resource: `resource-${i}`, action: 'get' }));
    const response = await h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).send({ permissions: hundred });
    expect(response.status).toBe(200);
    expect(await changesAt(t.tenantId, Number(response.headers['x-policy-revision']))).toHaveLength(107);
  });

  it('names are unique per organization in canonical form (409 NAME_TAKEN on body.name) and bounded', async () => {
    const t = await tenant();
    await createRole(t, [], 'Auditor');
    for (const name of ['Auditor', ' auditor ', 'ＡＵＤＩＴＯＲ']) {
      const response = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ code: 'IDE-0102', field: 'body.name' });
    }
    for (const name of ['', 'x'.repeat(101), 'tab\tname', 'nul\u0000']) {
      const response = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name });
      expect(response.status).toBe(400);
      expect(response.body.field).toBe('body.name');
    }
    await createRole(await tenant(), [], 'Auditor');
  });
});

describe('roles: atomicity, concurrency, built-ins and tenants', () => {
  it('when the transaction fails after the permission lines were written, the role, its rows, its lines and the revision roll back', async () => {
    const t = await tenant();
    const before = await revisionOf(t.tenantId);
    const response = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name: 'fail-audit-role', permissions: [{ resource: 'ledgers', action: 'get' }] });
    expect(response.status).toBe(500);
    expect(await countRows(`roles WHERE org_id = $1`, [t.tenantId])).toBe(0);
    expect(await countRows(`role_permissions WHERE org_id = $1`, [t.tenantId])).toBe(0);
    expect(await countRows(`casbin WHERE rule->>0 LIKE 'role:%' AND rule->>1 = $1`, [t.tenantId])).toBe(0);
    expect(await revisionOf(t.tenantId)).toBe(before);
    expect(h.deps.engine.revisionOf(t.tenantId)).toBe(before);
  });

  it('concurrent permission replacements with the same If-Match: exactly one 200, the rest 412, and the lines match the winner', async () => {
    const t = await tenant();
    const role = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const results = await Promise.all(
      ['accounts', 'assets', 'portfolios', 'segments'].map((resource) =>
        h.http().put(`/v1/roles/${role.id}/permissions`).set('Authorization', t.auth).set('If-Match', '"1"').send({ permissions: [{ resource, action: 'get' }] }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = results.find((r) => r.status === 200);
    expect(await linesNaming(`role:${role.id}`)).toEqual([[`role:${role.id}`, t.tenantId, winner?.body.permissions[0].resource, 'get', 'allow']]);
    const patches = await Promise.all(
      ['x', 'y', 'z'].map((n) => h.http().patch(`/v1/roles/${role.id}`).set('Authorization', t.auth).set('If-Match', '"2"').send({ name: `raced ${n}` })),
    );
    expect(patches.map((r) => r.status).sort()).toEqual([200, 412, 412]);
  });

  it('a built-in role cannot be renamed, re-described, re-permissioned or deleted (409 BUILTIN_READ_ONLY); a group may still hold it', async () => {
    const t = await tenant();
    const { rows } = await h.deps.pool.query(`INSERT INTO roles (org_id, name, builtin) VALUES ($1, 'midaz-viewer-role', true) RETURNING id::text`, [t.tenantId]);
    const id: string = rows[0].id;
    await h.deps.pool.query(`INSERT INTO role_permissions (org_id, role_id, resource, action, effect) VALUES ($1, $2, 'ledgers', 'get', 'allow')`, [t.tenantId, id]);
    for (const response of [
      await h.http().patch(`/v1/roles/${id}`).set('Authorization', t.auth).send({ name: 'renamed' }),
      await h.http().patch(`/v1/roles/${id}`).set('Authorization', t.auth).send({ description: 'changed' }),
      await h.http().patch(`/v1/roles/${id}`).set('Authorization', t.auth).send({ permissions: [] }),
      await h.http().put(`/v1/roles/${id}/permissions`).set('Authorization', t.auth).send({ permissions: [{ resource: '*', action: '*' }] }),
      await h.http().delete(`/v1/roles/${id}`).set('Authorization', t.auth),
    ]) {
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('IDE-0107');
    }
    const unchanged = await h.http().put(`/v1/roles/${id}/permissions`).set('Authorization', t.auth).send({ permissions: [{ resource: 'ledgers', action: 'get' }] });
    expect(unchanged.status).toBe(200);
    const group = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name: 'viewers', roles: [id] });
    expect(group.status).toBe(201);
    const read = await h.http().get(`/v1/roles/${id}`).set('Authorization', t.auth);
    expect(read.body).toMatchObject({ name: 'midaz-viewer-role', builtin: true, permissions: [{ resource: 'ledgers', action: 'get', effect: 'allow' }] });
    expect(read.headers.etag).toBe('"1"');
  });

  it('a token of tenant A can neither see nor change tenant B’s roles by id or list; B’s policy is untouched', async () => {
    const a = await tenant();
    const b = await tenant();
    const bRole = await createRole(b, [{ resource: 'ledgers', action: 'get' }], 'same-name');
    const aRole = await createRole(a, [], 'same-name');
    const holder = await userHolding(b, [bRole.id]);
    const bRevision = await revisionOf(b.tenantId);
    const list = await h.http().get('/v1/roles?limit=100').set('Authorization', a.auth);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([aRole.id]);
    expect(list.body.total).toBe(1);
    for (const request of [
      h.http().get(`/v1/roles/${bRole.id}`),
      h.http().get(`/v1/roles/${bRole.id}/permissions`),
      h.http().patch(`/v1/roles/${bRole.id}`).send({ name: 'taken over' }),
      h.http().put(`/v1/roles/${bRole.id}/permissions`).send({ permissions: [{ resource: '*', action: '*' }] }),
      h.http().delete(`/v1/roles/${bRole.id}`),
    ]) {
      expect((await request.set('Authorization', a.auth)).status).toBe(404);
    }
    expect(await revisionOf(b.tenantId)).toBe(bRevision);
    expect(await linesNaming(`role:${bRole.id}`)).toEqual([
      [`role:${bRole.id}`, b.tenantId, 'ledgers', 'get', 'allow'],
      [`group:${holder.groupId}`, `role:${bRole.id}`, b.tenantId],
    ]);
    const read = await h.http().get(`/v1/roles/${bRole.id}`).set('Authorization', b.auth);
    expect(read.body.name).toBe('same-name');
    expect(read.headers.etag).toBe('"1"');
    expect(await may(b.tenantId, `user:${holder.userId}`, 'ledgers', 'get')).toBe(true);
  });

  it('lists page by name with page/limit or a keyset cursor and carry each role’s permissions', async () => {
    const t = await tenant();
    for (const name of ['r-c', 'r-a', 'r-b']) await createRole(t, [{ resource: name, action: 'get' }], name);
    const first = await h.http().get('/v1/roles?limit=2').set('Authorization', t.auth);
    expect(first.body).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(first.body.items.map((r: { name: string; permissions: { resource: string }[] }) => [r.name, r.permissions[0]?.resource])).toEqual([
      ['r-a', 'r-a'],
      ['r-b', 'r-b'],
    ]);
    const rest = await h.http().get(`/v1/roles?limit=2&cursor=${first.body.nextCursor}`).set('Authorization', t.auth);
    expect(rest.body.items.map((r: { name: string }) => r.name)).toEqual(['r-c']);
  });

  it('a caller needs roles:get to read and roles:post/patch/delete to write', async () => {
    const t = await tenant();
    const role = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const readerId = await h.createUser(t.tenantId);
    await h.grant(t.tenantId, `user:${readerId}`, [['roles', 'get']]);
    const reader = `Bearer ${await h.token({ sub: readerId, tenantId: t.tenantId })}`;
    expect((await h.http().get(`/v1/roles/${role.id}/permissions`).set('Authorization', reader)).status).toBe(200);
    for (const request of [
      h.http().post('/v1/roles').send({ name: 'nope' }),
      h.http().patch(`/v1/roles/${role.id}`).send({ name: 'nope' }),
      h.http().put(`/v1/roles/${role.id}/permissions`).send({ permissions: [{ resource: '*', action: '*' }] }),
      h.http().delete(`/v1/roles/${role.id}`),
    ]) {
      expect((await request.set('Authorization', reader)).status).toBe(403);
    }
    expect(await linesNaming(`role:${role.id}`)).toHaveLength(1);
  });

  it('the OpenAPI document describes the permission format: one PermissionEntry, shared with application permission sets', async () => {
    const response = await h.http().get('/openapi.json');
    const schemas = response.body.components.schemas;
    expect(Object.keys(schemas.PermissionEntry.properties).sort()).toEqual(['action', 'effect', 'resource']);
    expect(schemas.PermissionEntry.properties.effect.enum).toEqual(['allow', 'deny']);
    for (const path of ['/v1/roles/{id}/permissions', '/v1/applications/{id}/permissions']) {
      const body = response.body.paths[path].put.requestBody.content['application/json'].schema;
      expect(body.properties.permissions.items, path).toEqual({ $ref: '#/components/schemas/PermissionEntry' });
    }
    expect(Object.keys(response.body.paths)).toEqual(expect.arrayContaining(['/v1/roles', '/v1/roles/{id}', '/v1/roles/{id}/permissions']));
    expect(Object.keys(response.body.paths['/v1/roles/{id}/permissions'])).toEqual(expect.arrayContaining(['get', 'put']));
  });
});
