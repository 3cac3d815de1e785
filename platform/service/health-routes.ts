import express, { type Router } from 'express';
import { licenseStatusAt, licenseWarningAt, type License } from '../../licensing/index.js';
import type { Clock } from '../../engine/index.js';
import { readinessRouter, serviceReadinessChecks, type ServiceReadinessParts } from '../readiness.js';

/**
 * `GET /health` (alive: the contract fixes the body to `healthy`, so an expiring or expired license is said in
 * an `X-License-Warning` header) and `GET /ready`/`/readyz` (the service's dependencies, plus the license status).
 */
export function healthRoutes(parts: ServiceReadinessParts & { readonly license?: License | undefined; readonly clock: Clock }): Router {
  const { license, clock } = parts;
  const router = express.Router();
  router.get('/health', (_req, res) => {
    const warning = license && licenseWarningAt(license, clock.nowMs());
    if (warning) res.setHeader('X-License-Warning', warning);
    res.type('text/plain').send('healthy');
  });
  const details = () => (license ? { license: licenseStatusAt(license, clock.nowMs()) } : {});
  router.use(readinessRouter(serviceReadinessChecks(parts), { details }));
  return router;
}
