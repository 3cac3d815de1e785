import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';

/** The parts of express's (router 2.x) Router and Layer this reads; anything missing turns the shortcut off. */
interface LayerLike {
  readonly route?: { readonly path?: unknown; _handlesMethod?(method: string): boolean } | undefined;
  match?(path: string): { readonly params: Record<string, string> } | false;
  handleRequest?(req: Request, res: Response, next: NextFunction): void;
}

// A path-to-regexp pattern made only of these characters matches itself (no parameters, wildcards, groups).
const plainPath = /^\/[A-Za-z0-9._~/-]*$/;

/**
 * A shortcut into `router` for requests whose method and path are exactly those of one of its routes with
 * a fixed path (`POST /v1/authorize`): the route's layer is run straight away, as the router would run it
 * (same params, `req.route`, handlers), without entering the router and testing every layer before it.
 * Only routes the router would pick first for that exact path take it: a route is left out when any layer
 * registered before it also matches its path and method (a parameter route, middleware). Any other request,
 * or a layer shape this does not know, goes to the router. Mount it just before the router.
 *
 * Only for handlers that end the request or pass an error: a bare `next()` would reach the router.
 */
export function directRoutes(router: Router, methods: ReadonlySet<string>): RequestHandler {
  const byMethod = new Map<string, Map<string, LayerLike>>();
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
      byPath.set(path, layer);
    }
  });
  return function directRoute(req: Request, res: Response, next: NextFunction): void {
    const layer = byMethod.get(req.method)?.get(req.path);
    const match = layer?.match?.(req.path);
    if (!layer || !match) {
      next();
      return;
    }
    req.params = match.params;
    layer.handleRequest?.(req, res, next);
  };
}
