// Trust boundaries: the IP-allowlist surfaces the Access Manager offers are the ones it enforces. `identity`: every
// caller of Identity acting in the organization, by its own address (TRUSTED_PROXIES decides which), refused with
// nothing read or written; `auth`: the end user's `clientIp` on `/v1/authorize` for products without a list of
// their own. Over HTTP on real PostgreSQL (Identity) and PostgreSQL with Valkey (Auth).
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthApp } from '../../auth-service/app.js';
import { wireAuth } from '../../auth-service/wiring.js';
import { createIdentityApp } from '../../identity-service/app.js';
import { createAuthHarness, type AuthHarness } from '../support/auth-harness.js';
import { databaseDigest } from '../support/database-digest.js';
import { createIdentityHarness, type IdentityHarness } from '../support/identity-harness.js';

const office = '203.0.113.0/24';
const inside = '203.0.113.9';
const outside = '198.51.100.7';
const internal = '10.99.1.1';

describe('the identity surface is enforced on Identity', () => {
  let h: IdentityHarness;
  let tenantId: string;
  let otherTenantId: string;
  let auth: string;
  let otherAuth: string;
  // Behind a proxy on loopback, so each request says where it comes from; 10.99.0.0/16 is the platform's own.
  const network = { trustedProxies: ['127.0.0.1', '::1'], platformInternalCidrs: ['10.99.0.0/16'] };
  let replicaA: supertest.Agent;
  let replicaB: supertest.Agent;
  const from = (agent: supertest.Agent, address: string) => ({
    get: (path: string, token = auth) => agent.get(path).set({ Authorization: token, 'X-Forwarded-For': address }),
    post: (path: string, body: object, token = auth) => agent.post(path).set({ Authorization: token, 'X-Forwarded-For': address }).send(body),
    put: (path: string, body: object, token = auth) => agent.put(path).set({ Authorization: token, 'X-Forwarded-For': address }).send(body),
    delete: (path: string, token = auth) => agent.delete(path).set({ Authorization: token, 'X-Forwarded-For': address }),
  });

  beforeAll(async () => {
    h = await createIdentityHarness('trust_ip_surfaces');
    // Two replicas on one database, each with its own cache of the lists.
    replicaA = supertest.agent(createIdentityApp({ ...h.deps, network }));
    replicaB = supertest.agent(createIdentityApp({ ...h.deps, network }));
    tenantId = await h.createOrganization();
    otherTenantId = await h.createOrganization();
    auth = `Bearer ${(await h.admin(tenantId)).token}`;
    otherAuth = `Bearer ${(await h.admin(otherTenantId)).token}`;
  });
  afterAll(async () => h?.close());

  it("a list that leaves out the caller's own address is refused (it would lock the caller out), and nothing is written", async () => {
    const before = await databaseDigest(h.deps.pool);
    const res = await from(replicaA, outside).put('/v1/ip-allowlists/identity', { cidrs: [office] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'IDE-0001', field: 'body.cidrs' });
    expect(res.body.message).toContain(outside);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('once set, a caller outside the list is refused 403 IDE-0121 on every route, reading and writing, and nothing changes', async () => {
    expect((await from(replicaA, inside).put('/v1/ip-allowlists/identity', { cidrs: [office] })).status).toBe(201);
    const before = await databaseDigest(h.deps.pool);
    const refused = [
      await from(replicaA, outside).get('/v1/users'),
      await from(replicaA, outside).post('/v1/users', { firstName: 'E', lastName: 'Ve', username: 'eve-outside', email: 'eve@example.test', password: 'Correct-Horse-9-Battery', groups: [] }),
      await from(replicaA, outside).delete('/v1/ip-allowlists/identity'),
      await from(replicaA, outside).put('/v1/ip-allowlists/identity', { cidrs: ['192.0.2.0/24', '198.51.100.0/24'] }),
      // An address that is not one (a forged header through the trusted proxy) is nobody's: refused.
      await from(replicaA, 'not-an-address').get('/v1/users'),
    ];
    for (const res of refused) expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'IDE-0121' });
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
    // The other replica, which had not read the list before, refuses too.
    expect((await from(replicaB, outside).get('/v1/users')).status).toBe(403);
  });

  it("a caller inside the list, or one of the platform's own services, is served; another organization is not bound by it", async () => {
    expect((await from(replicaA, inside).get('/v1/users')).status).toBe(200);
    expect((await from(replicaA, internal).get('/v1/users')).status).toBe(200);
    expect((await from(replicaA, outside).get('/v1/users', otherAuth)).status).toBe(200);
    // The list guards Identity only when the token is of its organization: the other organization's list is its own.
    expect((await from(replicaA, outside).put('/v1/ip-allowlists/identity', { cidrs: ['198.51.100.0/24'] }, otherAuth)).status).toBe(201);
    expect((await from(replicaA, inside).get('/v1/users', otherAuth)).status).toBe(403);
    expect((await from(replicaA, inside).get('/v1/users')).status).toBe(200);
  });

  it('a change applies at once on the replica that made it, and within the cache bound on the others', async () => {
    expect((await from(replicaB, outside).get('/v1/users')).status).toBe(403);
    expect((await from(replicaA, inside).delete('/v1/ip-allowlists/identity')).status).toBe(204);
    expect((await from(replicaA, outside).get('/v1/users')).status).toBe(200);
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await from(replicaB, outside).get('/v1/users')).status) !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });

  it('the auth list does not bind Identity', async () => {
    expect((await from(replicaA, inside).put('/v1/ip-allowlists/auth', { cidrs: [office] })).status).toBe(201);
    expect((await from(replicaA, outside).get('/v1/users')).status).toBe(200);
  });
});

describe('the auth surface is enforced on /v1/authorize, and the identity list does not bind it', () => {
  let h: AuthHarness;
  let org: { id: string; slug: string };
  let token: string;
  let sub: string;

  beforeAll(async () => {
    h = await createAuthHarness('trust_ip_surfaces_auth', { withValkey: true, sharedTokenCache: true });
    org = await h.createOrganization();
    const user = await h.createUser(org.id);
    await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
    const signIn = await h.http().post('/v1/login/oauth/access_token').send({ grantType: 'password', username: user.username, password: user.password });
    token = signIn.body.accessToken as string;
    sub = `${org.slug}/${user.id}`;
    await h.deps.pool.query(`INSERT INTO ip_allowlists (org_id, surface, cidrs) VALUES ($1, 'auth', $2), ($1, 'identity', $3)`, [org.id, [office], ['192.0.2.0/24']]);
  });
  afterAll(async () => h?.close());

  const authorize = (clientIp: string, product?: string) =>
    h.http().post('/v1/authorize').set('Authorization', token).send({ sub, resource: 'accounts', action: 'get', clientIp, ...(product ? { product } : {}) });

  it("the end user's clientIp inside the auth list is decided; outside it is 403 AUT-0105, whatever the identity list says", async () => {
    expect((await authorize(inside)).body).toMatchObject({ authorized: true });
    expect((await authorize(inside, 'midaz')).body).toMatchObject({ authorized: true });
    const out = await authorize('192.0.2.10');
    expect({ status: out.status, code: out.body.code }).toEqual({ status: 403, code: 'AUT-0105' });
  });

  it("the product's server itself is not bound by the auth list: it calls from anywhere internal and passes its user's address", async () => {
    const viaProxy = supertest.agent(createAuthApp(wireAuth({ ...h.deps, settings: { ...h.deps.settings, trustedProxies: ['127.0.0.1', '::1'], platformInternalCidrs: ['10.99.0.0/16'] } })));
    const send = (forwardedFor: string, clientIp?: string) =>
      viaProxy.post('/v1/authorize').set({ Authorization: token, 'X-Forwarded-For': forwardedFor }).send({ sub, resource: 'accounts', action: 'get', ...(clientIp ? { clientIp } : {}) });
    expect((await send(internal)).status).toBe(200);
    expect((await send(outside, inside)).status).toBe(200);
    expect((await send(outside)).status).toBe(403);
  });
});
