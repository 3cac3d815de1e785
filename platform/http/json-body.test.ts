import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler } from './error-handler.js';
import { jsonBody } from './json-body.js';
import { platformCatalogue } from './platform-errors.js';
import { ServiceError } from './service-error.js';

/**
 * What jsonBody did before its key check left the parse: a reviver refusing the keys while JSON.parse ran,
 * then a recursive depth check. The reference the one-pass check must answer exactly like.
 */
function reviverReference(maxDepth: number) {
  const forbiddenKeys = new Set(['__proto__', 'constructor', 'prototype']);
  const parse = express.json({
    limit: 64 * 1024,
    strict: true,
    type: ['application/json', 'application/*+json'],
    reviver: (key, value: unknown) => {
      if (forbiddenKeys.has(key)) throw new SyntaxError(`key "${key}" is not allowed`);
      return value;
    },
  });
  const assertDepth = (value: unknown, depth = 0): void => {
    if (depth > maxDepth) throw new ServiceError('VALIDATION_FAILED', { message: `JSON nested deeper than ${maxDepth} levels` });
    if (value !== null && typeof value === 'object') for (const child of Object.values(value)) assertDepth(child, depth + 1);
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    parse(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      try {
        assertDepth(req.body);
        next();
      } catch (depthError) {
        next(depthError);
      }
    });
  };
}

function appWith(parser: express.RequestHandler): Express {
  const app = express();
  app.use(parser);
  app.post('/x', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  app.use(errorHandler(platformCatalogue('AUT'), () => undefined));
  return app;
}

const nested = (depth: number, leaf: string) => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const nestedObjects = (depth: number, leaf: string) => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

const corpus: readonly string[] = [
  '{"action":"get","product":"midaz","resource":"accounts","sub":"org/1"}',
  '{}',
  '[]',
  'null',
  '{"a":[1,"x",true,null,{"b":{"c":[]}}]}',
  '{"__proto__":{"admin":true}}',
  '{"name":"a","__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '{"a":{"b":[{"prototype":1}]}}',
  '{"a":"__proto__","b":["constructor"]}',
  '{"__proto__":null}',
  '{"__proto":1,"_proto_":2,"Constructor":3,"PROTOTYPE":4}',
  nested(32, '1'),
  nested(33, '1'),
  nested(33, ''),
  nested(34, '{}'),
  nestedObjects(31, '1'),
  nestedObjects(32, '1'),
  nestedObjects(33, '1'),
  nested(200, '{"__proto__":1}'),
  `{"deep":${nested(100, '')},"__proto__":1}`,
  `{"__proto__":1,"deep":${nested(100, '')}}`,
  nested(1_000, ''),
  '{"a":1,"a":2}',
  '{"name": ',
  '{} xyz',
  '"text"',
];

describe('jsonBody: keys that could pollute prototypes and deep nesting', () => {
  it('answers every body of the corpus as the reviver it replaced did (status, code, message)', async () => {
    const current = appWith(jsonBody());
    const reference = appWith(reviverReference(32));
    for (const body of corpus) {
      const [got, wanted] = await Promise.all(
        [current, reference].map((app) => supertest(app).post('/x').set('Content-Type', 'application/json').send(body)),
      );
      expect({ status: got!.status, body: got!.body as unknown }, body.slice(0, 80)).toEqual({ status: wanted!.status, body: wanted!.body as unknown });
    }
  });

  it('takes JSON media types in any spelling and refuses others with 415', async () => {
    const app = appWith(jsonBody());
    for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/problem+json']) {
      expect((await supertest(app).post('/x').set('Content-Type', type).send('{"a":1}')).status, type).toBe(200);
    }
    for (const type of ['text/json', 'application/jsonx', 'application/json-patch', 'text/plain']) {
      expect((await supertest(app).post('/x').set('Content-Type', type).send('{"a":1}')).status, type).toBe(415);
    }
  });

  it('refuses a __proto__ key 40 levels down with MALFORMED_JSON, not the depth error, and pollutes nothing', async () => {
    const response = await supertest(appWith(jsonBody()))
      .post('/x')
      .set('Content-Type', 'application/json')
      .send(nestedObjects(40, '{"__proto__":{"polluted":true}}'));
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(platformCatalogue('AUT').MALFORMED_JSON.code);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
