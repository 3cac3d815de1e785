// The lean routes answer exactly as the express app does: the same requests, hostile ones included, sent to the
// express app alone and to the listener with the lean routes ahead of it give the same status, headers that
// matter and body; what the lean path does not take is left to express untouched.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from './caller.js';
import type { ErrorReporter } from './error-handler.js';
import { leanRoutes } from './lean-routes.js';
import type { RouteGuards } from './mount-routes.js';
import { platformCatalogue } from './platform-errors.js';
import { defineLeanRoute, defineRoute, type AnyRoute } from './route.js';
import { ServiceError } from './service-error.js';
import { createServiceApp } from './service-app.js';

const caller: Caller = { kind: 'user', id: 'u1', subject: 'user:u1', tenantId: 't1', tokenId: undefined, claims: {} };
const guards: RouteGuards = {
  authenticate: (req) => {
    const header = req.headers.authorization;
    if (header === undefined) return Promise.reject(new ServiceError('TOKEN_MISSING'));
    if (header !== 'Bearer ok.ok.ok' && header !== 'ok.ok.ok') return Promise.reject(new ServiceError('TOKEN_INVALID'));
    return Promise.resolve(caller);
  },
  authorize: (_caller, resource) => (resource === 'secret' ? Promise.reject(new ServiceError('FORBIDDEN')) : Promise.resolve()),
};

/** Which path ran each handler: express gives its request a `res`, Node's own has none. */
const ranOn: string[] = [];
const pathOf = (req: IncomingMessage): string => ((req as { res?: unknown }).res ? 'express' : 'lean');

function routes(): AnyRoute[] {
  return [
    defineLeanRoute({
      method: 'post',
      path: '/v1/check',
      summary: 'a lean route with a body',
      tags: ['t'],
      auth: 'token',
      bareToken: true,
      body: z.object({ resource: z.string().min(1).max(20), n: z.number().int().optional() }).strict(),
      responses: { 200: { description: 'ok' } },
      async handler({ body, req, requestId, caller: who }) {
        ranOn.push(pathOf(req));
        if (body.resource === 'boom') throw new Error('connect ECONNREFUSED 10.0.0.7:5432 (internal detail)');
        if (body.resource === 'unavailable') throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'db down', headers: { 'Retry-After': '1' } });
        return { body: { resource: body.resource, n: body.n ?? null, subject: who.subject, requestId } };
      },
    }),
    defineLeanRoute({
      method: 'get',
      path: '/v1/mine',
      summary: 'a lean route without a body',
      tags: ['t'],
      auth: 'token',
      responses: { 200: { description: 'ok' } },
      async handler({ req }) {
        ranOn.push(pathOf(req));
        return { body: { mine: ['a', 'b'] }, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    defineLeanRoute({
      method: 'get',
      path: '/v1/secret',
      summary: 'a lean route with a permission',
      tags: ['t'],
      auth: 'token',
      permission: { resource: 'secret', action: 'get' },
      responses: { 200: { description: 'ok' } },
      handler: () => Promise.resolve({ body: { never: true } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/other',
      summary: 'an express route',
      tags: ['t'],
      auth: 'none',
      responses: { 200: { description: 'ok' } },
      handler: () => Promise.resolve({ body: { other: true } }),
    }),
  ];
}

let expressOnly: Server;
let withLean: Server;
const reports: { express: Parameters<ErrorReporter>[0][]; lean: Parameters<ErrorReporter>[0][] } = { express: [], lean: [] };

function listen(handler: RequestListener): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function build(report: ErrorReporter): RequestListener[] {
  const all = routes();
  const options = { routes: all, guards, catalogue: platformCatalogue('AUT'), report };
  const app = createServiceApp({ ...options, info: { title: 't', version: '1' } });
  const lean = leanRoutes(options);
  return [app, (req, res) => {
    if (!lean(req, res)) app(req, res);
  }];
}

beforeAll(async () => {
  expressOnly = await listen(build((event) => reports.express.push(event))[0] as RequestListener);
  withLean = await listen(build((event) => reports.lean.push(event))[1] as RequestListener);
});

afterAll(async () => {
  for (const server of [expressOnly, withLean]) await new Promise((resolve) => server.close(resolve));
});

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string | number>;
  readonly body?: string | Buffer;
  /** Send the body in chunks without a Content-Length. */
  readonly chunked?: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function send(server: Server, sent: Sent): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'X-Request-Id': 'fixed-request-id-1', ...sent.headers };
    if (sent.body !== undefined && !sent.chunked) headers['Content-Length'] = Buffer.byteLength(sent.body);
    const req = request({ host: '127.0.0.1', port, method: sent.method, path: sent.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (sent.body !== undefined && sent.chunked) {
      const text = Buffer.from(sent.body);
      req.write(text.subarray(0, 5));
      req.end(text.subarray(5));
    } else req.end(sent.body);
  });
}

const json = { 'Content-Type': 'application/json', Authorization: 'Bearer ok.ok.ok' };
const deep = (levels: number): string => '{"resource":"x","n":1,"d":'.concat('['.repeat(levels), ']'.repeat(levels), '}');

const cases: readonly (Sent & { readonly label: string })[] = [
  { label: 'an allowed body', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"accounts","n":3}' },
  { label: 'a bare token', method: 'POST', path: '/v1/check', headers: { ...json, Authorization: 'ok.ok.ok' }, body: '{"resource":"accounts"}' },
  { label: 'charset utf-8', method: 'POST', path: '/v1/check', headers: { ...json, 'Content-Type': 'application/json; charset=utf-8' }, body: '{"resource":"accounts"}' },
  { label: 'a byte-order mark', method: 'POST', path: '/v1/check', headers: json, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"resource":"bom"}')]) },
  { label: 'no token', method: 'POST', path: '/v1/check', headers: { 'Content-Type': 'application/json' }, body: '{"resource":"accounts"}' },
  { label: 'a bad token', method: 'POST', path: '/v1/check', headers: { ...json, Authorization: 'Bearer nope' }, body: '{"resource":"accounts"}' },
  { label: 'malformed JSON (before the token is looked at)', method: 'POST', path: '/v1/check', headers: { 'Content-Type': 'application/json' }, body: '{"resource":' },
  { label: 'a JSON string', method: 'POST', path: '/v1/check', headers: json, body: '"accounts"' },
  { label: 'JSON null', method: 'POST', path: '/v1/check', headers: json, body: 'null' },
  { label: 'an array', method: 'POST', path: '/v1/check', headers: json, body: '[1,2]' },
  { label: 'a __proto__ key', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"x","__proto__":{"admin":true}}' },
  { label: 'a constructor key deep down', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"x","a":[{"b":{"constructor":1}}]}' },
  { label: 'nesting past 32 levels', method: 'POST', path: '/v1/check', headers: json, body: deep(40) },
  { label: 'an unknown key', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"x","admin":true}' },
  { label: 'a too long field', method: 'POST', path: '/v1/check', headers: json, body: `{"resource":"${'x'.repeat(21)}"}` },
  { label: 'a NUL character', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"a\\u0000b"}' },
  { label: 'a handler crash naming an internal host', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"boom"}' },
  { label: 'a dependency down', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"unavailable"}' },
  { label: 'text/plain', method: 'POST', path: '/v1/check', headers: { ...json, 'Content-Type': 'text/plain' }, body: '{"resource":"x"}' },
  { label: 'no content type', method: 'POST', path: '/v1/check', headers: { Authorization: 'Bearer ok.ok.ok' }, body: '{"resource":"x"}' },
  { label: 'latin1 charset', method: 'POST', path: '/v1/check', headers: { ...json, 'Content-Type': 'application/json; charset=latin1' }, body: '{"resource":"x"}' },
  { label: 'a gzip body', method: 'POST', path: '/v1/check', headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipSync('{"resource":"zipped"}') },
  { label: 'a chunked body', method: 'POST', path: '/v1/check', headers: json, body: '{"resource":"chunked"}', chunked: true },
  { label: 'a body over 64 KiB', method: 'POST', path: '/v1/check', headers: json, body: `{"resource":"x","pad":"${'p'.repeat(70_000)}"}` },
  { label: 'an empty body', method: 'POST', path: '/v1/check', headers: json, body: '' },
  { label: 'a query string', method: 'POST', path: '/v1/check?access_token=ok.ok.ok', headers: json, body: '{"resource":"x"}' },
  { label: 'a trailing slash', method: 'POST', path: '/v1/check/', headers: json, body: '{"resource":"x"}' },
  { label: 'another case', method: 'POST', path: '/V1/CHECK', headers: json, body: '{"resource":"x"}' },
  { label: 'another method', method: 'PUT', path: '/v1/check', headers: json, body: '{"resource":"x"}' },
  { label: 'GET on a body route', method: 'GET', path: '/v1/check', headers: json },
  { label: 'a lean GET', method: 'GET', path: '/v1/mine', headers: { Authorization: 'Bearer ok.ok.ok' } },
  { label: 'a lean GET with a body', method: 'GET', path: '/v1/mine', headers: json, body: '{"a":1}' },
  { label: 'a lean GET with Content-Length 0', method: 'GET', path: '/v1/mine', headers: { Authorization: 'Bearer ok.ok.ok', 'Content-Length': 0 } },
  { label: 'HEAD on a lean GET', method: 'HEAD', path: '/v1/mine', headers: { Authorization: 'Bearer ok.ok.ok' } },
  { label: 'a query on a lean GET', method: 'GET', path: '/v1/mine?x=1', headers: { Authorization: 'Bearer ok.ok.ok' } },
  { label: 'a permission refused', method: 'GET', path: '/v1/secret', headers: { Authorization: 'Bearer ok.ok.ok' } },
  { label: 'a caller request id that is not acceptable', method: 'GET', path: '/v1/mine', headers: { Authorization: 'Bearer ok.ok.ok', 'X-Request-Id': 'bad id!' } },
  { label: 'an express route', method: 'GET', path: '/v1/other' },
];

// Headers a client can see the difference in; Date and Keep-Alive are the server's own.
const compared = ['content-type', 'content-length', 'cache-control', 'www-authenticate', 'retry-after', 'allow', 'x-request-id'];

function comparable(answer: Answer): object {
  const headers = Object.fromEntries(compared.map((name) => [name, answer.headers[name]]));
  // A generated request id differs between the two servers by nature: its shape is what must match.
  const generated = answer.headers['x-request-id'] !== 'fixed-request-id-1';
  const body = generated ? answer.body.replaceAll(String(answer.headers['x-request-id']), '<generated>') : answer.body;
  return { status: answer.status, headers: { ...headers, 'x-request-id': generated ? 'generated' : headers['x-request-id'] }, body };
}

describe('lean routes answer as the express app does', () => {
  it.each(cases)('$label', async (sent) => {
    const [viaExpress, viaListener] = [await send(expressOnly, sent), await send(withLean, sent)];
    expect(comparable(viaListener)).toEqual(comparable(viaExpress));
  });

  it('the failures are reported alike (level, code, status, request id), and a 5xx never shows its detail', () => {
    const strip = (events: Parameters<ErrorReporter>[0][]) => events.map(({ level, code, status }) => ({ level, code, status }));
    expect(strip(reports.lean)).toEqual(strip(reports.express));
    expect(reports.lean.length).toBeGreaterThan(10);
  });

  it('the common shapes are served by the lean path, everything else by express', async () => {
    ranOn.length = 0;
    await send(withLean, cases[0] as Sent);
    await send(withLean, cases[2] as Sent);
    await send(withLean, { method: 'GET', path: '/v1/mine', headers: { Authorization: 'Bearer ok.ok.ok' } });
    expect(ranOn).toEqual(['lean', 'lean', 'lean']);
    ranOn.length = 0;
    for (const label of ['a gzip body', 'a chunked body', 'HEAD on a lean GET', 'a lean GET with Content-Length 0']) {
      await send(withLean, cases.find((c) => c.label === label) as Sent);
    }
    expect(ranOn).toEqual(['express', 'express', 'express', 'lean']);
  });

  it('a client that goes away mid-body gets nothing written and the server keeps serving', async () => {
    const { port } = withLean.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/check', headers: { ...json, 'Content-Length': 100 } });
      req.on('error', () => resolve());
      req.write('{"resource":');
      setImmediate(() => {
        req.destroy();
        resolve();
      });
    });
    expect((await send(withLean, cases[0] as Sent)).status).toBe(200);
  });
});
