import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseDigest } from '../../test/support/database-digest.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let org: string;
let admin: { userId: string; token: string; auth: string };

beforeAll(async () => {
  h = await createIdentityHarness('declarations');
  org = await h.createOrganization();
  const created = await h.admin(org);
  admin = { ...created, auth: `Bearer ${created.token}` };
});
afterAll(async () => h.close());

interface Product {
  readonly id: string;
  readonly token: string;
}

/**
 * A product's application, registered by an administrator, whose permission set holds `holds` (by default
 * everything under its own slug): a declaration gives no more than that.
 */
async function createProduct(tenantId: string, name: string, holds: readonly { resource: string; action: string }[] = [{ resource: `${name}/*`, action: '*' }]): Promise<Product> {
  const user = await h.admin(tenantId);
  const created = await h.http().post('/v1/applications').set('Authorization', `Bearer ${user.token}`).send({ name, description: '' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const set = await h.http().put(`/v1/applications/${id}/permissions`).set('Authorization', `Bearer ${user.token}`).send({ permissions: holds });
  expect(set.status).toBe(200);
  return { id, token: await h.token({ sub: id, tenantId, type: 'application' }) };
}

async function createGroup(tenantId: string, name: string): Promise<string> {
  const id = randomUUID();
  await h.deps.pool.query('INSERT INTO groups (id, org_id, name) VALUES ($1, $2, $3)', [id, tenantId, name]);
  return id;
}

/** A user who is a member of `groupId` (row and `g` line), for decisions through group → role. */
async function memberOf(tenantId: string, groupId: string): Promise<string> {
  const userId = await h.createUser(tenantId);
  await h.deps.pool.query('INSERT INTO group_members (org_id, group_id, user_id) VALUES ($1, $2, $3)', [tenantId, groupId, userId]);
  await h.writePolicy(tenantId, [{ op: 'add', rule: { ptype: 'g', values: [`user:${userId}`, `group:${groupId}`, tenantId] } }]);
  return userId;
}

const declare = (slug: string, token: string, manifest: unknown) => h.http().put(`/v1/declarations/${slug}`).set('Authorization', `Bearer ${token}`).send(manifest as object);

const allowed = async (tenantId: string, userId: string, obj: string, act: string) => (await h.deps.engine.decide({ sub: `user:${userId}`, dom: tenantId, obj, act })).allowed;

async function roleId(tenantId: string, name: string): Promise<string | undefined> {
  const { rows } = await h.deps.pool.query<{ id: string }>('SELECT id FROM roles WHERE org_id = $1 AND name = $2', [tenantId, name]);
  return rows[0]?.id;
}

/** Every policy line of the tenant that names one of the roles, as text. */
async function roleLines(tenantId: string, roleIds: readonly string[]): Promise<string[]> {
  const subjects = roleIds.map((id) => `role:${id}`);
  const { rows } = await h.deps.pool.query<{ ptype: string; rule: string[] }>(
    'SELECT ptype, rule FROM casbin WHERE (rule->>0 = ANY($1) OR rule->>1 = ANY($1)) ORDER BY id',
    [subjects],
  );
  return rows.filter((r) => r.rule.includes(tenantId)).map((r) => [r.ptype, ...r.rule].join(', ')).sort();
}

async function policyChanges(tenantId: string): Promise<number> {
  const { rows } = await h.deps.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM policy_change WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.n ?? 0;
}

const manifestV1 = {
  service: 'midaz',
  version: '1.0.0',
  permissions: [
    { resource: 'ledgers', action: 'get', roles: ['midaz-viewer', 'midaz-admin'] },
    { resource: 'ledgers', action: 'post', effect: 'allow', roles: ['midaz-admin'] },
    { resource: 'accounts/*', action: '*', roles: ['midaz-admin'] },
    { resource: 'accounts/frozen', action: 'patch', effect: 'deny', roles: ['midaz-admin'] },
  ],
  roles: [
    { name: 'midaz-admin', grantedTo: [{ group: 'operators' }] },
    { name: 'midaz-viewer', grantedTo: [{ group: 'auditors' }, { group: 'operators' }] },
  ],
};

describe('PUT /v1/declarations/{slug}', () => {
  let midaz: Product;
  let operators: string;
  let auditors: string;
  let operator: string;
  let auditor: string;

  beforeAll(async () => {
    midaz = await createProduct(org, 'midaz');
    operators = await createGroup(org, 'operators');
    auditors = await createGroup(org, 'auditors');
    operator = await memberOf(org, operators);
    auditor = await memberOf(org, auditors);
  });

  it('a first declaration creates its roles, stores resources as {slug}/{resource}, grants groups and bumps the revision', async () => {
    const before = h.deps.engine.revisionOf(org);
    const response = await declare('midaz', midaz.token, manifestV1);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ changed: true, policyRevision: before + 1 });
    expect(response.headers['x-policy-revision']).toBe(String(before + 1));

    const roles = await h.deps.pool.query('SELECT name, description, builtin FROM roles WHERE org_id = $1 ORDER BY name', [org]);
    expect(roles.rows).toEqual([
      { name: 'midaz-admin', description: 'declared by midaz', builtin: false },
      { name: 'midaz-viewer', description: 'declared by midaz', builtin: false },
    ]);
    const perms = await h.deps.pool.query('SELECT r.name, p.resource, p.action, p.effect FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE p.org_id = $1 ORDER BY 1, 2, 3', [org]);
    expect(perms.rows).toEqual([
      { name: 'midaz-admin', resource: 'midaz/accounts/*', action: '*', effect: 'allow' },
      { name: 'midaz-admin', resource: 'midaz/accounts/frozen', action: 'patch', effect: 'deny' },
      { name: 'midaz-admin', resource: 'midaz/ledgers', action: 'get', effect: 'allow' },
      { name: 'midaz-admin', resource: 'midaz/ledgers', action: 'post', effect: 'allow' },
      { name: 'midaz-viewer', resource: 'midaz/ledgers', action: 'get', effect: 'allow' },
    ]);
    const admin = (await roleId(org, 'midaz-admin')) as string;
    const viewer = (await roleId(org, 'midaz-viewer')) as string;
    expect(await roleLines(org, [admin, viewer])).toEqual(
      [
        `g, group:${operators}, role:${admin}, ${org}`,
        `g, group:${operators}, role:${viewer}, ${org}`,
        `g, group:${auditors}, role:${viewer}, ${org}`,
        `p, role:${admin}, ${org}, midaz/accounts/*, *, allow`,
        `p, role:${admin}, ${org}, midaz/accounts/frozen, patch, deny`,
        `p, role:${admin}, ${org}, midaz/ledgers, get, allow`,
        `p, role:${admin}, ${org}, midaz/ledgers, post, allow`,
        `p, role:${viewer}, ${org}, midaz/ledgers, get, allow`,
      ].sort(),
    );

    expect(await allowed(org, operator, 'midaz/ledgers', 'post')).toBe(true);
    expect(await allowed(org, operator, 'midaz/accounts/42', 'delete')).toBe(true);
    expect(await allowed(org, operator, 'midaz/accounts/frozen', 'patch')).toBe(false);
    expect(await allowed(org, auditor, 'midaz/ledgers', 'get')).toBe(true);
    expect(await allowed(org, auditor, 'midaz/ledgers', 'post')).toBe(false);
    expect(await allowed(org, auditor, 'ledgers', 'get')).toBe(false);

    const declaration = await h.deps.pool.query('SELECT slug, service, version, manifest_hash, application_id FROM declarations WHERE org_id = $1', [org]);
    expect(declaration.rows).toEqual([{ slug: 'midaz', service: 'midaz', version: '1.0.0', manifest_hash: expect.stringMatching(/^[0-9a-f]{64}$/), application_id: midaz.id }]);
    const audit = await h.deps.pool.query("SELECT actor, action FROM audit_events WHERE target_type = 'declaration' AND target_id = 'midaz'");
    expect(audit.rows).toEqual([{ actor: `app:${midaz.id}`, action: 'declaration.apply' }]);
  });

  it('the same manifest again, in any order and with repeats, is changed:false with the same revision and no policy change', async () => {
    const revision = h.deps.engine.revisionOf(org);
    const changes = await policyChanges(org);
    const shuffled = {
      roles: [...manifestV1.roles].reverse().map((r) => ({ grantedTo: [...r.grantedTo].reverse(), name: r.name })),
      version: '1.0.0',
      permissions: [...manifestV1.permissions, ...manifestV1.permissions.slice(0, 1)].reverse().map((p) => ({ ...p, roles: [...p.roles].reverse() })),
      service: 'midaz',
    };
    for (const manifest of [manifestV1, shuffled]) {
      const response = await declare('midaz', midaz.token, manifest);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ changed: false, policyRevision: revision });
      expect(response.headers['x-policy-revision']).toBe(String(revision));
    }
    expect(h.deps.engine.revisionOf(org)).toBe(revision);
    expect(await policyChanges(org)).toBe(changes);
    const audit = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE target_type = 'declaration'");
    expect(audit.rows[0].n).toBe(1);
  });

  it('a later manifest that drops a permission or a grant removes exactly those lines; lines an administrator added stay', async () => {
    const admin = (await roleId(org, 'midaz-admin')) as string;
    const viewer = (await roleId(org, 'midaz-viewer')) as string;
    // An administrator's own line on a declared role is not the declaration's to remove.
    await h.deps.pool.query("INSERT INTO role_permissions (org_id, role_id, resource, action, effect) VALUES ($1, $2, 'midaz/reports', 'get', 'allow')", [org, viewer]);
    await h.writePolicy(org, [{ op: 'add', rule: { ptype: 'p', values: [`role:${viewer}`, org, 'midaz/reports', 'get', 'allow'] } }]);
    const before = await roleLines(org, [admin, viewer]);
    const revision = h.deps.engine.revisionOf(org);

    const v2 = {
      ...manifestV1,
      version: '1.1.0',
      permissions: manifestV1.permissions.filter((p) => p.action !== 'post'),
      roles: [manifestV1.roles[0], { name: 'midaz-viewer', grantedTo: [{ group: 'auditors' }] }],
    };
    const response = await declare('midaz', midaz.token, v2);
    expect(response.body).toEqual({ changed: true, policyRevision: revision + 1 });

    const after = await roleLines(org, [admin, viewer]);
    expect(before.filter((line) => !after.includes(line))).toEqual(
      [`p, role:${admin}, ${org}, midaz/ledgers, post, allow`, `g, group:${operators}, role:${viewer}, ${org}`].sort(),
    );
    expect(after.filter((line) => !before.includes(line))).toEqual([]);
    expect(await allowed(org, operator, 'midaz/ledgers', 'post')).toBe(false);
    expect(await allowed(org, operator, 'midaz/ledgers', 'get')).toBe(true); // still through midaz-admin
    expect(await allowed(org, auditor, 'midaz/reports', 'get')).toBe(true);
    const rows = await h.deps.pool.query("SELECT count(*)::int AS n FROM role_permissions WHERE role_id = $1 AND action = 'post'", [admin]);
    expect(rows.rows[0].n).toBe(0);
    const grants = await h.deps.pool.query('SELECT count(*)::int AS n FROM group_roles WHERE group_id = $1 AND role_id = $2', [operators, viewer]);
    expect(grants.rows[0].n).toBe(0);
    const version = await h.deps.pool.query("SELECT version FROM declarations WHERE org_id = $1 AND slug = 'midaz'", [org]);
    expect(version.rows[0].version).toBe('1.1.0');
  });

  it('a user token, or another application, is 403 DECLARATION_FORBIDDEN and nothing is written', async () => {
    const tracer = await createProduct(org, 'tracer');
    const revision = h.deps.engine.revisionOf(org);
    const hijack = { ...manifestV1, version: '9.9.9', roles: [{ name: 'midaz-admin', grantedTo: [{ group: 'auditors' }] }] };
    for (const token of [admin.token, tracer.token]) {
      const response = await declare('midaz', token, hijack);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('IDE-0116');
    }
    expect(h.deps.engine.revisionOf(org)).toBe(revision);
    const version = await h.deps.pool.query("SELECT version FROM declarations WHERE org_id = $1 AND slug = 'midaz'", [org]);
    expect(version.rows[0].version).toBe('1.1.0');
  });

  it("an application named like the slug in another tenant writes only in its own tenant", async () => {
    const other = await h.createOrganization();
    const foreign = await createProduct(other, 'midaz');
    await createGroup(other, 'operators');
    await createGroup(other, 'auditors');
    const revision = h.deps.engine.revisionOf(org);
    const response = await declare('midaz', foreign.token, manifestV1);
    expect(response.body).toMatchObject({ changed: true });
    expect(h.deps.engine.revisionOf(org)).toBe(revision);
    const roles = await h.deps.pool.query('SELECT org_id FROM roles WHERE name = $1 ORDER BY org_id', ['midaz-admin']);
    expect(roles.rows.map((r) => r.org_id).sort()).toEqual([org, other].sort());
  });

  it('an unknown group is 400 REFERENCE_NOT_FOUND naming it, and nothing is written', async () => {
    const product = await createProduct(org, 'ghosts');
    const revision = h.deps.engine.revisionOf(org);
    const response = await declare('ghosts', product.token, {
      service: 'ghosts',
      version: '1',
      permissions: [{ resource: 'things', action: 'get', roles: ['ghosts-viewer'] }],
      roles: [{ name: 'ghosts-viewer', grantedTo: [{ group: 'operators' }, { group: 'no-such-group' }] }],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'IDE-0108', field: 'body.roles.0.grantedTo.1.group' });
    expect(h.deps.engine.revisionOf(org)).toBe(revision);
    const rows = await h.deps.pool.query("SELECT (SELECT count(*)::int FROM roles WHERE name = 'ghosts-viewer') AS roles, (SELECT count(*)::int FROM declarations WHERE slug = 'ghosts') AS declarations");
    expect(rows.rows[0]).toEqual({ roles: 0, declarations: 0 });
  });

  it('a role the product did not create (built-in or an administrator\'s) is 409 NAME_TAKEN: no product can grant it', async () => {
    const product = await createProduct(org, 'grabber');
    await h.deps.pool.query("INSERT INTO roles (org_id, name, builtin) VALUES ($1, 'admin', true), ($1, 'custom', false)", [org]);
    for (const role of ['admin', 'custom', 'midaz-admin']) {
      const response = await declare('grabber', product.token, {
        service: 'grabber',
        version: '1',
        permissions: [{ resource: 'x', action: 'get', roles: ['grabber-role'] }],
        roles: [{ name: 'grabber-role', grantedTo: [] }, { name: role, grantedTo: [{ group: 'auditors' }] }],
      });
      expect(response.status, role).toBe(409);
      expect(response.body).toMatchObject({ code: 'IDE-0102', field: 'body.roles.1.name' });
    }
    const rows = await h.deps.pool.query("SELECT count(*)::int AS n FROM roles WHERE name = 'grabber-role'");
    expect(rows.rows[0].n).toBe(0);
  });

  it('bad manifests are 400 naming the field', async () => {
    const product = await createProduct(org, 'strict');
    const base = { service: 'strict', version: '1', permissions: [{ resource: 'things', action: 'get', roles: ['r'] }], roles: [] };
    for (const [body, field] of [
      [{ ...base, service: 'other' }, 'body.service'],
      [{ ...base, extra: true }, 'body'],
      [{ ...base, version: '' }, 'body.version'],
      [{ ...base, permissions: [{ resource: '../x', action: 'get', roles: [] }] }, 'body.permissions.0.resource'],
      [{ ...base, permissions: [{ resource: 'a*b', action: 'get', roles: [] }] }, 'body.permissions.0.resource'],
      [{ ...base, permissions: [{ resource: 'x', action: 'g t', roles: [] }] }, 'body.permissions.0.action'],
      [{ ...base, permissions: [{ resource: 'x', action: 'get', effect: 'maybe', roles: [] }] }, 'body.permissions.0.effect'],
      [{ ...base, permissions: [{ resource: 'x', action: 'get', roles: ['bad role'] }] }, 'body.permissions.0.roles.0'],
      [{ ...base, roles: [{ name: 'r', grantedTo: [] }, { name: 'r', grantedTo: [] }] }, 'body.roles.1.name'],
      [{ ...base, roles: [{ name: 'r', grantedTo: [{ group: 'auditors', role: 'admin' }] }] }, 'body.roles.0.grantedTo.0'],
      [{ ...base, permissions: Array.from({ length: 501 }, (_, i) => ({ resource: `r${i}`, action: 'get', roles: [] })) }, 'body.permissions'],
      [{ ...base, roles: Array.from({ length: 51 }, (_, i) => ({ name: `r${i}`, grantedTo: [] })) }, 'body.roles'],
    ] as const) {
      const response = await declare('strict', product.token, body);
      expect(response.status, field).toBe(400);
      expect(response.body.field).toBe(field);
    }
    expect((await declare('Not_A_Slug', product.token, base)).body.field).toBe('params.slug');
  });

  it('concurrent identical declarations (replicas booting together): exactly one applies it', async () => {
    const product = await createProduct(org, 'replicas');
    const manifest = { service: 'replicas', version: '1', permissions: [{ resource: 'jobs', action: 'get', roles: ['replicas-viewer'] }], roles: [{ name: 'replicas-viewer', grantedTo: [{ group: 'auditors' }] }] };
    const results = await Promise.all(Array.from({ length: 5 }, () => declare('replicas', product.token, manifest)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.body.changed === true)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body.policyRevision)).size).toBe(1);
    expect(await allowed(org, auditor, 'replicas/jobs', 'get')).toBe(true);
  });

  it('a declaration gives no more than its application holds: 403 IDE-0120 naming what is missing, and nothing is written', async () => {
    const product = await createProduct(org, 'limited', [{ resource: 'limited/ledgers', action: 'get' }, { resource: 'limited/accounts/*', action: 'get' }]);
    const greedy = {
      service: 'limited',
      version: '1',
      permissions: [
        { resource: 'ledgers', action: 'get', roles: ['limited-viewer'] },
        { resource: 'accounts/*', action: '*', roles: ['limited-viewer'] },
        { resource: 'ledgers', action: 'delete', roles: ['limited-viewer'] },
      ],
      roles: [{ name: 'limited-viewer', grantedTo: [{ group: 'auditors' }] }],
    };
    const before = await databaseDigest(h.deps.pool);
    const refused = await declare('limited', product.token, greedy);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'IDE-0120', missing: [{ resource: 'limited/accounts/*', action: '*' }, { resource: 'limited/ledgers', action: 'delete' }] });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);

    // Within its holdings (a narrower pattern than it holds included) the same product declares.
    const modest = { ...greedy, permissions: [{ resource: 'ledgers', action: 'get', roles: ['limited-viewer'] }, { resource: 'accounts/7', action: 'get', roles: ['limited-viewer'] }] };
    expect((await declare('limited', product.token, modest)).body).toMatchObject({ changed: true });
    expect(await allowed(org, auditor, 'limited/accounts/7', 'get')).toBe(true);

    // Its set narrowed, granting its own role to one more group now gives what it no longer holds.
    const narrowed = await h.http().put(`/v1/applications/${product.id}/permissions`).set('Authorization', admin.auth).send({ permissions: [{ resource: 'limited/ledgers', action: 'get' }] });
    expect(narrowed.status).toBe(200);
    const wider = { ...modest, version: '2', roles: [{ name: 'limited-viewer', grantedTo: [{ group: 'auditors' }, { group: 'operators' }] }] };
    const again = await databaseDigest(h.deps.pool);
    const bound = await declare('limited', product.token, wider);
    expect(bound.status).toBe(403);
    expect(bound.body.missing).toEqual([{ resource: 'limited/accounts/7', action: 'get' }]);
    expect(await databaseDigest(h.deps.pool)).toEqual(again);
    expect(await allowed(org, operator, 'limited/ledgers', 'get')).toBe(false);
  });

  it('the product is its application by id: a slug pinned to another application refuses even one registered under the slug', async () => {
    const first = await createProduct(org, 'pinned-first');
    const second = await createProduct(org, 'pinned');
    // The declaration of `pinned` came from another application than the one now named so.
    await h.deps.pool.query(
      `INSERT INTO declarations (org_id, slug, application_id, service, version, manifest_hash, manifest) VALUES ($1, 'pinned', $2, 'pinned', '1', 'x', '{}'::jsonb)`,
      [org, first.id],
    );
    const before = await databaseDigest(h.deps.pool);
    const response = await declare('pinned', second.token, { service: 'pinned', version: '2', permissions: [{ resource: 'x', action: 'get', roles: ['pinned-viewer'] }], roles: [] });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('IDE-0116');
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it("a new application under a deleted product's name does not take over the roles its predecessor declared (409)", async () => {
    const manifest = { service: 'phoenix', version: '1', permissions: [{ resource: 'nests', action: 'get', roles: ['phoenix-viewer'] }], roles: [{ name: 'phoenix-viewer', grantedTo: [] }] };
    const old = await createProduct(org, 'phoenix');
    expect((await declare('phoenix', old.token, manifest)).body).toMatchObject({ changed: true });
    expect((await h.http().delete(`/v1/applications/${old.id}`).set('Authorization', admin.auth)).status).toBe(204);
    const successor = await createProduct(org, 'phoenix');
    const response = await declare('phoenix', successor.token, { ...manifest, permissions: [{ resource: 'nests', action: 'delete', roles: ['phoenix-viewer'] }] });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'IDE-0102', field: 'body.roles.0.name' });
    const rows = await h.deps.pool.query("SELECT count(*)::int AS n FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE r.name = 'phoenix-viewer' AND p.action = 'delete'");
    expect(rows.rows[0].n).toBe(0);
  });

  it("an administrator's role named and described like a declared one is not the product's: ownership is the application id (409)", async () => {
    const product = await createProduct(org, 'spoof');
    await h.deps.pool.query("INSERT INTO roles (org_id, name, description) VALUES ($1, 'spoof-viewer', 'declared by spoof')", [org]);
    const before = await databaseDigest(h.deps.pool);
    const response = await declare('spoof', product.token, { service: 'spoof', version: '1', permissions: [{ resource: 'x', action: 'get', roles: ['spoof-viewer'] }], roles: [] });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'IDE-0102', field: 'body.permissions.0.roles.0' });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('role names are compared in the canonical form /v1/roles keeps unique: another spelling of a taken name is 409, two in one manifest 400', async () => {
    const product = await createProduct(org, 'cased');
    expect((await h.http().post('/v1/roles').set('Authorization', admin.auth).send({ name: 'CASED-ADMIN' })).status).toBe(201);
    const taken = await declare('cased', product.token, { service: 'cased', version: '1', permissions: [{ resource: 'x', action: 'get', roles: ['cased-admin'] }], roles: [] });
    expect(taken.status).toBe(409);
    expect(taken.body.field).toBe('body.permissions.0.roles.0');
    const twice = await declare('cased', product.token, { service: 'cased', version: '1', permissions: [{ resource: 'x', action: 'get', roles: ['cased-viewer', 'Cased-Viewer'] }], roles: [] });
    expect(twice.status).toBe(400);
    expect(twice.body.field).toBe('body.permissions.0.roles.1');
    // And the other way round: a declared role's name is taken for /v1/roles in any spelling.
    expect((await declare('cased', product.token, { service: 'cased', version: '1', permissions: [{ resource: 'x', action: 'get', roles: ['cased-viewer'] }], roles: [] })).status).toBe(200);
    expect((await h.http().post('/v1/roles').set('Authorization', admin.auth).send({ name: 'Cased-Viewer' })).status).toBe(409);
  });

  it('a role name created through /v1/roles and declared at the same moment in another spelling: the name lock lets exactly one have it', async () => {
    const product = await createProduct(org, 'race');
    for (let round = 0; round < 5; round++) {
      const name = `race-role-${round}`;
      const [viaRoles, viaDeclaration] = await Promise.all([
        h.http().post('/v1/roles').set('Authorization', admin.auth).send({ name: name.toUpperCase() }),
        declare('race', product.token, { service: 'race', version: String(round), permissions: [{ resource: 'x', action: 'get', roles: [name] }], roles: [] }),
      ]);
      // One has the name; the other is refused as taken.
      expect(viaRoles.status === 201 ? viaDeclaration.status : viaRoles.status, name).toBe(409);
      expect([viaRoles.status === 201, viaDeclaration.status === 200].filter(Boolean), name).toHaveLength(1);
      const { rows } = await h.deps.pool.query('SELECT count(*)::int AS n FROM roles WHERE org_id = $1 AND lower(name) = $2', [org, name]);
      expect(rows[0].n, name).toBe(1);
    }
  });

  it(`a manifest naming more than 50 distinct roles is 400 naming the first past the bound`, async () => {
    const product = await createProduct(org, 'many');
    const permissions = Array.from({ length: 26 }, (_, i) => ({ resource: `r${i}`, action: 'get', roles: [`many-a${i}`, `many-b${i}`] }));
    const response = await declare('many', product.token, { service: 'many', version: '1', permissions, roles: [] });
    expect(response.status).toBe(400);
    expect(response.body.field).toBe('body.permissions.25.roles.0');
    const fifty = await declare('many', product.token, { service: 'many', version: '1', permissions: permissions.slice(0, 25), roles: [] });
    expect(fifty.status).toBe(200);
  });
});
