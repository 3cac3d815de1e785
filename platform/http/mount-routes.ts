import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Caller } from './caller.js';
import { directRoutes } from './direct-routes.js';
import { requestIdOf } from './request-id.js';
import type { AnyRoute, RouteContext, RouteResult } from './route.js';
import { ServiceError } from './service-error.js';
import { validateInput } from './validate-input.js';

export interface RouteGuards {
  /** Verifies the request's token and returns its caller (throws TOKEN_* errors). */
  authenticate(req: IncomingMessage, options?: { allowBareToken?: boolean }): Promise<Caller>;
  /**
   * Throws FORBIDDEN unless the caller may do `action` on `resource` in its tenant. `req` gives a model that reads
   * request attributes the client's address.
   */
  authorize(caller: Caller, resource: string, action: string, req?: IncomingMessage): Promise<void>;
}

export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

const emptyObject = z.object({}).strict();
// Built once: a zod schema built per request costs tens of microseconds (construction and zod's first-parse walk).
const anyParams = z.record(z.string(), z.string());

/**
 * Mounts routes on a router: authenticate, check a fixed permission, validate params/query/body, check a
 * permission that depends on the input, run the handler, send its result as JSON. A path that exists answers other methods with 405 and `Allow`. Returns the shortcut to
 * mount just before the router (see directRoutes): requests for a fixed-path route skip the router's walk.
 */
export function mountRoutes(router: Router, routes: readonly AnyRoute[], guards: RouteGuards): RequestHandler {
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const path = expressPath(route.path);
    const methods = methodsByPath.get(path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    methodsByPath.set(path, methods);
    // zod's AOT compilation: same results and issues as the schema (it falls back to it on any failure), faster.
    const paramsSchema = z.compile(route.params ?? anyParams);
    const querySchema = z.compile(route.query ?? emptyObject);
    const bodySchema = route.body ? z.compile(route.body) : undefined;
    const fixedPermission = route.auth === 'token' && typeof route.permission === 'object' ? route.permission : undefined;
    const parseInput = (req: Request) => {
      const params = validateInput(paramsSchema, req.params, 'params');
      // Without a '?' the query is empty: no parse (express parses it again on every read of req.query).
      const query = validateInput(querySchema, req.url.includes('?') ? { ...req.query } : {}, 'query');
      const hasBody = req.body !== undefined && !(typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0 && route.body === undefined);
      if (route.body === undefined && hasBody) throw new ServiceError('VALIDATION_FAILED', { message: 'this route takes no body', field: 'body' });
      const body = bodySchema ? validateInput(bodySchema, req.body, 'body') : undefined;
      return { params, query, body };
    };
    const answer = (res: Response, result: RouteResult) => {
      for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
      res.status(result.status ?? 200);
      if (result.body === undefined) res.end();
      else res.json(result.body);
    };
    router[route.method](path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        if (route.auth === 'none') {
          answer(res, await route.handler({ ...parseInput(req), requestId: requestIdOf(res), req }));
          return;
        }
        const caller = await guards.authenticate(req, { allowBareToken: route.bareToken === true });
        if (fixedPermission) await guards.authorize(caller, fixedPermission.resource, fixedPermission.action, req);
        const ctx: RouteContext<unknown, unknown, unknown> = { ...parseInput(req), caller, requestId: requestIdOf(res), req };
        if (typeof route.permission === 'function') {
          const permission = route.permission(ctx);
          if (permission) await guards.authorize(caller, permission.resource, permission.action, req);
        }
        answer(res, await route.handler(ctx));
      } catch (error) {
        // A falsy or 'route'/'router' throw would read as "carry on" to express: it is a failure like any other.
        next(!error || error === 'route' || error === 'router' ? new Error(`route handler threw ${String(error)}`) : error);
      }
    });
  }
  for (const [path, methods] of methodsByPath) {
    router.all(path, (_req: Request, _res: Response, next: NextFunction) => {
      next(new ServiceError('METHOD_NOT_ALLOWED', { headers: { Allow: [...methods].join(', ') } }));
    });
  }
  return directRoutes(router, new Set(routes.map((route) => route.method.toUpperCase())));
}
