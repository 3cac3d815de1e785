// The bad-input corpus: every route of Auth and Identity, taken from each app's own
// OpenAPI document, is sent each class of malformed input. Each must be a clear 4xx — problem+json with the
// contract's code (RFC 6749 `{error}` on the OAuth endpoint) — never a 5xx, and the database must be exactly
// as it was (a digest of every table, casbin rules and policy revisions included).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthHarness, type AuthHarness } from './support/auth-harness.js';
import { databaseDigest } from './support/database-digest.js';
import { createIdentityHarness, type IdentityHarness } from './support/identity-harness.js';

interface Operation {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly hasBody: boolean;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly string[];
}

interface BadRequest {
  readonly label: string;
  readonly method: Operation['method'];
  readonly path: string;
  readonly contentType?: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Target {
  readonly agent: () => supertest.Agent;
  readonly pool: pg.Pool;
  readonly token: string;
  /** Paths that answer RFC 6749 error bodies instead of problem+json. */
  readonly oauthPaths: readonly string[];
}

const codePattern = /^(AUT|IDE)-\d{4}$/;
const methods = new Set(['get', 'post', 'put', 'patch', 'delete']);

async function operationsOf(agent: supertest.Agent): Promise<Operation[]> {
  const doc = (await agent.get('/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: unknown; parameters?: { in: string; name: string }[] }>> };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations)
      .filter(([method]) => methods.has(method))
      .map(([method, op]) => ({
        method: method as Operation['method'],
        path,
        hasBody: op.requestBody !== undefined,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })),
  );
}

const fill = (op: Operation, value: (name: string) => string) => op.path.replace(/\{(\w+)\}/g, (_, name: string) => value(name));
const validParam = (name: string) => (name === 'slug' ? 'ledger' : name === 'surface' ? 'auth' : '00000000-0000-4000-8000-000000000000');

const hostileSegments = [
  ["SQL-like", encodeURIComponent("1' OR '1'='1")],
  ['path-like', '..%2F..%2Fetc%2Fpasswd'],
  ['NUL', '%00'],
  ['bidi override', '%E2%80%AEevil'],
  ['4,000 characters', 'a'.repeat(4_000)],
  ['negative number', '-1'],
  ['huge number', '99999999999999999999999'],
] as const;

const hostileQueries = [
  'page=-1',
  'page=0',
  'page=abc',
  'page=1e400',
  'page=99999999999999999999',
  'limit=0',
  'limit=-5',
  'limit=1000000',
  'limit=1.5',
  `cursor=${encodeURIComponent("' OR 1=1 --")}`,
  'page=1&page=2',
] as const;

function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** The classes every route is sent (bodies only to routes that take one). */
function corpusOf(op: Operation): BadRequest[] {
  const path = fill(op, validParam);
  const json = (label: string, body: string): BadRequest => ({ label, method: op.method, path, contentType: 'application/json', body });
  const cases: BadRequest[] = [];
  if (op.hasBody) {
    cases.push(
      json('malformed JSON', '{"name": '),
      json('truncated string', '{"name": "abc'),
      json('trailing garbage', '{} xyz'),
      json('JSON with a comment', '{/* x */}'),
      json('missing fields: {}', '{}'),
      json('an extra field', '{"unexpectedField": true}'),
      json('__proto__ key', '{"__proto__": {"isAdmin": true}}'),
      json('constructor.prototype key', '{"constructor": {"prototype": {"isAdmin": true}}}'),
      json('an array', '[]'),
      json('null', 'null'),
      json('a string', '"text"'),
      json('a number', '-1e309'),
      json('nested 1,000 deep', deeplyNested(1_000)),
      json('a 1 MiB body', JSON.stringify({ name: 'x'.repeat(1024 * 1024) })),
      { label: 'text/plain', method: op.method, path, contentType: 'text/plain', body: 'name=x' },
      { label: 'application/xml', method: op.method, path, contentType: 'application/xml', body: '<name>x</name>' },
      { label: 'multipart', method: op.method, path, contentType: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--' },
      { label: 'JSON sent with a charset that is not UTF-8', method: op.method, path, contentType: 'application/json; charset=utf-7', body: '{}' },
    );
  } else if (op.method !== 'get') {
    cases.push({ label: 'an unexpected 1 MiB body', method: op.method, path, contentType: 'application/json', body: JSON.stringify({ x: 'y'.repeat(1024 * 1024) }) });
  }
  for (const name of op.pathParams) {
    for (const [label, segment] of hostileSegments) {
      cases.push({ label: `path {${name}} ${label}`, method: op.method, path: fill(op, (n) => (n === name ? segment : validParam(n))), ...(op.hasBody ? { contentType: 'application/json', body: '{}' } : {}) });
    }
  }
  if (op.queryParams.includes('page') || op.queryParams.includes('limit')) {
    for (const query of hostileQueries) {
      if (query.startsWith('page') && !op.queryParams.includes('page')) continue;
      if (query.startsWith('cursor') && !op.queryParams.includes('cursor')) continue;
      cases.push({ label: `query ${query.slice(0, 40)}`, method: op.method, path: `${path}?${query}` });
    }
  }
  return cases;
}

/**
 * What express's own layers parse before any route runs, so before authentication: a path segment that is not
 * valid percent-encoding is 400, a body whose Content-Encoding lies is 415 (400 with an OAuth error body on the
 * OAuth endpoint, as RFC 6749 5.2 wants). Sent without a token: the answer must not wait for one.
 */
function httpLayerCorpusOf(op: Operation): (BadRequest & { readonly status: number })[] {
  const cases: (BadRequest & { readonly status: number })[] = [];
  for (const name of op.pathParams) {
    for (const segment of ['%ff%fe', '%E0%A4%A', 'a%zzb']) {
      cases.push({ label: `path {${name}} malformed escape ${segment}`, method: op.method, path: fill(op, (n) => (n === name ? segment : validParam(n))), status: 400 });
    }
  }
  if (op.hasBody) {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      cases.push({ label: `Content-Encoding ${encoding} on a plain body`, method: op.method, path: fill(op, validParam), contentType: 'application/json', body: '{"name":"x"}', headers: { 'Content-Encoding': encoding }, status: 415 });
    }
  }
  return cases;
}

/** Every query parameter of a route, given a NUL: PostgreSQL cannot compare text with 0x00, so it never gets there. */
function nulQueryCorpusOf(op: Operation): BadRequest[] {
  return op.queryParams.map((name) => ({ label: `query ${name}=%00`, method: op.method, path: `${fill(op, validParam)}?${name}=a%00b` }));
}

async function sendExpecting(target: Target, requests: readonly (BadRequest & { readonly status: number })[], withToken: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const request of requests) {
    const res = await send(target, request, withToken);
    const expected = target.oauthPaths.includes(request.path.split('?')[0]!) ? 400 : request.status;
    const problem = refusalProblem(target, request, res) ?? (res.status === expected ? undefined : `${request.method.toUpperCase()} ${request.path} [${request.label}]: ${res.status}, expected ${expected}`);
    if (problem) problems.push(problem);
  }
  return problems;
}

function send(target: Target, request: BadRequest, withToken = true): supertest.Test {
  let test = target.agent()[request.method](request.path);
  if (withToken) test = test.set('Authorization', `Bearer ${target.token}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) test = test.set(name, value);
  if (request.contentType) test = test.set('Content-Type', request.contentType);
  return request.body === undefined ? test : test.send(request.body);
}

/** What a refusal must look like; undefined when it does. */
function refusalProblem(target: Target, request: BadRequest, res: supertest.Response): string | undefined {
  const where = `${request.method.toUpperCase()} ${request.path.slice(0, 80)} [${request.label}]`;
  if (res.status < 400 || res.status >= 500) return `${where}: answered ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
  const pathOnly = request.path.split('?')[0]!;
  if (target.oauthPaths.includes(pathOnly)) {
    return typeof res.body?.error === 'string' ? undefined : `${where}: ${res.status} without an OAuth error body`;
  }
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) return `${where}: ${res.status} as ${res.headers['content-type']}`;
  if (res.body?.status !== res.status || !codePattern.test(String(res.body?.code))) return `${where}: ${res.status} with body ${JSON.stringify(res.body).slice(0, 200)}`;
  if (/\bat .+:\d+:\d+|SELECT |INSERT |stack/i.test(JSON.stringify(res.body))) return `${where}: the answer leaks internals`;
  return undefined;
}

async function sendAll(target: Target, requests: readonly BadRequest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const request of requests) {
    const problem = refusalProblem(target, request, await send(target, request));
    if (problem) problems.push(problem);
  }
  return problems;
}

/** A raw request through a real listener (Node's parser owns header limits: supertest's in-process server has the same). */
async function rawStatus(url: string, method: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: method.toUpperCase(), headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(app: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const badNames = [
  ['empty', ''],
  ['blank', '   '],
  ['NUL', 'a\u0000b'],
  ['line break', 'line\nbreak'],
  ['escape sequence', '\u001b[31mred'],
  ['bell', 'ding\u0007'],
  ['lone surrogate', 'a\ud800b'],
  ['line separator', 'a\u2028b'],
  ['10,000 characters', 'n'.repeat(10_000)],
] as const;

const badResources = [
  ['SQL-like', "accounts'; DROP TABLE casbin; --"],
  ['path traversal', '../../etc/passwd'],
  ['dot-dot segment', 'accounts/../users'],
  ['empty segment', 'accounts//7'],
  ['leading slash', '/accounts'],
  ['space', 'my accounts'],
  ['comma (CSV injection)', 'accounts,users'],
  ['quote', 'accounts"'],
  ['NUL', 'acc\u0000ounts'],
  ['non-ASCII letter', 'cuentaś'],
  ['bidi override', '\u202eaccounts'],
  ['percent-encoded dots', '%2e%2e/accounts'],
  ['300 characters', 'r'.repeat(300)],
  ['star inside', 'acc*ounts/7'],
] as const;


/** A JSON request of the corpus. */
const jsonRequest = (label: string, method: Operation['method'], path: string, body: unknown): BadRequest => ({ label, method, path, contentType: 'application/json', body: JSON.stringify(body) });
const postJson = (label: string, path: string, body: unknown): BadRequest => jsonRequest(label, 'post', path, body);
describe('bad input: Identity', () => {
  let h: IdentityHarness;
  let target: Target;
  let operations: Operation[];
  let before: Record<string, string>;
  let roleId: string;
  let applicationId: string;

  beforeAll(async () => {
    h = await createIdentityHarness('bad-input-identity');
    const admin = await h.admin(h.deps.platformTenantId);
    target = { agent: () => h.http(), pool: h.deps.pool, token: admin.token, oauthPaths: [] };
    operations = await operationsOf(h.http());
    const role = await h.http().post('/v1/roles').set('Authorization', `Bearer ${admin.token}`).send({ name: 'bad-input-role' });
    roleId = role.body.id;
    const app = await h.http().post('/v1/applications').set('Authorization', `Bearer ${admin.token}`).send({ name: 'bad-input-app' });
    applicationId = app.body.id;
    expect([role.status, app.status]).toEqual([201, 201]);
    before = await databaseDigest(h.deps.pool);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('the OpenAPI document lists the routes the corpus walks', () => {
    expect(operations.length).toBeGreaterThan(60);
    expect(operations.some((op) => op.method === 'put' && op.path === '/v1/declarations/{slug}')).toBe(true);
  });

  it('every route refuses each malformed body, content type, size, path and query with a clear 4xx, and nothing changes', async () => {
    const problems: string[] = [];
    for (const op of operations) problems.push(...(await sendAll(target, corpusOf(op))));
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a malformed percent-escape in any path parameter is 400 and a lying Content-Encoding is 415, before authentication', async () => {
    const requests = operations.flatMap(httpLayerCorpusOf);
    expect(requests.some((r) => r.path === '/v1/users/%ff%fe' && r.method === 'get')).toBe(true);
    expect(await sendExpecting(target, requests, false)).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a NUL in any query parameter (a list filter included) is 400', async () => {
    const requests = operations.flatMap(nulQueryCorpusOf).map((r) => ({ ...r, status: 400 }));
    expect(requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/v1/users?username=a%00b', '/v1/audit-events?targetId=a%00b']));
    expect(await sendExpecting(target, requests, true)).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a NUL in a JSON string that would reach PostgreSQL is 400 (organization name, declaration version), and nothing changes', async () => {
    const tenantId = h.deps.platformTenantId;
    const requests = [
      jsonRequest('organization name', 'post', '/v1/organizations', { slug: 'nul-org', name: 'a\u0000b' }),
      jsonRequest('organization rename', 'patch', `/v1/organizations/${tenantId}`, { name: 'a\u0000b' }),
      jsonRequest('declaration version', 'put', '/v1/declarations/bad-input-app', { service: 'bad-input-app', version: '1\u0000', permissions: [], roles: [] }),
      jsonRequest('a NUL in a key', 'put', '/v1/declarations/bad-input-app', { service: 'bad-input-app', version: '1', permissions: [], roles: [], 'x\u0000': 1 }),
      jsonRequest('a NUL deep in an array', 'put', `/v1/roles/${roleId}/permissions`, { permissions: [{ resource: 'accounts', action: 'get' }, { resource: 'ledgers', action: 'g\u0000et' }] }),
    ].map((r) => ({ ...r, status: 400 }));
    expect(await sendExpecting(target, requests, true)).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('names with control characters, lone surrogates or no text, and over-long names are refused; nothing changes', async () => {
    const requests: BadRequest[] = [];
    for (const [label, name] of badNames) {
      requests.push(
        jsonRequest(`group name ${label}`, 'post', '/v1/groups', { name }),
        jsonRequest(`role name ${label}`, 'post', '/v1/roles', { name }),
        jsonRequest(`role rename ${label}`, 'patch', `/v1/roles/${roleId}`, { name }),
        jsonRequest(`application name ${label}`, 'post', '/v1/applications', { name }),
        jsonRequest(`user first name ${label}`, 'post', '/v1/users', { firstName: name, lastName: 'L', username: 'bad-input-u', email: 'bad-input-u@example.test', password: 'Correct-Horse-9-Battery' }),
        jsonRequest(`username ${label}`, 'post', '/v1/users', { firstName: 'F', lastName: 'L', username: name, email: 'bad-input-v@example.test', password: 'Correct-Horse-9-Battery' }),
        jsonRequest(`provider name ${label}`, 'post', '/v1/providers', { name, category: 'Email', type: 'SMTP', host: 'smtp.example.test', port: 587, from: 'a@example.test' }),
        jsonRequest(`declared group ${label}`, 'put', '/v1/declarations/bad-input-app', { service: 'bad-input-app', version: '1', permissions: [], roles: [{ name: 'r', grantedTo: [{ group: name }] }] }),
      );
    }
    const problems = await sendAll(target, requests);
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('SQL-like, path-like, unicode and malformed resource names never reach a policy line', async () => {
    const requests: BadRequest[] = [];
    for (const [label, resource] of badResources) {
      requests.push(
        jsonRequest(`role permission ${label}`, 'put', `/v1/roles/${roleId}/permissions`, { permissions: [{ resource, action: 'get' }] }),
        jsonRequest(`new role permission ${label}`, 'post', '/v1/roles', { name: 'bad-input-role-2', permissions: [{ resource, action: 'get' }] }),
        jsonRequest(`application permission ${label}`, 'put', `/v1/applications/${applicationId}/permissions`, { permissions: [{ resource, action: 'get' }] }),
        jsonRequest(`declared resource ${label}`, 'put', '/v1/declarations/bad-input-app', { service: 'bad-input-app', version: '1', permissions: [{ resource, action: 'get', roles: ['r'] }], roles: [] }),
        jsonRequest(`action ${label}`, 'put', `/v1/roles/${roleId}/permissions`, { permissions: [{ resource: 'accounts', action: resource }] }),
      );
    }
    const problems = await sendAll(target, requests);
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('negative, fractional and huge numbers and wrong types are refused', async () => {
    const requests: BadRequest[] = [];
    for (const port of [-1, 0, 65_536, 1.5, 1e308, '25', null]) {
      requests.push({ label: `provider port ${String(port)}`, method: 'post', path: '/v1/providers', contentType: 'application/json', body: JSON.stringify({ name: 'p', category: 'Email', type: 'SMTP', host: 'smtp.example.test', port, from: 'a@example.test' }) });
    }
    for (const cidrs of [[], ['0.0.0.0/0'], ['10.0.0.0/33'], ['10.0.0.1'], ["10.0.0.0/8'; --"], ['x'.repeat(65)], 'not-a-list', Array.from({ length: 10_000 }, () => '10.0.0.0/8')]) {
      requests.push({ label: `allowlist ${JSON.stringify(cidrs).slice(0, 30)}`, method: 'put', path: '/v1/ip-allowlists/auth', contentType: 'application/json', body: JSON.stringify({ cidrs }) });
    }
    for (const groups of [['not-a-uuid'], 'x', [1], Array.from({ length: 101 }, () => '00000000-0000-4000-8000-000000000000')]) {
      requests.push({ label: `user groups ${JSON.stringify(groups).slice(0, 30)}`, method: 'post', path: '/v1/users', contentType: 'application/json', body: JSON.stringify({ firstName: 'F', lastName: 'L', username: 'bad-input-w', email: 'w@example.test', password: 'Correct-Horse-9-Battery', groups }) });
    }
    const problems = await sendAll(target, requests);
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('headers over 16 KiB are 431; a 15 KiB bearer token is 401', async () => {
    const server = await listen(h.app);
    try {
      expect(await rawStatus(server.url, 'get', '/v1/users', { authorization: `Bearer ${target.token}`, 'x-padding': 'p'.repeat(20 * 1024) })).toBe(431);
      const res = await supertest(server.url).get('/v1/users').set('Authorization', `Bearer ${'a'.repeat(15 * 1024)}`);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await server.close();
    }
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });
});

describe('bad input: Auth', () => {
  let h: AuthHarness;
  let target: Target;
  let operations: Operation[];
  let before: Record<string, string>;
  let sub: string;

  beforeAll(async () => {
    h = await createAuthHarness('bad-input-auth');
    const org = await h.createOrganization();
    const user = await h.createUser(org.id);
    await h.grant(org.id, `user:${user.id}`, [['accounts', 'get']]);
    const token = (await h.deps.issuer.accessToken({ kind: 'user', id: user.id, name: user.username, displayName: user.username, tenantId: org.id, tenantSlug: org.slug }, undefined, undefined)).token;
    sub = `${org.slug}/${user.id}`;
    target = { agent: () => h.http(), pool: h.deps.pool, token, oauthPaths: ['/oauth/token', '/oauth/revoke', '/oauth/introspect'] };
    operations = await operationsOf(h.http());
    before = await databaseDigest(h.deps.pool);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('the OpenAPI document lists the routes the corpus walks', () => {
    expect(operations.map((op) => `${op.method} ${op.path}`)).toEqual(expect.arrayContaining(['post /v1/authorize', 'post /v1/authorize/batch', 'post /v1/login/oauth/access_token']));
  });

  it('every route refuses each malformed body, content type, size, path and query with a clear 4xx, and nothing changes', async () => {
    const problems: string[] = [];
    for (const op of operations) problems.push(...(await sendAll(target, corpusOf(op))));
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a malformed percent-escape in any path parameter is 400 and a lying Content-Encoding is 415, before authentication', async () => {
    const requests = operations.flatMap(httpLayerCorpusOf);
    expect(requests.some((r) => r.path === '/v1/authorize' && r.headers?.['Content-Encoding'] === 'gzip')).toBe(true);
    expect(await sendExpecting(target, requests, false)).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('a NUL in any query parameter or JSON string is 400', async () => {
    const requests = [
      ...operations.flatMap(nulQueryCorpusOf),
      postJson('authorize product', '/v1/authorize', { sub, resource: 'accounts', action: 'get', product: 'p\u0000' }),
      postJson('authorize attribute', '/v1/authorize', { sub, resource: 'accounts', action: 'get', attributes: { region: 'eu\u0000' } }),
      postJson('password grant password', '/v1/login/oauth/access_token', { grantType: 'password', username: 'someone', password: 'pass\u0000word' }),
    ].map((r) => ({ ...r, status: 400 }));
    expect(await sendExpecting(target, requests, true)).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('authorize refuses SQL-like, path-like and unicode resources and actions, and bad numbers', async () => {
    const requests: BadRequest[] = [];
    for (const [label, resource] of badResources) {
      requests.push(postJson(`resource ${label}`, '/v1/authorize', { sub, resource, action: 'get' }));
      requests.push(postJson(`action ${label}`, '/v1/authorize', { sub, resource: 'accounts', action: resource }));
      requests.push(postJson(`batch resource ${label}`, '/v1/authorize/batch', { checks: [{ sub, resource, action: 'get' }] }));
    }
    for (const [label, name] of badNames) {
      requests.push(postJson(`sub ${label}`, '/v1/authorize', { sub: name, resource: 'accounts', action: 'get' }));
      requests.push(postJson(`product ${label}`, '/v1/authorize', { sub, resource: 'accounts', action: 'get', product: name }));
    }
    for (const minRevision of [-1, 1.5, 1e300, '1', null, 2 ** 64]) {
      requests.push(postJson(`minRevision ${String(minRevision)}`, '/v1/authorize', { sub, resource: 'accounts', action: 'get', minRevision }));
    }
    requests.push(
      postJson('no checks', '/v1/authorize/batch', { checks: [] }),
      postJson('101 checks', '/v1/authorize/batch', { checks: Array.from({ length: 101 }, () => ({ sub, resource: 'accounts', action: 'get' })) }),
      postJson('33 attributes', '/v1/authorize', { sub, resource: 'accounts', action: 'get', attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }),
      postJson('attribute objects nested past 3 levels', '/v1/authorize', { sub, resource: 'accounts', action: 'get', attributes: { a: { b: { c: { nested: true } } } } }),
      postJson('attribute ip set by the body', '/v1/authorize', { sub, resource: 'accounts', action: 'get', attributes: { ip: '10.0.0.1' } }),
      postJson('attribute null value', '/v1/authorize', { sub, resource: 'accounts', action: 'get', attributes: { a: null } }),
      postJson('missing resource', '/v1/authorize', { sub, action: 'get' }),
    );
    const problems = await sendAll(target, requests);
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('token endpoints refuse malformed grants before looking anyone up', async () => {
    const requests: BadRequest[] = [];
    for (const [label, name] of badNames) {
      if (label === 'blank') continue;
      requests.push(postJson(`username ${label}`, '/v1/login/oauth/access_token', { grantType: 'password', username: name, password: 'x' }));
      requests.push(postJson(`clientId ${label}`, '/v1/login/oauth/access_token', { grantType: 'client_credentials', clientId: name, clientSecret: 'x' }));
      requests.push(postJson(`refresh token ${label}`, '/v1/login/oauth/refresh_token', { refreshToken: name }));
    }
    requests.push(
      postJson('password grant without password', '/v1/login/oauth/access_token', { grantType: 'password', username: 'someone' }),
      postJson('grant type as a number', '/v1/login/oauth/access_token', { grantType: 7 }),
      postJson('password as an object', '/v1/login/oauth/access_token', { grantType: 'password', username: 'someone', password: { $ne: '' } }),
      postJson('clientId without clientSecret', '/v1/login/oauth/access_token', { grantType: 'password', username: 'someone', password: 'x', clientId: 'c' }),
      postJson('MFA verify with a 7-digit passcode', '/v1/login/mfa/verify', { mfaToken: 'x', passcode: '1234567', mfaType: 'app' }),
      postJson('MFA challenge with an unknown type', '/v1/login/mfa/challenge', { mfaToken: 'x', mfaType: 'carrier-pigeon' }),
      { label: 'form grant with a NUL username', method: 'post', path: '/oauth/token', contentType: 'application/x-www-form-urlencoded', body: 'grant_type=password&username=a%00b&password=x' },
      { label: 'form grant repeated parameter', method: 'post', path: '/oauth/token', contentType: 'application/x-www-form-urlencoded', body: 'grant_type=password&grant_type=client_credentials' },
    );
    const problems = await sendAll(target, requests);
    expect(problems).toEqual([]);
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });

  it('headers over 16 KiB are 431; a 15 KiB bearer token is 401', async () => {
    const server = await listen(h.app);
    try {
      expect(await rawStatus(server.url, 'post', '/v1/authorize', { authorization: `Bearer ${target.token}`, 'x-padding': 'p'.repeat(20 * 1024) })).toBe(431);
      const res = await supertest(server.url).post('/v1/authorize').set('Authorization', `Bearer ${'a'.repeat(15 * 1024)}`).send({ sub, resource: 'accounts', action: 'get' });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await server.close();
    }
    expect(await databaseDigest(h.deps.pool)).toEqual(before);
  });
});
