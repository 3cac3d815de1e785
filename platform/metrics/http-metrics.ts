import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Registry } from 'prom-client';
import { LatencyHistogram, type LatencySeries } from './latency-histogram.js';

/** The `route` of a request no route matched (404s of arbitrary paths): one series, however many paths. */
export const unmatchedRoute = '(unmatched)';

// Latency buckets from 0.5 ms (an authorize cache hit) to 10 s (the longest bounded wait).
const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const startedAt = Symbol('requestStartedAt');
type TimedResponse = Response & { [startedAt]?: number };

/** Called once per finished request (an access log line); positional, so nothing is allocated for it. */
export type RequestFinished = (res: Response, route: string, durationMs: number) => void;

/**
 * `http_request_duration_seconds{method,route,status}`: `route` is the matched route's pattern
 * (`/v1/users/:id`), never the raw URL, so the series stay bounded. The per-request work is two clock reads,
 * one listener, three map lookups and a bucket scan; a series is created once per (method, route, status).
 */
export function httpMetrics(registry: Registry, onFinished?: RequestFinished): RequestHandler {
  const histogram = new LatencyHistogram('http_request_duration_seconds', 'HTTP request latency by method, route pattern and status', buckets, registry);
  const children = new Map<string, Map<string, Map<number, LatencySeries>>>();

  function childFor(method: string, route: string, status: number) {
    let byRoute = children.get(method);
    if (!byRoute) children.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (!child) byStatus.set(status, (child = histogram.create({ method, route, status: String(status) })));
    return child;
  }

  // One function for every request (no per-request closure): `this` is the finished response.
  function finished(this: TimedResponse): void {
    const durationMs = performance.now() - (this[startedAt] ?? 0);
    const req = this.req as Request;
    const path: unknown = req.route?.path;
    // Not prefixed with req.baseUrl: under a mount with parameters it holds the raw ids. The services mount
    // every router at the root, so the pattern alone is the full path.
    const route = typeof path === 'string' ? path : unmatchedRoute;
    childFor(req.method, route, this.statusCode).observe(durationMs / 1000);
    onFinished?.(this, route, durationMs);
  }

  return (_req: Request, res: Response, next: NextFunction) => {
    (res as TimedResponse)[startedAt] = performance.now();
    res.once('finish', finished);
    next();
  };
}
