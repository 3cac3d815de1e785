import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { failureAnswer, type ErrorReporter } from './error-handler.js';
import { assertSafeJson } from './json-body.js';
import type { RouteGuards } from './mount-routes.js';
import type { PlatformErrorCode } from './platform-errors.js';
import { requestIdFrom, type ResponseWithLocals } from './request-id.js';
import { isLeanRoute, type AnyRoute, type LeanRoute, type RouteContext } from './route.js';
import { setRoutePattern } from './route-pattern.js';
import { ServiceError, type ErrorCatalogue } from './service-error.js';
import { validateInput } from './validate-input.js';

export interface LeanRoutesOptions<C extends string> {
  /** The app's routes; those made with defineLeanRoute are served here, the rest are left to express. */
  readonly routes: readonly AnyRoute[];
  /** The same guards the express app uses. */
  readonly guards: RouteGuards;
  readonly catalogue: ErrorCatalogue<C | PlatformErrorCode>;
  readonly report: ErrorReporter;
  /** The express app's first middleware (request metrics and the access log); called the same way. */
  readonly observe?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  /** As the express app's body parser: 64 KiB and 32 levels by default. */
  readonly bodyLimitBytes?: number;
  readonly maxDepth?: number;
}

/** Answers a request itself and returns true, or returns false (nothing read, nothing written) for express to serve. */
export type LeanListener = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Served {
  readonly route: LeanRoute;
  /** The route's pattern as express names it (its metrics series). */
  readonly pattern: string;
  readonly params: unknown;
  readonly query: unknown;
  readonly body: z.ZodType | undefined;
}

// Exactly what the express app's JSON parser takes without a media-type parse; anything else goes there.
const plainJsonTypes = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);
const plainPath = /^\/[A-Za-z0-9._~/-]*$/;
const digits = /^[0-9]{1,9}$/;
const emptyObject = z.object({}).strict();
const anyParams = z.record(z.string(), z.string());
const noop = (): void => undefined;

/**
 * Serves a few fixed-path routes ahead of express on the same listener, with the express app's behaviour: the
 * same request id, metrics and access log, JSON body rules (size, strict objects, no prototype keys, depth), guards,
 * zod schemas, handler and failure answers (failureAnswer, the one mapping of errorHandler). Only the common shape
 * is taken: the route's exact path with no query string, its own method, and for a body `Content-Type:
 * application/json` with a `Content-Length` within the limit, no `Content-Encoding`, no chunked transfer.
 * Every other request (another path or method, a query, an odd or oversized body) is left to express, whose answer
 * is then the same by construction. What it saves is express's per-request work: the router's walk, the request
 * and response prototypes, body-parser's stream machinery and `res.json`.
 *
 * @example
 * const lean = leanRoutes({ routes, guards, catalogue, report, observe: metrics?.http });
 * const listener: RequestListener = (req, res) => { if (!lean(req, res)) app(req, res); };
 */
export function leanRoutes<C extends string>(options: LeanRoutesOptions<C>): LeanListener {
  const limitBytes = options.bodyLimitBytes ?? 64 * 1024;
  const maxDepth = options.maxDepth ?? 32;
  const { guards, observe } = options;
  const answerFailure = failureAnswer(options.catalogue, options.report);
  const byMethod = new Map<string, Map<string, Served>>();
  for (const route of options.routes) {
    if (!isLeanRoute(route)) continue;
    if (!plainPath.test(route.path)) throw new Error(`lean route ${route.path}: only a fixed path can be served ahead of express`);
    const method = route.method.toUpperCase();
    let byPath = byMethod.get(method);
    if (!byPath) byMethod.set(method, (byPath = new Map()));
    // A fixed path has no parameters and a lean request no query: validated once, as express would each time.
    const params = Object.freeze(validateInput(z.compile(route.params ?? anyParams), {}, 'params'));
    const query = Object.freeze(validateInput(z.compile(route.query ?? emptyObject), {}, 'query'));
    byPath.set(route.path, { route, pattern: route.path, params, query, body: route.body ? z.compile(route.body) : undefined });
  }

  async function serve(served: Served, req: IncomingMessage, res: ResponseWithLocals, length: number): Promise<void> {
    const { route } = served;
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.locals = { requestId };
    res.setHeader('X-Request-Id', requestId);
    try {
      // The express app's order: the body parsed, the token, a fixed permission, the input, a permission on the input.
      const raw = served.body ? parseJson(await readBody(req, length), maxDepth) : undefined;
      const caller = await guards.authenticate(req, { allowBareToken: route.bareToken === true });
      if (typeof route.permission === 'object') await guards.authorize(caller, route.permission.resource, route.permission.action, req);
      const body: unknown = served.body ? validateInput(served.body, raw, 'body') : undefined;
      const ctx: RouteContext<unknown, unknown, unknown, IncomingMessage> = { params: served.params, query: served.query, body, caller, requestId, req };
      if (typeof route.permission === 'function') {
        const permission = route.permission(ctx);
        if (permission) await guards.authorize(caller, permission.resource, permission.action, req);
      }
      const result = await route.handler(ctx);
      res.statusCode = result.status ?? 200;
      if (result.headers) for (const name in result.headers) res.setHeader(name, result.headers[name] as string);
      if (result.body === undefined) {
        res.end();
        return;
      }
      if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(result.body));
    } catch (error) {
      answerFailure(error || new Error(`route handler threw ${String(error)}`), req, res, served.pattern);
    }
  }

  return function leanRoute(req, res) {
    const served = byMethod.get(req.method ?? '')?.get(req.url ?? '');
    if (served === undefined) return false;
    const length = servableLength(req.headers, served.body !== undefined, limitBytes);
    if (length === undefined) return false;
    setRoutePattern(res, served.pattern);
    observe?.(req, res, noop);
    void serve(served, req, res, length);
    return true;
  };
}

/** The body's length when the lean path can read it as the express app would, else undefined (express serves it). */
function servableLength(headers: IncomingHttpHeaders, takesBody: boolean, limitBytes: number): number | undefined {
  if (headers['transfer-encoding'] !== undefined || headers['content-encoding'] !== undefined) return undefined;
  const declared = headers['content-length'];
  if (!takesBody) return declared === undefined || declared === '0' ? 0 : undefined;
  if (declared === undefined || !digits.test(declared)) return undefined;
  const length = Number(declared);
  const type = headers['content-type'];
  return length > 0 && length <= limitBytes && type !== undefined && plainJsonTypes.has(type.toLowerCase()) ? length : undefined;
}

function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received)));
    // The client went away mid-body: what the express app's parser calls request.aborted.
    req.once('close', () => {
      if (received < length) reject(new ServiceError('VALIDATION_FAILED', { detail: 'request aborted' }));
    });
  });
}

/** body-parser's strict JSON: an object or an array, a byte-order mark dropped; a parse failure is MALFORMED_JSON. */
function parseJson(buffer: Buffer, maxDepth: number): unknown {
  const start = buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf ? 3 : 0;
  const text = buffer.toString('utf8', start);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ServiceError('MALFORMED_JSON', { detail: error instanceof Error ? error.message : 'not JSON' });
  }
  if (value === null || typeof value !== 'object') throw new ServiceError('MALFORMED_JSON', { detail: 'strict JSON: an object or an array only' });
  assertSafeJson(value, maxDepth);
  return value;
}
