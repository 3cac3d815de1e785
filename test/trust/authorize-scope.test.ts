// Trust boundaries: product-scoped authorize. With `product`, `<product>/<resource>` decides; the bare `<resource>`
// answers only when no rule matches the product's name, and never through a right over the Access Manager itself
// (Identity's `users`, ...), a rule for every subject (`*`) or a rule for every resource (`*`). Over HTTP, on the
// shipped seed (bootstrap), real PostgreSQL and Valkey (shared token tier).
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyStore } from '../../engine/adapters/index.js';
import { parseModel, PolicyEngine, type PolicyChange } from '../../engine/index.js';
import { createAuthApp } from '../../auth-service/app.js';
import { wireAuth } from '../../auth-service/wiring.js';
import { builtinOrganizationId as platformOrg, reconcile } from '../../bootstrap/index.js';
import { identityResources } from '../../domain/access-manager-resources.js';
import { escalationPermission } from '../../domain/escalation-permission.js';
import { createAuthHarness, defaultPassword, type AuthHarness } from '../support/auth-harness.js';
import { writePolicy } from '../support/policy-writes.js';

const admin = { username: 'scope-admin', password: 'Tangerine-7-Staple-Orbit' };

let h: AuthHarness;
let platformSlug: string;
const tokens = new Map<string, string>();
const ids = new Map<string, string>();

const rule = (values: string[]): PolicyChange => ({ op: 'add', rule: { ptype: values.length === 3 ? 'g' : 'p', values } });

async function signIn(username: string, password: string): Promise<string> {
  const res = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username, password });
  expect(res.status, res.text).toBe(200);
  return res.body.accessToken as string;
}

/** A person of the platform organization holding a role with exactly `grants` (resource, action). */
async function personWithRole(name: string, grants: readonly (readonly [string, string])[]): Promise<void> {
  const user = await h.createUser(platformOrg, { username: `${name}-${randomUUID().slice(0, 8)}` });
  const role = `role:${randomUUID()}`;
  await h.writePolicy(platformOrg, [rule([`user:${user.id}`, role, platformOrg]), ...grants.map(([obj, act]) => rule([role, platformOrg, obj, act, 'allow']))]);
  ids.set(name, user.id);
  tokens.set(name, await signIn(user.username, defaultPassword));
}

async function ask(who: string, check: { product?: string; resource: string; action: string }, agent = h.http()): Promise<boolean> {
  const res = await agent
    .post('/v1/authorize')
    .set('Authorization', tokens.get(who) as string)
    .send({ sub: `${platformSlug}/${ids.get(who)}`, ...check });
  expect(res.status, res.text).toBe(200);
  return res.body.authorized as boolean;
}

beforeAll(async () => {
  h = await createAuthHarness('trust_authorize_scope', { withValkey: true, sharedTokenCache: true });
  // The shipped seed: admin-group (every product's editor role and the identity editor role), the products'
  // roles on `<product>/<resource>`, and the one tenant-wide rule: every user may patch update-password.
  // Through Auth's own engine, which applies the seed's policy as it commits.
  await reconcile({ pool: h.deps.pool, engine: h.deps.engine, mode: 'apply', admin });
  platformSlug = (await h.deps.pool.query<{ slug: string }>('SELECT slug FROM organizations WHERE id = $1', [platformOrg])).rows[0]!.slug;
  ids.set('admin', (await h.deps.pool.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [admin.username])).rows[0]!.id);
  tokens.set('admin', await signIn(admin.username, admin.password));
  // A help-desk operator: Identity's `users` and `groups`, nothing of any product.
  await personWithRole('helpdesk', [
    ['users', 'get'],
    ['users', 'post'],
    ['users', 'patch'],
    ['groups', 'get'],
  ]);
  // A Midaz editor as Lerian's seed writes it: bare resource names, `organizations` (a Midaz resource) included.
  await personWithRole('lerian-editor', [
    ['accounts', 'get'],
    ['accounts', 'post'],
    ['accounts', 'delete'],
    ['ledgers', 'get'],
    ['organizations', 'get'],
  ]);
  await personWithRole('nobody-special', []);
  // A tenant-wide rule on a bare name a product also uses.
  await h.writePolicy(platformOrg, [rule(['*', platformOrg, 'portfolios', 'get', 'allow'])]);
});

afterAll(async () => h?.close());

describe('product-scoped authorize: what still answers', () => {
  it("a role written on bare names (Lerian's seed) still answers for the product's resources, under any product", async () => {
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'accounts', action: 'get' })).toBe(true);
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'accounts', action: 'delete' })).toBe(true);
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'ledgers', action: 'get' })).toBe(true);
    expect(await ask('lerian-editor', { product: 'routing', resource: 'accounts', action: 'post' })).toBe(true);
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'accounts', action: 'patch' })).toBe(false);
  });

  it("the seeded administrator is a product's editor through the product's own names", async () => {
    expect(await ask('admin', { product: 'midaz', resource: 'accounts', action: 'delete' })).toBe(true);
    expect(await ask('admin', { product: 'midaz', resource: 'organizations', action: 'get' })).toBe(true);
    expect(await ask('admin', { product: 'plugin-smart-templates', resource: 'data-source', action: 'patch' })).toBe(true);
  });

  it('without product, a bare question is decided as before (Identity asks this way), tenant-wide rules included', async () => {
    expect(await ask('helpdesk', { resource: 'users', action: 'post' })).toBe(true);
    expect(await ask('admin', { resource: 'users', action: 'delete' })).toBe(true);
    expect(await ask('nobody-special', { resource: 'update-password', action: 'patch' })).toBe(true);
    expect(await ask('nobody-special', { resource: 'portfolios', action: 'get' })).toBe(true);
  });

  it('a product-scoped rule decides, a scoped deny included, whatever the bare name says', async () => {
    await personWithRole('scoped', [['midaz/users', 'get'], ['users', 'patch'], ['midaz/users', 'patch']]);
    await h.writePolicy(platformOrg, [rule([`user:${ids.get('scoped')}`, platformOrg, 'midaz/users', 'patch', 'deny'])]);
    expect(await ask('scoped', { product: 'midaz', resource: 'users', action: 'get' })).toBe(true);
    expect(await ask('scoped', { product: 'midaz', resource: 'users', action: 'patch' })).toBe(false);
  });
});

describe('product-scoped authorize: what no longer answers for a product', () => {
  it("a right on Identity's own resources is not a right on a product's resource of the same name", async () => {
    for (const action of ['get', 'post', 'patch']) {
      expect(await ask('helpdesk', { product: 'midaz', resource: 'users', action })).toBe(false);
    }
    expect(await ask('helpdesk', { product: 'plugin-crm', resource: 'groups', action: 'get' })).toBe(false);
    // The administrator holds every Identity resource (identity editor role), bare: none answers for Routing,
    // which has no resource of those names (Midaz's `organizations` is its own rule, `midaz/organizations`).
    for (const resource of identityResources) {
      expect({ resource, authorized: await ask('admin', { product: 'routing', resource, action: 'get' }) }).toEqual({ resource, authorized: false });
    }
    // Nor does the exemption from the no-escalation rule, which the administrator holds (admin-group).
    expect(await ask('admin', { resource: escalationPermission.resource, action: escalationPermission.action })).toBe(true);
    expect(await ask('admin', { product: 'routing', resource: escalationPermission.resource, action: escalationPermission.action })).toBe(false);
    expect(await ask('admin', { product: 'midaz', resource: 'users', action: 'post' })).toBe(false);
    expect(await ask('admin', { product: 'routing', resource: 'authorize', action: 'post' })).toBe(false);
  });

  it("a bare rule on a name Identity also uses (Midaz's organizations) must be written under the product's name", async () => {
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'organizations', action: 'get' })).toBe(false);
    await h.writePolicy(platformOrg, [rule([`user:${ids.get('lerian-editor')}`, platformOrg, 'midaz/organizations', 'get', 'allow'])]);
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'organizations', action: 'get' })).toBe(true);
  });

  it('a tenant-wide rule (subject *) does not answer for a product resource, the seeded update-password one included', async () => {
    expect(await ask('nobody-special', { product: 'midaz', resource: 'portfolios', action: 'get' })).toBe(false);
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'portfolios', action: 'get' })).toBe(false);
    expect(await ask('nobody-special', { product: 'midaz', resource: 'update-password', action: 'patch' })).toBe(false);
  });

  it('the batch route follows the same rule, check by check', async () => {
    const checks = [
      { product: 'midaz', resource: 'accounts', action: 'get' },
      { product: 'midaz', resource: 'users', action: 'get' },
      { product: 'midaz', resource: 'portfolios', action: 'get' },
    ].map((check) => ({ ...check, sub: `${platformSlug}/${ids.get('lerian-editor')}` }));
    const res = await h.http().post('/v1/authorize/batch').set('Authorization', tokens.get('lerian-editor') as string).send({ checks });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { authorized: boolean }) => r.authorized)).toEqual([true, false, false]);
  });
});

describe('product-scoped authorize: cost', () => {
  it("a check the product's own name decides costs one engine decision; only an undecided one asks the bare name and its witnesses", async () => {
    const decisions = () => h.deps.engine.health().stats.decisions;
    let before = decisions();
    expect(await ask('admin', { product: 'midaz', resource: 'accounts', action: 'get' })).toBe(true);
    expect(decisions() - before).toBe(1);
    before = decisions();
    expect(await ask('lerian-editor', { product: 'midaz', resource: 'accounts', action: 'get' })).toBe(true);
    expect(decisions() - before).toBe(4);
    before = decisions();
    expect(await ask('helpdesk', { product: 'midaz', resource: 'users', action: 'get' })).toBe(false);
    expect(decisions() - before).toBe(1);
  });
});

describe('product-scoped authorize under a model where * does not cross /', () => {
  // globMatch: `*` matches `accounts` but not `midaz/accounts`, so a resource-`*` rule reaches the fallback.
  const globModel = parseModel(`
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act, eft
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = r.dom == p.dom && (p.sub == "*" || g(r.sub, p.sub, r.dom)) && globMatch(r.obj, p.obj) && (p.act == "*" || r.act == p.act)
`);
  let engine: PolicyEngine;
  let agent: supertest.Agent;

  beforeAll(async () => {
    engine = await PolicyEngine.start({ model: globModel, store: createPolicyStore({ pool: h.deps.pool, model: globModel }), resyncIntervalMs: 0 });
    agent = supertest.agent(createAuthApp(wireAuth({ ...h.deps, engine })));
    await personWithRole('glob-everything', []);
    await personWithRole('glob-accounts', []);
    await writePolicy(h.deps.pool, engine, platformOrg, [
      rule([`user:${ids.get('glob-everything')}`, platformOrg, '*', 'get', 'allow']),
      rule([`user:${ids.get('glob-accounts')}`, platformOrg, 'accounts', 'get', 'allow']),
    ]);
  });
  afterAll(() => engine?.stop());

  it('a rule for every resource (*) does not answer for a product resource through the bare name', async () => {
    expect(engine.decideSync({ sub: `user:${ids.get('glob-everything')}`, dom: platformOrg, obj: 'accounts', act: 'get' }).allowed).toBe(true);
    expect(await ask('glob-everything', { product: 'midaz', resource: 'accounts', action: 'get' }, agent)).toBe(false);
    expect(await ask('glob-everything', { resource: 'accounts', action: 'get' }, agent)).toBe(true);
    expect(await ask('glob-accounts', { product: 'midaz', resource: 'accounts', action: 'get' }, agent)).toBe(true);
  });
});
