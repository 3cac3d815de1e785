import argon2 from 'argon2';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authAudience, authIssuer, createAuthHarness, type AuthHarness } from '../../test/support/auth-harness.js';
import { createAuthApp } from '../app.js';
import { wireAuth } from '../wiring.js';
import { refreshTokenHash } from '../../directory/session-tokens.js';
import { recordSignInFailure } from '../../directory/account-sign-in-failures.js';

let h: AuthHarness;
let skewMs = 0;
let org: { id: string; slug: string };
const canaries: string[] = [];

const login = (body: Record<string, unknown>) => h.http().post('/v1/login/oauth/access_token').send(body);
const refresh = (body: Record<string, unknown>) => h.http().post('/v1/login/oauth/refresh_token').send(body);
const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });

async function signIn(options: { clientId?: string; clientSecret?: string; scope?: string } = {}) {
  const user = await h.createUser(org.id);
  canaries.push(user.password);
  const res = await login({ grantType: 'password', username: user.username, password: user.password, ...options });
  expect(res.status).toBe(200);
  canaries.push(res.body.refreshToken);
  return { user, tokens: res.body as { accessToken: string; idToken: string; refreshToken: string; scope?: string } };
}

beforeAll(async () => {
  h = await createAuthHarness('tokens', { clock: { nowMs: () => Date.now() + skewMs } });
  org = await h.createOrganization();
});

afterAll(async () => {
  await h?.close();
});

describe('POST /v1/login/oauth/access_token, password grant', () => {
  it('answers the contract token answer; the access token is an RS256 at+jwt with the contract claims, verified by /.well-known/jwks', async () => {
    const app = await h.createApplication(org.id, 'console');
    canaries.push(app.clientSecret);
    const { user, tokens } = await signIn({ clientId: app.clientId, clientSecret: app.clientSecret });
    expect(Object.keys(tokens).sort()).toEqual(['accessToken', 'expiresIn', 'idToken', 'refreshToken', 'tokenType']);
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeProtectedHeader(tokens.accessToken)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const jwks = (await h.http().get('/.well-known/jwks')).body as JSONWebKeySet;
    const { payload } = await jwtVerify(tokens.accessToken, createLocalJWKSet(jwks), { issuer: authIssuer, audience: authAudience, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: user.id, owner: org.slug, type: 'normal-user', name: user.username, azp: app.clientId, tenantId: org.id });
    expect(payload.sid).toEqual(expect.any(String));
    const { rows } = await h.deps.pool.query('SELECT org_id, subject_id, client_id FROM sessions WHERE id = $1', [payload.sid]);
    expect(rows[0]).toEqual({ org_id: org.id, subject_id: user.id, client_id: app.clientId });
    const id = await jwtVerify(tokens.idToken, createLocalJWKSet(jwks), { issuer: authIssuer, audience: app.clientId, typ: 'JWT' });
    expect(id.payload).toMatchObject({ sub: user.id, sid: payload.sid, preferred_username: user.username });
    const { rows: stored } = await h.deps.pool.query('SELECT token_hash FROM refresh_tokens WHERE session_id = $1', [payload.sid]);
    expect(stored.map((r) => r.token_hash)).not.toContain(tokens.refreshToken); // stored hashed
  });

  it('an unknown user and a wrong password get the same status and body', async () => {
    const user = await h.createUser(org.id);
    const wrong = await login({ grantType: 'password', username: user.username, password: 'wrong-password-1' });
    const unknown = await login({ grantType: 'password', username: `nobody-${user.id}`, password: 'wrong-password-1' });
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(wrong.status);
    expect(withoutRequestId(unknown.body)).toEqual(withoutRequestId(wrong.body));
    expect(wrong.body.code).toBe('AUT-0100');
  });

  it('a disabled user, or a user of a disabled organization, gets INVALID_GRANT even with the right password', async () => {
    const disabled = await h.createUser(org.id, { status: 'disabled' });
    expect((await login({ grantType: 'password', username: disabled.username, password: disabled.password })).body.code).toBe('AUT-0100');
    const other = await h.createOrganization();
    const member = await h.createUser(other.id);
    await h.deps.pool.query(`UPDATE organizations SET status = 'disabled' WHERE id = $1`, [other.id]);
    const res = await login({ grantType: 'password', username: member.username, password: member.password });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('AUT-0100');
  });

  it('the username resolves the tenant, compared in canonical form (NFKC, lower case)', async () => {
    const user = await h.createUser(org.id, { username: `Ana-${Date.now()}` });
    const res = await login({ grantType: 'password', username: user.username.toUpperCase(), password: user.password });
    expect(res.status).toBe(200);
  });

  it('locks the account after 5 failures, even for the right password, with 429 and Retry-After; unknown names alike; time-boxed', async () => {
    const user = await h.createUser(org.id);
    const unknown = `ghost-${user.id}`;
    for (let i = 0; i < 5; i++) {
      expect((await login({ grantType: 'password', username: user.username, password: `wrong-${i}` })).status).toBe(400);
      expect((await login({ grantType: 'password', username: unknown, password: `wrong-${i}` })).status).toBe(400);
    }
    const locked = await login({ grantType: 'password', username: user.username, password: user.password });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('AUT-0104');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    const lockedUnknown = await login({ grantType: 'password', username: unknown, password: user.password });
    expect(lockedUnknown.status).toBe(429);
    expect(withoutRequestId(lockedUnknown.body)).toEqual(withoutRequestId(locked.body));
    skewMs += 901_000;
    try {
      expect((await login({ grantType: 'password', username: user.username, password: user.password })).status).toBe(200);
      // Success cleared the counter.
      const { rows } = await h.deps.pool.query('SELECT 1 FROM sign_in_failures WHERE username_canonical = $1', [user.username.toLowerCase()]);
      expect(rows).toHaveLength(0);
    } finally {
      skewMs -= 901_000;
    }
  });

  it('a 64-character Unicode password with leading and trailing spaces is verified byte-exact: no trim, no normalization', async () => {
    const head = ' Ünïcödé-𝒜-ß-✓';
    const password = `${head}${'p'.repeat(63 - [...head].length)} `;
    expect([...password]).toHaveLength(64);
    const user = await h.createUser(org.id, { password });
    expect((await login({ grantType: 'password', username: user.username, password })).status).toBe(200);
    expect((await login({ grantType: 'password', username: user.username, password: password.trim() })).status).toBe(400);
    expect((await login({ grantType: 'password', username: user.username, password: password.normalize('NFD') })).status).toBe(400);
    expect((await login({ grantType: 'password', username: user.username, password: password.toUpperCase() })).status).toBe(400);
  });

  it('a password stored under weaker hashing parameters verifies, then is stored again under the current ones', async () => {
    const user = await h.createUser(org.id);
    const weak = await argon2.hash(user.password, { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await h.deps.pool.query('UPDATE users SET password_hash = $1 WHERE id = $2', [weak, user.id]);
    expect((await login({ grantType: 'password', username: user.username, password: user.password })).status).toBe(200);
    const { rows } = await h.deps.pool.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(rows[0]?.password_hash).not.toBe(weak);
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$[^$]*m=19456/);
    expect(h.deps.passwords.needsRehash(rows[0]!.password_hash)).toBe(false);
    expect((await login({ grantType: 'password', username: user.username, password: user.password })).status).toBe(200);
    expect((await login({ grantType: 'password', username: user.username, password: 'Wrong-Password-9' })).status).toBe(400);
  });

  it('50 concurrent failures on one account count exactly 50', async () => {
    const name = `burst-${Date.now()}`;
    await Promise.all(Array.from({ length: 50 }, () => recordSignInFailure(h.deps.pool, name, h.deps.clock.nowMs(), { maxFailures: 1000, lockSeconds: 900 })));
    const { rows } = await h.deps.pool.query('SELECT failures, locked_until FROM sign_in_failures WHERE username_canonical = $1', [name]);
    expect(rows[0]).toEqual({ failures: 50, locked_until: null });
  });

  it('refuses a 1025-character password before hashing and an unknown grant type as UNSUPPORTED_GRANT_TYPE', async () => {
    const long = await login({ grantType: 'password', username: 'someone', password: 'x'.repeat(1025) });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('AUT-0001');
    const implicit = await login({ grantType: 'implicit', username: 'someone' });
    expect(implicit.status).toBe(400);
    expect(implicit.body.code).toBe('AUT-0102');
    const extra = await login({ grantType: 'password', username: 'someone', password: 'pw', admin: true });
    expect(extra.body.code).toBe('AUT-0001');
  });
});

describe('POST /v1/login/oauth/access_token, client_credentials', () => {
  it('answers an application token of its organization, without a refresh token', async () => {
    const app = await h.createApplication(org.id, 'midaz');
    canaries.push(app.clientSecret);
    const res = await login({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: app.clientSecret });
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).toBeUndefined();
    const { payload } = await jwtVerify(res.body.accessToken, h.deps.keys.keyResolver(), { issuer: authIssuer, audience: authAudience });
    expect(payload).toMatchObject({ sub: app.id, type: 'application', name: 'midaz', owner: org.slug, azp: app.clientId, tenantId: org.id });
  });

  it('a wrong secret and an unknown client get the same 401 INVALID_CLIENT', async () => {
    const app = await h.createApplication(org.id);
    const wrong = await login({ grantType: 'client_credentials', clientId: app.clientId, clientSecret: 'not-the-secret' });
    const unknown = await login({ grantType: 'client_credentials', clientId: 'am_unknown', clientSecret: 'not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(withoutRequestId(unknown.body)).toEqual(withoutRequestId(wrong.body));
    expect(wrong.body.code).toBe('AUT-0101');
  });
});

describe('POST /v1/login/oauth/refresh_token', () => {
  it('rotates: new tokens with the same sid; the old refresh token then fails and revokes the whole family (RFC 9700 4.14.2, C1, C2)', async () => {
    const { tokens } = await signIn();
    const first = await refresh({ refreshToken: tokens.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(tokens.refreshToken);
    const sid = (await jwtVerify(first.body.accessToken, h.deps.keys.keyResolver())).payload.sid;
    expect(sid).toBe((await jwtVerify(tokens.accessToken, h.deps.keys.keyResolver())).payload.sid);

    const reused = await refresh({ refreshToken: tokens.refreshToken });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('AUT-0100');
    const newest = await refresh({ refreshToken: first.body.refreshToken });
    expect(newest.status).toBe(400);
    // The family's access tokens die with it, the newest included.
    for (const accessToken of [tokens.accessToken, first.body.accessToken]) expect((await h.http().get('/v1/userinfo').set('Authorization', `Bearer ${accessToken}`)).status).toBe(401);
    const { rows } = await h.deps.pool.query('SELECT revoked_reason FROM sessions WHERE id = $1', [sid]);
    expect(rows[0].revoked_reason).toBe('refresh_reuse');
  });

  it.each([2, 20])('%i concurrent refreshes of one token: exactly one 200, the rest invalid_grant, never two live successors', async (n) => {
    const { tokens } = await signIn();
    const answers = await Promise.all(Array.from({ length: n }, () => refresh({ refreshToken: tokens.refreshToken })));
    const ok = answers.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(answers.filter((r) => r.status === 400 && r.body.code === 'AUT-0100')).toHaveLength(n - 1);
    // The losers are reuse: the family is revoked, so no successor stays live (documented choice, no grace window).
    expect((await refresh({ refreshToken: ok[0]!.body.refreshToken })).status).toBe(400);
  });

  it('a refresh token issued to client A and presented by client B is INVALID_GRANT', async () => {
    const a = await h.createApplication(org.id);
    const b = await h.createApplication(org.id);
    const { tokens } = await signIn({ clientId: a.clientId, clientSecret: a.clientSecret });
    const res = await refresh({ refreshToken: tokens.refreshToken, clientId: b.clientId, clientSecret: b.clientSecret });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('AUT-0100');
    expect((await refresh({ refreshToken: tokens.refreshToken, clientId: a.clientId, clientSecret: a.clientSecret })).status).toBe(200);
  });

  it('a wider scope is INVALID_SCOPE; a narrower one is allowed', async () => {
    const { tokens } = await signIn({ scope: 'openid ledger:read' });
    const wider = await refresh({ refreshToken: tokens.refreshToken, scope: 'openid ledger:read ledger:write' });
    expect(wider.status).toBe(400);
    expect(wider.body.code).toBe('AUT-0103');
    const narrower = await refresh({ refreshToken: tokens.refreshToken, scope: 'ledger:read' });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe('ledger:read');
  });

  it('a refresh never moves the session to another tenant: a user moved to another organization is INVALID_GRANT', async () => {
    const { user, tokens } = await signIn();
    const other = await h.createOrganization();
    await h.deps.pool.query('UPDATE users SET org_id = $1 WHERE id = $2', [other.id, user.id]);
    const res = await refresh({ refreshToken: tokens.refreshToken });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('AUT-0100');
  });

  it('a disabled user cannot refresh', async () => {
    const { user, tokens } = await signIn();
    await h.deps.pool.query(`UPDATE users SET status = 'disabled' WHERE id = $1`, [user.id]);
    expect((await refresh({ refreshToken: tokens.refreshToken })).status).toBe(400);
  });

  it('sliding renewals stop at the absolute session lifetime', async () => {
    const { tokens } = await signIn();
    let token = tokens.refreshToken;
    const start = skewMs;
    try {
      let refused = false;
      for (let day = 0; day < 9 && !refused; day++) {
        skewMs += 20 * 3600_000;
        const res = await refresh({ refreshToken: token });
        if (res.status !== 200) {
          refused = true;
          expect(res.body.code).toBe('AUT-0100');
          expect(skewMs - start).toBeGreaterThan(7 * 86_400_000 - 20 * 3600_000);
        } else token = res.body.refreshToken;
      }
      expect(refused).toBe(true);
    } finally {
      skewMs = start;
    }
  });

  it('a refresh that waits past lock_timeout on its token row answers 503 retryable and revokes nothing', async () => {
    const { tokens } = await signIn();
    const app = supertest(createAuthApp(wireAuth({ ...h.deps, pool: h.schema.newPool({ max: 4, lock_timeout: 200 }) })));
    const holder = await h.deps.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [refreshTokenHash(tokens.refreshToken)]);
      const waited = await app.post('/v1/login/oauth/refresh_token').send({ refreshToken: tokens.refreshToken });
      expect(waited.status).toBe(503);
      expect(waited.body).toMatchObject({ code: 'AUT-0017', retryable: true });
      expect(JSON.stringify(waited.body)).not.toMatch(/lock|55P03/i);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect((await refresh({ refreshToken: tokens.refreshToken })).status).toBe(200);
  });

  it('a database failure mid-rotation rolls back, answers 5xx and revokes nothing: the same token then works', async () => {
    const { tokens } = await signIn();
    await h.deps.pool.query(`CREATE FUNCTION fail_refresh_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$`);
    await h.deps.pool.query('CREATE TRIGGER fail_refresh_insert BEFORE INSERT ON refresh_tokens FOR EACH ROW EXECUTE FUNCTION fail_refresh_insert()');
    try {
      const failed = await refresh({ refreshToken: tokens.refreshToken });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(JSON.stringify(failed.body)).not.toContain('injected');
    } finally {
      await h.deps.pool.query('DROP TRIGGER fail_refresh_insert ON refresh_tokens');
      await h.deps.pool.query('DROP FUNCTION fail_refresh_insert()');
    }
    expect((await refresh({ refreshToken: tokens.refreshToken })).status).toBe(200);
  });

  it('an unknown refresh token is INVALID_GRANT', async () => {
    expect((await refresh({ refreshToken: 'A'.repeat(43) })).body.code).toBe('AUT-0100');
  });
});

describe('issueUserSession (the MFA verify step)', () => {
  it('starts a session and answers refreshable tokens', async () => {
    const u = await h.createUser(org.id);
    const answer = await h.parts.tokenService.issueUserSession({ id: u.id, tenantId: org.id, tenantSlug: org.slug, username: u.username, displayName: 'U', email: 'u@example.test' }, '', undefined, { requestId: 'tokens-test', clientIp: undefined });
    expect(answer.refreshToken).toBeDefined();
    expect((await refresh({ refreshToken: answer.refreshToken })).status).toBe(200);
  });
});

describe('secrets in reports', () => {
  it('no password, client secret or refresh token reaches the reporter', () => {
    const reported = JSON.stringify(h.reports, (_k, v: unknown) => (v instanceof Error ? `${v.message} ${String(v.stack)}` : v));
    for (const canary of canaries.filter(Boolean)) expect(reported).not.toContain(canary);
  });
});
