// The hostile-token matrix every protected route must survive.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { expect, it } from 'vitest';
import type supertest from 'supertest';
import type { IdentityHarness, TokenOptions } from './identity-harness.js';

export interface ProtectedRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** The path to call; may name records of `tenantId`. */
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
  readonly tenantId: string;
  readonly userId: string;
  /** Signs a token the service's verifier trusts (shaped by the options); defaults to `harness.token`. */
  readonly mintToken?: (options: TokenOptions) => Promise<string>;
  /** A new user of `tenantId` holding no permission; defaults to `harness.createUser(tenantId)`. */
  readonly createSubject?: () => Promise<string>;
  /** The route also takes the token without a scheme (`bareToken`: Lerian's clients on /v1/authorize). */
  readonly bareToken?: boolean;
  /** The route needs no permission beyond a valid token: a stranger of the tenant is served, not 403. */
  readonly anyAuthenticatedCaller?: boolean;
  /**
   * What a good token of a subject holding no permission gets (default: `served` with `anyAuthenticatedCaller`,
   * else `forbidden`): `authenticated` only asserts the token was accepted (the route decides the rest itself).
   */
  readonly stranger?: StrangerOutcome;
}

export type StrangerOutcome = 'forbidden' | 'served' | 'authenticated';

function strangerOutcomeOf(ctx: SecuritySuiteContext): StrangerOutcome {
  return ctx.stranger ?? (ctx.anyAuthenticatedCaller ? 'served' : 'forbidden');
}

function expectStrangerOutcome(outcome: StrangerOutcome, response: supertest.Response): void {
  if (outcome === 'served') expect(response.status).toBe(200);
  else if (outcome === 'forbidden') {
    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  } else {
    // Past authentication: whatever the route answers next, it is not a refused token nor a failure.
    expect(response.status).not.toBe(401);
    expect(response.status).toBeLessThan(500);
  }
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
  if ('createUser' in harness) return () => harness.createUser(ctx.tenantId);
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
  expect(response.body.type).toBe(`/docs/errors/${response.body.code}`);
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

  it(`${name}: no token, an empty or malformed one, or another scheme is 401 with WWW-Authenticate`, async () => {
    const ctx = context();
    const { tenantId, userId } = ctx;
    const good = await minterOf(ctx)({ sub: userId, tenantId });
    const refused = [undefined, 'Bearer ', 'Bearer a.b', 'Bearer a.b.c.d', `bearer ${good}`, `Basic ${good}`, 'a.b', `${good} ${good}`];
    // A bare token is refused unless the route takes one; where it does, it is accepted like `Bearer <token>`.
    if (!ctx.bareToken) refused.push(good);
    for (const authorization of refused) expectUnauthorized(await call(authorization));
    if (ctx.bareToken) {
      const accepted = await call(good);
      expect(accepted.status).toBeLessThan(400);
    }
  });

  it(`${name}: alg none, a foreign key, a flipped signature bit are 401`, async () => {
    const ctx = context();
    const { tenantId, userId } = ctx;
    const token = minterOf(ctx);
    const good = await token({ sub: userId, tenantId });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    // Change one character in the middle of the signature: always a different character, so never the same token.
    const middle = Math.floor(signature.length / 2);
    const flipped = `${header}.${payload}.${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    for (const hostile of [none, `${none}x`, flipped, await token({ sub: userId, tenantId, foreignKey: true })]) {
      expectUnauthorized(await call(`Bearer ${hostile}`));
    }
  });

  it(`${name}: expired, wrong audience, wrong issuer, wrong type or without tenant is 401`, async () => {
    const ctx = context();
    const { tenantId, userId } = ctx;
    const token = minterOf(ctx);
    const tokens = [
      await token({ sub: userId, tenantId, issuedAtSeconds: Math.floor(Date.now() / 1000) - 7200, expiresInSeconds: 60 }),
      await token({ sub: userId, tenantId, audience: 'another-service' }),
      await token({ sub: userId, tenantId, issuer: 'https://auth.test.local/' }),
      await token({ sub: userId, tenantId, typ: 'JWT' }),
      await token({ sub: userId }),
    ];
    for (const token of tokens) expectUnauthorized(await call(`Bearer ${token}`));
  });

  it(`${name}: a token of a deleted, unknown or revoked subject is 401`, async () => {
    const ctx = context();
    const { harness, tenantId, userId } = ctx;
    const token = minterOf(ctx);
    expectUnauthorized(await call(`Bearer ${await token({ sub: '00000000-0000-0000-0000-000000000000', tenantId })}`));
    const before = await token({ sub: userId, tenantId, issuedAtSeconds: Math.floor(Date.now() / 1000) - 10 });
    await harness.deps.pool.query("UPDATE users SET tokens_valid_after = now() - interval '5 seconds' WHERE id = $1", [userId]);
    try {
      expectUnauthorized(await call(`Bearer ${before}`));
    } finally {
      await harness.deps.pool.query("UPDATE users SET tokens_valid_after = '-infinity' WHERE id = $1", [userId]);
    }
  });

  it(`${name}: a token of an ended session, of a session started before the cut-off, or with a revoked jti is 401`, async () => {
    const ctx = context();
    const { harness, tenantId } = ctx;
    const mint = minterOf(ctx);
    const { pool } = harness.deps;
    // A subject without the route's permission: a good token of it is 403 (or served, where any caller is), so
    // nothing runs, and a refused one is 401 whatever it may do.
    const subjectId = await subjectMakerOf(ctx)();
    const good = (response: supertest.Response) => expectStrangerOutcome(strangerOutcomeOf(ctx), response);
    // Each token is new (its own jti), so no verdict cached for an earlier one can answer for it.
    const session = async (state: 'live' | 'ended' | 'before-cutoff') => {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO sessions (org_id, subject_kind, subject_id, created_at, absolute_expires_at, revoked_at, revoked_reason)
         VALUES ($1, 'user', $2, now() - CASE WHEN $3 = 'before-cutoff' THEN interval '1 hour' ELSE interval '0' END, now() + interval '1 day',
                 CASE WHEN $3 = 'ended' THEN now() END, CASE WHEN $3 = 'ended' THEN 'logout' END)
         RETURNING id`,
        [tenantId, subjectId, state],
      );
      return rows[0]!.id;
    };
    const ofSession = async (sid: string, jti?: string) => `Bearer ${await mint({ sub: subjectId, tenantId, claims: { sid }, ...(jti ? { jti } : {}) })}`;
    const live = await session('live');
    good(await call(await ofSession(live)));
    expectUnauthorized(await call(await ofSession(await session('ended'))));
    expectUnauthorized(await call(await ofSession(randomUUID())));
    const revokedJti = randomUUID();
    await pool.query(`INSERT INTO revoked_access_tokens (jti, org_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`, [revokedJti, tenantId]);
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
    expectStrangerOutcome(strangerOutcomeOf(ctx), await call(`Bearer ${await minterOf(ctx)({ sub: stranger, tenantId: ctx.tenantId })}`));
  });
}

/** The part of a service's OpenAPI document the table-driven suite reads. */
export interface RouteTableDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, OpenApiOperation>>>>;
}

interface OpenApiOperation {
  readonly security?: readonly Readonly<Record<string, unknown>>[];
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly schema?: ParameterSchema }[];
  readonly requestBody?: unknown;
  readonly 'x-required-permission'?: { readonly resource: string; readonly action: string };
}

interface ParameterSchema {
  readonly format?: string;
  readonly pattern?: string;
  readonly enum?: readonly string[];
}

/** A token-guarded route as the service's route table publishes it (`GET /v1/users/{id}`). */
export interface TableRoute {
  readonly name: string;
  readonly method: ProtectedRoute['method'];
  readonly path: string;
  readonly hasBody: boolean;
  readonly bareToken: boolean;
  readonly permission: { readonly resource: string; readonly action: string } | undefined;
  readonly parameters: NonNullable<OpenApiOperation['parameters']>;
}

const methods = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** Every operation of the document that needs a token: the service's route table, as served at /openapi.json. */
export function tokenRoutesOf(document: RouteTableDocument): TableRoute[] {
  const routes: TableRoute[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!methods.has(method) || !operation.security?.length) continue;
      routes.push({
        name: `${method.toUpperCase()} ${path}`,
        method: method as ProtectedRoute['method'],
        path,
        hasBody: operation.requestBody !== undefined,
        // The raw-token scheme: the token is also taken without `Bearer ` (Lerian's clients on /v1/authorize).
        bareToken: operation.security.some((scheme) => 'rawToken' in scheme),
        permission: operation['x-required-permission'],
        parameters: operation.parameters ?? [],
      });
    }
  }
  return routes;
}

const candidateValues = ['security-suite', 'identity', 'midaz', 'a', '1'];

/** A value a path parameter's schema accepts: a new UUID, an enum's first value, or a name its pattern allows. */
function parameterValue(schema: ParameterSchema | undefined): string {
  if (schema?.enum?.length) return schema.enum[0]!;
  if (schema?.format === 'uuid' || schema?.pattern?.includes('0-9a-fA-F')) return randomUUID();
  if (schema?.pattern !== undefined) {
    const pattern = new RegExp(schema.pattern, 'u');
    const value = [randomUUID(), ...candidateValues].find((candidate) => pattern.test(candidate));
    if (value !== undefined) return value;
  }
  return candidateValues[0]!;
}

/** The route's path with every parameter filled by a value its schema accepts. */
export function concretePath(route: TableRoute): string {
  return route.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_whole, name: string) => {
    const parameter = route.parameters.find((p) => p.in === 'path' && p.name === name);
    return encodeURIComponent(parameterValue(parameter?.schema));
  });
}

export interface RouteTableSecurityOptions {
  /** Routes (`GET /v1/userinfo`) every authenticated caller of the tenant is served by. */
  readonly servedToAnyCaller?: readonly string[];
  /** A request of one's own for a route (`POST /v1/authorize`), and what a stranger gets with it. */
  readonly requests?: Readonly<Record<string, () => { readonly route: ProtectedRoute; readonly stranger: StrangerOutcome }>>;
}

/**
 * The shared hostile-token suite on every token-guarded route of a service, read from its route table (the
 * OpenAPI document generated from the routes), so a new route is covered without naming it here. A route with a
 * fixed permission (`x-required-permission`) must refuse a stranger with 403 whatever its input (the permission
 * is checked before the input is read); any other route must accept a good token (the route decides the rest).
 */
export function runRouteTableSecurity(document: RouteTableDocument, context: () => SecuritySuiteContext, options: RouteTableSecurityOptions = {}): TableRoute[] {
  const routes = tokenRoutesOf(document);
  const served = new Set(options.servedToAnyCaller ?? []);
  for (const name of [...served, ...Object.keys(options.requests ?? {})]) {
    if (!routes.some((route) => route.name === name)) throw new Error(`${name} is not a token route of this service`);
  }
  for (const route of routes) {
    const own = options.requests?.[route.name];
    const stranger: StrangerOutcome = served.has(route.name) ? 'served' : route.permission ? 'forbidden' : 'authenticated';
    runCommonRouteTests(
      route.name,
      () => ({ ...context(), bareToken: route.bareToken, stranger: own ? own().stranger : stranger }),
      () => own?.().route ?? { method: route.method, path: concretePath(route), ...(route.hasBody ? { body: {} } : {}) },
    );
  }
  return routes;
}
