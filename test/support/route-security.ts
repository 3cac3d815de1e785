// The hostile-token matrix every protected route must survive (SECURITY-CHECKLIST A, B; STYLE "one shared suite").
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { expect, it } from 'vitest';
import type supertest from 'supertest';
import type { IdentityHarness, TokenOptions } from './identity-harness.js';

export interface ProtectedRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The path to call; may name records of `orgId`. */
  readonly path: string;
  readonly body?: unknown;
}

/** What the suite needs of any service harness (Identity's satisfies it as is). */
export interface SecuritySuiteHarness {
  http(): supertest.Agent;
  readonly deps: { readonly pool: pg.Pool };
}

export interface SecuritySuiteContext {
  readonly harness: IdentityHarness | SecuritySuiteHarness;
  /** An organization, a user in it holding every permission the route needs, and that user's id. */
  readonly orgId: string;
  readonly userId: string;
  /** Signs a token the service's verifier trusts (shaped by the options); defaults to `harness.token`. */
  readonly mintToken?: (options: TokenOptions) => Promise<string>;
  /** A new user of `orgId` holding no permission; defaults to `harness.createUser(orgId)`. */
  readonly createSubject?: () => Promise<string>;
  /** The route also takes the token without a scheme (`bareToken`: Lerian's clients on /v1/authorize). */
  readonly bareToken?: boolean;
  /** The route needs no permission beyond a valid token: a stranger of the tenant is served, not 403. */
  readonly anyAuthenticatedCaller?: boolean;
}

function minterOf(ctx: SecuritySuiteContext): (options: TokenOptions) => Promise<string> {
  if (ctx.mintToken) return ctx.mintToken;
  const { harness } = ctx;
  if ('token' in harness) return (options) => harness.token(options);
  throw new Error('the security suite needs mintToken or an Identity harness');
}

function subjectMakerOf(ctx: SecuritySuiteContext): () => Promise<string> {
  if (ctx.createSubject) return ctx.createSubject;
  const { harness } = ctx;
  if ('createUser' in harness) return () => harness.createUser(ctx.orgId);
  throw new Error('the security suite needs createSubject or an Identity harness');
}

function send(agent: supertest.Agent, route: ProtectedRoute, authorization: string | undefined): supertest.Test {
  let request = agent[route.method](route.path);
  if (authorization !== undefined) request = request.set('Authorization', authorization);
  return route.body === undefined ? request : request.send(route.body as object);
}

function expectUnauthorized(response: supertest.Response): void {
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.body.code).toMatch(/^[A-Z]{3}-\d{4}$/);
  expect(JSON.stringify(response.body)).not.toMatch(/at |SELECT|stack/i);
}

/**
 * Registers the shared cases for one route: no token, malformed, wrong scheme, `alg: none`, foreign key,
 * expired, wrong audience, wrong issuer, ID-token type, missing tenant, disabled subject, revoked tokens, ended
 * sessions and revoked jtis, and a right-tenant caller without the permission (403). `context()` is read when the
 * tests run.
 */
export function runCommonRouteTests(name: string, context: () => SecuritySuiteContext, route: () => ProtectedRoute): void {
  const call = async (authorization: string | undefined) => {
    const { harness } = context();
    return send(harness.http(), route(), authorization);
  };

  it(`${name}: no token, an empty or malformed one, or another scheme is 401 with WWW-Authenticate (A1-A3)`, async () => {
    const ctx = context();
    const { orgId, userId } = ctx;
    const good = await minterOf(ctx)({ sub: userId, tenantId: orgId });
    const refused = [undefined, 'Bearer ', 'Bearer a.b', 'Bearer a.b.c.d', `bearer ${good}`, `Basic ${good}`, 'a.b', `${good} ${good}`];
    // A bare token is refused unless the route takes one; where it does, it is accepted like `Bearer <token>`.
    if (!ctx.bareToken) refused.push(good);
    for (const authorization of refused) expectUnauthorized(await call(authorization));
    if (ctx.bareToken) {
      const accepted = await call(good);
      expect(accepted.status).toBeLessThan(400);
    }
  });

  it(`${name}: alg none, a foreign key, a flipped signature bit are 401 (A5, A7)`, async () => {
    const ctx = context();
    const { orgId, userId } = ctx;
    const token = minterOf(ctx);
    const good = await token({ sub: userId, tenantId: orgId });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    // Change one character in the middle of the signature: always a different character, so never the same token.
    const middle = Math.floor(signature.length / 2);
    const flipped = `${header}.${payload}.${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    for (const hostile of [none, `${none}x`, flipped, await token({ sub: userId, tenantId: orgId, foreignKey: true })]) {
      expectUnauthorized(await call(`Bearer ${hostile}`));
    }
  });

  it(`${name}: expired, wrong audience, wrong issuer, wrong type or without tenant is 401 (B1-B7)`, async () => {
    const ctx = context();
    const { orgId, userId } = ctx;
    const token = minterOf(ctx);
    const tokens = [
      await token({ sub: userId, tenantId: orgId, issuedAtSeconds: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 }),
      await token({ sub: userId, tenantId: orgId, audience: 'another-service' }),
      await token({ sub: userId, tenantId: orgId, issuer: 'https://auth.test.local/' }),
      await token({ sub: userId, tenantId: orgId, typ: 'JWT' }),
      await token({ sub: userId }),
    ];
    for (const token of tokens) expectUnauthorized(await call(`Bearer ${token}`));
  });

  it(`${name}: a token of a deleted, unknown or revoked subject is 401 (B8, B9)`, async () => {
    const ctx = context();
    const { harness, orgId, userId } = ctx;
    const token = minterOf(ctx);
    expectUnauthorized(await call(`Bearer ${await token({ sub: '00000000-0000-0000-0000-000000000000', tenantId: orgId })}`));
    const before = await token({ sub: userId, tenantId: orgId, issuedAtSeconds: Math.floor(Date.now() / 1000) - 10 });
    await harness.deps.pool.query("UPDATE users SET tokens_valid_after = now() - interval '5 seconds' WHERE id = $1", [userId]);
    try {
      expectUnauthorized(await call(`Bearer ${before}`));
    } finally {
      await harness.deps.pool.query("UPDATE users SET tokens_valid_after = '-infinity' WHERE id = $1", [userId]);
    }
  });

  it(`${name}: a token of an ended session, of a session started before the cut-off, or with a revoked jti is 401 (B9)`, async () => {
    const ctx = context();
    const { harness, orgId } = ctx;
    const mint = minterOf(ctx);
    const { pool } = harness.deps;
    // A subject without the route's permission: a good token of it is 403 (or served, where any caller is), so
    // nothing runs, and a refused one is 401 whatever it may do.
    const subjectId = await subjectMakerOf(ctx)();
    const good = (response: supertest.Response) => expect(response.status).toBe(ctx.anyAuthenticatedCaller ? 200 : 403);
    // Each token is new (its own jti), so no verdict cached for an earlier one can answer for it.
    const session = async (state: 'live' | 'ended' | 'before-cutoff') => {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO sessions (org_id, subject_kind, subject_id, created_at, absolute_expires_at, revoked_at, revoked_reason)
         VALUES ($1, 'user', $2, now() - CASE WHEN $3 = 'before-cutoff' THEN interval '1 hour' ELSE interval '0' END, now() + interval '1 day',
                 CASE WHEN $3 = 'ended' THEN now() END, CASE WHEN $3 = 'ended' THEN 'logout' END)
         RETURNING id`,
        [orgId, subjectId, state],
      );
      return rows[0]!.id;
    };
    const ofSession = async (sid: string, jti?: string) => `Bearer ${await mint({ sub: subjectId, tenantId: orgId, claims: { sid }, ...(jti ? { jti } : {}) })}`;
    const live = await session('live');
    good(await call(await ofSession(live)));
    expectUnauthorized(await call(await ofSession(await session('ended'))));
    expectUnauthorized(await call(await ofSession(randomUUID())));
    const revokedJti = randomUUID();
    await pool.query(`INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [revokedJti, orgId]);
    expectUnauthorized(await call(await ofSession(live, revokedJti)));
    // The cut-off is compared with the session's start, both on PostgreSQL's clock: the token's iat plays no part.
    const early = await session('before-cutoff');
    await pool.query("UPDATE users SET tokens_valid_after = now() - interval '30 minutes' WHERE id = $1", [subjectId]);
    expectUnauthorized(await call(await ofSession(early)));
    good(await call(await ofSession(live)));
  });

  it(`${name}: an authenticated caller without the permission is 403 and nothing runs (or served, on a route open to every caller)`, async () => {
    const ctx = context();
    const stranger = await subjectMakerOf(ctx)();
    const response = await call(`Bearer ${await minterOf(ctx)({ sub: stranger, tenantId: ctx.orgId })}`);
    if (ctx.anyAuthenticatedCaller) {
      expect(response.status).toBe(200);
      return;
    }
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });
}
