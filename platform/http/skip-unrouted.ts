import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The shape of an express (router 2.x) Router that matters here. Anything else mounted as middleware is not
 * a router and is always entered.
 */
interface RouterLike {
  (req: Request, res: Response, next: NextFunction): void;
  readonly stack: readonly LayerLike[];
}

interface LayerLike {
  readonly route?: { readonly path?: unknown } | undefined;
  readonly rawPath?: unknown;
  /** A `use` layer mounted at `/`: it sees every path. */
  readonly slash?: boolean;
  readonly handle?: unknown;
}

/** Paths the router can answer, lowercased, without trailing slashes: exact ones and mount prefixes. */
interface Reach {
  readonly exact: Set<string>;
  readonly prefixes: string[];
}

// A path-to-regexp pattern made only of these characters matches itself and nothing else (no parameters,
// wildcards, groups or escapes).
const plainPath = /^\/[A-Za-z0-9._~/-]*$/;

function isRouter(value: unknown): value is RouterLike {
  return typeof value === 'function' && Array.isArray((value as { stack?: unknown }).stack);
}

function normalised(path: string): string {
  const lower = path.toLowerCase();
  let end = lower.length;
  while (end > 1 && lower.charCodeAt(end - 1) === 47 /* / */) end--;
  return lower.slice(0, end);
}

function plainPaths(path: unknown): string[] | undefined {
  const paths = Array.isArray(path) ? path.flat(Infinity) : [path];
  return paths.every((p): p is string => typeof p === 'string' && plainPath.test(p)) ? paths : undefined;
}

/** Every path the router could act on, or undefined when it cannot be known (parameters, bare middleware). */
function reachOf(router: RouterLike, reach: Reach): Reach | undefined {
  for (const layer of router.stack) {
    if (layer.route) {
      const paths = plainPaths(layer.route.path);
      if (!paths) return undefined;
      for (const path of paths) reach.exact.add(normalised(path));
    } else if (layer.slash) {
      if (!isRouter(layer.handle) || !reachOf(layer.handle, reach)) return undefined;
    } else {
      const paths = plainPaths(layer.rawPath);
      if (!paths) return undefined;
      for (const path of paths) reach.prefixes.push(normalised(path));
    }
  }
  return reach;
}

function startsWithAny(path: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
  return false;
}

/** The router and the routers it mounts at `/`: a layer added to any of them changes what it reaches. */
function routersOf(router: RouterLike, into: RouterLike[] = []): RouterLike[] {
  into.push(router);
  for (const layer of router.stack) if (!layer.route && layer.slash && isRouter(layer.handle)) routersOf(layer.handle, into);
  return into;
}

/**
 * Mounts a router of fixed paths (health, metrics, docs, a limiter on a few routes) so requests for any other
 * path pass it by without entering it. Entering a router that has nothing for the path does nothing
 * observable, yet costs its dispatch and a `setImmediate` hop on the way out: for every request to every
 * other route. The test is a superset of the router's own matching (case and trailing slashes ignored, mount
 * paths as prefixes), so a request the router would act on always enters it. A router whose paths cannot be
 * listed (parameters, patterns, middleware for every path), or anything else, is returned as it is.
 */
export function skipUnrouted(handler: RequestHandler): RequestHandler {
  if (!isRouter(handler)) return handler;
  const router = handler;
  let watched: RouterLike[] = [];
  let layers: number[] = [];
  let reach: Reach | undefined;
  const refresh = (): void => {
    watched = routersOf(router);
    layers = watched.map((each) => each.stack.length);
    reach = reachOf(router, { exact: new Set(), prefixes: [] });
  };
  const changed = (): boolean => {
    for (let i = 0; i < watched.length; i++) if (watched[i]?.stack.length !== layers[i]) return true;
    return false;
  };
  refresh();
  if (!reach) return handler;
  return function skipUnroutedRouter(req: Request, res: Response, next: NextFunction): void {
    if (changed()) refresh();
    if (!reach) {
      router(req, res, next);
      return;
    }
    const path = normalised(req.path);
    if (reach.exact.has(path) || startsWithAny(path, reach.prefixes)) router(req, res, next);
    else next();
  };
}
