import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { ValkeyClient } from '../../platform/valkey-client.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import { fallbackLimitOf, withLocalFallback } from '../../platform/http/rate-limit-fallback.js';
import { localShareOf } from '../../platform/cluster/worker-cluster.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { createClientAddress } from '../../platform/http/client-address.js';
import { ValkeyRateLimitStore } from '../../platform/http/valkey-rate-limit-store.js';

/** The routes that issue tokens: each client address gets `limit` requests per window across them. */
export const tokenRoutePaths = ['/v1/login/oauth/access_token', '/v1/login/oauth/refresh_token', '/oauth/token'] as const;

export interface TokenRateLimitOptions {
  readonly valkey: ValkeyClient | undefined;
  readonly keyPrefix: string;
  readonly trustedProxies: readonly string[];
  /** Requests per window per client address (default 10, the contract's token-route limit). */
  readonly limit?: number;
  readonly windowMs?: number;
  /**
   * Requests per window per client address counted in this process while Valkey cannot be reached (default half
   * of `limit`, at least 1). Each replica counts on its own then, so it is meant to be stricter than `limit`.
   */
  readonly fallbackLimit?: number;
  /** Pages whose posts count in the same limit and that answer it themselves (the hosted sign-in page). */
  readonly pages?: { readonly paths: readonly string[]; readonly limited: (req: Request, res: Response, retryAfterSeconds: string | undefined) => void };
  /** Told when counting moves into this process (once per outage), so operators see it. */
  readonly report?: ErrorReporter;
}

/**
 * Per-client-address limit on the token routes: counted in Valkey when configured, so
 * every replica shares it, in this process otherwise. While Valkey cannot be reached the requests are counted in
 * this process against the stricter `fallbackLimit`: an outage of the cache costs capacity, never sign-in, and
 * never opens the routes to unlimited guessing. The address is the socket's, or X-Forwarded-For read through
 * TRUSTED_PROXIES only. Over the limit: RATE_LIMITED (429, `Retry-After`), through the app's error handler, so
 * `/oauth/token` answers an RFC 6749 body and the contract routes problem+json.
 *
 * Mount before the body parser: `createServiceApp({ before: [health, tokenRateLimit(deps)] })`.
 */
export function createTokenRateLimit(options: TokenRateLimitOptions): Router {
  const clientAddress = createClientAddress(options.trustedProxies);
  const limit = options.limit ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const limiterOf = (max: number, store?: Store) =>
    rateLimit({
      windowMs,
      limit: max,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // A store failure reaches the fallback below, never an unlimited pass.
      passOnStoreError: false,
      ...(store ? { store } : {}),
      keyGenerator: (req: Request) => ipKeyGenerator(clientAddress(req) ?? 'unknown'),
      handler: (req: Request, res: Response, next: NextFunction) => {
        const reset = res.getHeader('Retry-After');
        if (options.pages?.paths.includes(req.path)) {
          options.pages.limited(req, res, reset === undefined ? undefined : String(reset));
          return;
        }
        next(new ServiceError('RATE_LIMITED', { detail: 'token route rate limit', headers: reset === undefined ? {} : { 'Retry-After': String(reset) } }));
      },
    });
  const local = limiterOf(localShareOf(options.valkey ? (options.fallbackLimit ?? fallbackLimitOf(limit)) : limit));
  const limiter = options.valkey ? withLocalFallback(limiterOf(limit, new ValkeyRateLimitStore({ client: options.valkey, prefix: `${options.keyPrefix}rl:token:` })), local, 'token rate limit', options.report) : local;
  const router = express.Router();
  router.post([...tokenRoutePaths, ...(options.pages?.paths ?? [])], limiter);
  return router;
}
