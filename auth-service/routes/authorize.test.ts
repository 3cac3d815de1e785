import { generateKeyPair, SignJWT } from 'jose';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/index.js';
import { createAuthHarness, servedBy, servings, type AuthHarness } from '../../test/support/auth-harness.js';
import { TokenIssuer, type TokenSubject } from '../tokens/token-issuer.js';

describe.each(servings)('authorize routes (served by %s)', (serving) => {
  let h: AuthHarness;
  let org: { id: string; slug: string };
  let other: { id: string; slug: string };
  let user: { id: string; username: string };
  let userSubject: TokenSubject;
  let userToken: string;
  let app: { id: string; clientId: string };
  let appSubject: TokenSubject;
  let appToken: string;

  const personSubject = (u: { id: string; username: string }, o: { id: string; slug: string }): TokenSubject => ({
    kind: 'user',
    id: u.id,
    name: u.username,
    displayName: u.username,
    tenantId: o.id,
    tenantSlug: o.slug,
  });

  function authorize(token: string | undefined, body: object, scheme = 'Bearer '): supertest.Test {
    const request = h.http().post('/v1/authorize');
    return (token === undefined ? request : request.set('Authorization', `${scheme}${token}`)).send(body);
  }

  beforeAll(async () => {
    h = await createAuthHarness(`authorize-${serving}`, { serving });
    org = await h.createOrganization();
    other = await h.createOrganization();
    user = await h.createUser(org.id);
    userSubject = personSubject(user, org);
    userToken = (await h.deps.issuer.accessToken(userSubject, undefined, undefined)).token;
    app = await h.createApplication(org.id, 'midaz');
    appSubject = { kind: 'application', id: app.id, name: 'midaz', displayName: 'midaz', tenantId: org.id, tenantSlug: org.slug };
    appToken = (await h.deps.issuer.accessToken(appSubject, app.clientId, undefined)).token;
    await h.grant(org.id, `user:${user.id}`, [
      ['accounts', 'get'],
      ['midaz/ledgers', 'get'],
    ]);
    await h.grant(org.id, `pset:${app.id}`, [['transactions', 'post']]);
  });

  afterAll(async () => {
    await h?.close();
  });

  describe('POST /v1/authorize: decisions', () => {
    it('an allow is 200 {authorized:true, timestamp, revision}', async () => {
      const res = await authorize(userToken, { sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'get' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ authorized: true, timestamp: expect.any(String), revision: expect.any(Number) });
      expect(Number.isNaN(Date.parse(res.body.timestamp))).toBe(false);
    });

    it('a deny is 200 with authorized:false and reason permission (contract)', async () => {
      const res = await authorize(userToken, { sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'delete' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ authorized: false, reason: 'permission' });
    });

    it('accepts the token with and without the Bearer scheme (clients forward the raw header)', async () => {
      const body = { sub: `${org.slug}/${user.username}`, resource: 'accounts', action: 'get' };
      expect((await authorize(userToken, body, 'Bearer ')).body.authorized).toBe(true);
      expect((await authorize(userToken, body, '')).body.authorized).toBe(true);
    });

    it('the person may be named by id or username; attributes are accepted and ignored by a model that reads none', async () => {
      const res = await authorize(userToken, { sub: `${org.slug}/${user.username.toUpperCase()}`, resource: 'accounts', action: 'get', attributes: { region: 'eu', n: 1 } });
      expect(res.body.authorized).toBe(true);
    });

    it('attributes may not set ip (Auth fills it from the client address) nor go beyond their bounds: 400 naming the field', async () => {
      const sub = `${org.slug}/${user.id}`;
      const hostile = ['{"ip":"10.0.0.1"}', '{"region":null}', '{"a":{"b":{"c":{"d":1}}}}', '{"toString":1}', '{"not-a-name":1}', `{"s":"${'x'.repeat(257)}"}`];
      for (const attributes of hostile) {
        const body = JSON.parse(`{"sub":${JSON.stringify(sub)},"resource":"accounts","action":"get","attributes":${attributes}}`) as object;
        const res = await authorize(userToken, body);
        expect(res.status, attributes).toBe(400);
        expect(res.body.field, attributes).toMatch(/^body\.attributes/);
      }
    });

    it('an application names itself by owner/name, owner/id, bare id or the legacy admin/<product>-editor-role', async () => {
      for (const sub of [`${org.slug}/midaz`, `${org.slug}/${app.id}`, app.id, 'admin/midaz-editor-role']) {
        const res = await authorize(appToken, { sub, resource: 'transactions', action: 'post' });
        expect({ sub, status: res.status, authorized: res.body.authorized }).toEqual({ sub, status: 200, authorized: true });
      }
    });

    it('invalid names are 400 (engine grammar), unknown fields too', async () => {
      const sub = `${org.slug}/${user.id}`;
      expect((await authorize(userToken, { sub, resource: 'accounts/../x', action: 'get' })).status).toBe(400);
      expect((await authorize(userToken, { sub, resource: 'accounts', action: 'g et' })).status).toBe(400);
      expect((await authorize(userToken, { sub, resource: 'accounts', action: 'get', product: '..' })).status).toBe(400);
      expect((await authorize(userToken, { sub, resource: 'accounts', action: 'get', tenantId: other.id })).status).toBe(400);
      expect((await authorize(userToken, { sub: 'no-slash', resource: 'accounts', action: 'get' })).status).toBe(400);
    });
  });

  describe('POST /v1/authorize: product scoping', () => {
    beforeAll(async () => {
      await h.grant(org.id, `user:${user.id}`, [
        ['midaz/portfolios', 'post'],
        ['ledgers', 'delete'],
      ]);
      await h.writePolicy(org.id, [
        { op: 'add', rule: { ptype: 'p', values: [`user:${user.id}`, org.id, 'portfolios', 'post', 'deny'] } },
        { op: 'add', rule: { ptype: 'p', values: [`user:${user.id}`, org.id, 'midaz/ledgers', 'delete', 'deny'] } },
      ]);
    });

    const ask = async (product: string | undefined, resource: string, action: string) =>
      (await authorize(userToken, { sub: `${org.slug}/${user.id}`, resource, action, ...(product ? { product } : {}) })).body.authorized as boolean;

    it('a scoped rule <product>/<resource> matches', async () => {
      expect(await ask('midaz', 'ledgers', 'get')).toBe(true);
      expect(await ask(undefined, 'ledgers', 'get')).toBe(false);
      expect(await ask('routing', 'ledgers', 'get')).toBe(false);
    });

    it('a bare rule matches under any product', async () => {
      expect(await ask('midaz', 'accounts', 'get')).toBe(true);
    });

    it('a deny on the scoped resource overrides a bare allow; a bare deny does not override a scoped allow', async () => {
      expect(await ask(undefined, 'ledgers', 'delete')).toBe(true);
      expect(await ask('midaz', 'ledgers', 'delete')).toBe(false);
      expect(await ask(undefined, 'portfolios', 'post')).toBe(false);
      expect(await ask('midaz', 'portfolios', 'post')).toBe(true);
    });

    it('agrees with the engine on each of the two names', async () => {
      const d = (obj: string, act: string) => h.deps.engine.decideSync({ sub: `user:${user.id}`, dom: org.id, obj, act });
      for (const [resource, action] of [['ledgers', 'get'], ['accounts', 'get'], ['ledgers', 'delete'], ['portfolios', 'post'], ['fees', 'get']] as const) {
        const scoped = d(`midaz/${resource}`, action);
        const bare = d(resource, action);
        const expected = scoped.allowed || (bare.allowed && scoped.reason !== 'denied_by_policy');
        expect({ resource, action, got: await ask('midaz', resource, action) }).toEqual({ resource, action, got: expected });
      }
    });
  });

  describe('POST /v1/authorize: subjects', () => {
    it('asking about another subject without the authorize permission is 403', async () => {
      const res = await authorize(appToken, { sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'get' });
      expect(res.status).toBe(403);
    });

    it('with the authorize permission the other subject is decided (and a disabled one is suspended)', async () => {
      const boss = await h.createApplication(org.id, 'console');
      await h.grant(org.id, `pset:${boss.id}`, [['authorize', 'post']]);
      const token = (await h.deps.issuer.accessToken({ ...appSubject, id: boss.id, name: 'console' }, boss.clientId, undefined)).token;
      expect((await authorize(token, { sub: `${org.slug}/${user.username}`, resource: 'accounts', action: 'get' })).body).toMatchObject({ authorized: true });
      expect((await authorize(token, { sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'delete' })).body).toMatchObject({ authorized: false });
      const off = await h.createUser(org.id, { status: 'disabled' });
      expect((await authorize(token, { sub: `${org.slug}/${off.id}`, resource: 'accounts', action: 'get' })).body).toMatchObject({ authorized: false, reason: 'suspended' });
      // Another tenant's person is nobody here.
      const stranger = await h.createUser(other.id);
      expect((await authorize(token, { sub: `${other.slug}/${stranger.id}`, resource: 'accounts', action: 'get' })).body).toMatchObject({ authorized: false });
    });

    it('a person asking about a same-named subject of another owner is asking about someone else (403)', async () => {
      const res = await authorize(userToken, { sub: `${other.slug}/${user.id}`, resource: 'accounts', action: 'get' });
      expect(res.status).toBe(403);
    });
  });

  describe('POST /v1/authorize: read-your-writes', () => {
    it('minRevision from a grant is honoured and revision is answered', async () => {
      const revision = await h.grant(org.id, `user:${user.id}`, [['fees', 'get']]);
      const res = await authorize(userToken, { sub: `${org.slug}/${user.id}`, resource: 'fees', action: 'get', minRevision: revision });
      expect(res.body).toMatchObject({ authorized: true });
      expect(res.body.revision).toBeGreaterThanOrEqual(revision);
    });

    it('a revision that never comes is 503 STALE_REVISION, not an answer', async () => {
      const res = await authorize(userToken, { sub: `${org.slug}/${user.id}`, resource: 'fees', action: 'get', minRevision: 1_000_000 });
      expect(res.status).toBe(503);
    });
  });

  describe('POST /v1/authorize: token validation', () => {
    const body = () => ({ sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'get' });
    const expect401 = async (token: string | undefined) => {
      const res = await authorize(token, body());
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    };
    const issuer = (over: Partial<ConstructorParameters<typeof TokenIssuer>[0]>) =>
      new TokenIssuer({ keys: h.deps.keys, issuer: h.deps.settings.issuer, audience: h.deps.settings.audience, accessTokenTtlSeconds: 3600, multiTenant: true, clock: systemClock, ...over });

    it('missing token is 401', async () => expect401(undefined));
    it('forged signature is 401', async () => {
      const [head, payload, sig] = userToken.split('.') as [string, string, string];
      await expect401(`${head}.${payload}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`);
    });
    it('foreign key with an unknown kid is 401', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ tenantId: org.id, type: 'normal-user' })
        .setProtectedHeader({ alg: 'RS256', kid: 'nope', typ: 'at+jwt' })
        .setSubject(user.id).setIssuer(h.deps.settings.issuer).setAudience(h.deps.settings.audience).setIssuedAt().setExpirationTime('1h').sign(privateKey);
      await expect401(token);
    });
    it('alg none is 401', async () => {
      const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      await expect401(`${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ sub: user.id, tenantId: org.id, iss: h.deps.settings.issuer, aud: h.deps.settings.audience, iat: now, exp: now + 60 })}.x`);
    });
    it('expired is 401', async () => expect401((await issuer({ clock: { nowMs: () => Date.now() - 2 * 3600_000 } }).accessToken(userSubject, undefined, undefined)).token));
    it('wrong audience is 401', async () => expect401((await issuer({ audience: 'other-service' }).accessToken(userSubject, undefined, undefined)).token));
    it('wrong issuer is 401', async () => expect401((await issuer({ issuer: 'https://evil.example' }).accessToken(userSubject, undefined, undefined)).token));
    it('an ID token is not an access token (401)', async () => expect401((await h.deps.issuer.idToken(userSubject, 'client')).token));
    it("a token claiming another tenant for this tenant's user is 401", async () =>
      expect401((await h.deps.issuer.accessToken({ ...userSubject, tenantId: other.id }, undefined, undefined)).token));
    it('a disabled subject is 401', async () => {
      const off = await h.createUser(org.id, { status: 'disabled' });
      await expect401((await h.deps.issuer.accessToken(personSubject(off, org), undefined, undefined)).token);
    });
    it('a token issued before the subject tokens_valid_after is 401', async () => {
      const u = await h.createUser(org.id);
      await h.deps.pool.query(`UPDATE users SET tokens_valid_after = now() + interval '5 seconds' WHERE id = $1`, [u.id]);
      await expect401((await h.deps.issuer.accessToken(personSubject(u, org), undefined, undefined)).token);
    });
    it('a token naming an unknown session is 401', async () => {
      await expect401((await h.deps.issuer.accessToken(userSubject, undefined, undefined, '00000000-0000-4000-8000-000000000000')).token);
    });
  });

  describe('POST /v1/authorize/batch', () => {
    const item = () => ({ sub: `${org.slug}/${user.id}`, resource: 'accounts', action: 'get' });
    it('answers 100 checks in order', async () => {
      const checks = Array.from({ length: 100 }, (_, i) => ({ ...item(), action: i % 2 === 0 ? 'get' : 'delete' }));
      const res = await h.http().post('/v1/authorize/batch').set('Authorization', userToken).send({ checks });
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(100);
      expect(res.body.results[0]).toEqual({ authorized: true });
      expect(res.body.results[1]).toEqual({ authorized: false, reason: 'permission' });
    });
    it('refuses 101 checks with 400', async () => {
      const res = await h.http().post('/v1/authorize/batch').set('Authorization', `Bearer ${userToken}`).send({ checks: Array.from({ length: 101 }, item) });
      expect(res.status).toBe(400);
    });
  });

  describe('POST /v1/authorize: per-tenant IP allowlist', () => {
    let ipOrg: { id: string; slug: string };
    let token: string;
    const body = (extra: object = {}) => ({ resource: 'accounts', action: 'get', ...extra });

    beforeAll(async () => {
      ipOrg = await h.createOrganization();
      const u = await h.createUser(ipOrg.id);
      await h.grant(ipOrg.id, `user:${u.id}`, [['accounts', 'get']]);
      token = (await h.deps.issuer.accessToken(personSubject(u, ipOrg), undefined, undefined)).token;
      await h.deps.pool.query(`INSERT INTO ip_allowlists (org_id, surface, cidrs) VALUES ($1, 'auth', ARRAY['203.0.113.0/24']), ($1, 'midaz', ARRAY['198.51.100.0/24'])`, [ipOrg.id]);
      ipUser = u;
    });
    let ipUser: { id: string; username: string };
    const send = (agent: supertest.Agent, extra: object, headers: Record<string, string> = {}) =>
      agent.post('/v1/authorize').set({ Authorization: `Bearer ${token}`, ...headers }).send({ ...body(extra), sub: `${ipOrg.slug}/${ipUser.id}` });

    it('clientIp inside the list is decided; outside is 403 IP_NOT_ALLOWED', async () => {
      expect((await send(h.http(), { clientIp: '203.0.113.9' })).body).toMatchObject({ authorized: true });
      const out = await send(h.http(), { clientIp: '192.0.2.1' });
      expect(out.status).toBe(403);
      expect(out.body.code).toBe('AUT-0105');
      expect((await send(h.http(), { clientIp: 'not-an-ip' })).status).toBe(403);
    });

    it("a product with its own list uses it; other products fall back to the auth list", async () => {
      expect((await send(h.http(), { product: 'midaz', clientIp: '198.51.100.4' })).status).toBe(200);
      expect((await send(h.http(), { product: 'midaz', clientIp: '203.0.113.9' })).status).toBe(403);
      expect((await send(h.http(), { product: 'routing', clientIp: '203.0.113.9' })).status).toBe(200);
    });

    it('without clientIp: accepted from an internal caller, refused from an external one', async () => {
      // The harness's own app: loopback is inside PLATFORM_INTERNAL_CIDRS.
      expect((await send(h.http(), {})).status).toBe(200);
      const viaProxy = supertest.agent(servedBy(serving, { ...h.deps, settings: { ...h.deps.settings, trustedProxies: ['127.0.0.1'], platformInternalCidrs: ['10.0.0.0/8'] } }));
      expect((await send(viaProxy, {}, { 'X-Forwarded-For': '10.1.2.3' })).status).toBe(200);
      expect((await send(viaProxy, {}, { 'X-Forwarded-For': '10.1.2.3, 192.0.2.7' })).status).toBe(403);
      expect((await send(viaProxy, {}, { 'X-Forwarded-For': 'garbage' })).status).toBe(403);
      expect((await send(viaProxy, {})).status).toBe(403);
    });

    it('X-Forwarded-For from an untrusted hop is ignored', async () => {
      const direct = supertest.agent(servedBy(serving, { ...h.deps, settings: { ...h.deps.settings, trustedProxies: [], platformInternalCidrs: ['10.0.0.0/8'] } }));
      expect((await send(direct, {}, { 'X-Forwarded-For': '10.1.2.3' })).status).toBe(403);
    });
  });

  describe('Lerian client replay', () => {
    it('GET /health answers the plain body healthy', async () => {
      const res = await h.http().get('/health');
      expect(res.status).toBe(200);
      expect(res.text).toBe('healthy');
    });

    it('authorize as lib-auth sends it (raw header, product, owner/userId) answers 2xx with authorized and timestamp', async () => {
      const res = await h
        .http()
        .post('/v1/authorize')
        .set('Authorization', userToken)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ action: 'get', product: 'midaz', resource: 'accounts', sub: `${org.slug}/${user.id}` }));
      expect(res.status).toBe(200);
      expect(typeof res.body.authorized).toBe('boolean');
      expect(res.body.authorized).toBe(true);
      expect(typeof res.body.timestamp).toBe('string');
      const app2 = await authorize(appToken, { action: 'post', resource: 'transactions', sub: 'admin/midaz-editor-role' }, '');
      expect(app2.status).toBe(200);
      expect(app2.body.authorized).toBe(true);
      const missing = await h.http().post('/v1/authorize').send({ action: 'get', resource: 'accounts', sub: `${org.slug}/${user.id}` });
      expect(missing.status).toBe(401);
    });
  });
});
