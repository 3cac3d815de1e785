// The house rules every service inherits: problem+json for every failure, strict bodies, 404/405, no leaks.
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineError } from '../../engine/index.js';
import type { Caller } from './caller.js';
import type { ErrorReporter } from './error-handler.js';
import { platformCatalogue } from './platform-errors.js';
import { defineRoute } from './route.js';
import { createServiceApp } from './service-app.js';
import { ServiceError } from './service-error.js';

const reports: Parameters<ErrorReporter>[0][] = [];
let handlerRuns = 0;
const openRouteCallers: unknown[] = [];
let openRouteHadCaller = false;
const caller: Caller = { kind: 'user', id: 'u1', subject: 'user:u1', tenantId: 't1', tokenId: undefined, claims: {} };

const app = createServiceApp({
  info: { title: 'test', version: '1' },
  catalogue: platformCatalogue('IDE'),
  report: (event) => reports.push(event),
  guards: {
    authenticate: async (req) => {
      if (req.headers.authorization !== 'Bearer ok.ok.ok') throw new ServiceError('TOKEN_MISSING');
      return caller;
    },
    authorize: async (_caller, resource) => {
      if (resource === 'secret') throw new ServiceError('FORBIDDEN');
    },
  },
  routes: [
    defineRoute({
      method: 'post',
      path: '/v1/things',
      summary: 'create a thing',
      tags: ['things'],
      auth: 'none',
      body: z.object({ name: z.string().max(10), tags: z.array(z.string()).max(3).optional() }).strict(),
      responses: { 201: { description: 'created', schema: z.object({ name: z.string() }) } },
      async handler(ctx) {
        handlerRuns++;
        // @ts-expect-error a route open to anyone has no caller for its handler to read
        openRouteCallers.push(ctx.caller);
        openRouteHadCaller ||= 'caller' in ctx;
        return { status: 201, body: { name: ctx.body.name } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/things/{id}',
      summary: 'get a thing',
      tags: ['things'],
      auth: 'token',
      params: z.object({ id: z.string().regex(/^[a-z]+$/) }).strict(),
      query: z.object({ view: z.enum(['short', 'long']).optional() }).strict(),
      permission: { resource: 'things', action: 'get' },
      responses: { 200: { description: 'a thing' } },
      async handler({ params }) {
        if (params.id === 'boom') throw new Error('SELECT password FROM users -- internal detail');
        if (params.id === 'invalid') throw new EngineError('INVALID_REQUEST', 'obj must not be empty', { field: 'obj' });
        if (params.id === 'down') throw new EngineError('POLICY_STORE_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.1:5432');
        return { body: { id: params.id } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/secret',
      summary: 'forbidden, with a body',
      tags: ['things'],
      auth: 'token',
      body: z.object({ name: z.string().max(10) }).strict(),
      permission: { resource: 'secret', action: 'post' },
      responses: { 200: { description: 'never' } },
      async handler() {
        handlerRuns++;
        return { body: {} };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/things/{id}/rename',
      summary: 'a permission that depends on the input',
      tags: ['things'],
      auth: 'token',
      params: z.object({ id: z.string().regex(/^[a-z]+$/) }).strict(),
      body: z.object({ name: z.string().max(10) }).strict(),
      permission: ({ params }) => ({ resource: params.id === 'mine' ? 'things' : 'secret', action: 'patch' }),
      responses: { 200: { description: 'renamed' } },
      async handler({ body }) {
        handlerRuns++;
        return { body: { name: body.name } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/secret',
      summary: 'forbidden',
      tags: ['things'],
      auth: 'token',
      permission: { resource: 'secret', action: 'get' },
      responses: { 200: { description: 'never' } },
      async handler() {
        handlerRuns++;
        return { body: {} };
      },
    }),
  ],
});

const http = () => supertest(app);

function expectProblem(response: supertest.Response, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, title: expect.any(String), message: expect.any(String), detail: expect.any(String), requestId: expect.any(String) });
}

describe('service app', () => {
  it('an unknown path is a 404 problem; a known path with another method is 405 with Allow', async () => {
    expectProblem(await http().get('/nowhere'), 404, 'IDE-0006');
    const wrong = await http().delete('/v1/things');
    expectProblem(wrong, 405, 'IDE-0007');
    expect(wrong.headers.allow).toBe('POST');
  });

  it('malformed JSON is 400, another content type 415, an oversized body 413, and the handler never runs', async () => {
    const before = handlerRuns;
    expectProblem(await http().post('/v1/things').set('Content-Type', 'application/json').send('{"name": '), 400, 'IDE-0002');
    expectProblem(await http().post('/v1/things').set('Content-Type', 'text/plain').send('name=x'), 415, 'IDE-0003');
    expectProblem(await http().post('/v1/things').set('Content-Type', 'application/x-www-form-urlencoded').send('name=x'), 415, 'IDE-0003');
    expectProblem(await http().post('/v1/things').send({ name: 'x'.repeat(1024 * 1024) }), 413, 'IDE-0004');
    expect(handlerRuns).toBe(before);
  });

  it('__proto__, deep nesting, extra fields and wrong types are 400 naming the field; nothing runs', async () => {
    const before = handlerRuns;
    const proto = await http().post('/v1/things').set('Content-Type', 'application/json').send('{"name":"a","__proto__":{"admin":true}}');
    expectProblem(proto, 400, 'IDE-0002');
    expectProblem(await http().post('/v1/things').set('Content-Type', 'application/json').send(`{"name":"a","tags":${'['.repeat(100)}${']'.repeat(100)}}`), 400, 'IDE-0001');
    const extra = await http().post('/v1/things').send({ name: 'a', tenantId: 'B', role: 'admin' });
    expectProblem(extra, 400, 'IDE-0001');
    expect(extra.body.field).toBe('body');
    const wrongType = await http().post('/v1/things').send({ name: 42 });
    expect(wrongType.body.field).toBe('body.name');
    expect(handlerRuns).toBe(before);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('repeated or unknown query parameters and a bad path parameter are 400', async () => {
    const auth = 'Bearer ok.ok.ok';
    expectProblem(await http().get('/v1/things/abc?view=short&view=long').set('Authorization', auth), 400, 'IDE-0001');
    expectProblem(await http().get('/v1/things/abc?tenant=b').set('Authorization', auth), 400, 'IDE-0001');
    const badParam = await http().get('/v1/things/ABC1').set('Authorization', auth);
    expectProblem(badParam, 400, 'IDE-0001');
    expect(badParam.body.field).toBe('params.id');
    expect((await http().get('/v1/things/abc?view=long').set('Authorization', auth)).status).toBe(200);
  });

  it('authentication runs first (401 with WWW-Authenticate), then authorization (403); the handler does not run', async () => {
    const unauthenticated = await http().get('/v1/things/abc');
    expectProblem(unauthenticated, 401, 'IDE-0008');
    expect(unauthenticated.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const before = handlerRuns;
    expectProblem(await http().get('/v1/secret').set('Authorization', 'Bearer ok.ok.ok'), 403, 'IDE-0012');
    expect(handlerRuns).toBe(before);
  });

  it('a fixed permission is checked before the input is read: a caller without it gets 403 whatever it sends, and learns nothing of the input rules', async () => {
    const before = handlerRuns;
    const auth = 'Bearer ok.ok.ok';
    expectProblem(await http().post('/v1/secret').set('Authorization', auth).send({ name: 'x'.repeat(50), extra: true }), 403, 'IDE-0012');
    expectProblem(await http().post('/v1/secret').set('Authorization', auth).send({ name: 'fine' }), 403, 'IDE-0012');
    expect(handlerRuns).toBe(before);
  });

  it('a permission that depends on the input is checked once the input is parsed: bad input is 400, good input without the permission 403', async () => {
    const before = handlerRuns;
    const auth = 'Bearer ok.ok.ok';
    expectProblem(await http().post('/v1/things/theirs/rename').set('Authorization', auth).send({ name: 'x'.repeat(50) }), 400, 'IDE-0001');
    expectProblem(await http().post('/v1/things/theirs/rename').set('Authorization', auth).send({ name: 'new' }), 403, 'IDE-0012');
    expect(handlerRuns).toBe(before);
    expect((await http().post('/v1/things/mine/rename').set('Authorization', auth).send({ name: 'new' })).body).toEqual({ name: 'new' });
  });

  it("a route open to anyone runs its handler without a caller (none is made up), even when a token is sent", async () => {
    const response = await http().post('/v1/things').set('Authorization', 'Bearer ok.ok.ok').send({ name: 'open' });
    expect(response.status).toBe(201);
    expect(openRouteHadCaller).toBe(false);
    expect(openRouteCallers.every((caller) => caller === undefined)).toBe(true);
  });

  it('an unexpected failure is a generic 500: no message, SQL or stack in the body, the detail only reported', async () => {
    const response = await http().get('/v1/things/boom').set('Authorization', 'Bearer ok.ok.ok').set('X-Request-Id', 'req-12345678');
    expectProblem(response, 500, 'IDE-0018');
    expect(JSON.stringify(response.body)).not.toMatch(/SELECT|password|internal detail|at /);
    expect(response.body.requestId).toBe('req-12345678');
    expect(reports.find((r) => r.requestId === 'req-12345678')?.detail).toMatch(/SELECT password/);
  });

  it('engine failures map in one place: a bad request is 400 with its field, a store outage 503 retryable without internals', async () => {
    const invalid = await http().get('/v1/things/invalid').set('Authorization', 'Bearer ok.ok.ok');
    expectProblem(invalid, 400, 'IDE-0001');
    expect(invalid.body.field).toBe('obj');
    const down = await http().get('/v1/things/down').set('Authorization', 'Bearer ok.ok.ok');
    expectProblem(down, 503, 'IDE-0017');
    expect(down.body.retryable).toBe(true);
    expect(JSON.stringify(down.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.1/);
  });

  it('keeps a well-formed caller request id and replaces one that could smuggle text into logs', async () => {
    expect((await http().get('/nowhere').set('X-Request-Id', 'abc-123-def')).headers['x-request-id']).toBe('abc-123-def');
    const replaced = (await http().get('/nowhere').set('X-Request-Id', 'bad id <script>')).headers['x-request-id'];
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('publishes an OpenAPI 3.1 document generated from the route schemas, and a reference page at /docs', async () => {
    const doc = (await http().get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/things', '/v1/things/{id}']));
    expect(doc.paths['/v1/things'].post.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['name'] });
    expect(doc.paths['/v1/things/{id}'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['id', 'view']));
    const page = await http().get('/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect((await http().get('/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });
});
