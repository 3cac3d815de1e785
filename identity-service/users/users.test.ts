import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { delegate, expectEscalationRefused, helpDeskGrants } from '../../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';
import { recordSignInFailure } from '../../directory/account-sign-in-failures.js';
import { createIdentityApp } from '../app.js';
import { permissionLine, subjects } from '../../domain/policy-lines.js';

let h: IdentityHarness;
let orgA: string;
let orgB: string;
let adminA: { userId: string; token: string };
let adminB: { userId: string; token: string };
/** A hash for rows inserted directly (list tests): hashing each would cost ~50 ms. */
let spareHash: string;
let counter = 0;

const goodPassword = 'Tangerine-Kite-42';
const unique = (prefix: string) => `${prefix}${++counter}`;

beforeAll(async () => {
  h = await createIdentityHarness('users');
  orgA = await h.createOrganization();
  orgB = await h.createOrganization();
  adminA = await h.admin(orgA);
  adminB = await h.admin(orgB);
  spareHash = await h.deps.passwords.hash('Spare-Password-Nobody-Uses-1');
});
afterAll(async () => h.close());

const bearer = (token: string) => `Bearer ${token}`;
const asAdminA = () => bearer(adminA.token);

async function createGroup(tenantId: string, name = unique('group-')): Promise<string> {
  const { rows } = await h.deps.pool.query<{ id: string }>('INSERT INTO groups (org_id, name) VALUES ($1, $2) RETURNING id', [tenantId, name]);
  return rows[0]!.id;
}

/** A group whose role allows `ledgers:get`, written straight to the engine as Auth would see it. */
async function groupAllowingLedgers(tenantId: string): Promise<string> {
  const groupId = await createGroup(tenantId);
  await h.writePolicy(tenantId, [permissionLine('add', subjects.group(groupId), tenantId, 'ledgers', 'get')]);
  return groupId;
}

async function mayGetLedgers(tenantId: string, userId: string): Promise<boolean> {
  return (await h.deps.engine.decide({ sub: subjects.user(userId), dom: tenantId, obj: 'ledgers', act: 'get' })).allowed;
}

/** Inserts a user row without hashing (for list tests). */
async function insertUserRow(tenantId: string, username: string, email = `${username}@example.test`): Promise<string> {
  const { rows } = await h.deps.pool.query<{ id: string }>(
    `INSERT INTO users (org_id, username, username_canonical, email, email_canonical, first_name, last_name, password_hash)
     VALUES ($1, $2, lower($2), $3, lower($3), 'List', 'User', $4) RETURNING id`,
    [tenantId, username, email, spareHash],
  );
  return rows[0]!.id;
}

function newUserBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const username = unique('user.');
  return { firstName: 'Ada', lastName: 'Lovelace', username, email: `${username}@example.test`, password: goodPassword, groups: [], ...overrides };
}

async function createUser(overrides: Record<string, unknown> = {}, auth = asAdminA()): Promise<supertest.Response> {
  return h.http().post('/v1/users').set('Authorization', auth).send(newUserBody(overrides));
}

async function countRows(sql: string, values: unknown[]): Promise<number> {
  const { rows } = await h.deps.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values);
  return rows[0]!.n;
}

function expectNoSecrets(response: supertest.Response, ...secrets: string[]): void {
  const text = JSON.stringify(response.body);
  for (const secret of ['password_hash', 'passwordHash', '$argon2', ...secrets]) expect(text).not.toContain(secret);
}

describe('users: create, read, update', () => {
  it('creates a user with an argon2id hash and its groups (rows and policy lines), audited without secrets', async () => {
    const groupId = await groupAllowingLedgers(orgA);
    const created = await createUser({ username: 'Grace.Hopper', email: 'Grace@Example.test', groups: [groupId] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', username: 'Grace.Hopper', email: 'Grace@Example.test', groups: [groupId], status: 'active' });
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'email', 'firstName', 'groups', 'id', 'lastName', 'phoneNumber', 'status', 'updatedAt', 'username']);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers['x-policy-revision']).toBe(String(h.deps.engine.revisionOf(orgA)));
    expectNoSecrets(created, goodPassword);
    const id = created.body.id as string;

    const { rows } = await h.deps.pool.query('SELECT org_id, username_canonical, email_canonical, password_hash FROM users WHERE id = $1', [id]);
    expect(rows[0]).toMatchObject({ org_id: orgA, username_canonical: 'grace.hopper', email_canonical: 'grace@example.test' });
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(await h.deps.passwords.verify(rows[0].password_hash, goodPassword)).toBe(true);
    expect(await countRows('group_members WHERE user_id = $1 AND group_id = $2 AND org_id = $3', [id, groupId, orgA])).toBe(1);
    expect(await mayGetLedgers(orgA, id)).toBe(true);

    const audit = await h.deps.pool.query('SELECT action, actor, org_id, before, after::text AS after FROM audit_events WHERE target_id = $1', [id]);
    expect(audit.rows).toMatchObject([{ action: 'user.create', actor: subjects.user(adminA.userId), org_id: orgA, before: null }]);
    expect(audit.rows[0].after).not.toMatch(/argon2|password|Tangerine/i);

    const read = await h.http().get(`/v1/users/${id}`).set('Authorization', asAdminA());
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.headers.etag).toBe('"1"');
  });

  it('updates names, e-mail and groups under If-Match; the group removed no longer grants its role', async () => {
    const [keep, drop, join] = [await groupAllowingLedgers(orgA), await groupAllowingLedgers(orgA), await createGroup(orgA)];
    const created = await createUser({ groups: [keep, drop] });
    const id = created.body.id as string;
    expect(created.body.groups).toEqual([keep, drop].sort());

    const dropOnly = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).set('If-Match', '"1"').send({ groups: [drop, join] });
    expect(dropOnly.status).toBe(200);
    expect(dropOnly.body.groups).toEqual([drop, join].sort());
    expect(dropOnly.headers.etag).toBe('"2"');
    expect(Number(dropOnly.headers['x-policy-revision'])).toBe(h.deps.engine.revisionOf(orgA));
    expect(await mayGetLedgers(orgA, id)).toBe(true);

    const renamed = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).set('If-Match', '"2"').send({ firstName: '  Augusta ', email: 'augusta@example.test', groups: [join] });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ firstName: 'Augusta', lastName: 'Lovelace', email: 'augusta@example.test', groups: [join] });
    expect(await mayGetLedgers(orgA, id)).toBe(false);
    expect(await countRows('group_members WHERE user_id = $1', [id])).toBe(1);
    expect(await countRows("casbin WHERE ptype = 'g' AND rule->>0 = $1", [subjects.user(id)])).toBe(1);

    const audit = await h.deps.pool.query("SELECT before, after FROM audit_events WHERE target_id = $1 AND action = 'user.update' ORDER BY id", [id]);
    expect(audit.rows).toHaveLength(2);
    expect(audit.rows[1]).toMatchObject({ before: { firstName: 'Ada', groups: [drop, join].sort() }, after: { firstName: 'Augusta', groups: [join] } });
  });

  it('disabling revokes the user’s tokens at once; enabling does not revive them', async () => {
    const id = await h.createUser(orgA);
    await h.grant(orgA, subjects.user(id), [['users', 'get']]);
    const before = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) - 1 });
    expect((await h.http().get('/v1/users').set('Authorization', bearer(before))).status).toBe(200);

    const disabled = await h.http().post(`/v1/users/${id}/disable`).set('Authorization', asAdminA());
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect(disabled.headers['x-policy-revision']).toMatch(/^\d+$/);
    expect((await h.http().get('/v1/users').set('Authorization', bearer(before))).status).toBe(401);

    const enabled = await h.http().post(`/v1/users/${id}/enable`).set('Authorization', asAdminA());
    expect(enabled.status).toBe(200);
    expect(enabled.body.status).toBe('active');
    expect(enabled.headers.etag).toBe('"3"');
    expect((await h.http().get('/v1/users').set('Authorization', bearer(before))).status).toBe(401);
    const fresh = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) + 1 });
    expect((await h.http().get('/v1/users').set('Authorization', bearer(fresh))).status).toBe(200);
    const { rows } = await h.deps.pool.query("SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id", [id]);
    expect(rows.map((r) => r.action)).toEqual(['user.disable', 'user.enable']);
  });

  it('a revocation splits the second it falls in: a token Auth signed after it (iat_ms) works, one signed before does not', async () => {
    const id = await h.createUser(orgA);
    await h.grant(orgA, subjects.user(id), [['users', 'get']]);
    const second = Math.floor(Date.now() / 1000);
    await h.deps.pool.query('UPDATE users SET tokens_valid_after = to_timestamp($2::float8 + 0.6) WHERE id = $1', [id, second]);
    const signed = (ms?: number) => h.token({ sub: id, tenantId: orgA, issuedAtSeconds: second, ...(ms === undefined ? {} : { claims: { iat_ms: second * 1000 + ms } }) });
    // A sign-in right after a password change or a secret rotation, in the same second.
    expect((await h.http().get('/v1/users').set('Authorization', bearer(await signed(700)))).status).toBe(200);
    expect((await h.http().get('/v1/users').set('Authorization', bearer(await signed(500)))).status).toBe(401);
    // Without iat_ms the token counts from the start of its second: refused.
    expect((await h.http().get('/v1/users').set('Authorization', bearer(await signed()))).status).toBe(401);
  });

  it('deleting a user removes its memberships and their policy lines in one write: the engine denies what the group allowed', async () => {
    const groupId = await groupAllowingLedgers(orgA);
    const created = await createUser({ groups: [groupId] });
    const id = created.body.id as string;
    expect(await mayGetLedgers(orgA, id)).toBe(true);

    const deleted = await h.http().delete(`/v1/users/${id}`).set('Authorization', asAdminA());
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(Number(deleted.headers['x-policy-revision'])).toBe(h.deps.engine.revisionOf(orgA));
    expect(await mayGetLedgers(orgA, id)).toBe(false);
    expect(await countRows('users WHERE id = $1', [id])).toBe(0);
    expect(await countRows('group_members WHERE user_id = $1', [id])).toBe(0);
    expect(await countRows("casbin WHERE ptype = 'g' AND rule->>0 = $1", [subjects.user(id)])).toBe(0);
    const { rows } = await h.deps.pool.query("SELECT before FROM audit_events WHERE target_id = $1 AND action = 'user.delete'", [id]);
    expect(rows[0].before).toMatchObject({ id, groups: [groupId] });
    expect((await h.http().get(`/v1/users/${id}`).set('Authorization', asAdminA())).status).toBe(404);
    expect((await h.http().delete(`/v1/users/${id}`).set('Authorization', asAdminA())).status).toBe(404);
  });

  it('deleting a user also removes lines granted to user:<id> directly, not only its memberships: the engine denies', async () => {
    const groupId = await groupAllowingLedgers(orgA);
    const created = await createUser({ groups: [groupId] });
    const id = created.body.id as string;
    await h.grant(orgA, subjects.user(id), [['reports', 'get'], ['invoices', '*']]);
    const bystander = await h.createUser(orgA);
    await h.grant(orgA, subjects.user(bystander), [['reports', 'get']]);
    const may = async (userId: string, obj: string) => (await h.deps.engine.decide({ sub: subjects.user(userId), dom: orgA, obj, act: 'get' })).allowed;
    expect(await may(id, 'reports')).toBe(true);
    expect(await countRows('casbin WHERE rule->>0 = $1', [subjects.user(id)])).toBe(3);

    const deleted = await h.http().delete(`/v1/users/${id}`).set('Authorization', asAdminA());
    expect(deleted.status).toBe(204);
    expect(Number(deleted.headers['x-policy-revision'])).toBe(h.deps.engine.revisionOf(orgA));
    expect(await countRows('casbin WHERE rule->>0 = $1', [subjects.user(id)])).toBe(0);
    for (const obj of ['reports', 'invoices', 'ledgers']) expect(await may(id, obj), obj).toBe(false);
    // Only that subject's lines went: another user's identical grant stays.
    expect(await may(bystander, 'reports')).toBe(true);
  });

  it('a user delete racing member adds of that user never leaves a g line behind (the delete locks the user FOR UPDATE, then sweeps its lines)', async () => {
    const groupId = await createGroup(orgA);
    for (let round = 0; round < 10; round += 1) {
      const id = await insertUserRow(orgA, unique('race-'));
      const [deleted, added] = await Promise.all([
        h.http().delete(`/v1/users/${id}`).set('Authorization', asAdminA()),
        h.http().put(`/v1/groups/${groupId}/members/${id}`).set('Authorization', asAdminA()),
      ]);
      expect(deleted.status, `round ${round}`).toBe(204);
      // The add either committed first (then the delete removed its row and line) or found no user.
      expect([201, 404], `round ${round}`).toContain(added.status);
      expect(await countRows('users WHERE id = $1', [id])).toBe(0);
      expect(await countRows('group_members WHERE user_id = $1', [id])).toBe(0);
      expect(await countRows("casbin WHERE ptype = 'g' AND rule->>0 = $1", [subjects.user(id)]), `round ${round}`).toBe(0);
      expect((await h.deps.engine.decide({ sub: subjects.user(id), dom: orgA, obj: 'ledgers', act: 'get' })).allowed).toBe(false);
    }
  });

  it('group and user ids are accepted in upper case and stored, linked and answered in lower case (like the groups routes)', async () => {
    const groupId = await groupAllowingLedgers(orgA);
    const other = await createGroup(orgA);
    const created = await createUser({ groups: [groupId.toUpperCase(), groupId] });
    expect(created.status).toBe(201);
    expect(created.body.groups).toEqual([groupId]);
    const id = created.body.id as string;
    expect(await countRows("casbin WHERE ptype = 'g' AND rule->>0 = $1 AND rule->>1 = $2", [subjects.user(id), subjects.group(groupId)])).toBe(1);
    expect(await mayGetLedgers(orgA, id)).toBe(true);

    const upper = id.toUpperCase();
    const read = await h.http().get(`/v1/users/${upper}`).set('Authorization', asAdminA());
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, groups: [groupId] });
    const listed = await h.http().get(`/v1/users?group=${groupId.toUpperCase()}&limit=100`).set('Authorization', asAdminA());
    expect(listed.body.items.map((u: { id: string }) => u.id)).toContain(id);

    const patched = await h.http().patch(`/v1/users/${upper}`).set('Authorization', asAdminA()).send({ groups: [other.toUpperCase()] });
    expect(patched.status).toBe(200);
    expect(patched.body.groups).toEqual([other]);
    expect(await mayGetLedgers(orgA, id)).toBe(false);
    expect(await countRows("casbin WHERE ptype = 'g' AND rule->>0 = $1", [subjects.user(id)])).toBe(1);
    const disabled = await h.http().post(`/v1/users/${upper}/disable`).set('Authorization', asAdminA());
    expect(disabled.body).toMatchObject({ id, status: 'disabled', groups: [other] });

    expect((await h.http().delete(`/v1/users/${upper}`).set('Authorization', asAdminA())).status).toBe(204);
    expect(await countRows('casbin WHERE rule->>0 = $1', [subjects.user(id)])).toBe(0);
  });

  it('a built-in user cannot be deleted or disabled (the bootstrap reconciler owns it)', async () => {
    const id = await insertUserRow(orgA, unique('builtin-'));
    await h.deps.pool.query('UPDATE users SET builtin = true WHERE id = $1', [id]);
    expect((await h.http().delete(`/v1/users/${id}`).set('Authorization', asAdminA())).body.code).toBe('IDE-0107');
    expect((await h.http().post(`/v1/users/${id}/disable`).set('Authorization', asAdminA())).status).toBe(409);
    expect(await countRows("users WHERE id = $1 AND status = 'active'", [id])).toBe(1);
  });
});

describe('users: invalid input', () => {
  it('a bad body is 400 naming the field; extra fields (tenantId, role) are refused; nothing is written', async () => {
    const usersBefore = await countRows('users', []);
    for (const [overrides, field] of [
      [{ username: 'ab' }, 'body.username'],
      [{ username: 'a'.repeat(65) }, 'body.username'],
      [{ username: "o'brien; DROP TABLE users;--" }, 'body.username'],
      [{ username: 'name with space' }, 'body.username'],
      [{ email: 'not-an-email' }, 'body.email'],
      [{ email: `${'a'.repeat(250)}@example.test` }, 'body.email'],
      [{ firstName: '   ' }, 'body.firstName'],
      [{ firstName: 'x'.repeat(101) }, 'body.firstName'],
      [{ lastName: 'Bell\u0007' }, 'body.lastName'],
      [{ lastName: 'evil\u202Etxt.exe' }, 'body.lastName'],
      [{ firstName: 'Line\r\nBreak' }, 'body.firstName'],
      [{ groups: ['not-a-uuid'] }, 'body.groups.0'],
      [{ groups: 'x' }, 'body.groups'],
      [{ password: 42 }, 'body.password'],
      [{ tenantId: orgB }, 'body'],
      [{ role: 'admin' }, 'body'],
    ] as const) {
      const response = await createUser(overrides);
      expect(response.status, JSON.stringify(overrides)).toBe(400);
      expect(response.body).toMatchObject({ code: 'IDE-0001', field });
    }
    const missing = await h.http().post('/v1/users').set('Authorization', asAdminA()).send({ username: 'missing.fields' });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toMatch(/^body\./);
    expect(await countRows('users', [])).toBe(usersBefore);
  });

  it('a weak password is 400 WEAK_PASSWORD naming the field and the rule, before anything is written', async () => {
    for (const [password, rule] of [
      ['Short-1a', /12 to 128/],
      ['alllowercaseletters', /at least 3/],
      ['Password1234!', /too common/],
      ['X-weak.user.name-9', /username/],
      [`${'Aa1-'.repeat(32)}x`, /12 to 128/],
    ] as const) {
      const response = await createUser({ username: 'Weak.User.Name', password });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'IDE-0104', field: 'body.password', message: expect.stringMatching(rule) });
      expectNoSecrets(response, password);
    }
    expect(await countRows('users WHERE username_canonical = $1', ['weak.user.name'])).toBe(0);
  });

  it('a 1 MB password is refused (413) before hashing, and so is one over the schema bound', async () => {
    const huge = await createUser({ password: `Aa1-${'x'.repeat(1024 * 1024)}` });
    expect(huge.status).toBe(413);
    expect(h.reports.at(-1)).toMatchObject({ code: 'BODY_TOO_LARGE' });
    const long = await createUser({ password: `Aa1-${'x'.repeat(10_000)}` });
    expect(long.status).toBe(400);
    expect(long.body.field).toBe('body.password');
  });

  it('PATCH refuses an empty change, the username, and extra fields', async () => {
    const id = await insertUserRow(orgA, unique('patch-bad-'));
    for (const [body, field] of [
      [{}, 'body'],
      [{ username: 'renamed' }, 'body'],
      [{ tenantId: orgB }, 'body'],
      [{ password: goodPassword }, 'body'],
      [{ email: 'nope' }, 'body.email'],
    ] as const) {
      const response = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).send(body);
      expect(response.status).toBe(400);
      expect(response.body.field).toBe(field);
    }
    expect((await h.http().get('/v1/users/not-a-uuid').set('Authorization', asAdminA())).body.field).toBe('params.id');
    expect(await countRows('users WHERE id = $1 AND version = 1', [id])).toBe(1);
  });

  it('a taken username is 409 everywhere (case-insensitive, global); a taken e-mail only within the organization', async () => {
    const first = await createUser({ username: 'Taken.Name', email: 'taken@example.test' });
    expect(first.status).toBe(201);
    const sameName = await createUser({ username: 'TAKEN.name' });
    expect(sameName.status).toBe(409);
    expect(sameName.body).toMatchObject({ code: 'IDE-0100', field: 'body.username' });
    const otherTenant = await createUser({ username: 'taken.NAME' }, bearer(adminB.token));
    expect(otherTenant.body).toMatchObject({ code: 'IDE-0100', field: 'body.username' });
    const sameEmail = await createUser({ email: 'TAKEN@example.TEST' });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body).toMatchObject({ code: 'IDE-0101', field: 'body.email' });
    expect((await createUser({ email: 'taken@example.test' }, bearer(adminB.token))).status).toBe(201);

    const other = await insertUserRow(orgA, unique('email-patch-'));
    const patch = await h.http().patch(`/v1/users/${other}`).set('Authorization', asAdminA()).send({ email: 'Taken@Example.test' });
    expect(patch.status).toBe(409);
    expect(patch.body).toMatchObject({ code: 'IDE-0101', field: 'body.email' });
  });

  it('a group of another tenant (or no group) is REFERENCE_NOT_FOUND and nothing is written, on create and on update', async () => {
    const foreignGroup = await groupAllowingLedgers(orgB);
    const ownGroup = await createGroup(orgA);
    const revision = h.deps.engine.revisionOf(orgA);
    for (const groups of [[ownGroup, foreignGroup], [randomUUID()]]) {
      const response = await createUser({ username: 'ref.check', groups });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'IDE-0108', field: 'body.groups' });
    }
    expect(await countRows('users WHERE username_canonical = $1', ['ref.check'])).toBe(0);
    expect(await countRows('group_members WHERE group_id = $1', [ownGroup])).toBe(0);

    const id = await insertUserRow(orgA, unique('ref-patch-'));
    const patch = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).send({ firstName: 'Changed', groups: [foreignGroup] });
    expect(patch.body).toMatchObject({ code: 'IDE-0108', field: 'body.groups' });
    expect(await countRows("users WHERE id = $1 AND version = 1 AND first_name = 'List'", [id])).toBe(1);
    expect(await countRows('group_members WHERE user_id = $1', [id])).toBe(0);
    expect(h.deps.engine.revisionOf(orgA)).toBe(revision);
    expect(await mayGetLedgers(orgA, id)).toBe(false);
  });
});

describe('users: tenant isolation', () => {
  it('another tenant’s user is 404 on every route and is left untouched', async () => {
    const foreign = await h.createUser(orgB, { username: 'foreign.person' });
    const auth = asAdminA();
    const calls = [
      h.http().get(`/v1/users/${foreign}`).set('Authorization', auth),
      h.http().patch(`/v1/users/${foreign}`).set('Authorization', auth).send({ firstName: 'Hijacked' }),
      h.http().delete(`/v1/users/${foreign}`).set('Authorization', auth),
      h.http().post(`/v1/users/${foreign}/disable`).set('Authorization', auth),
      h.http().post(`/v1/users/${foreign}/enable`).set('Authorization', auth),
      h.http().patch(`/v1/users/${foreign}/reset-password`).set('Authorization', auth).send({ newPassword: 'Hijacked-Password-9' }),
      h.http().patch(`/v1/users/${foreign}/update-password`).set('Authorization', auth).send({ oldPassword: 'Correct-Horse-9-Battery', newPassword: 'Hijacked-Password-9' }),
    ];
    for (const response of await Promise.all(calls)) {
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('IDE-0006');
    }
    const { rows } = await h.deps.pool.query('SELECT version, status, first_name, password_hash FROM users WHERE id = $1', [foreign]);
    expect(rows[0]).toMatchObject({ version: 1, status: 'active', first_name: 'Test' });
    expect(await h.deps.passwords.verify(rows[0].password_hash, 'Correct-Horse-9-Battery')).toBe(true);
  });

  it('lists never show another tenant’s users, even when a filter matches them', async () => {
    const groupB = await createGroup(orgB);
    const idB = await insertUserRow(orgB, 'twin.alpha', 'twin@example.test');
    await h.deps.pool.query('INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3)', [orgB, groupB, idB]);
    for (const query of ['username=twin', 'email=twin@example.test', `group=${groupB}`, 'limit=100']) {
      const response = await h.http().get(`/v1/users?${query}`).set('Authorization', asAdminA());
      expect(response.status).toBe(200);
      expect(response.body.items.map((u: { id: string }) => u.id)).not.toContain(idB);
      if (query !== 'limit=100') expect(response.body.total).toBe(0);
    }
    const seenByB = await h.http().get('/v1/users?username=twin').set('Authorization', bearer(adminB.token));
    expect(seenByB.body.items.map((u: { id: string }) => u.id)).toEqual([idB]);
  });
});

describe('users: list', () => {
  it('pages by page/limit and by keyset cursor in (username, id) order, with each user’s groups', async () => {
    const groupId = await createGroup(orgA);
    const ids: string[] = [];
    for (const name of ['pg-e', 'pg-b', 'pg-d', 'pg-a', 'pg-c']) ids.push(await insertUserRow(orgA, name));
    await h.deps.pool.query('INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3)', [orgA, groupId, ids[3]]);
    const get = (q: string) => h.http().get(`/v1/users?${q}`).set('Authorization', asAdminA());

    const first = await get('username=pg-&limit=2');
    expect(first.body).toMatchObject({ page: 1, limit: 2, total: 5 });
    expect(first.body.items.map((u: { username: string }) => u.username)).toEqual(['pg-a', 'pg-b']);
    expect(first.body.items[0].groups).toEqual([groupId]);
    expect(first.body.items[1].groups).toEqual([]);
    const second = await get(`username=pg-&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((u: { username: string }) => u.username)).toEqual(['pg-c', 'pg-d']);
    expect((await get('username=pg-&limit=2&page=2')).body.items).toEqual(second.body.items);
    const third = await get(`username=pg-&limit=2&cursor=${second.body.nextCursor}`);
    expect(third.body.items.map((u: { username: string }) => u.username)).toEqual(['pg-e']);
    expect(third.body.nextCursor).toBeUndefined();

    const byGroup = await get(`group=${groupId}`);
    expect(byGroup.body).toMatchObject({ total: 1, items: [{ username: 'pg-a', groups: [groupId] }] });
    expect((await get('email=PG-C@Example.Test')).body.items.map((u: { username: string }) => u.username)).toEqual(['pg-c']);
    expect((await get('username=PG-D')).body.items.map((u: { username: string }) => u.username)).toEqual(['pg-d']);
  });

  it('the username filter is a literal prefix: %, _ and \\ are not wildcards', async () => {
    await insertUserRow(orgA, 'lk_one');
    await insertUserRow(orgA, 'lkxone');
    const names = async (prefix: string) =>
      (await h.http().get(`/v1/users?username=${encodeURIComponent(prefix)}&limit=100`).set('Authorization', asAdminA())).body.items.map((u: { username: string }) => u.username);
    expect(await names('lk')).toEqual(['lk_one', 'lkxone']);
    expect(await names('lk_')).toEqual(['lk_one']);
    expect(await names('LK_')).toEqual(['lk_one']);
    expect(await names('%')).toEqual([]);
    expect(await names('lk%')).toEqual([]);
    expect(await names('_')).toEqual([]);
    expect(await names('lk\\')).toEqual([]);
    expect(await names("lk' OR '1'='1")).toEqual([]);
  });

  it('refuses bad list parameters with 400 naming them', async () => {
    for (const [query, field] of [
      ['cursor=not-a-cursor', 'query.cursor'],
      [`cursor=${Buffer.from(JSON.stringify(['a', 'not-a-uuid'])).toString('base64url')}`, 'query.cursor'],
      [`cursor=${Buffer.from(JSON.stringify(['a', randomUUID()])).toString('base64url')}&page=2`, 'query.cursor'],
      ['limit=101', 'query.limit'],
      ['page=0', 'query.page'],
      ['group=nope', 'query.group'],
      ['username=a&username=b', 'query.username'],
      ['tenantId=x', 'query'],
    ] as const) {
      const response = await h.http().get(`/v1/users?${query}`).set('Authorization', asAdminA());
      expect(response.status, query).toBe(400);
      expect(response.body.field, query).toBe(field);
    }
  });
});

describe('users: passwords', () => {
  it('update-password: the user changes its own password with the old one; every earlier token is then refused', async () => {
    await h.writePolicy(orgA, [permissionLine('add', '*', orgA, 'update-password', 'patch')]);
    const id = await h.createUser(orgA, { username: 'self.service', password: 'Old-Password-123' });
    const old = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) - 1 });
    const path = `/v1/users/${id}/update-password`;

    const wrong = await h.http().patch(path).set('Authorization', bearer(old)).send({ oldPassword: 'Not-The-Password-1', newPassword: 'New-Password-456' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'IDE-0105', field: 'body.oldPassword' });
    const weak = await h.http().patch(path).set('Authorization', bearer(old)).send({ oldPassword: 'Old-Password-123', newPassword: 'Self.Service-2024' });
    expect(weak.body).toMatchObject({ code: 'IDE-0104', field: 'body.newPassword' });

    const changed = await h.http().patch(path).set('Authorization', bearer(old)).send({ oldPassword: 'Old-Password-123', newPassword: 'New-Password-456' });
    expect(changed.status).toBe(204);
    expect(changed.text).toBe('');
    expect(changed.headers['x-policy-revision']).toMatch(/^\d+$/);
    const { rows } = await h.deps.pool.query('SELECT password_hash FROM users WHERE id = $1', [id]);
    expect(await h.deps.passwords.verify(rows[0].password_hash, 'New-Password-456')).toBe(true);
    expect(await h.deps.passwords.verify(rows[0].password_hash, 'Old-Password-123')).toBe(false);

    const reused = await h.http().patch(path).set('Authorization', bearer(old)).send({ oldPassword: 'New-Password-456', newPassword: 'Third-Password-789' });
    expect(reused.status).toBe(401);
    const audit = await h.deps.pool.query("SELECT outcome, before, after FROM audit_events WHERE target_id = $1 AND action = 'user.update-password' ORDER BY id", [id]);
    expect(audit.rows).toEqual([
      { outcome: 'failure', before: null, after: { reason: 'invalid_credentials', failures: 1 } },
      { outcome: null, before: null, after: null },
    ]);
  });

  it('two concurrent changes proving the same old password: exactly one succeeds', async () => {
    const id = await h.createUser(orgA, { username: 'racing.self', password: 'Old-Password-123' });
    const token = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) - 1 });
    const results = await Promise.all(
      ['First-Password-456', 'Second-Password-789'].map((newPassword) =>
        h.http().patch(`/v1/users/${id}/update-password`).set('Authorization', bearer(token)).send({ oldPassword: 'Old-Password-123', newPassword }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(204);
    expect([400, 401]).toContain(statuses[1]);
    expect(await countRows("audit_events WHERE target_id = $1 AND action = 'user.update-password'", [id])).toBe(1);
  });

  describe('a wrong current password counts into the sign-in lockout', () => {
    const changeAs = (app: supertest.Agent, id: string, token: string, oldPassword: string) =>
      app.patch(`/v1/users/${id}/update-password`).set('Authorization', bearer(token)).send({ oldPassword, newPassword: 'Fresh-Password-4567' });
    const failuresOf = async (username: string) =>
      (await h.deps.pool.query<{ failures: number; locked: boolean }>('SELECT failures, locked_until IS NOT NULL AS locked FROM sign_in_failures WHERE username_canonical = $1', [username])).rows[0];
    const passwordStill = async (id: string, password: string) =>
      h.deps.passwords.verify((await h.deps.pool.query('SELECT password_hash FROM users WHERE id = $1', [id])).rows[0].password_hash, password);

    it('three failed sign-ins and two wrong current passwords lock the account: then even the right one is 429 IDE-0119 with Retry-After, nothing changes', async () => {
      const username = unique('guessed.');
      const id = await h.createUser(orgA, { username, password: 'Old-Password-123' });
      const token = await h.token({ sub: id, tenantId: orgA });
      // What Auth's password sign-in writes for three wrong passwords.
      for (let i = 0; i < 3; i++) await recordSignInFailure(h.deps.pool, username, Date.now(), { maxFailures: 5, lockSeconds: 900 });
      for (let i = 0; i < 2; i++) expect((await changeAs(h.http(), id, token, `Not-It-${i}-Password`)).body).toMatchObject({ code: 'IDE-0105' });
      expect(await failuresOf(username)).toEqual({ failures: 5, locked: true });

      const locked = await changeAs(h.http(), id, token, 'Old-Password-123');
      expect(locked.status).toBe(429);
      expect(locked.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(locked.body).toMatchObject({ code: 'IDE-0119', status: 429, retryable: true });
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(900);
      expect(await passwordStill(id, 'Old-Password-123')).toBe(true);
      expect(await failuresOf(username)).toEqual({ failures: 5, locked: true });
      expect(await countRows("audit_events WHERE target_id = $1 AND action = 'auth.lockout'", [id])).toBe(1);
    });

    it('eight wrong current passwords at once count exactly eight; at the limit (10) the lock trips once, and what was not counted was refused as locked', async () => {
      const app = supertest.agent(createIdentityApp({ ...h.deps, signInLockout: { maxFailures: 10, lockSeconds: 900 } }));
      const username = unique('burst.');
      const id = await h.createUser(orgA, { username, password: 'Old-Password-123' });
      const token = await h.token({ sub: id, tenantId: orgA });
      const burst = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => changeAs(app, id, token, `Wrong-Guess-${i}-Pass`)));
      expect((await burst(8)).map((r) => r.status)).toEqual(Array(8).fill(400));
      expect(await failuresOf(username)).toEqual({ failures: 8, locked: false });

      const second = (await burst(6)).map((r) => r.status);
      expect(second.every((status) => status === 400 || status === 429)).toBe(true);
      const counted = second.filter((status) => status === 400).length;
      expect(counted).toBeGreaterThanOrEqual(2);
      expect(await failuresOf(username)).toEqual({ failures: 8 + counted, locked: true });
      expect(await countRows("audit_events WHERE target_id = $1 AND action = 'auth.lockout'", [id])).toBe(1);
      expect((await changeAs(app, id, token, 'Old-Password-123')).status).toBe(429);
      expect(await passwordStill(id, 'Old-Password-123')).toBe(true);
    });

    it('a change that proves the current password clears the failures, as a successful sign-in does', async () => {
      const username = unique('forgetful.');
      const id = await h.createUser(orgA, { username, password: 'Old-Password-123' });
      const token = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) - 1 });
      expect((await changeAs(h.http(), id, token, 'Not-The-Password-1')).status).toBe(400);
      expect(await failuresOf(username)).toEqual({ failures: 1, locked: false });
      expect((await changeAs(h.http(), id, token, 'Old-Password-123')).status).toBe(204);
      expect(await failuresOf(username)).toBeUndefined();
    });
  });

  it('update-password is self-service only: an administrator is refused for someone else (403), another tenant’s id is 404', async () => {
    const id = await insertUserRow(orgA, unique('not-self-'));
    const response = await h.http().patch(`/v1/users/${id}/update-password`).set('Authorization', asAdminA()).send({ oldPassword: 'whatever', newPassword: 'New-Password-456' });
    expect(response.status).toBe(403);
    expect(await countRows('users WHERE id = $1 AND version = 1', [id])).toBe(1);
  });

  it('reset-password: a 64-character Unicode password with leading and trailing spaces is stored byte-exact', async () => {
    const id = await h.createUser(orgA, { username: 'reset.me' });
    const old = await h.token({ sub: id, tenantId: orgA, issuedAtSeconds: Math.floor(Date.now() / 1000) - 1 });
    await h.grant(orgA, subjects.user(id), [['users', 'get']]);
    const unicode = `  Ünïcødé Пароль 密码 𝒜𝒷𝒸 émoji-🔐 Ω≈ç√ 12345 ${'x'.repeat(19)}  `;
    expect([...unicode]).toHaveLength(64);

    const reset = await h.http().patch(`/v1/users/${id}/reset-password`).set('Authorization', asAdminA()).send({ newPassword: unicode });
    expect(reset.status).toBe(204);
    expect(reset.headers.etag).toBe('"2"');
    expect(reset.headers['x-policy-revision']).toMatch(/^\d+$/);
    const { rows } = await h.deps.pool.query('SELECT password_hash FROM users WHERE id = $1', [id]);
    expect(await h.deps.passwords.verify(rows[0].password_hash, unicode)).toBe(true);
    expect(await h.deps.passwords.verify(rows[0].password_hash, unicode.trim())).toBe(false);
    expect(await h.deps.passwords.verify(rows[0].password_hash, unicode.normalize('NFD'))).toBe(false);
    expect((await h.http().get('/v1/users').set('Authorization', bearer(old))).status).toBe(401);

    const weak = await h.http().patch(`/v1/users/${id}/reset-password`).set('Authorization', asAdminA()).send({ newPassword: 'RESET.ME-is-fine-1' });
    expect(weak.body).toMatchObject({ code: 'IDE-0104', field: 'body.newPassword', message: expect.stringMatching(/username/) });
    const extra = await h.http().patch(`/v1/users/${id}/reset-password`).set('Authorization', asAdminA()).send({ newPassword: 'Fine-Password-123', oldPassword: 'x' });
    expect(extra.body.field).toBe('body');
  });
});

describe('users: no escalation (a user joins, and takes over, only what the writer holds)', () => {
  const deskGrants = [...helpDeskGrants, ['ledgers', 'get'], ['reset-password', 'patch']] as const;

  /** A group whose role gives everything (p lines on the group, as Auth would see them). */
  async function groupAllowingEverything(tenantId: string): Promise<string> {
    const groupId = await createGroup(tenantId);
    await h.writePolicy(tenantId, [permissionLine('add', subjects.group(groupId), tenantId, '*', '*')]);
    return groupId;
  }

  it('creating a user inside a group, or putting oneself or anyone in one, needs every permission the group gives', async () => {
    const desk = await delegate(h, orgA, deskGrants);
    const admins = await groupAllowingEverything(orgA);
    const readers = await groupAllowingLedgers(orgA);
    const missing = [{ resource: '*', action: '*' }];
    await expectEscalationRefused(h, () => createUser({ groups: [readers, admins] }, desk.auth), missing);
    await expectEscalationRefused(h, () => h.http().patch(`/v1/users/${desk.userId}`).set('Authorization', desk.auth).send({ groups: [admins] }), missing);
    const other = await createUser({}, asAdminA());
    await expectEscalationRefused(h, () => h.http().patch(`/v1/users/${other.body.id}`).set('Authorization', desk.auth).send({ groups: [readers, admins] }), missing);
    // Within its holdings the desk creates and moves users.
    const created = await createUser({ groups: [readers] }, desk.auth);
    expect(created.status).toBe(201);
    expect((await h.http().patch(`/v1/users/${other.body.id}`).set('Authorization', desk.auth).send({ groups: [readers] })).status).toBe(200);
    // An escalation holder puts anyone anywhere.
    expect((await h.http().patch(`/v1/users/${desk.userId}`).set('Authorization', asAdminA()).send({ groups: [admins] })).status).toBe(200);
    expect(await h.deps.engine.decide({ sub: desk.subject, dom: orgA, obj: 'organizations', act: 'get' })).toMatchObject({ allowed: true });
  });

  it('resetting a password hands over the user: refused for a user holding more than the writer (403 naming it), allowed otherwise', async () => {
    const desk = await delegate(h, orgA, deskGrants);
    const reader = await createUser({ groups: [await groupAllowingLedgers(orgA)] });
    const boss = await createUser({ groups: [await groupAllowingEverything(orgA)] });
    await expectEscalationRefused(h, () => h.http().patch(`/v1/users/${boss.body.id}/reset-password`).set('Authorization', desk.auth).send({ newPassword: 'Fresh-Password-77-Xy' }), [
      { resource: '*', action: '*' },
    ]);
    expect((await h.http().patch(`/v1/users/${reader.body.id}/reset-password`).set('Authorization', desk.auth).send({ newPassword: 'Fresh-Password-77-Xy' })).status).toBe(204);
    expect((await h.http().patch(`/v1/users/${boss.body.id}/reset-password`).set('Authorization', asAdminA()).send({ newPassword: 'Fresh-Password-77-Xy' })).status).toBe(204);
  });

  it('deleting a user gives nobody anything: allowed though its groups hold denies the writer lacks', async () => {
    const desk = await delegate(h, orgA, [...deskGrants, ['users', 'delete']]);
    const fenced = await groupAllowingLedgers(orgA);
    await h.writePolicy(orgA, [permissionLine('add', subjects.group(fenced), orgA, 'organizations', '*', 'deny')]);
    const member = await createUser({ groups: [fenced] });
    expect((await h.http().delete(`/v1/users/${member.body.id}`).set('Authorization', desk.auth)).status).toBe(204);
    // Taking the user out of that group instead would lift the deny for it: refused.
    const other = await createUser({ groups: [fenced] });
    await expectEscalationRefused(h, () => h.http().patch(`/v1/users/${other.body.id}`).set('Authorization', desk.auth).send({ groups: [] }), [{ resource: 'organizations', action: '*' }]);
  });

  it("the built-in administrator's password is reset only by an escalation holder, whatever else the writer holds", async () => {
    const builtin = await createUser();
    await h.deps.pool.query('UPDATE users SET builtin = true WHERE id = $1', [builtin.body.id]);
    // Everything of Identity, but not the escalation permission.
    const deputy = await delegate(h, orgA, [['*', 'patch'], ['users', '*'], ['reset-password', '*']]);
    await expectEscalationRefused(h, () => h.http().patch(`/v1/users/${builtin.body.id}/reset-password`).set('Authorization', deputy.auth).send({ newPassword: 'Fresh-Password-77-Xy' }), [
      { ...escalationPermission },
    ]);
    expect((await h.http().patch(`/v1/users/${builtin.body.id}/reset-password`).set('Authorization', asAdminA()).send({ newPassword: 'Fresh-Password-77-Xy' })).status).toBe(204);
  });
});

describe('users: optimistic concurrency', () => {
  it('concurrent PATCHes with the same If-Match: exactly one 200, the others 412', async () => {
    const id = await insertUserRow(orgA, unique('race-'));
    const results = await Promise.all(
      ['A', 'B', 'C', 'D'].map((n) => h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).set('If-Match', '"1"').send({ firstName: `Racer ${n}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    expect(await countRows('users WHERE id = $1 AND version = 2', [id])).toBe(1);
    const stale = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).set('If-Match', '"1"').send({ lastName: 'Late' });
    expect(stale.status).toBe(412);
    const malformed = await h.http().patch(`/v1/users/${id}`).set('Authorization', asAdminA()).set('If-Match', 'nope').send({ lastName: 'Late' });
    expect(malformed.status).toBe(412);
  });
});

describe('users: secrets stay out of audit and logs', () => {
  it('no audit event or reported error carries a password or a hash', async () => {
    const { rows } = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE before::text ~* 'argon2|password' OR after::text ~* 'argon2|password'");
    expect(rows[0].n).toBe(0);
    const reported = JSON.stringify(h.reports.map(({ detail, code }) => ({ detail, code })));
    for (const secret of [goodPassword, 'Old-Password-123', 'New-Password-456', 'Ünïcødé', 'argon2id$']) expect(reported).not.toContain(secret);
  });
});
