import type { IncomingMessage, ServerResponse } from 'node:http';
import { routePatternOf } from '../http/route-pattern.js';
import type { Registry } from 'prom-client';
import { LatencyHistogram, type LatencySeries } from './latency-histogram.js';

/** The `route` of a request no route matched (404s of arbitrary paths): one series, however many paths. */
export const unmatchedRoute = '(unmatched)';

// Latency buckets from 0.5 ms (an authorize cache hit) to 10 s (the longest bounded wait).
const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const startedAt = Symbol('requestStartedAt');
type TimedResponse = ServerResponse & { [startedAt]?: number };

/** Called once per finished request (an access log line); positional, so nothing is allocated for it. */
export type RequestFinished = (res: ServerResponse, route: string, durationMs: number) => void;

/** The metrics middleware: Node's types, so the lean routes call it as express does. */
export type HttpObserver = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * `http_request_duration_seconds{method,route,status}`: `route` is the matched route's pattern
 * (`/v1/users/:id`), never the raw URL, so the series stay bounded. The per-request work is two clock reads,
 * one listener, three map lookups and a bucket scan; a series is created once per (method, route, status).
 */
export function httpMetrics(registry: Registry, onFinished?: RequestFinished): HttpObserver {
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
    const route = routePatternOf(this) ?? unmatchedRoute;
    childFor(this.req.method ?? '', route, this.statusCode).observe(durationMs / 1000);
    onFinished?.(this, route, durationMs);
  }

  return (_req, res, next) => {
    (res as TimedResponse)[startedAt] = performance.now();
    res.once('finish', finished);
    next();
  };
}
