import express, { type Express, type Router } from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { skipUnrouted } from './skip-unrouted.js';

/** A health-like router: fixed routes, a nested router at `/`, a static-like mount, as createServiceApp's `before` ones. */
function fixedPathsRouter(options: { caseSensitive?: boolean; strict?: boolean } = {}): Router {
  const router = express.Router(options);
  router.get('/health', (_req, res) => {
    res.type('text/plain').send('healthy');
  });
  router.post(['/v1/login/oauth/access_token', '/oauth/token'], (_req, res) => {
    res.status(429).json({ limited: true });
  });
  const nested = express.Router();
  nested.get(['/ready', '/readyz'], (_req, res) => {
    res.json({ ready: true });
  });
  router.use(nested);
  router.use('/docs/assets', (req, res) => {
    res.json({ asset: req.path });
  });
  return router;
}

/** An app around the router: a 404 for everything it leaves, as the services have. */
function appWith(router: express.RequestHandler): Express {
  const app = express();
  app.use(router);
  app.use((req, res) => {
    res.status(404).json({ passedBy: req.path });
  });
  return app;
}

/** Counts how often the router itself is entered. */
function counted(router: Router): { router: Router; entries: () => number } {
  let entries = 0;
  // express's Router calls its own `handle` (untyped in @types/express) for every request it is entered with.
  const target = router as unknown as { handle: (...args: unknown[]) => unknown };
  const handle = target.handle.bind(router);
  target.handle = (...args: unknown[]) => {
    entries++;
    return handle(...args);
  };
  return { router, entries: () => entries };
}

const corpus: readonly (readonly [method: 'get' | 'head' | 'post' | 'options' | 'put', path: string])[] = [
  ['get', '/health'],
  ['get', '/HEALTH'],
  ['get', '/Health/'],
  ['get', '/health//'],
  ['head', '/health'],
  ['options', '/health'],
  ['put', '/health'],
  ['get', '/healthz'],
  ['get', '/health/x'],
  ['get', '/%68ealth'],
  ['get', '/health?x=1'],
  ['post', '/oauth/token'],
  ['post', '/OAuth/Token/'],
  ['get', '/oauth/token'],
  ['post', '/v1/login/oauth/access_token'],
  ['post', '/v1/login/oauth/refresh_token'],
  ['get', '/ready'],
  ['get', '/readyz/'],
  ['get', '/READY'],
  ['get', '/docs/assets'],
  ['get', '/docs/assets/swagger.css'],
  ['get', '/Docs/Assets/a/b.js'],
  ['get', '/docs/assetsX'],
  ['get', '/docs'],
  ['post', '/v1/authorize'],
  ['get', '/'],
];

async function answer(app: Express, method: (typeof corpus)[number][0], path: string) {
  const response = await supertest(app)[method](path);
  return { status: response.status, body: response.text, allow: response.headers.allow };
}

describe('skipUnrouted: routers of fixed paths are passed by for every other path', () => {
  for (const options of [{}, { caseSensitive: true, strict: true }]) {
    it(`answers exactly as the router mounted as it is, on paths it has and has not (${JSON.stringify(options)})`, async () => {
      const plain = appWith(fixedPathsRouter(options));
      const guarded = appWith(skipUnrouted(fixedPathsRouter(options)));
      for (const [method, path] of corpus) {
        expect(await answer(guarded, method, path), `${method.toUpperCase()} ${path}`).toEqual(await answer(plain, method, path));
      }
    });
  }

  it('does not enter the router for a path it has nothing for, and enters it for its own', async () => {
    const { router, entries } = counted(fixedPathsRouter());
    const app = appWith(skipUnrouted(router));
    await supertest(app).post('/v1/authorize').expect(404);
    await supertest(app).get('/docs').expect(404);
    expect(entries()).toBe(0);
    await supertest(app).get('/health').expect(200);
    await supertest(app).get('/readyz').expect(200);
    await supertest(app).get('/docs/assets/x.css').expect(200);
    expect(entries()).toBe(3);
  });

  it('reaches a route added to the router (or a router it mounts) after it was mounted', async () => {
    const router = fixedPathsRouter();
    const nested = express.Router();
    router.use(nested);
    const app = appWith(skipUnrouted(router));
    await supertest(app).get('/metrics').expect(404);
    router.get('/metrics', (_req, res) => {
      res.send('metrics');
    });
    await supertest(app).get('/metrics').expect(200, 'metrics');
    nested.get('/late', (_req, res) => {
      res.send('late');
    });
    await supertest(app).get('/late').expect(200, 'late');
  });

  it('returns as they are a router with parameters or middleware for every path, and plain middleware', () => {
    const withParams = express.Router();
    withParams.get('/users/:id', (_req, res) => {
      res.end();
    });
    const withMiddleware = express.Router();
    withMiddleware.use((_req, _res, next) => next());
    const pattern = express.Router();
    pattern.get('/files/*rest', (_req, res) => {
      res.end();
    });
    const middleware: express.RequestHandler = (_req, _res, next) => next();
    for (const handler of [withParams, withMiddleware, pattern, middleware]) expect(skipUnrouted(handler)).toBe(handler);
  });

  it('a router that gains a parameter route after mounting is entered for every path from then on', async () => {
    const { router, entries } = counted(fixedPathsRouter());
    const app = appWith(skipUnrouted(router));
    router.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    await supertest(app).get('/users/7').expect(200, { id: '7' });
    await supertest(app).post('/v1/authorize').expect(404);
    expect(entries()).toBe(2);
  });
});
