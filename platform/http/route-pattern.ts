import type { ServerResponse } from 'node:http';
import type { Request } from 'express';

const routePattern = Symbol('routePattern');
type WithPattern = ServerResponse & { [routePattern]?: string };

/** Names the route of a response served outside express's router (the lean routes), for its metrics and log line. */
export function setRoutePattern(res: ServerResponse, route: string): void {
  (res as WithPattern)[routePattern] = route;
}

/** The pattern of the route that served the response (`/v1/users/:id`), never the raw URL; undefined if none matched. */
export function routePatternOf(res: ServerResponse): string | undefined {
  const own = (res as WithPattern)[routePattern];
  if (own !== undefined) return own;
  const path: unknown = (res.req as Request).route?.path;
  // Not prefixed with req.baseUrl: under a mount with parameters it holds the raw ids. The services mount
  // every router at the root, so the pattern alone is the full path.
  return typeof path === 'string' ? path : undefined;
}
