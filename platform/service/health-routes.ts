import express, { type Router } from 'express';
import { licenseStatusAt, licenseWarningAt, type License } from '../../licensing/index.js';
import type { Clock } from '../../engine/index.js';
import { readinessRouter, serviceReadinessChecks, type ServiceReadinessParts } from '../readiness.js';
import type { BuildInfo } from './build-info.js';
import { versionRoute } from './version-route.js';

/**
 * `GET /health` (alive: the contract fixes the body to `healthy`, so an expiring or expired license is said in
 * an `X-License-Warning` header), `GET /ready`/`/readyz` (the service's dependencies, plus the license status)
 * and `GET /version` (the service, its version and commit).
 */
export function healthRoutes(
  parts: ServiceReadinessParts & { readonly license?: License | undefined; readonly clock: Clock; readonly service: 'auth' | 'identity'; readonly build: BuildInfo },
): Router {
  const { license, clock } = parts;
  const router = express.Router();
  router.use(versionRoute(parts.service, parts.build));
  router.get('/health', (_req, res) => {
    const warning = license && licenseWarningAt(license, clock.nowMs());
    if (warning) res.setHeader('X-License-Warning', warning);
    res.type('text/plain').send('healthy');
  });
  const details = () => (license ? { license: licenseStatusAt(license, clock.nowMs()) } : {});
  router.use(readinessRouter(serviceReadinessChecks(parts), { details }));
  return router;
}
