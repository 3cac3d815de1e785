import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { RequestRateLimit, RequestRateLimits } from '../rate-limit-config.js';
import type { ValkeyClient } from '../valkey-client.js';
import { ValkeyRateLimitStore } from './valkey-rate-limit-store.js';
import { createClientAddress } from './client-address.js';
import type { ErrorReporter } from './error-handler.js';
import { fallbackLimitOf, withLocalFallback } from './rate-limit-fallback.js';
import { localShareOf } from '../cluster/worker-cluster.js';
import { ServiceError } from './service-error.js';

export interface RequestRateLimitOptions {
  readonly limits: RequestRateLimits;
  /** Each service counts its own requests (`<keyPrefix>rl:<service>:overall:<address>`). */
  readonly service: 'auth' | 'identity';
  readonly valkey: ValkeyClient | undefined;
  readonly keyPrefix: string;
  readonly trustedProxies: readonly string[];
  /** Paths the overall limit passes by: probes, the API reference, static assets, routes with a limit of their own. */
  readonly exempt: (path: string) => boolean;
  /** Paths the permission limit counts (besides the overall limit). */
  readonly permissionPaths?: readonly string[];
  /** Told when counting moves into this process (once per outage), so operators see it. */
  readonly report?: ErrorReporter;
}

/**
 * The overall and permission-route request limits, per client address (the socket's, or X-Forwarded-For read
 * through TRUSTED_PROXIES only), counted in Valkey when configured so every replica shares them, in this process
 * otherwise. They never fail open: while Valkey cannot be reached each replica counts in its own memory against
 * half the limit (replicas then count apart), so an outage of the cache costs capacity, never the API, and never
 * an unlimited pass. Over a limit: RATE_LIMITED (429, `Retry-After`, `RateLimit` headers), through the
 * app's error handler. Mount before the body parser, after the probes.
 */
export function createRequestRateLimits(options: RequestRateLimitOptions): RequestHandler {
  const clientAddress = createClientAddress(options.trustedProxies);
  const limiterWith = (name: string, windowSeconds: number, max: number, store?: Store): RequestHandler =>
    rateLimit({
      windowMs: windowSeconds * 1000,
      limit: max,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: name,
      // A store failure reaches the in-process fallback below, never an unlimited pass.
      passOnStoreError: false,
      ...(store ? { store } : {}),
      keyGenerator: (req: Request) => ipKeyGenerator(clientAddress(req) ?? 'unknown'),
      handler: (_req: Request, res: Response, next: NextFunction) => {
        const reset = res.getHeader('Retry-After');
        next(new ServiceError('RATE_LIMITED', { detail: `${name} rate limit`, headers: reset === undefined ? {} : { 'Retry-After': String(reset) } }));
      },
    });
  const limiterOf = (name: string, limit: RequestRateLimit): RequestHandler => {
    if (!options.valkey) return limiterWith(name, limit.windowSeconds, localShareOf(limit.max));
    const shared = limiterWith(name, limit.windowSeconds, limit.max, new ValkeyRateLimitStore({ client: options.valkey, prefix: `${options.keyPrefix}rl:${options.service}:${name}:` }));
    return withLocalFallback(shared, limiterWith(name, limit.windowSeconds, localShareOf(fallbackLimitOf(limit.max))), `${name} rate limit`, options.report);
  };
  const overall = limiterOf('overall', options.limits.overall);
  const permission = options.limits.permission ? limiterOf('permission', options.limits.permission) : undefined;
  const permissionPaths = new Set(options.permissionPaths ?? []);
  return (req, res, next) => {
    if (options.exempt(req.path)) {
      next();
      return;
    }
    void overall(req, res, (error?: unknown) => {
      if (error !== undefined || !permission || !permissionPaths.has(req.path)) {
        next(error);
        return;
      }
      void permission(req, res, next);
    });
  };
}

/** The paths no service limits per address: health, readiness, version, metrics and the API reference. */
export function isProbeOrReference(path: string): boolean {
  return path === '/health' || path === '/ready' || path === '/readyz' || path === '/version' || path === '/metrics' || path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/');
}
