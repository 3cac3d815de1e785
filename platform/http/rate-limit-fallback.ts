import type { RequestHandler } from 'express';
import type { ErrorReporter } from './error-handler.js';
import { requestIdOf } from './request-id.js';
import { ServiceError } from './service-error.js';

/**
 * The default per-replica limit while the shared counters are unreachable: half the shared one (at least 1), since
 * each replica then counts on its own.
 */
export function fallbackLimitOf(limit: number): number {
  return Math.max(1, Math.floor(limit / 2));
}

/**
 * Runs `shared` (a limiter counting in Valkey); when its store cannot be reached, counts the request with `local`
 * (a stricter limiter counting in this process) instead. An outage of the cache costs capacity, never the route,
 * and never opens it to an unlimited pass. `report` hears once per outage that counting moved into the process.
 */
export function withLocalFallback(shared: RequestHandler, local: RequestHandler, what: string, report: ErrorReporter | undefined): RequestHandler {
  let degraded = false;
  return (req, res, next) => {
    void shared(req, res, (error?: unknown) => {
      if (!(error instanceof ServiceError && error.code === 'SERVICE_UNAVAILABLE')) {
        if (error === undefined) degraded = false;
        next(error);
        return;
      }
      if (!degraded) {
        degraded = true;
        report?.({ level: 'warn', requestId: requestIdOf(res), code: error.code, status: 503, detail: `${what} counted in this process until Valkey answers: ${error.detail}`, error });
      }
      void local(req, res, next);
    });
  };
}
