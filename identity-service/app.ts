import type { Express } from 'express';
import { buildInfo } from '../platform/service/build-info.js';
import { healthRoutes } from '../platform/service/health-routes.js';
import { probeOperations } from '../platform/service/version-route.js';
import { createRequestRateLimits, isProbeOrReference } from '../platform/http/request-rate-limits.js';
import { createServiceApp } from '../platform/http/service-app.js';
import { metricsEndpoint } from '../platform/metrics/index.js';
import { consoleRoutes } from './console/console-routes.js';
import type { IdentityDeps } from './deps.js';
import { describeIdentityRoute } from './openapi-description.js';
import { identityCatalogue } from './errors.js';
import { identityGuards } from './guards.js';
import { withIdentityAllowlist } from './ip-allowlist-guard.js';
import { applicationsRoutes } from './applications/index.js';
import { auditRoutes } from './audit/index.js';
import { decisionLogRoutes } from './decision-log/index.js';
import { policyModelRoutes } from './policy-model/index.js';
import { declarationsRoutes } from './declarations/index.js';
import { policyLinesRoutes } from './policy-lines/index.js';
import { groupsRoutes } from './groups/index.js';
import { ipAllowlistsRoutes } from './ip-allowlists/index.js';
import { mfaRoutes } from './mfa/index.js';
import { organizationsRoutes } from './organizations/index.js';
import { providerLinksRoutes, providersRoutes } from './providers/index.js';
import { rolesRoutes } from './roles/index.js';
import { usersRoutes } from './users/index.js';

export const identityRouteFactories = [
  organizationsRoutes,
  usersRoutes,
  groupsRoutes,
  rolesRoutes,
  applicationsRoutes,
  declarationsRoutes,
  providersRoutes,
  providerLinksRoutes,
  mfaRoutes,
  ipAllowlistsRoutes,
  auditRoutes,
  decisionLogRoutes,
  policyModelRoutes,
  policyLinesRoutes,
];

/** The Identity HTTP API (default port 4001). Reads no environment and opens no connection. */
export function createIdentityApp(deps: IdentityDeps): Express {
  const build = buildInfo();
  const health = healthRoutes({ service: 'identity', build, pool: deps.pool, engine: deps.engine, valkey: deps.valkey, license: deps.license, clock: deps.clock });
  return createServiceApp({
    info: { title: 'Access Manager Identity', version: build.version, description: 'Organizations, users, groups, roles, applications, providers and MFA settings' },
    servers: [{ url: '/', description: 'The Identity service this document was read from' }, { url: 'http://127.0.0.1:4001', description: 'npm start' }],
    describe: describeIdentityRoute,
    extraOperations: probeOperations,
    routes: identityRouteFactories.flatMap((routes) => routes(deps)),
    catalogue: identityCatalogue,
    guards: withIdentityAllowlist(identityGuards(deps), deps),
    report: deps.report,
    ...(deps.metrics ? { observe: deps.metrics.http } : {}),
    before: [
      health,
      ...(deps.metrics ? [metricsEndpoint(deps.metrics.scrape, deps.metricsToken)] : []),
      ...(deps.console ? [consoleRoutes(deps.console)] : []),
      ...(deps.requestRateLimits
        ? [
            createRequestRateLimits({
              service: 'identity',
              limits: deps.requestRateLimits.limits,
              valkey: deps.valkey,
              keyPrefix: deps.requestRateLimits.keyPrefix,
              trustedProxies: deps.network?.trustedProxies ?? [],
              exempt: isProbeOrReference,
              report: deps.report,
            }),
          ]
        : []),
    ],
    // Product declarations (up to 500 permissions) are the largest bodies Identity takes.
    bodyLimitBytes: 256 * 1024,
  });
}
