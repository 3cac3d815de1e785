import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import type { TokenSubject } from '../tokens/token-issuer.js';

let h: AuthHarness;
let org: { id: string; slug: string };
let user: { id: string; username: string };
let subject: TokenSubject;

async function newSession(): Promise<string> {
  const sid = randomUUID();
  await h.deps.pool.query(
    `INSERT INTO sessions (id, org_id, subject_kind, subject_id, absolute_expires_at) VALUES ($1, $2, 'user', $3, now() + interval '1 day')`,
    [sid, org.id, user.id],
  );
  await h.deps.pool.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + interval '1 day')`, [`h-${sid}`, sid]);
  return sid;
}

beforeAll(async () => {
  h = await createAuthHarness('sessions');
  org = await h.createOrganization();
  user = await h.createUser(org.id, { email: 'ada@example.test' });
  subject = { kind: 'user', id: user.id, name: user.username, displayName: 'Ada', email: 'ada@example.test', tenantId: org.id, tenantSlug: org.slug };
});

afterAll(async () => {
  await h?.close();
});

describe('POST /v1/logout', () => {
  it('ends the session: the same access token is 401 right after, the refresh tokens and the jti are revoked', async () => {
    const sid = await newSession();
    const access = await h.deps.issuer.accessToken(subject, 'console', undefined, sid);
    const id = await h.deps.issuer.idToken(subject, 'console', sid);
    // A second replica (its own caches) that has already seen the token.
    const replica = supertest.agent(createAuthApp(wireAuth({ ...h.deps })));
    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${access.token}`)).status).toBe(200);
    expect((await replica.get('/v1/userinfo').set('Authorization', `Bearer ${access.token}`)).status).toBe(200);

    const res = await h.http().post('/v1/logout').set('Authorization', `Bearer ${access.token}`).type('form').send({ id_token_hint: id.token });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${access.token}`)).status).toBe(401);
    const { rows: [session] } = await h.deps.pool.query('SELECT revoked_at FROM sessions WHERE id = $1', [sid]);
    expect(session.revoked_at).not.toBeNull();
    const { rows: [refresh] } = await h.deps.pool.query('SELECT expires_at <= now() AS ended FROM refresh_tokens WHERE session_id = $1', [sid]);
    expect(refresh.ended).toBe(true);
    const { rowCount } = await h.deps.pool.query('SELECT 1 FROM revoked_access_tokens WHERE jti = $1', [access.jti]);
    expect(rowCount).toBe(1);
    // Another token of the same session is refused too.
    const sibling = await h.deps.issuer.accessToken(subject, 'console', undefined, sid);
    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${sibling.token}`)).status).toBe(401);
    // The other replica refuses within the documented bound (2 s).
    const deadline = Date.now() + 3_000;
    let status = 200;
    while (Date.now() < deadline && status === 200) {
      status = (await replica.get('/v1/userinfo').set('Authorization', `Bearer ${access.token}`)).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
  });

  it('a token of another session of the same user keeps working', async () => {
    const ended = await newSession();
    const kept = await newSession();
    const keep = await h.deps.issuer.accessToken(subject, 'console', undefined, kept);
    const id = await h.deps.issuer.idToken(subject, 'console', ended);
    expect((await h.http().post('/v1/logout').type('form').send({ id_token_hint: id.token })).status).toBe(200);
    expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${keep.token}`)).status).toBe(200);
  });

  it('refuses a hint that is not our ID token (an access token, garbage) with 401 and changes nothing', async () => {
    const sid = await newSession();
    const access = await h.deps.issuer.accessToken(subject, 'console', undefined, sid);
    expect((await h.http().post('/v1/logout').type('form').send({ id_token_hint: access.token })).status).toBe(401);
    expect((await h.http().post('/v1/logout').type('form').send({ id_token_hint: 'a.b.c' })).status).toBe(401);
    expect((await h.http().post('/v1/logout').type('form').send({})).status).toBe(400);
    const { rows: [session] } = await h.deps.pool.query('SELECT revoked_at FROM sessions WHERE id = $1', [sid]);
    expect(session.revoked_at).toBeNull();
  });
});

describe('GET /v1/userinfo', () => {
  it('answers the contract shape; /oauth/userinfo the OIDC claim names', async () => {
    const { token } = await h.deps.issuer.accessToken(subject, undefined, undefined);
    const res = await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: user.id, name: 'Test User', preferredUsername: user.username, email: 'ada@example.test', emailVerified: false, picture: '', profile: '' });
    const oidc = await h.http().get('/oauth/userinfo').set('Authorization', `Bearer ${token}`);
    expect(oidc.body).toEqual({ sub: user.id, name: 'Test User', preferred_username: user.username, email: 'ada@example.test', email_verified: false });
  });
  it('without a token is 401', async () => {
    expect((await h.http().get('/v1/userinfo')).status).toBe(401);
  });
});

describe('GET /v1/permissions', () => {
  it("maps resource → actions from the subject's roles and * rules, with exact denies removed", async () => {
    const u = await h.createUser(org.id);
    const role = `role:${randomUUID()}`;
    await h.writePolicy(org.id, [
      { op: 'add', rule: { ptype: 'g', values: [`user:${u.id}`, role, org.id] } },
      { op: 'add', rule: { ptype: 'p', values: [role, org.id, 'accounts', 'get', 'allow'] } },
      { op: 'add', rule: { ptype: 'p', values: [role, org.id, 'accounts', 'post', 'allow'] } },
      { op: 'add', rule: { ptype: 'p', values: [role, org.id, 'accounts', 'delete', 'allow'] } },
      { op: 'add', rule: { ptype: 'p', values: [`user:${u.id}`, org.id, 'accounts', 'delete', 'deny'] } },
      { op: 'add', rule: { ptype: 'p', values: [role, org.id, 'midaz/ledgers', '*', 'allow'] } },
      { op: 'add', rule: { ptype: 'p', values: ['*', org.id, 'users/password', 'patch', 'allow'] } },
    ]);
    const { token } = await h.deps.issuer.accessToken({ ...subject, id: u.id, name: u.username }, undefined, undefined);
    const res = await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accounts: ['get', 'post'], 'midaz/ledgers': ['*'], 'users/password': ['patch'] });
    // A new revision is seen at once (cached per revision).
    const revision = await h.grant(org.id, role, [['fees', 'get']]);
    expect(h.deps.engine.revisionOf(org.id)).toBe(revision);
    expect((await h.http().get('/v1/permissions').set('Authorization', `Bearer ${token}`)).body.fees).toEqual(['get']);
  });
});
