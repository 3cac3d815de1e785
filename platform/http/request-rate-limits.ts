import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RequestRateLimit, RequestRateLimits } from '../rate-limit-config.js';
import type { ValkeyClient } from '../valkey-client.js';
import { ValkeyRateLimitStore } from './valkey-rate-limit-store.js';
import { createClientAddress } from './client-address.js';
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
}

/**
 * The overall and permission-route request limits, per client address (the socket's, or X-Forwarded-For read
 * through TRUSTED_PROXIES only), counted in Valkey when configured so every replica shares them, in this process
 * otherwise. They fail closed: while Valkey cannot be reached a limited route answers 503 (`Retry-After: 1`),
 * never an unlimited pass. Over a limit: RATE_LIMITED (429, `Retry-After`, `RateLimit` headers), through the
 * app's error handler. Mount before the body parser, after the probes.
 */
export function createRequestRateLimits(options: RequestRateLimitOptions): RequestHandler {
  const clientAddress = createClientAddress(options.trustedProxies);
  const limiterOf = (name: string, limit: RequestRateLimit): RequestHandler =>
    rateLimit({
      windowMs: limit.windowSeconds * 1000,
      limit: limit.max,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      identifier: name,
      passOnStoreError: false,
      ...(options.valkey ? { store: new ValkeyRateLimitStore({ client: options.valkey, prefix: `${options.keyPrefix}rl:${options.service}:${name}:` }) } : {}),
      keyGenerator: (req: Request) => ipKeyGenerator(clientAddress(req) ?? 'unknown'),
      handler: (_req: Request, res: Response, next: NextFunction) => {
        const reset = res.getHeader('Retry-After');
        next(new ServiceError('RATE_LIMITED', { detail: `${name} rate limit`, headers: reset === undefined ? {} : { 'Retry-After': String(reset) } }));
      },
    });
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
