import { escalationPermission } from '../domain/escalation-permission.js';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyStore, PgChangeFeed } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, type EngineEvent, type PolicyStore } from '../engine/index.js';
import { runMigrations } from '../platform/migrations.js';
import { createIdentityHarness, type IdentityHarness } from '../test/support/identity-harness.js';
import { writePolicy } from '../test/support/policy-writes.js';
import { createTestSchema, type TestSchema } from '../test/support/postgres.js';
import { BootstrapError, builtinOrganizationId as tenantId, reconcile } from './index.js';
import { defaultSeedDir } from './seed-loader.js';

const adminCredentials = { username: 'root-admin', password: 'Tr0ub4dor&3-horse' };

async function idOf(pool: pg.Pool, table: 'roles' | 'groups' | 'applications' | 'users', name: string): Promise<string> {
  const column = table === 'users' ? 'username' : 'name';
  const { rows } = await pool.query<{ id: string }>(`SELECT id::text FROM ${table} WHERE org_id = $1 AND ${column} = $2`, [tenantId, name]);
  if (!rows[0]) throw new Error(`no ${table} ${name}`);
  return rows[0].id;
}

async function counts(pool: pg.Pool): Promise<Record<string, number>> {
  const tables = ['organizations', 'users', 'groups', 'roles', 'role_permissions', 'group_roles', 'group_members', 'applications', 'application_permissions', 'builtin_tenant_rules', 'casbin', 'policy_revision', 'audit_events'];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
  return out;
}

async function revision(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ revision: string }>('SELECT revision FROM policy_revision WHERE tenant_id = $1', [tenantId]);
  return Number(rows[0]?.revision ?? 0);
}

/** Every casbin line, as text, sorted: the whole policy compared at once. */
async function policyLines(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ line: string }>("SELECT ptype || ', ' || array_to_string(ARRAY(SELECT jsonb_array_elements_text(rule)), ', ') AS line FROM casbin");
  return rows.map((r) => r.line).sort();
}

async function seedCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'am-seed-'));
  await cp(defaultSeedDir, dir, { recursive: true });
  return dir;
}

async function edit(dir: string, file: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(dir, file), 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`the edit of ${file} changed nothing`);
  await writeFile(join(dir, file), after);
}

/** An engine over `pool`'s schema as a service runs it (resync off: only writes and the feed move it). */
async function engineOn(pool: pg.Pool, options: { feed?: PgChangeFeed; onEvent?: (event: EngineEvent) => void } = {}): Promise<PolicyEngine> {
  const model = await loadModelFile();
  return PolicyEngine.start({ model, store: createPolicyStore({ pool, model }), resyncIntervalMs: 0, ...options });
}

describe('bootstrap reconciler on a fresh database', () => {
  let schema: TestSchema;
  let store: PolicyStore;
  let engine: PolicyEngine;

  beforeAll(async () => {
    schema = await createTestSchema('bootstrap_fresh');
    await runMigrations({ databaseUrl: schema.url });
    store = createPolicyStore({ pool: schema.pool });
    engine = await engineOn(schema.pool);
  });
  afterAll(async () => {
    engine.stop();
    await schema.drop();
  });

  it('plan on an empty database lists every built-in and writes nothing', async () => {
    const before = await counts(schema.pool);
    const lines: string[] = [];
    const { changes, adminCreated } = await reconcile({ pool: schema.pool, engine, mode: 'plan', admin: adminCredentials, log: (l) => lines.push(l) });
    expect(changes).toContain('create organization platform "Platform"');
    expect(changes).toContain('create role midaz-editor-role (40 permissions)');
    expect(changes).toContain('create role plugin-identity-editor-role (52 permissions)');
    expect(changes).toContain('create group admin-group (7 roles)');
    expect(changes).toContain('create role escalation-role (1 permission)');
    expect(changes).toContain('create application midaz (permission set midaz-product, 40 permissions)');
    expect(changes).toContain('add tenant rule * update-password patch allow');
    expect(changes).toContain('create administrator root-admin in admin-group');
    expect(changes.filter((c) => c.startsWith('create role '))).toHaveLength(17);
    expect(changes.filter((c) => c.startsWith('create group '))).toHaveLength(16);
    expect(changes.filter((c) => c.startsWith('create application '))).toHaveLength(6);
    expect(changes).toContain('create application console (public client, 0 permissions)');
    expect(changes.at(-1)).toMatch(/^policy of organization platform: \+\d+ lines, -0 lines$/);
    expect(adminCreated).toBe(false);
    expect(lines[0]).toBe(`${changes.length} changes to apply:`);
    expect(await counts(schema.pool)).toEqual(before);
    expect(Object.values(before).every((n) => n === 0)).toBe(true);
  });

  it('a bad seed file is refused with its file, line and path, and nothing is written', async () => {
    const dir = await seedCopy();
    try {
      await edit(dir, 'roles.yaml', (t) => t.replace('actions: [get, post, patch]', 'actions: [get, post, pach]'));
      const error = await reconcile({ pool: schema.pool, engine, mode: 'apply', admin: adminCredentials, seedDir: dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BootstrapError);
      expect((error as BootstrapError).code).toBe('INVALID_SEED');
      expect((error as BootstrapError).message).toMatch(/^roles\.yaml:\d+:\d+ roles\.1\.grants\.0\.actions\.2: pach is not an action of resources\.yaml$/);
      expect(Object.values(await counts(schema.pool)).every((n) => n === 0)).toBe(true);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('a failure part way through apply leaves nothing written (one transaction)', async () => {
    // The database refuses the first application row, long after the organization, roles and groups were written.
    await schema.pool.query(`CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await schema.pool.query('CREATE TRIGGER refuse_applications BEFORE INSERT ON applications FOR EACH ROW EXECUTE FUNCTION refuse_row()');
    try {
      await expect(reconcile({ pool: schema.pool, engine, mode: 'apply', admin: adminCredentials })).rejects.toThrow('refused by the test');
      expect(Object.values(await counts(schema.pool)).every((n) => n === 0)).toBe(true);
    } finally {
      await schema.pool.query('DROP TRIGGER refuse_applications ON applications; DROP FUNCTION refuse_row()');
    }
  });

  it('apply creates the seed, and the engine decides as the contract says', async () => {
    const lines: string[] = [];
    const { changes, adminCreated } = await reconcile({ pool: schema.pool, engine, mode: 'apply', admin: adminCredentials, log: (l) => lines.push(l) });
    expect(adminCreated).toBe(true);
    expect(changes).toContain('create administrator root-admin in admin-group');
    expect(lines[0]).toBe(`applied ${changes.length} changes:`);
    expect(await revision(schema.pool)).toBe(1);

    // A replica loading what was committed decides by it.
    const loaded = await PolicyEngine.start({ model: await loadModelFile(), store, resyncIntervalMs: 0 });
    try {
      const allowed = (sub: string, obj: string, act: string) => loaded.decideSync({ sub, dom: tenantId, obj, act }).allowed;
      const admin = `user:${await idOf(schema.pool, 'users', 'root-admin')}`;
      // The administrator, through admin-group: every product's editor and the identity editor.
      for (const [obj, act] of [['users', 'post'], ['groups', 'delete'], ['roles', 'patch'], ['reset-password', 'patch'], ['organizations', 'get'], ['decision-log', 'get'], ['midaz/accounts', 'delete'], ['routing/transaction-routes', 'post'], ['plugin-smart-templates/data-source', 'patch']]) {
        expect(allowed(admin, obj as string, act as string), `${obj} ${act}`).toBe(true);
      }
      expect(allowed(admin, 'midaz/accounts', 'head')).toBe(false);
      const group = async (name: string) => `group:${await idOf(schema.pool, 'groups', name)}`;
      const viewer = await group('midaz-viewer-group');
      expect(allowed(viewer, 'midaz/ledgers', 'get')).toBe(true);
      expect(allowed(viewer, 'midaz/ledgers', 'post')).toBe(false);
      expect(allowed(viewer, 'routing/account-types', 'get')).toBe(false);
      expect(allowed(viewer, 'decision-log', 'get')).toBe(false);
      const contributor = await group('plugin-fees-contributor-group');
      expect(allowed(contributor, 'plugin-fees/fees', 'patch')).toBe(true);
      expect(allowed(contributor, 'plugin-fees/fees', 'delete')).toBe(false);
      // The one rule of subject `*`: any user changes their own password, nothing more.
      expect(allowed('user:anyone', 'update-password', 'patch')).toBe(true);
      expect(allowed('user:anyone', 'reset-password', 'patch')).toBe(false);
      const midaz = `app:${await idOf(schema.pool, 'applications', 'midaz')}`;
      expect(allowed(midaz, 'midaz/transactions', 'post')).toBe(true);
      expect(allowed(midaz, 'plugin-crm/holders', 'get')).toBe(false);
      // The escalation permission: the administrator (through admin-group) holds it, a product and a viewer do not.
      expect(allowed(admin, escalationPermission.resource, escalationPermission.action)).toBe(true);
      expect(allowed(midaz, escalationPermission.resource, escalationPermission.action)).toBe(false);
      expect(allowed(viewer, escalationPermission.resource, escalationPermission.action)).toBe(false);
    } finally {
      loaded.stop();
    }

    const { rows: [user] } = await schema.pool.query<{ password_hash: string; builtin: boolean }>('SELECT password_hash, builtin FROM users WHERE username = $1', ['root-admin']);
    expect(user?.builtin).toBe(true);
    expect(user?.password_hash).toMatch(/^\$argon2id\$/);
    expect(await argon2.verify(user?.password_hash as string, adminCredentials.password)).toBe(true);
    // Each new application's secret is shown once, and only its argon2id hash is stored.
    const shown = lines.filter((l) => l.startsWith('application '));
    expect(shown).toHaveLength(5);
    const [, name, clientId, secret] = /^application (\S+): client id (\S+), client secret (\S+) \(shown once/.exec(shown[0] as string) ?? [];
    const { rows: [app] } = await schema.pool.query<{ client_id: string; client_secret_hash: string }>('SELECT client_id, client_secret_hash FROM applications WHERE name = $1', [name]);
    expect(app?.client_id).toBe(clientId);
    expect(app?.client_secret_hash).not.toContain(secret as string);
    expect(await argon2.verify(app?.client_secret_hash as string, secret as string)).toBe(true);
    const { rows: audits } = await schema.pool.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_events WHERE org_id = $1', [tenantId]);
    expect(audits.length).toBe(changes.length - 1);
    expect(new Set(audits.map((a) => a.actor))).toEqual(new Set(['bootstrap']));
  });

  it('a second apply changes nothing, says so, and never resets the administrator', async () => {
    const before = await counts(schema.pool);
    const hash = (await schema.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE username = $1', ['root-admin'])).rows[0]?.h;
    const lines: string[] = [];
    const result = await reconcile({ pool: schema.pool, engine, mode: 'apply', admin: { username: 'other-admin', password: 'An0ther-passw0rd!' }, log: (l) => lines.push(l) });
    expect(result).toEqual({ changes: [], adminCreated: false, organization: { id: tenantId, slug: 'platform' } });
    expect(lines).toEqual(['nothing to change']);
    expect(await counts(schema.pool)).toEqual(before);
    expect(await revision(schema.pool)).toBe(1);
    expect((await schema.pool.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE username = $1', ['root-admin'])).rows[0]?.h).toBe(hash);
    expect((await reconcile({ pool: schema.pool, engine, mode: 'plan' })).changes).toEqual([]);
  });

  it('the console is a built-in public client: no secret stored, its redirect URI under Identity\'s address, which a later run moves', async () => {
    const console = async () =>
      (await schema.pool.query<{ client_id: string; client_secret_hash: string | null; redirect_uris: string[] }>("SELECT client_id, client_secret_hash, redirect_uris FROM applications WHERE name = 'console'")).rows[0];
    expect(await console()).toEqual({ client_id: 'access-manager-console', client_secret_hash: null, redirect_uris: ['http://localhost:4001/console/'] });
    const { changes } = await reconcile({ pool: schema.pool, engine, mode: 'apply', identityUrl: 'https://am.example/' });
    expect(changes).toEqual(['update application console: redirect URIs']);
    expect((await console())?.redirect_uris).toEqual(['https://am.example/console/']);
    await expect(reconcile({ pool: schema.pool, engine, mode: 'apply', identityUrl: 'http://am.example' })).rejects.toThrow(/http only on a loopback host/);
    expect((await reconcile({ pool: schema.pool, engine, mode: 'apply' })).changes).toEqual(['update application console: redirect URIs']);
  });

  it('a policy line of a built-in lost outside the reconciler comes back, and only that is reported', async () => {
    const viewerRole = await idOf(schema.pool, 'roles', 'midaz-viewer-role');
    await writePolicy(schema.pool, engine, tenantId, [{ op: 'remove', rule: { ptype: 'p', values: [`role:${viewerRole}`, tenantId, 'midaz/ledgers', 'get', 'allow'] } }]);
    const { changes } = await reconcile({ pool: schema.pool, engine, mode: 'apply' });
    expect(changes).toEqual(['policy of organization platform: +1 line, -0 lines']);
    expect((await reconcile({ pool: schema.pool, engine, mode: 'apply' })).changes).toEqual([]);
  });
});

describe('bootstrap reconciler and running replicas', () => {
  let schema: TestSchema;
  const feeds: PgChangeFeed[] = [];
  const engines: PolicyEngine[] = [];
  // NOTIFY channels are database-wide: one of this file's own, so no other test's engines hear it.
  const channel = `bootstrap_feed_${randomBytes(6).toString('hex')}`;
  const feed = () => {
    const created = new PgChangeFeed({ connectionString: schema.url, pool: schema.pool, channel });
    feeds.push(created);
    return created;
  };

  beforeAll(async () => {
    schema = await createTestSchema('bootstrap_announce');
    await runMigrations({ databaseUrl: schema.url });
  });
  afterAll(async () => {
    for (const engine of engines) engine.stop();
    await Promise.all(feeds.map((f) => f.close()));
    await schema.drop();
  });

  it("apply announces the seed's policy revision: a running replica (no resync poll) applies it at once", async () => {
    let applied: (revision: number) => void = () => undefined;
    const reached = new Promise<number>((resolve) => (applied = resolve));
    const replica = await engineOn(schema.pool, {
      feed: feed(),
      onEvent: (event) => {
        if ((event.type === 'revision-applied' || event.type === 'tenant-reloaded') && event.tenantId === tenantId) applied(event.revision);
      },
    });
    engines.push(replica);
    const writer = await engineOn(schema.pool, { feed: feed() });
    engines.push(writer);
    expect(replica.revisionOf(tenantId)).toBe(0);

    await reconcile({ pool: schema.pool, engine: writer, mode: 'apply', admin: adminCredentials });
    const committed = await revision(schema.pool);
    expect(committed).toBe(1);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the replica never heard of the seed')), 10_000).unref());
    expect(await Promise.race([reached, timeout])).toBe(committed);

    const admin = `user:${await idOf(schema.pool, 'users', 'root-admin')}`;
    expect(replica.decideSync({ sub: admin, dom: tenantId, obj: 'users', act: 'post' })).toMatchObject({ allowed: true, revision: committed });
  });
});

describe('bootstrap reconciler under concurrency', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('bootstrap_concurrent');
    await runMigrations({ databaseUrl: schema.url });
  });
  afterAll(async () => {
    await schema.drop();
  });

  it('two concurrent applies take turns under the lock: one makes the changes, the other finds nothing to change', async () => {
    const run = async () => {
      const pool = schema.newPool({ max: 2 });
      const engine = await engineOn(pool);
      return reconcile({ pool, engine, mode: 'apply', admin: adminCredentials }).finally(() => engine.stop());
    };
    const results = await Promise.all([run(), run(), run()]);
    const made = results.filter((r) => r.changes.length > 0);
    expect(made).toHaveLength(1);
    expect(results.filter((r) => r.adminCreated)).toHaveLength(1);
    const after = await counts(schema.pool);
    expect(after).toMatchObject({ organizations: 1, users: 1, roles: 17, groups: 16, applications: 6, policy_revision: 1 });
    expect(await revision(schema.pool)).toBe(1);
  });
});

describe('bootstrap reconciler next to administrators', () => {
  let harness: IdentityHarness;
  let token: string;
  let seedDir: string;
  const apply = (options: { seedDir?: string } = {}) => reconcile({ pool: harness.deps.pool, engine: harness.deps.engine, mode: 'apply', ...options });
  const api = async (method: 'post' | 'put' | 'delete', path: string, body?: object, status = method === 'post' ? 201 : 200) => {
    const request = harness.http()[method](path).set('Authorization', `Bearer ${token}`);
    const response = body ? await request.send(body) : await request;
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBe(status);
    return response.body as { id: string };
  };

  beforeAll(async () => {
    harness = await createIdentityHarness('bootstrap_admins');
    seedDir = await seedCopy();
    await reconcile({ pool: harness.deps.pool, engine: harness.deps.engine, mode: 'apply', admin: adminCredentials, seedDir });
    token = await harness.token({ sub: await idOf(harness.deps.pool, 'users', 'root-admin'), tenantId });
  });
  afterAll(async () => {
    await rm(seedDir, { recursive: true });
    await harness.close();
  });

  it('keeps what administrators made, their policy included, while the seed changes, removes and adds built-ins', async () => {
    const pool = harness.deps.pool;
    // The bootstrapped administrator builds its own records through Identity.
    const opsRole = await api('post', '/v1/roles', { name: 'ops-role', permissions: [{ resource: 'midaz/accounts', action: 'head', effect: 'allow' }] });
    const midazViewerRole = await idOf(pool, 'roles', 'midaz-viewer-role');
    const opsGroup = await api('post', '/v1/groups', { name: 'ops-group', roles: [opsRole.id, midazViewerRole] });
    const alice = await api('post', '/v1/users', { firstName: 'Alice', lastName: 'Ops', username: 'alice', email: 'alice@example.test', password: 'Sturdy-Passw0rd-1', groups: [opsGroup.id, await idOf(pool, 'groups', 'midaz-viewer-group')] });
    const app = await api('post', '/v1/applications', { name: 'reporting', description: 'made by an administrator' });
    await api('put', `/v1/applications/${app.id}/permissions`, { permissions: [{ resource: 'midaz/balances', action: 'get', effect: 'allow' }] });
    // A product's declaration may link its own role to a built-in group: that link is the product's, not the seed's.
    const adminGroup = await idOf(pool, 'groups', 'admin-group');
    await pool.query('INSERT INTO group_roles (org_id, group_id, role_id) VALUES ($1, $2, $3)', [tenantId, adminGroup, opsRole.id]);
    await harness.writePolicy(tenantId, [{ op: 'add', rule: { ptype: 'g', values: [`group:${adminGroup}`, `role:${opsRole.id}`, tenantId] } }]);
    const adminRows = async () =>
      (
        await pool.query(
          `SELECT 'role' AS kind, id::text, name, description, version FROM roles WHERE NOT builtin
           UNION ALL SELECT 'group', id::text, name, description, version FROM groups WHERE NOT builtin
           UNION ALL SELECT 'user', id::text, username, email, version FROM users WHERE NOT builtin AND org_id = $1
           UNION ALL SELECT 'app', id::text, name, description, version FROM applications WHERE NOT builtin
           UNION ALL SELECT 'member', group_id::text, user_id::text, '', 0 FROM group_members WHERE user_id = $2
           UNION ALL SELECT 'link', group_id::text, role_id::text, '', 0 FROM group_roles WHERE group_id = $3 OR role_id = $4
           ORDER BY 1, 2, 3`,
          [tenantId, alice.id, opsGroup.id, opsRole.id],
        )
      ).rows;
    const adminLines = async () => (await policyLines(pool)).filter((l) => [opsRole.id, opsGroup.id, alice.id, app.id].some((id) => l.includes(id)));
    const rowsBefore = await adminRows();
    const linesBefore = await adminLines();
    expect(linesBefore).toContain(`g, group:${adminGroup}, role:${opsRole.id}, ${tenantId}`);
    expect(linesBefore.length).toBeGreaterThanOrEqual(8);

    // The seed changes: viewers of Midaz may also `head`, Routing viewers go, so does the CRM plugin's application and the tenant rule.
    await edit(seedDir, 'roles.yaml', (t) => t.replace('    description: Reads every resource of Midaz\n    grants:\n      - { resourceSet: midaz, actions: [get] }', '    description: Reads every resource of Midaz, headers too\n    grants:\n      - { resourceSet: midaz, actions: [get, head] }'));
    await edit(seedDir, 'roles.yaml', (t) => t.replace(/ {2}- name: routing-viewer-role\n( {4}.*\n){3}/, ''));
    await edit(seedDir, 'groups.yaml', (t) => t.replace(/ {2}- name: routing-viewer-group\n( {4}.*\n){2}/, ''));
    await edit(seedDir, 'applications.yaml', (t) => t.replace(/ {2}- name: plugin-crm\n( {4}.*\n){2}/, ''));
    await edit(seedDir, 'tenant-rules.yaml', (t) => t.replace(/rules:\n.*\n/, 'rules: []\n'));
    const removed = { role: await idOf(pool, 'roles', 'routing-viewer-role'), group: await idOf(pool, 'groups', 'routing-viewer-group'), app: await idOf(pool, 'applications', 'plugin-crm') };

    const planned = await reconcile({ pool, engine: harness.deps.engine, mode: 'plan', seedDir });
    const { changes } = await apply({ seedDir });
    expect(changes).toEqual(planned.changes);
    expect(changes).toEqual([
      'remove application plugin-crm (8 permissions)',
      'remove group routing-viewer-group',
      'remove role routing-viewer-role (3 permissions)',
      'remove tenant rule * update-password patch allow',
      'update role midaz-viewer-role: description, +10 permissions',
      // 10 head lines in, the removed records' 8 + 1 (app link) + 3 + 1 (group link) lines and the tenant rule out.
      'policy of organization platform: +10 lines, -14 lines',
    ]);

    const lines = await policyLines(pool);
    expect(lines).toContain(`p, role:${midazViewerRole}, ${tenantId}, midaz/ledgers, head, allow`);
    expect(lines.filter((l) => Object.values(removed).some((id) => l.includes(id)))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('p, *,'))).toEqual([]);
    expect((await pool.query('SELECT 1 FROM roles WHERE id = ANY($1::uuid[]) UNION ALL SELECT 1 FROM groups WHERE id = ANY($1::uuid[]) UNION ALL SELECT 1 FROM applications WHERE id = ANY($1::uuid[])', [Object.values(removed)])).rowCount).toBe(0);
    // Administrators' records, their links (to a built-in role and group too) and their lines are as they were.
    expect(await adminRows()).toEqual(rowsBefore);
    expect(await adminLines()).toEqual(linesBefore);
    expect((await apply({ seedDir })).changes).toEqual([]);
  });

  it('refuses, writing nothing, a seed change that an administrator’s record stands in the way of', async () => {
    const pool = harness.deps.pool;
    await api('post', '/v1/groups', { name: 'audit-group' });
    const before = { revision: await revision(pool), lines: await policyLines(pool), counts: await counts(pool) };

    // A new built-in group named like the administrator's, and the removal of a built-in group with a member (alice).
    await edit(seedDir, 'groups.yaml', (t) => `${t}  - name: audit-group\n    description: Auditors\n    roles: [midaz-viewer-role]\n`);
    const error = await apply({ seedDir }).catch((e: unknown) => e);
    expect((error as BootstrapError).code).toBe('CONFLICT');
    expect((error as BootstrapError).problems).toEqual(['group name audit-group is held by a record an administrator created']);

    await edit(seedDir, 'groups.yaml', (t) => t.replace(/ {2}- name: audit-group\n( {4}.*\n){2}/, '').replace(/ {2}- name: midaz-viewer-group\n( {4}.*\n){2}/, ''));
    const members = await apply({ seedDir }).catch((e: unknown) => e);
    expect((members as BootstrapError).problems).toEqual(['built-in group midaz-viewer-group is no longer in the seed but still has 1 member: move them first']);

    // A built-in role that the administrator's ops-group holds cannot go either.
    await edit(seedDir, 'groups.yaml', (t) => `${t}  - name: midaz-viewer-group\n    roles: []\n`);
    await edit(seedDir, 'roles.yaml', (t) => t.replace(/ {2}- name: midaz-viewer-role\n( {4}.*\n){3}/, ''));
    const held = await apply({ seedDir }).catch((e: unknown) => e);
    expect((held as BootstrapError).problems).toEqual(['built-in role midaz-viewer-role is no longer in the seed but the group ops-group, which an administrator created, holds it']);

    const plan = await reconcile({ pool, engine: harness.deps.engine, mode: 'plan', seedDir });
    expect(plan.changes).toContain('remove role midaz-viewer-role (20 permissions)');
    expect({ revision: await revision(pool), lines: await policyLines(pool), counts: await counts(pool) }).toEqual(before);
  });
});
