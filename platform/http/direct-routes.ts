import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

/** The parts of express's (router 2.x) Router and Layer this reads; anything missing turns the shortcut off. */
interface LayerLike {
  readonly route?: { readonly path?: unknown; readonly stack?: readonly HandlerLayerLike[]; _handlesMethod?(method: string): boolean } | undefined;
  match?(path: string): { readonly params: Record<string, string> } | false;
  handleRequest?(req: Request, res: Response, next: NextFunction): void;
}

/** One handler inside a route: its method (lowercase) and function. */
interface HandlerLayerLike {
  readonly method?: string;
  readonly handle?: unknown;
}

interface Direct {
  readonly layer: LayerLike;
  /** The route's only handler for the method, called as the route would call it; absent: the route dispatches. */
  readonly handler: ((req: Request, res: Response, next: NextFunction) => unknown) | undefined;
}

/** The route's handler when it is the only one it has and the method is its own (what Route.dispatch would call). */
function onlyHandler(layer: LayerLike, method: string): Direct['handler'] {
  const stack = layer.route?.stack;
  const only = stack?.length === 1 ? stack[0] : undefined;
  if (only?.method !== method.toLowerCase() || typeof only.handle !== 'function' || only.handle.length > 3) return undefined;
  return only.handle as Direct['handler'];
}

// A path-to-regexp pattern made only of these characters matches itself (no parameters, wildcards, groups).
const plainPath = /^\/[A-Za-z0-9._~/-]*$/;

/**
 * A shortcut into `router` for requests whose method and path are exactly those of one of its routes with
 * a fixed path (`POST /v1/authorize`): the route's handler is called straight away, as the router and the
 * route would call it (same params, `req.route`, errors to `next`), without entering the router, testing
 * every layer before it and dispatching through the route.
 * Only routes the router would pick first for that exact path take it: a route is left out when any layer
 * registered before it also matches its path and method (a parameter route, middleware). Any other request,
 * or a layer shape this does not know, goes to the router. Mount it just before the router.
 *
 * Only for handlers that end the request or pass an error: a bare `next()` would reach the router.
 */
export function directRoutes(router: Router, methods: ReadonlySet<string>): RequestHandler {
  const byMethod = new Map<string, Map<string, Direct>>();
  const stack = (router as unknown as { stack?: readonly LayerLike[] }).stack ?? [];
  stack.forEach((layer, index) => {
    const path = layer.route?.path;
    if (typeof path !== 'string' || !plainPath.test(path) || !layer.match || !layer.handleRequest || !layer.match(path)) return;
    for (const method of methods) {
      if (!layer.route?._handlesMethod?.(method) || byMethod.get(method)?.has(path)) continue;
      const earlier = stack.slice(0, index).some((other) => !other.match || other.match(path) !== false && (!other.route || other.route._handlesMethod?.(method) !== false));
      if (earlier) continue;
      let byPath = byMethod.get(method);
      if (!byPath) byMethod.set(method, (byPath = new Map()));
      byPath.set(path, { layer, handler: onlyHandler(layer, method) });
    }
  });
  return function directRoute(req: Request, res: Response, next: NextFunction): void {
    const direct = byMethod.get(req.method)?.get(req.path);
    const match = direct?.layer.match?.(req.path);
    if (!direct || !match) {
      next();
      return;
    }
    req.params = match.params;
    if (!direct.handler) {
      direct.layer.handleRequest?.(req, res, next);
      return;
    }
    // What the route's dispatch does for its one handler: `req.route`, a throw or a rejection to `next`.
    req.route = direct.layer.route;
    try {
      const result = direct.handler(req, res, next);
      if (result instanceof Promise) result.then(undefined, (error: unknown) => next(error || new Error('Rejected promise')));
    } catch (error) {
      next(error);
    }
  };
}
