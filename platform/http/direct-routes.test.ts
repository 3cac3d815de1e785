import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Caller } from './caller.js';
import { errorHandler } from './error-handler.js';
import { jsonBody } from './json-body.js';
import { mountRoutes, type RouteGuards } from './mount-routes.js';
import { platformCatalogue } from './platform-errors.js';
import { defineRoute, type AnyRoute } from './route.js';
import { ServiceError } from './service-error.js';

const guards: RouteGuards = {
  authenticate: (req) => {
    if (req.headers.authorization !== 'Bearer ok.ok.ok') return Promise.reject(new ServiceError('TOKEN_MISSING'));
    return Promise.resolve({ kind: 'user', id: 'u1', subject: 'user:u1', tenantId: 't1', tokenId: undefined, claims: {} } satisfies Caller);
  },
  authorize: () => Promise.resolve(),
};

const routes: AnyRoute[] = [
  defineRoute({
    method: 'get',
    path: '/v1/things/{id}',
    summary: 'a thing',
    tags: ['t'],
    auth: 'none',
    params: z.object({ id: z.string().max(8) }).strict(),
    responses: { 200: { description: 'ok' } },
    handler: ({ params }) => Promise.resolve({ body: { route: 'by-id', id: params.id } }),
  }),
  // Registered after the parameter route, which also matches its path: express picks that one first.
  defineRoute({
    method: 'get',
    path: '/v1/things/me',
    summary: 'mine',
    tags: ['t'],
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: () => Promise.resolve({ body: { route: 'me' } }),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/authorize',
    summary: 'authorize',
    tags: ['t'],
    auth: 'token',
    body: z.object({ sub: z.string().min(1).max(16) }).strict(),
    responses: { 200: { description: 'ok' } },
    handler: ({ body, caller, params }) => Promise.resolve({ body: { sub: body.sub, caller: caller.subject, params }, headers: { 'X-Answer': 'yes' } }),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/fail',
    summary: 'fails',
    tags: ['t'],
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: () => Promise.reject(new ServiceError('FORBIDDEN', { message: 'no' })),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/throws-nothing',
    summary: 'throws undefined',
    tags: ['t'],
    auth: 'none',
    responses: { 200: { description: 'ok' } },
    handler: () => Promise.reject(undefined),
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/things/me',
    summary: 'delete mine',
    tags: ['t'],
    auth: 'none',
    responses: { 204: { description: 'gone' } },
    handler: () => Promise.resolve({ status: 204 }),
  }),
];

/** An app as createServiceApp builds it, with or without the shortcut; `routeSeen` records `req.route.path` at finish (as the metrics do). */
function appWith(shortcut: boolean): { app: Express; routeSeen: string[]; routerEntries: () => number; routeDispatches: () => number } {
  const app = express();
  const routeSeen: string[] = [];
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.once('finish', () => routeSeen.push(`${req.baseUrl}${String((req.route as { path?: string } | undefined)?.path)}`));
    next();
  });
  app.use(jsonBody());
  const api = express.Router({ strict: true, caseSensitive: true });
  let routerEntries = 0;
  const target = api as unknown as { handle: (...args: unknown[]) => unknown };
  const handle = target.handle.bind(api);
  target.handle = (...args: unknown[]) => {
    routerEntries++;
    return handle(...args);
  };
  const direct = mountRoutes(api, routes, guards);
  let routeDispatches = 0;
  for (const layer of (api as unknown as { stack: { route?: { dispatch: (...args: unknown[]) => unknown } }[] }).stack) {
    const route = layer.route;
    if (!route) continue;
    const dispatch = route.dispatch.bind(route);
    route.dispatch = (...args: unknown[]) => {
      routeDispatches++;
      return dispatch(...args);
    };
  }
  if (shortcut) app.use(direct);
  app.use(api);
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ServiceError('NOT_FOUND')));
  app.use(errorHandler(platformCatalogue('AUT'), () => undefined));
  return { app, routeSeen, routerEntries: () => routerEntries, routeDispatches: () => routeDispatches };
}

type Call = readonly [method: 'get' | 'head' | 'post' | 'put' | 'delete' | 'options', path: string, body?: string, token?: boolean];

const corpus: readonly Call[] = [
  ['post', '/v1/authorize', '{"sub":"a"}', true],
  ['post', '/v1/authorize', '{"sub":"a"}', false],
  ['post', '/v1/authorize', '{"sub":"a","x":1}', true],
  ['post', '/v1/authorize', '{"sub":', true],
  ['post', '/v1/authorize?x=1', '{"sub":"a"}', true],
  ['post', '/v1/authorize/', '{"sub":"a"}', true],
  ['post', '/V1/Authorize', '{"sub":"a"}', true],
  ['post', '/v1/authoriz%65', '{"sub":"a"}', true],
  ['get', '/v1/authorize'],
  ['head', '/v1/authorize'],
  ['options', '/v1/authorize'],
  ['put', '/v1/authorize', '{"sub":"a"}'],
  ['get', '/v1/things/me'],
  ['get', '/v1/things/abc'],
  ['get', '/v1/things/toolongid'],
  ['delete', '/v1/things/me'],
  ['head', '/v1/things/me'],
  ['post', '/v1/fail'],
  ['post', '/v1/throws-nothing'],
  ['get', '/v1/nowhere'],
];

async function call(app: Express, [method, path, body, token]: Call) {
  let request = supertest(app)[method](path);
  if (token) request = request.set('Authorization', 'Bearer ok.ok.ok');
  if (body !== undefined) request = request.set('Content-Type', 'application/json').send(body);
  const response = await request;
  return { status: response.status, body: response.text, allow: response.headers.allow, type: response.headers['content-type'], answer: response.headers['x-answer'] };
}

describe('directRoutes: a fixed-path route is reached without walking the router', () => {
  it('answers every request of the corpus exactly as the router alone, with the same route seen at finish', async () => {
    const direct = appWith(true);
    const plain = appWith(false);
    for (const request of corpus) {
      expect(await call(direct.app, request), `${request[0].toUpperCase()} ${request[1]}`).toEqual(await call(plain.app, request));
    }
    expect(direct.routeSeen).toEqual(plain.routeSeen);
    expect(direct.routeSeen).toContain('/v1/authorize');
  });

  it('skips the router for the exact method and path of a fixed-path route, and only for those', async () => {
    const { app, routerEntries, routeDispatches } = appWith(true);
    await supertest(app).post('/v1/authorize').set('Authorization', 'Bearer ok.ok.ok').send({ sub: 'a' }).expect(200);
    await supertest(app).post('/v1/fail').expect(403);
    expect(routerEntries()).toBe(0);
    expect(routeDispatches()).toBe(0);
    // The parameter route registered first keeps this path; HEAD and other spellings take the router.
    await supertest(app).get('/v1/things/me').expect(200, { route: 'by-id', id: 'me' });
    await supertest(app).head('/v1/things/me').expect(200);
    await supertest(app).post('/v1/authorize/').send({ sub: 'a' }).expect(404);
    expect(routerEntries()).toBe(3);
  });

  it('a handler that throws nothing is a 500 on both paths, never a pass to the next route', async () => {
    for (const shortcut of [true, false]) {
      const response = await supertest(appWith(shortcut).app).post('/v1/throws-nothing');
      expect(response.status).toBe(500);
    }
  });
});
