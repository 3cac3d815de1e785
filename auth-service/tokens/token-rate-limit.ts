import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { ValkeyClient } from '../../platform/valkey-client.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { createClientAddress } from '../../platform/http/client-address.js';
import { ValkeyRateLimitStore } from './valkey-rate-limit-store.js';

/** The routes that issue tokens: each client address gets `limit` requests per window across them. */
export const tokenRoutePaths = ['/v1/login/oauth/access_token', '/v1/login/oauth/refresh_token', '/oauth/token'] as const;

export interface TokenRateLimitOptions {
  readonly valkey: ValkeyClient | undefined;
  readonly keyPrefix: string;
  readonly trustedProxies: readonly string[];
  /** Requests per window per client address (default 10, the contract's token-route limit). */
  readonly limit?: number;
  readonly windowMs?: number;
  /** Pages whose posts count in the same limit and that answer it themselves (the hosted sign-in page). */
  readonly pages?: { readonly paths: readonly string[]; readonly limited: (req: Request, res: Response, retryAfterSeconds: string | undefined) => void };
}

/**
 * Per-client-address limit on the token routes (SECURITY-CHECKLIST D3): counted in Valkey when configured (all
 * replicas share it; while it is unreachable the routes answer 503, never an unlimited pass), in this process
 * otherwise. The address is the socket's, or X-Forwarded-For read through TRUSTED_PROXIES only. Over the limit: RATE_LIMITED (429, `Retry-After`), through the app's error handler, so
 * `/oauth/token` answers an RFC 6749 body and the contract routes problem+json.
 *
 * Mount before the body parser: `createServiceApp({ before: [health, tokenRateLimit(deps)] })`.
 */
export function createTokenRateLimit(options: TokenRateLimitOptions): Router {
  const clientAddress = createClientAddress(options.trustedProxies);
  const valkey = options.valkey;
  const store: Store | undefined = valkey ? new ValkeyRateLimitStore({ client: valkey, prefix: `${options.keyPrefix}rl:token:` }) : undefined;
  const limiter = rateLimit({
    windowMs: options.windowMs ?? 60_000,
    limit: options.limit ?? 10,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // A Valkey outage must not open the token routes to unlimited guessing: the store answers 503 (I3).
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
  const router = express.Router();
  router.post([...tokenRoutePaths, ...(options.pages?.paths ?? [])], limiter);
  return router;
}
