import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Clock } from '../../engine/index.js';
import { isRegisteredRedirectOrigin } from '../../directory/client-registrations.js';
import type { Queryable } from '../../platform/postgres-transaction.js';

/**
 * The endpoints a browser application (a public client) calls across origins after the hosted sign-in; explain is
 * the console's decision tester (a bearer token is still needed, and `authorize post` to see any answer).
 */
export const browserEndpoints = ['/oauth/token', '/oauth/revoke', '/v1/logout', '/v1/authorize/explain'] as const;

const originShape = /^https?:\/\/[A-Za-z0-9.[\]:-]{1,300}$/;
const cacheMs = 30_000;
const maxCached = 1_000;

/** Whether some application registered a redirect URI on `origin` (a scheme, host and port, nothing more). */
/**
 * CORS for the token, revocation and logout endpoints, for the origins of registered redirect URIs only: a browser
 * application signed in through the hosted page exchanges its code, refreshes, revokes and signs out from its own origin.
 * No credentials (cookies) are allowed across origins; a request from any other origin gets no CORS headers,
 * so the browser keeps the answer from the page. Lookups are cached for 30 s per origin.
 */
export function browserCors(options: { database: Queryable; clock: Clock }): Router {
  const cached = new Map<string, { allowed: boolean; untilMs: number }>();
  const allowedOrigin = async (req: Request): Promise<string | undefined> => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !originShape.test(origin)) return undefined;
    const nowMs = options.clock.nowMs();
    let entry = cached.get(origin);
    if (!entry || entry.untilMs <= nowMs) {
      if (cached.size >= maxCached) cached.clear();
      entry = { allowed: await isRegisteredRedirectOrigin(options.database, origin), untilMs: nowMs + cacheMs };
      cached.set(origin, entry);
    }
    return entry.allowed ? origin : undefined;
  };
  const router = express.Router();
  router.options([...browserEndpoints], (req: Request, res: Response, next: NextFunction) => {
    allowedOrigin(req).then((origin) => {
      res.setHeader('Vary', 'Origin');
      if (origin !== undefined) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Methods', 'POST');
        res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
    }, next);
  });
  router.post([...browserEndpoints], (req: Request, res: Response, next: NextFunction) => {
    allowedOrigin(req).then((origin) => {
      res.setHeader('Vary', 'Origin');
      if (origin !== undefined) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
      }
      next();
    }, next);
  });
  return router;
}
