import { randomUUID } from 'node:crypto';
import type supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgPolicyTransaction } from '../../engine/adapters/index.js';
import { delegate, expectEscalationRefused, helpDeskGrants } from '../../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;

beforeAll(async () => {
  h = await createIdentityHarness('groups');
  // Fault injection for the atomicity tests: an audit insert for a group named `fail-audit-*` fails, after the
  // group, its role links and its policy lines were written in the same transaction.
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

async function tenant(): Promise<Tenant> {
  const tenantId = await h.createOrganization();
  const admin = await h.admin(tenantId);
  return { tenantId, auth: `Bearer ${admin.token}` };
}

async function createRole(t: Tenant, permissions: object[], name = `role-${randomUUID().slice(0, 8)}`): Promise<string> {
  const response = await h.http().post('/v1/roles').set('Authorization', t.auth).send({ name, permissions });
  expect(response.status).toBe(201);
  return response.body.id;
}

async function createGroup(t: Tenant, body: object): Promise<{ id: string; revision: number; body: Record<string, unknown> }> {
  const response = await h.http().post('/v1/groups').set('Authorization', t.auth).send(body);
  expect(response.status).toBe(201);
  return { id: response.body.id, revision: Number(response.headers['x-policy-revision']), body: response.body };
}

async function addMember(t: Tenant, groupId: string, userId: string): Promise<number> {
  const response = await h.http().put(`/v1/groups/${groupId}/members/${userId}`).set('Authorization', t.auth);
  expect([200, 201]).toContain(response.status);
  return Number(response.headers['x-policy-revision']);
}

async function mayGetLedgers(tenantId: string, subject: string, minRevision?: number): Promise<boolean> {
  const decision = await h.deps.engine.decide({ sub: subject, dom: tenantId, obj: 'ledgers', act: 'get' }, minRevision === undefined ? {} : { minRevision });
  return decision.allowed;
}

async function revisionOf(tenantId: string): Promise<number> {
  const { rows } = await h.deps.pool.query('SELECT revision FROM policy_revision WHERE tenant_id = $1', [tenantId]);
  return Number(rows[0]?.revision ?? 0);
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

describe('groups: membership and roles become policy', () => {
  it('a member of a group holding a role is allowed at the revision the write answered; removing the member denies again', async () => {
    const t = await tenant();
    const roleId = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const group = await createGroup(t, { name: 'Ledger readers', description: 'read ledgers', roles: [roleId] });
    expect(group.body).toMatchObject({ name: 'Ledger readers', description: 'read ledgers', builtin: false, users: [], roles: [roleId] });
    const userId = await h.createUser(t.tenantId, { username: `reader-${randomUUID().slice(0, 6)}` });
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`)).toBe(false);

    const added = await h.http().put(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth);
    expect(added.status).toBe(201);
    const revision = Number(added.headers['x-policy-revision']);
    expect(added.body).toMatchObject({ id: userId, policyRevision: revision });
    expect(revision).toBeGreaterThan(group.revision);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`, revision)).toBe(true);
    expect(await linesNaming(`user:${userId}`)).toEqual([[`user:${userId}`, `group:${group.id}`, t.tenantId]]);

    const read = await h.http().get(`/v1/groups/${group.id}`).set('Authorization', t.auth);
    expect(read.body.users).toEqual([added.body.username]);

    const removed = await h.http().delete(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth);
    expect(removed.status).toBe(204);
    const after = Number(removed.headers['x-policy-revision']);
    expect(after).toBeGreaterThan(revision);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`, after)).toBe(false);
    expect(await linesNaming(`user:${userId}`)).toEqual([]);
  });

  it('adding and removing a member is idempotent: a repeat changes nothing and keeps the revision', async () => {
    const t = await tenant();
    const group = await createGroup(t, { name: 'idempotent' });
    const userId = await h.createUser(t.tenantId);
    const first = await h.http().put(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth);
    const second = await h.http().put(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.headers['x-policy-revision']).toBe(first.headers['x-policy-revision']);
    expect(second.body.addedAt).toBe(first.body.addedAt);
    const removals = [
      await h.http().delete(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth),
      await h.http().delete(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth),
    ];
    expect(removals.map((r) => r.status)).toEqual([204, 204]);
    expect(removals[1]?.headers['x-policy-revision']).toBe(removals[0]?.headers['x-policy-revision']);
    const { rows } = await h.deps.pool.query(`SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id`, [group.id]);
    expect(rows.map((r) => r.action)).toEqual(['group.create', 'group.member.add', 'group.member.remove']);
  });

  it('deleting a group removes its policy (the engine denies afterwards); while it has members it is 409 and nothing changes', async () => {
    const t = await tenant();
    const roleId = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const group = await createGroup(t, { name: 'to delete', roles: [roleId] });
    const userId = await h.createUser(t.tenantId);
    const revision = await addMember(t, group.id, userId);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`, revision)).toBe(true);

    const refused = await h.http().delete(`/v1/groups/${group.id}`).set('Authorization', t.auth);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('IDE-0106');
    expect(await countRows('groups WHERE id = $1', [group.id])).toBe(1);
    expect(await countRows('group_members WHERE group_id = $1', [group.id])).toBe(1);
    expect(await countRows('group_roles WHERE group_id = $1', [group.id])).toBe(1);
    expect(await revisionOf(t.tenantId)).toBe(revision);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`)).toBe(true);

    await h.http().delete(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth).expect(204);
    expect(await mayGetLedgers(t.tenantId, `group:${group.id}`)).toBe(true);
    const deleted = await h.http().delete(`/v1/groups/${group.id}`).set('Authorization', t.auth);
    expect(deleted.status).toBe(204);
    const after = Number(deleted.headers['x-policy-revision']);
    expect(await mayGetLedgers(t.tenantId, `group:${group.id}`, after)).toBe(false);
    expect(await linesNaming(`group:${group.id}`)).toEqual([]);
    expect(await countRows('group_roles WHERE group_id = $1', [group.id])).toBe(0);
    // A later member add finds no group, so the user can never reach the role through it again.
    expect((await h.http().put(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth)).status).toBe(404);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`)).toBe(false);
    expect((await h.http().get(`/v1/roles/${roleId}`).set('Authorization', t.auth)).status).toBe(200);
  });

  it('PATCH roles replaces the held roles and writes exactly the changed g lines; PUT/DELETE of one role are idempotent', async () => {
    const t = await tenant();
    const reader = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const writer = await createRole(t, [{ resource: 'ledgers', action: 'post' }]);
    const group = await createGroup(t, { name: 'switching', roles: [reader] });
    const subject = `group:${group.id}`;

    const patched = await h.http().patch(`/v1/groups/${group.id}`).set('Authorization', t.auth).set('If-Match', '"1"').send({ roles: [writer, writer] });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.body.roles).toEqual([writer]);
    const revision = Number(patched.headers['x-policy-revision']);
    const { rows } = await h.deps.pool.query('SELECT changes FROM policy_change WHERE tenant_id = $1 AND revision = $2', [t.tenantId, revision]);
    expect(rows[0].changes).toEqual(
      expect.arrayContaining([
        { op: 'remove', rule: { ptype: 'g', values: [subject, `role:${reader}`, t.tenantId] } },
        { op: 'add', rule: { ptype: 'g', values: [subject, `role:${writer}`, t.tenantId] } },
      ]),
    );
    expect(rows[0].changes).toHaveLength(2);
    expect(await mayGetLedgers(t.tenantId, subject, revision)).toBe(false);

    const put = await h.http().put(`/v1/groups/${group.id}/roles/${reader}`).set('Authorization', t.auth);
    expect(put.status).toBe(200);
    expect(put.headers.etag).toBe('"3"');
    expect([...put.body.roles].sort()).toEqual([reader, writer].sort());
    expect(await mayGetLedgers(t.tenantId, subject, Number(put.headers['x-policy-revision']))).toBe(true);
    const again = await h.http().put(`/v1/groups/${group.id}/roles/${reader}`).set('Authorization', t.auth);
    expect(again.status).toBe(200);
    expect(again.headers.etag).toBe('"3"');
    expect(again.headers['x-policy-revision']).toBe(put.headers['x-policy-revision']);

    const stale = await h.http().delete(`/v1/groups/${group.id}/roles/${reader}`).set('Authorization', t.auth).set('If-Match', '"2"');
    expect(stale.status).toBe(412);
    const unlinked = await h.http().delete(`/v1/groups/${group.id}/roles/${reader}`).set('Authorization', t.auth).set('If-Match', '"3"');
    expect(unlinked.status).toBe(200);
    expect(unlinked.body.roles).toEqual([writer]);
    expect(await mayGetLedgers(t.tenantId, subject, Number(unlinked.headers['x-policy-revision']))).toBe(false);
    expect((await h.http().delete(`/v1/groups/${group.id}/roles/${reader}`).set('Authorization', t.auth)).status).toBe(200);
  });

  it('a PATCH that changes nothing answers the group unchanged: no new version, revision or audit event', async () => {
    const t = await tenant();
    const roleId = await createRole(t, []);
    const group = await createGroup(t, { name: 'steady', description: 'same', roles: [roleId] });
    const response = await h.http().patch(`/v1/groups/${group.id}`).set('Authorization', t.auth).send({ name: ' steady ', description: 'same', roles: [roleId] });
    expect(response.status).toBe(200);
    expect(response.headers.etag).toBe('"1"');
    expect(Number(response.headers['x-policy-revision'])).toBe(group.revision);
    expect(await countRows(`audit_events WHERE target_id = $1 AND action = 'group.update'`, [group.id])).toBe(0);
  });

  it('ids are matched whatever their case, and the policy always names the canonical lower-case id', async () => {
    const t = await tenant();
    const roleId = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const group = await createGroup(t, { name: 'case', roles: [roleId.toUpperCase()] });
    expect(group.body.roles).toEqual([roleId]);
    const userId = await h.createUser(t.tenantId);
    const revision = await addMember(t, group.id.toUpperCase(), userId.toUpperCase());
    expect(await linesNaming(`user:${userId}`)).toEqual([[`user:${userId}`, `group:${group.id}`, t.tenantId]]);
    expect(await mayGetLedgers(t.tenantId, `user:${userId}`, revision)).toBe(true);
  });
});

describe('groups: no escalation (binding a role, or joining a group, needs every permission it gives)', () => {
  // The help desk: users, groups, roles and applications (get, post, patch), and reading ledgers.
  const deskGrants = [...helpDeskGrants, ['ledgers', 'get']] as const;

  async function setUp() {
    const t = await tenant();
    const desk = await delegate(h, t.tenantId, deskGrants);
    const admins = await createRole(t, [{ resource: '*', action: '*' }]);
    const readers = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const adminGroup = await createGroup(t, { name: 'admins', roles: [admins] });
    const readerGroup = await createGroup(t, { name: 'readers', roles: [readers] });
    return { t, desk, admins, readers, adminGroup: adminGroup.id, readerGroup: readerGroup.id };
  }

  it('giving a group a role the writer does not fully hold is 403 naming what is missing, by POST, PATCH or PUT; nothing is written', async () => {
    const { desk, admins, readers, readerGroup } = await setUp();
    const missing = [{ resource: '*', action: '*' }];
    await expectEscalationRefused(h, () => h.http().post('/v1/groups').set('Authorization', desk.auth).send({ name: 'mine', roles: [readers, admins] }), missing);
    await expectEscalationRefused(h, () => h.http().patch(`/v1/groups/${readerGroup}`).set('Authorization', desk.auth).send({ roles: [readers, admins] }), missing);
    await expectEscalationRefused(h, () => h.http().put(`/v1/groups/${readerGroup}/roles/${admins}`).set('Authorization', desk.auth), missing);
  });

  it('joining a group (oneself or anyone) needs every permission of every role the group holds; within holdings it is allowed', async () => {
    const { desk, adminGroup, readerGroup, readers, t } = await setUp();
    await expectEscalationRefused(h, () => h.http().put(`/v1/groups/${adminGroup}/members/${desk.userId}`).set('Authorization', desk.auth), [{ resource: '*', action: '*' }]);
    const other = await h.createUser(t.tenantId);
    await expectEscalationRefused(h, () => h.http().put(`/v1/groups/${adminGroup}/members/${other}`).set('Authorization', desk.auth), [{ resource: '*', action: '*' }]);
    expect((await h.http().put(`/v1/groups/${readerGroup}/members/${other}`).set('Authorization', desk.auth)).status).toBe(201);
    // A role reached through another role counts: the group's roles are read through their whole chain.
    const chained = await createRole(t, [{ resource: 'audit', action: 'get' }]);
    await h.writePolicy(t.tenantId, [{ op: 'add', rule: { ptype: 'g', values: [`role:${readers}`, `role:${chained}`, t.tenantId] } }]);
    const third = await h.createUser(t.tenantId);
    await expectEscalationRefused(h, () => h.http().put(`/v1/groups/${readerGroup}/members/${third}`).set('Authorization', desk.auth), [{ resource: 'audit', action: 'get' }]);
  });

  it('a built-in group is no exception: joining it is checked the same way', async () => {
    const { t, desk, admins } = await setUp();
    const { rows } = await h.deps.pool.query(`INSERT INTO groups (org_id, name, builtin) VALUES ($1, 'admin-group', true) RETURNING id::text`, [t.tenantId]);
    await h.deps.pool.query('INSERT INTO group_roles (org_id, group_id, role_id) VALUES ($1, $2, $3)', [t.tenantId, rows[0].id, admins]);
    await h.writePolicy(t.tenantId, [{ op: 'add', rule: { ptype: 'g', values: [`group:${rows[0].id}`, `role:${admins}`, t.tenantId] } }]);
    await expectEscalationRefused(h, () => h.http().put(`/v1/groups/${rows[0].id}/members/${desk.userId}`).set('Authorization', desk.auth), [{ resource: '*', action: '*' }]);
    expect((await h.http().put(`/v1/groups/${rows[0].id}/members/${desk.userId}`).set('Authorization', t.auth)).status).toBe(201);
  });

  it('unbinding a role with deny lines, or leaving its group, lifts the denies: refused unless the writer holds what they blocked', async () => {
    const { t, desk, readerGroup } = await setUp();
    const fence = await createRole(t, [{ resource: 'organizations', action: '*', effect: 'deny' }]);
    expect((await h.http().put(`/v1/groups/${readerGroup}/roles/${fence}`).set('Authorization', desk.auth)).status).toBe(200);
    const member = await h.createUser(t.tenantId);
    await addMember(t, readerGroup, member);
    await expectEscalationRefused(h, () => h.http().delete(`/v1/groups/${readerGroup}/roles/${fence}`).set('Authorization', desk.auth), [{ resource: 'organizations', action: '*' }]);
    await expectEscalationRefused(h, () => h.http().delete(`/v1/groups/${readerGroup}/members/${member}`).set('Authorization', desk.auth), [{ resource: 'organizations', action: '*' }]);
  });

  it('the check reads the policy under the tenant lock: a holding taken away by a write in flight is seen, never a stale allow', async () => {
    const { t, desk, readerGroup } = await setUp();
    const other = await h.createUser(t.tenantId);
    // Another writer (another Identity replica) takes the desk's `ledgers get` away and has not committed yet.
    const client = await h.deps.pool.connect();
    let joined: Promise<supertest.Response> | undefined;
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await client.query('BEGIN');
      // Its commit below is never followed by `committed()`: nothing is announced to this process.
      await h.deps.engine.writeWithin(openPgPolicyTransaction(client), t.tenantId, [{ op: 'remove', rule: { ptype: 'p', values: [desk.subject, t.tenantId, 'ledgers', 'get', 'allow'] } }]);
      joined = h.http().put(`/v1/groups/${readerGroup}/members/${other}`).set('Authorization', desk.auth).then((response) => response);
      const deadline = Date.now() + 5_000;
      const blockedBehind = async () =>
        (await h.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [rows[0]?.pid])).rows[0]?.n ?? 0;
      while ((await blockedBehind()) === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      expect(await blockedBehind()).toBe(1);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    // This process never saw that write announced: the check caught up to the locked revision before deciding.
    const response = await joined;
    expect(response?.status).toBe(403);
    expect(response?.body.missing).toEqual([{ resource: 'ledgers', action: 'get' }]);
    expect(await countRows('group_members WHERE group_id = $1 AND user_id = $2', [readerGroup, other])).toBe(0);
  });

  it('deleting a group without members lifts nothing for anyone: allowed even when its roles hold denies the writer lacks', async () => {
    const { t } = await setUp();
    const fence = await createRole(t, [{ resource: 'organizations', action: '*', effect: 'deny' }]);
    const empty = await createGroup(t, { name: 'fenced-empty', roles: [fence] });
    const deleter = await delegate(h, t.tenantId, [...deskGrants, ['groups', 'delete']]);
    expect((await h.http().delete(`/v1/groups/${empty.id}`).set('Authorization', deleter.auth)).status).toBe(204);
    expect(await linesNaming(`group:${empty.id}`)).toEqual([]);
  });

  it('an escalation holder (the administrator) binds any role and adds anyone to any group', async () => {
    const { t, admins, readerGroup, adminGroup, desk } = await setUp();
    expect((await h.http().put(`/v1/groups/${readerGroup}/roles/${admins}`).set('Authorization', t.auth)).status).toBe(200);
    expect((await h.http().put(`/v1/groups/${adminGroup}/members/${desk.userId}`).set('Authorization', t.auth)).status).toBe(201);
    expect(await h.deps.engine.decide({ sub: desk.subject, dom: t.tenantId, obj: 'organizations', act: 'delete' })).toMatchObject({ allowed: true });
  });
});

describe('groups: a failed write leaves neither rows nor policy nor a new revision', () => {
  it('a role of another tenant among the roles is 400 REFERENCE_NOT_FOUND naming it, and nothing is written', async () => {
    const t = await tenant();
    const other = await tenant();
    const own = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const foreign = await createRole(other, [{ resource: 'ledgers', action: 'get' }]);
    const before = await revisionOf(t.tenantId);
    const created = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name: 'mixed', roles: [own, foreign] });
    expect(created.status).toBe(400);
    expect(created.body).toMatchObject({ code: 'IDE-0108', field: 'body.roles.1' });
    expect(await countRows(`groups WHERE org_id = $1 AND name = 'mixed'`, [t.tenantId])).toBe(0);
    expect(await countRows('group_roles WHERE role_id = ANY($1::uuid[])', [[own, foreign]])).toBe(0);
    expect(await linesNaming(`role:${own}`)).toEqual([[`role:${own}`, t.tenantId, 'ledgers', 'get', 'allow']]);
    expect(await revisionOf(t.tenantId)).toBe(before);

    const group = await createGroup(t, { name: 'kept', roles: [own] });
    const patched = await h.http().patch(`/v1/groups/${group.id}`).set('Authorization', t.auth).send({ name: 'renamed', roles: [foreign] });
    expect(patched.status).toBe(400);
    expect(patched.body.field).toBe('body.roles.0');
    const read = await h.http().get(`/v1/groups/${group.id}`).set('Authorization', t.auth);
    expect(read.body).toMatchObject({ name: 'kept', roles: [own] });
    expect(read.headers.etag).toBe('"1"');
    expect(await revisionOf(t.tenantId)).toBe(group.revision);
  });

  it('when the transaction fails after the policy lines were written, the group, its role links, its lines and the revision roll back', async () => {
    const t = await tenant();
    const roleId = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    const before = await revisionOf(t.tenantId);
    const response = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name: 'fail-audit-group', roles: [roleId] });
    expect(response.status).toBe(500);
    expect(JSON.stringify(response.body)).not.toMatch(/injected|SELECT|INSERT/);
    expect(await countRows(`groups WHERE org_id = $1 AND name = 'fail-audit-group'`, [t.tenantId])).toBe(0);
    expect(await countRows('group_roles WHERE role_id = $1', [roleId])).toBe(0);
    expect(await linesNaming(`role:${roleId}`)).toEqual([[`role:${roleId}`, t.tenantId, 'ledgers', 'get', 'allow']]);
    expect(await revisionOf(t.tenantId)).toBe(before);
    expect(h.deps.engine.revisionOf(t.tenantId)).toBe(before);
  });
});

describe('groups: validation, names and concurrency', () => {
  it('names are trimmed and unique per organization in canonical form (409 NAME_TAKEN on body.name); other organizations may reuse them', async () => {
    const t = await tenant();
    const created = await createGroup(t, { name: '  Operators  ' });
    expect(created.body.name).toBe('Operators');
    for (const name of ['Operators', 'operators', 'ＯＰＥＲＡＴＯＲＳ']) {
      const dup = await h.http().post('/v1/groups').set('Authorization', t.auth).send({ name });
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ code: 'IDE-0102', field: 'body.name' });
    }
    const other = await createGroup(t, { name: 'Other' });
    const rename = await h.http().patch(`/v1/groups/${other.id}`).set('Authorization', t.auth).send({ name: 'OPERATORS' });
    expect(rename.status).toBe(409);
    expect(rename.body.field).toBe('body.name');
    expect((await h.http().patch(`/v1/groups/${created.id}`).set('Authorization', t.auth).send({ name: 'operators' })).status).toBe(200);
    await createGroup(await tenant(), { name: 'Operators' });
  });

  it('a bad body or id is 400 naming the field, and nothing is written', async () => {
    const t = await tenant();
    const group = await createGroup(t, { name: 'valid' });
    for (const [body, field] of [
      [{}, 'body.name'],
      [{ name: '' }, 'body.name'],
      [{ name: '   ' }, 'body.name'],
      [{ name: 'x'.repeat(101) }, 'body.name'],
      [{ name: 'bad\u0000name' }, 'body.name'],
      [{ name: 'bad\nname' }, 'body.name'],
      [{ name: 'bad\u202Ename\u0007' }, 'body.name'],
      // A right-to-left override alone: a console would show another name than the one stored.
      [{ name: 'admins\u202Esresu' }, 'body.name'],
      [{ name: 'admins\u2066x\u2069' }, 'body.name'],
      [{ name: 'ok', description: 'x'.repeat(1001) }, 'body.description'],
      [{ name: 'ok', description: 'bell\u0007' }, 'body.description'],
      [{ name: 'ok', roles: ['not-a-uuid'] }, 'body.roles.0'],
      [{ name: 'ok', roles: 'x' }, 'body.roles'],
      [{ name: 'ok', tenantId: randomUUID() }, 'body'],
      [{ name: 'ok', builtin: true }, 'body'],
    ] as const) {
      const response = await h.http().post('/v1/groups').set('Authorization', t.auth).send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.field, JSON.stringify(body)).toBe(field);
    }
    expect((await h.http().patch(`/v1/groups/${group.id}`).set('Authorization', t.auth).send({})).status).toBe(400);
    expect((await h.http().get('/v1/groups/not-a-uuid').set('Authorization', t.auth)).status).toBe(400);
    expect((await h.http().get(`/v1/groups/${randomUUID()}`).set('Authorization', t.auth)).status).toBe(404);
    expect((await h.http().get('/v1/groups?limit=101').set('Authorization', t.auth)).body.field).toBe('query.limit');
    expect((await h.http().get('/v1/groups?cursor=nonsense').set('Authorization', t.auth)).body.field).toBe('query.cursor');
    const forgedCursor = Buffer.from(JSON.stringify(['a', 'not-a-uuid'])).toString('base64url');
    expect((await h.http().get(`/v1/groups?cursor=${forgedCursor}`).set('Authorization', t.auth)).status).toBe(400);
    expect(await countRows('groups WHERE org_id = $1', [t.tenantId])).toBe(1);
  });

  it('a description keeps line breaks and tabs', async () => {
    const t = await tenant();
    const group = await createGroup(t, { name: 'described', description: 'first line\n\tsecond line' });
    expect(group.body.description).toBe('first line\n\tsecond line');
  });

  it('concurrent PATCHes with the same If-Match: exactly one 200, the rest 412', async () => {
    const t = await tenant();
    const group = await createGroup(t, { name: 'raced' });
    const results = await Promise.all(
      ['A', 'B', 'C', 'D'].map((n) => h.http().patch(`/v1/groups/${group.id}`).set('Authorization', t.auth).set('If-Match', '"1"').send({ name: `raced ${n}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const { rows } = await h.deps.pool.query('SELECT version FROM groups WHERE id = $1', [group.id]);
    expect(rows[0].version).toBe(2);
  });

  it('a member added while the group is being deleted is either refused with 404 or blocks the delete with 409, never both succeeding', async () => {
    const t = await tenant();
    for (let round = 0; round < 5; round++) {
      const group = await createGroup(t, { name: `race-${round}` });
      const userId = await h.createUser(t.tenantId);
      const [add, del] = await Promise.all([
        h.http().put(`/v1/groups/${group.id}/members/${userId}`).set('Authorization', t.auth),
        h.http().delete(`/v1/groups/${group.id}`).set('Authorization', t.auth),
      ]);
      expect([
        [201, 409],
        [404, 204],
      ]).toContainEqual([add.status, del.status]);
      expect(await countRows('group_members WHERE user_id = $1', [userId])).toBe(add.status === 201 ? 1 : 0);
      expect((await linesNaming(`user:${userId}`)).length).toBe(add.status === 201 ? 1 : 0);
    }
  });

  it('lists page by name with page/limit or a keyset cursor; members page by username', async () => {
    const t = await tenant();
    const names = ['g-c', 'g-a', 'g-e', 'g-b', 'g-d'];
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, (await createGroup(t, { name })).id);
    const first = await h.http().get('/v1/groups?limit=2').set('Authorization', t.auth);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, limit: 2, total: 5 });
    expect(first.body.items.map((g: { name: string }) => g.name)).toEqual(['g-a', 'g-b']);
    const second = await h.http().get(`/v1/groups?limit=2&cursor=${first.body.nextCursor}`).set('Authorization', t.auth);
    expect(second.body.items.map((g: { name: string }) => g.name)).toEqual(['g-c', 'g-d']);
    const third = await h.http().get('/v1/groups?limit=2&page=3').set('Authorization', t.auth);
    expect(third.body.items.map((g: { name: string }) => g.name)).toEqual(['g-e']);
    expect(third.body.nextCursor).toBeUndefined();

    const groupId = ids.get('g-a') as string;
    const usernames = ['zoe', 'Adam', 'mia'].map((u) => `${u}-${randomUUID().slice(0, 4)}`);
    for (const username of usernames) await addMember(t, groupId, await h.createUser(t.tenantId, { username }));
    const sorted = [...usernames].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    const members = await h.http().get(`/v1/groups/${groupId}/members?limit=2`).set('Authorization', t.auth);
    expect(members.body).toMatchObject({ total: 3, limit: 2 });
    expect(members.body.items.map((m: { username: string }) => m.username)).toEqual(sorted.slice(0, 2));
    const rest = await h.http().get(`/v1/groups/${groupId}/members?limit=2&cursor=${members.body.nextCursor}`).set('Authorization', t.auth);
    expect(rest.body.items.map((m: { username: string }) => m.username)).toEqual(sorted.slice(2));
    const group = await h.http().get(`/v1/groups/${groupId}`).set('Authorization', t.auth);
    expect(group.body.users).toEqual(sorted);
    expect((await h.http().get(`/v1/groups/${randomUUID()}/members`).set('Authorization', t.auth)).status).toBe(404);
  });
});

describe('groups: built-in records and tenant isolation', () => {
  it('a built-in group cannot be renamed, described, given roles or deleted (409 BUILTIN_READ_ONLY); its members can change', async () => {
    const t = await tenant();
    const { rows } = await h.deps.pool.query(`INSERT INTO groups (org_id, name, builtin) VALUES ($1, 'admin-group', true) RETURNING id::text`, [t.tenantId]);
    const id: string = rows[0].id;
    const roleId = await createRole(t, [{ resource: 'ledgers', action: 'get' }]);
    for (const response of [
      await h.http().patch(`/v1/groups/${id}`).set('Authorization', t.auth).send({ name: 'renamed' }),
      await h.http().patch(`/v1/groups/${id}`).set('Authorization', t.auth).send({ description: 'changed' }),
      await h.http().patch(`/v1/groups/${id}`).set('Authorization', t.auth).send({ roles: [roleId] }),
      await h.http().put(`/v1/groups/${id}/roles/${roleId}`).set('Authorization', t.auth),
      await h.http().delete(`/v1/groups/${id}`).set('Authorization', t.auth),
    ]) {
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('IDE-0107');
    }
    expect((await h.http().patch(`/v1/groups/${id}`).set('Authorization', t.auth).send({ name: 'admin-group' })).status).toBe(200);
    const userId = await h.createUser(t.tenantId);
    expect((await h.http().put(`/v1/groups/${id}/members/${userId}`).set('Authorization', t.auth)).status).toBe(201);
    expect((await h.http().delete(`/v1/groups/${id}/members/${userId}`).set('Authorization', t.auth)).status).toBe(204);
    const read = await h.http().get(`/v1/groups/${id}`).set('Authorization', t.auth);
    expect(read.body).toMatchObject({ name: 'admin-group', description: '', builtin: true, roles: [] });
  });

  it('a token of tenant A can neither see nor change tenant B’s groups, roles or users, by id, list or body reference (404 / 400)', async () => {
    const a = await tenant();
    const b = await tenant();
    const bRole = await createRole(b, [{ resource: 'ledgers', action: 'get' }], 'shared-name');
    const bGroup = await createGroup(b, { name: 'shared-name', roles: [bRole] });
    const bUser = await h.createUser(b.tenantId);
    await addMember(b, bGroup.id, bUser);
    const aGroup = await createGroup(a, { name: 'shared-name' });
    const aRole = await createRole(a, [], 'a-role');
    const aUser = await h.createUser(a.tenantId);
    const bRevision = await revisionOf(b.tenantId);

    const list = await h.http().get('/v1/groups?limit=100').set('Authorization', a.auth);
    expect(list.body.items.map((g: { id: string }) => g.id)).toEqual([aGroup.id]);
    expect(list.body.total).toBe(1);
    for (const request of [
      h.http().get(`/v1/groups/${bGroup.id}`),
      h.http().get(`/v1/groups/${bGroup.id}/members`),
      h.http().patch(`/v1/groups/${bGroup.id}`).send({ name: 'taken over' }),
      h.http().delete(`/v1/groups/${bGroup.id}`),
      h.http().put(`/v1/groups/${bGroup.id}/members/${aUser}`),
      h.http().delete(`/v1/groups/${bGroup.id}/members/${bUser}`),
      h.http().put(`/v1/groups/${aGroup.id}/members/${bUser}`),
      h.http().delete(`/v1/groups/${aGroup.id}/members/${bUser}`),
      h.http().put(`/v1/groups/${bGroup.id}/roles/${aRole}`),
      h.http().put(`/v1/groups/${aGroup.id}/roles/${bRole}`),
      h.http().delete(`/v1/groups/${bGroup.id}/roles/${bRole}`),
    ]) {
      const response = await request.set('Authorization', a.auth);
      expect(response.status).toBe(404);
    }
    for (const request of [
      h.http().post('/v1/groups').send({ name: 'steal', roles: [bRole] }),
      h.http().patch(`/v1/groups/${aGroup.id}`).send({ roles: [bRole] }),
    ]) {
      const response = await request.set('Authorization', a.auth);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'IDE-0108', field: 'body.roles.0' });
    }
    const read = await h.http().get(`/v1/groups/${bGroup.id}`).set('Authorization', b.auth);
    expect(read.body).toMatchObject({ name: 'shared-name', roles: [bRole], users: [expect.any(String)] });
    expect(read.headers.etag).toBe('"1"');
    expect(await revisionOf(b.tenantId)).toBe(bRevision);
    expect(await countRows('group_members WHERE user_id = $1', [aUser])).toBe(0);
    expect(await mayGetLedgers(b.tenantId, `user:${bUser}`)).toBe(true);
    expect(await mayGetLedgers(a.tenantId, `user:${bUser}`)).toBe(false);
  });

  it('a caller needs groups:get to read and groups:post/patch/delete to write', async () => {
    const t = await tenant();
    const group = await createGroup(t, { name: 'guarded' });
    const readerId = await h.createUser(t.tenantId);
    await h.grant(t.tenantId, `user:${readerId}`, [['groups', 'get']]);
    const reader = `Bearer ${await h.token({ sub: readerId, tenantId: t.tenantId })}`;
    expect((await h.http().get(`/v1/groups/${group.id}`).set('Authorization', reader)).status).toBe(200);
    for (const request of [
      h.http().post('/v1/groups').send({ name: 'nope' }),
      h.http().patch(`/v1/groups/${group.id}`).send({ name: 'nope' }),
      h.http().delete(`/v1/groups/${group.id}`),
      h.http().put(`/v1/groups/${group.id}/members/${readerId}`),
    ]) {
      expect((await request.set('Authorization', reader)).status).toBe(403);
    }
    expect(await countRows('group_members WHERE user_id = $1', [readerId])).toBe(0);
  });

  it('the OpenAPI document describes the group routes', async () => {
    const response = await h.http().get('/openapi.json');
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/v1/groups', '/v1/groups/{id}', '/v1/groups/{id}/members', '/v1/groups/{id}/members/{userId}', '/v1/groups/{id}/roles/{roleId}']),
    );
    expect(response.body.components.schemas.Group.required).toEqual(expect.arrayContaining(['id', 'name', 'createdAt', 'users', 'roles', 'builtin']));
  });
});
