import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { delegate, expectEscalationRefused, helpDeskGrants } from '../../test/support/escalation.js';
import { createIdentityHarness, type IdentityHarness } from '../../test/support/identity-harness.js';

let h: IdentityHarness;
let orgA: string;
let orgB: string;
let adminA: { userId: string; token: string };
let adminB: { userId: string; token: string };
let auth: string;

beforeAll(async () => {
  h = await createIdentityHarness('applications');
  orgA = await h.createOrganization();
  orgB = await h.createOrganization();
  adminA = await h.admin(orgA);
  adminB = await h.admin(orgB);
  auth = `Bearer ${adminA.token}`;
});
afterAll(async () => h.close());

interface CreatedApplication {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
}

async function createApplication(name: string, authorization = auth): Promise<CreatedApplication> {
  const response = await h.http().post('/v1/applications').set('Authorization', authorization).send({ name, description: `the ${name} product` });
  expect(response.status).toBe(201);
  return response.body as CreatedApplication;
}

async function storedHash(id: string): Promise<string | undefined> {
  const { rows } = await h.deps.pool.query<{ client_secret_hash: string }>('SELECT client_secret_hash FROM applications WHERE id = $1', [id]);
  return rows[0]?.client_secret_hash;
}

/** The tenant's policy lines naming `subject` first, as stored. */
async function linesOf(tenantId: string, subject: string): Promise<string[]> {
  const { rows } = await h.deps.pool.query<{ ptype: string; rule: string[] }>('SELECT ptype, rule FROM casbin WHERE rule->>0 = $1 ORDER BY id', [subject]);
  return rows.filter((r) => r.rule.includes(tenantId)).map((r) => [r.ptype, ...r.rule].join(', '));
}

const decide = (tenantId: string, appId: string, obj: string, act: string) => h.deps.engine.decide({ sub: `app:${appId}`, dom: tenantId, obj, act });

describe('applications', () => {
  it('creation shows the client secret once; list and get never return it, and only its argon2id hash is stored', async () => {
    const created = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'midaz', description: 'Ledger' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'midaz', description: 'Ledger' });
    expect(Object.keys(created.body).sort()).toEqual(['clientId', 'clientSecret', 'createdAt', 'description', 'id', 'name', 'publicClient', 'redirectUris', 'updatedAt']);
    expect(created.body.clientId).toMatch(/^am_[0-9A-Za-z]{24}$/);
    expect(created.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.headers['x-policy-revision']).toMatch(/^\d+$/);
    expect(created.headers.etag).toBe('"1"');
    const { id, clientSecret } = created.body as CreatedApplication;

    const got = await h.http().get(`/v1/applications/${id}`).set('Authorization', auth);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ ...created.body, clientSecret: undefined, id, updatedAt: got.body.updatedAt });
    expect(got.body).not.toHaveProperty('clientSecret');
    const list = await h.http().get('/v1/applications?limit=100').set('Authorization', auth);
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toContain(id);
    for (const body of [got.text, list.text]) expect(body).not.toContain(clientSecret);

    const hash = await storedHash(id);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await h.deps.passwords.verify(hash, clientSecret)).toBe(true);
    expect(await h.deps.passwords.verify(hash, `${clientSecret}x`)).toBe(false);
    const tables = await h.deps.pool.query(`SELECT (SELECT json_agg(a)::text FROM applications a) AS apps, (SELECT json_agg(e)::text FROM audit_events e) AS audit`);
    expect(tables.rows[0].apps).not.toContain(clientSecret);
    expect(tables.rows[0].audit).not.toContain(clientSecret);
    const audit = await h.deps.pool.query('SELECT action, after FROM audit_events WHERE target_id = $1', [id]);
    expect(audit.rows).toEqual([{ action: 'application.create', after: expect.objectContaining({ id, clientId: created.body.clientId }) }]);
    expect(JSON.stringify(h.reports)).not.toContain(clientSecret);

    expect(await linesOf(orgA, `app:${id}`)).toEqual([`g, app:${id}, pset:${id}, ${orgA}`]);
  });

  it('redirect URIs: absolute https, or http on a loopback host, stored exactly as written and changed by PATCH', async () => {
    const uris = ['https://app.example/callback', 'https://app.example/callback?tenant=a', 'http://127.0.0.1:8080/cb', 'http://[::1]/cb', 'http://localhost:3000/'];
    const created = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'web-redirects', redirectUris: uris });
    expect(created.status).toBe(201);
    expect(created.body.redirectUris).toEqual(uris);
    expect(created.body.publicClient).toBe(false);
    const changed = await h.http().patch(`/v1/applications/${created.body.id}`).set('Authorization', auth).set('If-Match', '"1"').send({ redirectUris: ['https://APP.example/Callback/'] });
    expect(changed.status).toBe(200);
    expect(changed.body.redirectUris).toEqual(['https://APP.example/Callback/']);
    expect(changed.headers['x-policy-revision']).toMatch(/^\d+$/);
    expect((await h.http().get(`/v1/applications/${created.body.id}`).set('Authorization', auth)).body.redirectUris).toEqual(['https://APP.example/Callback/']);
  });

  it.each([
    ['http on a public host', 'http://app.example/cb'],
    ['a fragment', 'https://app.example/cb#x'],
    ['user information', 'https://good@evil.example/cb'],
    ['a relative URI', '/callback'],
    ['another scheme', 'javascript:alert(1)'],
    ['whitespace', 'https://app.example/c b'],
  ])('a redirect URI with %s is 400 naming the field, and nothing is written', async (_name, uri) => {
    const res = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: `bad-redirect-${Math.random().toString(36).slice(2, 8)}`, redirectUris: [uri] });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(res.body)).toContain('redirectUris');
    const { rows } = await h.deps.pool.query('SELECT 1 FROM applications WHERE $1 = ANY(redirect_uris)', [uri]);
    expect(rows).toEqual([]);
  });

  it('a redirect URI listed twice, or more than 20, is 400', async () => {
    const twice = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'dup-redirects', redirectUris: ['https://a.example/cb', 'https://a.example/cb'] });
    expect(twice.status).toBe(400);
    const many = Array.from({ length: 21 }, (_, i) => `https://a.example/cb${i}`);
    expect((await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'many-redirects', redirectUris: many })).status).toBe(400);
  });

  it('a public client gets no secret (none is stored) and has none to rotate', async () => {
    const created = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'spa-public', publicClient: true, redirectUris: ['https://spa.example/'] });
    expect(created.status).toBe(201);
    expect(created.body.publicClient).toBe(true);
    expect(created.body.clientSecret).toBeUndefined();
    expect(await storedHash(created.body.id)).toBeNull();
    const rotate = await h.http().post(`/v1/applications/${created.body.id}/rotate-secret`).set('Authorization', auth).set('If-Match', '"1"');
    expect(rotate.status).toBe(400);
    expect(await storedHash(created.body.id)).toBeNull();
  });

  it('a duplicate name in one organization is 409 NAME_TAKEN; another organization may use it', async () => {
    await createApplication('dup-app');
    const dup = await h.http().post('/v1/applications').set('Authorization', auth).send({ name: 'dup-app', description: '' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ code: 'IDE-0102', field: 'body.name' });
    await createApplication('dup-app', `Bearer ${adminB.token}`);
  });

  it('bad bodies are 400 naming the field, and nothing is written', async () => {
    const before = await h.deps.pool.query('SELECT count(*)::int AS n FROM applications');
    for (const [body, field] of [
      [{ name: 'Midaz', description: '' }, 'body.name'],
      [{ name: '-midaz', description: '' }, 'body.name'],
      [{ name: 'a'.repeat(64), description: '' }, 'body.name'],
      [{ description: 'x' }, 'body.name'],
      [{ name: 'okay', description: 'x'.repeat(1001) }, 'body.description'],
      [{ name: 'okay', description: '', clientSecret: 'mine' }, 'body'],
      [{ name: 'okay', description: '', tenantId: orgB }, 'body'],
    ] as const) {
      const response = await h.http().post('/v1/applications').set('Authorization', auth).send(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.field).toBe(field);
    }
    const after = await h.deps.pool.query('SELECT count(*)::int AS n FROM applications');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('PATCH changes the description under If-Match; a stale version is 412 and an empty body 400', async () => {
    const app = await createApplication('patchable');
    const path = `/v1/applications/${app.id}`;
    const patched = await h.http().patch(path).set('Authorization', auth).set('If-Match', '"1"').send({ description: 'new words' });
    expect(patched.status).toBe(200);
    expect(patched.body.description).toBe('new words');
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.headers['x-policy-revision']).toMatch(/^\d+$/);
    expect((await h.http().patch(path).set('Authorization', auth).set('If-Match', '"1"').send({ description: 'lost' })).status).toBe(412);
    expect((await h.http().patch(path).set('Authorization', auth).send({})).body.field).toBe('body');
    expect((await h.http().patch(path).set('Authorization', auth).send({ name: 'renamed' })).status).toBe(400);
  });

  it('the permission set decides what the application may do; PUT replaces it with exactly the changed lines', async () => {
    const app = await createApplication('reporter');
    const path = `/v1/applications/${app.id}/permissions`;
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(false);

    const first = await h
      .http()
      .put(path)
      .set('Authorization', auth)
      .send({
        permissions: [
          { resource: 'ledgers', action: 'get' },
          { resource: 'ledgers', action: 'post', effect: 'allow' },
          { resource: 'ledgers', action: 'get' },
          { resource: 'accounts/*', action: '*' },
        ],
      });
    expect(first.status).toBe(200);
    // One entry per line, as a role's permissions are; a repeated entry counts once.
    expect(first.body).toEqual({
      applicationId: app.id,
      permissions: [
        { resource: 'accounts/*', action: '*', effect: 'allow' },
        { resource: 'ledgers', action: 'get', effect: 'allow' },
        { resource: 'ledgers', action: 'post', effect: 'allow' },
      ],
    });
    const revision = Number(first.headers['x-policy-revision']);
    expect((await decide(orgA, app.id, 'ledgers', 'post')).allowed).toBe(true);
    expect((await decide(orgA, app.id, 'accounts/42', 'delete')).allowed).toBe(true);
    expect((await decide(orgA, app.id, 'ledgers', 'delete')).allowed).toBe(false);
    expect((await decide(orgB, app.id, 'ledgers', 'get')).allowed).toBe(false);

    const same = await h
      .http()
      .put(path)
      .set('Authorization', auth)
      .send({ permissions: [{ resource: 'ledgers', action: 'post' }, { resource: 'accounts/*', action: '*' }, { resource: 'ledgers', action: 'get' }] });
    expect(Number(same.headers['x-policy-revision'])).toBe(revision);

    const second = await h
      .http()
      .put(path)
      .set('Authorization', auth)
      .set('If-Match', first.headers.etag as string)
      .send({ permissions: [{ resource: 'ledgers', action: 'get' }, { resource: 'ledgers', action: 'get', effect: 'deny' }, { resource: 'reports', action: 'get' }] });
    expect(second.status).toBe(200);
    expect(Number(second.headers['x-policy-revision'])).toBe(revision + 1);
    expect(await linesOf(orgA, `pset:${app.id}`)).toEqual([
      `p, pset:${app.id}, ${orgA}, ledgers, get, allow`,
      `p, pset:${app.id}, ${orgA}, ledgers, get, deny`,
      `p, pset:${app.id}, ${orgA}, reports, get, allow`,
    ]);
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(false); // deny overrides allow
    expect((await decide(orgA, app.id, 'ledgers', 'post')).allowed).toBe(false);
    expect((await decide(orgA, app.id, 'accounts/42', 'delete')).allowed).toBe(false);
    expect((await decide(orgA, app.id, 'reports', 'get')).allowed).toBe(true);

    const got = await h.http().get(path).set('Authorization', auth);
    expect(got.body).toEqual(second.body);
    expect(got.headers.etag).toBe(second.headers.etag);
    expect((await h.http().put(path).set('Authorization', auth).set('If-Match', first.headers.etag as string).send({ permissions: [] })).status).toBe(412);
    const audit = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'application.permissions.replace'", [app.id]);
    expect(audit.rows[0].n).toBe(2);
  });

  it('a permission set with a resource or action the engine would misread is 400 naming the field', async () => {
    const app = await createApplication('validator');
    const path = `/v1/applications/${app.id}/permissions`;
    for (const [permissions, field] of [
      [[{ resource: 'a/../b', action: 'get' }], 'body.permissions.0.resource'],
      [[{ resource: 'a*b', action: 'get' }], 'body.permissions.0.resource'],
      [[{ resource: 'x'.repeat(257), action: 'get' }], 'body.permissions.0.resource'],
      [[{ resource: 'ledgers', action: 'ge t' }], 'body.permissions.0.action'],
      [[{ resource: 'ledgers', action: 'get*' }], 'body.permissions.0.action'],
      [[{ resource: 'ledgers', action: '' }], 'body.permissions.0.action'],
      [[{ resource: 'ledgers', action: 'x'.repeat(257) }], 'body.permissions.0.action'],
      [[{ resource: 'ledgers' }], 'body.permissions.0.action'],
      [[{ resource: 'ledgers', action: 'get', effect: 'maybe' }], 'body.permissions.0.effect'],
      [[{ resource: 'ledgers', action: 'get', subject: '*' }], 'body.permissions.0'],
      // The former grouped shape is refused, not half-read.
      [[{ resource: 'ledgers', action: 'get', actions: ['post'] }], 'body.permissions.0'],
      [Array.from({ length: 501 }, (_, i) => ({ resource: `r${i}`, action: 'get' })), 'body.permissions'],
    ] as const) {
      const response = await h.http().put(path).set('Authorization', auth).send({ permissions });
      expect(response.status, field).toBe(400);
      expect(response.body.field).toBe(field);
    }
    expect(await linesOf(orgA, `pset:${app.id}`)).toEqual([]);
  });

  it('a permission set holds up to 500 entries, each one policy line of pset:<id>', async () => {
    const app = await createApplication('wide');
    const permissions = Array.from({ length: 500 }, (_, i) => ({ resource: `r${String(i).padStart(3, '0')}`, action: 'get' }));
    const response = await h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', auth).send({ permissions });
    expect(response.status).toBe(200);
    expect(response.body.permissions).toHaveLength(500);
    expect(response.body.permissions[499]).toEqual({ resource: 'r499', action: 'get', effect: 'allow' });
    expect(await linesOf(orgA, `pset:${app.id}`)).toHaveLength(500);
    expect((await decide(orgA, app.id, 'r250', 'get')).allowed).toBe(true);
  });

  it('rotating the secret shows a new one once; the old secret and tokens issued before stop working', async () => {
    const app = await createApplication('rotator');
    await h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'applications', action: 'get' }] }).expect(200);
    const earlier = await h.token({ sub: app.id, tenantId: orgA, type: 'application', issuedAtSeconds: Math.floor(Date.now() / 1000) - 10 });
    expect((await h.http().get(`/v1/applications/${app.id}`).set('Authorization', `Bearer ${earlier}`)).status).toBe(200);

    const rotated = await h.http().post(`/v1/applications/${app.id}/rotate-secret`).set('Authorization', auth);
    expect(rotated.status).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    expect(rotated.body).toMatchObject({ id: app.id, clientId: app.clientId });
    expect(rotated.body.clientSecret).not.toBe(app.clientSecret);
    const hash = await storedHash(app.id);
    expect(await h.deps.passwords.verify(hash, rotated.body.clientSecret)).toBe(true);
    expect(await h.deps.passwords.verify(hash, app.clientSecret)).toBe(false);
    expect((await h.http().get(`/v1/applications/${app.id}`).set('Authorization', `Bearer ${earlier}`)).status).toBe(401);

    const audit = await h.deps.pool.query("SELECT after::text FROM audit_events WHERE target_id = $1 AND action = 'application.rotate-secret'", [app.id]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].after).not.toContain(rotated.body.clientSecret);
    expect(JSON.stringify(h.reports)).not.toContain(rotated.body.clientSecret);
  });

  it('concurrent rotations under one If-Match: exactly one wins, and only its secret works', async () => {
    const app = await createApplication('racer');
    const results = await Promise.all(
      Array.from({ length: 4 }, () => h.http().post(`/v1/applications/${app.id}/rotate-secret`).set('Authorization', auth).set('If-Match', '"1"')),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = results.find((r) => r.status === 200);
    expect(await h.deps.passwords.verify(await storedHash(app.id), winner?.body.clientSecret as string)).toBe(true);
  });

  it('deleting an application removes its row, its link and every permission-set line; the engine then denies it', async () => {
    const app = await createApplication('doomed');
    await h
      .http()
      .put(`/v1/applications/${app.id}/permissions`)
      .set('Authorization', auth)
      .send({ permissions: [{ resource: 'ledgers', action: 'get' }, { resource: 'ledgers', action: 'post' }, { resource: 'secrets', action: 'get', effect: 'deny' }] })
      .expect(200);
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(true);
    const token = await h.token({ sub: app.id, tenantId: orgA, type: 'application' });

    const deleted = await h.http().delete(`/v1/applications/${app.id}`).set('Authorization', auth);
    expect(deleted.status).toBe(204);
    expect(deleted.headers['x-policy-revision']).toMatch(/^\d+$/);
    expect(await linesOf(orgA, `app:${app.id}`)).toEqual([]);
    expect(await linesOf(orgA, `pset:${app.id}`)).toEqual([]);
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(false);
    const rows = await h.deps.pool.query('SELECT (SELECT count(*)::int FROM applications WHERE id = $1) AS apps, (SELECT count(*)::int FROM application_permissions WHERE application_id = $1) AS perms', [app.id]);
    expect(rows.rows[0]).toEqual({ apps: 0, perms: 0 });
    expect((await h.http().get('/v1/applications').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    expect((await h.http().delete(`/v1/applications/${app.id}`).set('Authorization', auth)).status).toBe(404);
  });

  it('deleting an application also removes lines granted to app:<id> directly, outside its permission set', async () => {
    const app = await createApplication('granted-directly');
    await h.grant(orgA, `app:${app.id}`, [['ledgers', 'get'], ['reports', '*']]);
    const other = await createApplication('bystander');
    await h.grant(orgA, `app:${other.id}`, [['ledgers', 'get']]);
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(true);

    const deleted = await h.http().delete(`/v1/applications/${app.id}`).set('Authorization', auth);
    expect(deleted.status).toBe(204);
    expect(await linesOf(orgA, `app:${app.id}`)).toEqual([]);
    expect((await decide(orgA, app.id, 'ledgers', 'get')).allowed).toBe(false);
    expect((await decide(orgA, app.id, 'reports', 'get')).allowed).toBe(false);
    // Another application's direct grant stays.
    expect(await linesOf(orgA, `app:${other.id}`)).toEqual([`g, app:${other.id}, pset:${other.id}, ${orgA}`, `p, app:${other.id}, ${orgA}, ledgers, get, allow`]);
    const audit = await h.deps.pool.query("SELECT count(*)::int AS n FROM audit_events WHERE target_id = $1 AND action = 'application.delete'", [app.id]);
    expect(audit.rows[0].n).toBe(1);
  });

  it("another tenant's application is 404 on every route and stays untouched", async () => {
    const app = await createApplication('private-app');
    const other = `Bearer ${adminB.token}`;
    const base = `/v1/applications/${app.id}`;
    for (const request of [
      h.http().get(base).set('Authorization', other),
      h.http().patch(base).set('Authorization', other).send({ description: 'mine now' }),
      h.http().delete(base).set('Authorization', other),
      h.http().post(`${base}/rotate-secret`).set('Authorization', other),
      h.http().get(`${base}/permissions`).set('Authorization', other),
      h.http().put(`${base}/permissions`).set('Authorization', other).send({ permissions: [{ resource: '*', action: '*' }] }),
    ]) {
      const response = await request;
      expect(response.status).toBe(404);
    }
    const list = await h.http().get('/v1/applications?limit=100').set('Authorization', other);
    expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain(app.id);
    const mine = await h.http().get(base).set('Authorization', auth);
    expect(mine.body).toMatchObject({ description: 'the private-app product' });
    expect(await h.deps.passwords.verify(await storedHash(app.id), app.clientSecret)).toBe(true);
    expect(await linesOf(orgA, `pset:${app.id}`)).toEqual([]);
  });

  it('lists page by page with ?page and with the opaque cursor', async () => {
    const org = await h.createOrganization();
    const admin = `Bearer ${(await h.admin(org)).token}`;
    for (const name of ['pg-c', 'pg-a', 'pg-b']) await createApplication(name, admin);
    const first = await h.http().get('/v1/applications?limit=2').set('Authorization', admin);
    expect(first.body).toMatchObject({ page: 1, limit: 2, total: 3 });
    expect(first.body.items.map((a: { name: string }) => a.name)).toEqual(['pg-a', 'pg-b']);
    const byPage = await h.http().get('/v1/applications?limit=2&page=2').set('Authorization', admin);
    const byCursor = await h.http().get(`/v1/applications?limit=2&cursor=${first.body.nextCursor as string}`).set('Authorization', admin);
    expect(byPage.body.items.map((a: { name: string }) => a.name)).toEqual(['pg-c']);
    expect(byCursor.body.items).toEqual(byPage.body.items);
    expect((await h.http().get('/v1/applications?cursor=nonsense').set('Authorization', admin)).body.field).toBe('query.cursor');
  });

  it('a built-in application is 409 BUILTIN_READ_ONLY to delete, edit or re-permission, but its secret may rotate', async () => {
    const { rows } = await h.deps.pool.query<{ id: string }>(
      "INSERT INTO applications (org_id, name, client_id, client_secret_hash, builtin) VALUES ($1, 'console', 'am_builtinconsole00000000', 'x', true) RETURNING id",
      [orgA],
    );
    const path = `/v1/applications/${rows[0]?.id ?? ''}`;
    for (const request of [
      h.http().delete(path).set('Authorization', auth),
      h.http().patch(path).set('Authorization', auth).send({ description: 'mine' }),
      h.http().put(`${path}/permissions`).set('Authorization', auth).send({ permissions: [] }),
    ]) {
      const response = await request;
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('IDE-0107');
    }
    expect((await h.http().post(`${path}/rotate-secret`).set('Authorization', auth)).status).toBe(200);
  });

  it('no escalation: an application\'s permission set gets only what its writer holds, unless it holds the escalation permission', async () => {
    const desk = await delegate(h, orgA, [...helpDeskGrants, ['midaz/ledgers', 'get'], ['midaz/accounts/*', 'get']]);
    // Creating an application gives nothing (its set starts empty): allowed.
    const app = await createApplication('desk-made', desk.auth);
    await expectEscalationRefused(h, () => h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', desk.auth).send({ permissions: [{ resource: '*', action: '*' }] }), [
      { resource: '*', action: '*' },
    ]);
    await expectEscalationRefused(
      h,
      () =>
        h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', desk.auth).send({
          permissions: [{ resource: 'midaz/ledgers', action: 'get' }, { resource: 'midaz/*', action: 'get' }, { resource: 'organizations', action: 'get' }],
        }),
      [{ resource: 'midaz/*', action: 'get' }, { resource: 'organizations', action: 'get' }],
    );
    const within = await h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', desk.auth).send({
      permissions: [{ resource: 'midaz/ledgers', action: 'get' }, { resource: 'midaz/accounts/7', action: 'get' }],
    });
    expect(within.status).toBe(200);
    const widened = await h.http().put(`/v1/applications/${app.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: '*', action: '*' }] });
    expect(widened.status).toBe(200);
  });

  it('no escalation: a new secret hands over the application, so rotating needs what it holds; a built-in one, the escalation permission', async () => {
    const desk = await delegate(h, orgA, [...helpDeskGrants, ['midaz/ledgers', 'get']]);
    const narrow = await createApplication('narrow-product');
    expect((await h.http().put(`/v1/applications/${narrow.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'midaz/ledgers', action: 'get' }] })).status).toBe(200);
    const wide = await createApplication('wide-product');
    expect((await h.http().put(`/v1/applications/${wide.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'midaz/*', action: '*' }] })).status).toBe(200);
    const { rows } = await h.deps.pool.query<{ id: string }>(
      "INSERT INTO applications (org_id, name, client_id, client_secret_hash, builtin) VALUES ($1, 'builtin-product', 'am_builtinproduct00000000', 'x', true) RETURNING id",
      [orgA],
    );
    const builtin = rows[0]!.id;
    await expectEscalationRefused(h, () => h.http().post(`/v1/applications/${wide.id}/rotate-secret`).set('Authorization', desk.auth), [{ resource: 'midaz/*', action: '*' }]);
    await expectEscalationRefused(h, () => h.http().post(`/v1/applications/${builtin}/rotate-secret`).set('Authorization', desk.auth), [{ ...escalationPermission }]);
    expect((await h.http().post(`/v1/applications/${narrow.id}/rotate-secret`).set('Authorization', desk.auth)).status).toBe(200);
    expect((await h.http().post(`/v1/applications/${builtin}/rotate-secret`).set('Authorization', auth)).status).toBe(200);
    expect((await h.http().post(`/v1/applications/${wide.id}/rotate-secret`).set('Authorization', auth)).status).toBe(200);
  });

  it('no escalation: deleting an application gives nobody anything, even when its set holds denies the writer lacks', async () => {
    const desk = await delegate(h, orgA, [...helpDeskGrants, ['applications', 'delete']]);
    const fenced = await createApplication('fenced-product');
    expect((await h.http().put(`/v1/applications/${fenced.id}/permissions`).set('Authorization', auth).send({ permissions: [{ resource: 'organizations', action: '*', effect: 'deny' }] })).status).toBe(200);
    await expectEscalationRefused(h, () => h.http().put(`/v1/applications/${fenced.id}/permissions`).set('Authorization', desk.auth).send({ permissions: [] }), [{ resource: 'organizations', action: '*' }]);
    expect((await h.http().delete(`/v1/applications/${fenced.id}`).set('Authorization', desk.auth)).status).toBe(204);
    expect(await linesOf(orgA, `pset:${fenced.id}`)).toEqual([]);
  });

  it('an unknown id is 404 and a malformed one 400', async () => {
    expect((await h.http().get('/v1/applications/00000000-0000-4000-8000-000000000000').set('Authorization', auth)).status).toBe(404);
    expect((await h.http().get('/v1/applications/not-a-uuid').set('Authorization', auth)).status).toBe(400);
  });

  it('the secret never reaches the error reports of this file (canary)', async () => {
    const { rows } = await h.deps.pool.query<{ client_secret_hash: string }>('SELECT client_secret_hash FROM applications');
    const reports = JSON.stringify(h.reports);
    for (const row of rows) expect(reports).not.toContain(row.client_secret_hash);
  });
});
