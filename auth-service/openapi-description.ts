import type { RouteDocumentation } from '../platform/http/openapi-document.js';
import type { AnyRoute } from '../platform/http/route.js';
import { tokenRoutePaths } from './tokens/token-rate-limit.js';

const tokenPaths = new Set<string>([...tokenRoutePaths, '/v1/login/mfa/verify']);

/**
 * What Auth's routes answer beyond their specs, for the OpenAPI document: a route that issues tokens answers
 * `Cache-Control: no-store` and, on the rate-limited ones, the limit's `RateLimit` headers and 429.
 */
export function describeAuthRoute(route: AnyRoute): RouteDocumentation {
  if (!tokenPaths.has(route.path)) return {};
  const limited = (tokenRoutePaths as readonly string[]).includes(route.path);
  return {
    responseHeaders: ['Cache-Control', ...(limited ? (['RateLimit', 'RateLimit-Policy'] as const) : [])],
    refusals: limited ? [429] : [],
  };
}
