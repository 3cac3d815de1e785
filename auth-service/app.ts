import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import { buildInfo } from '../platform/service/build-info.js';
import { healthRoutes } from '../platform/service/health-routes.js';
import { probeOperations } from '../platform/service/version-route.js';
import { leanRoutes } from '../platform/http/lean-routes.js';
import type { AnyRoute } from '../platform/http/route.js';
import { createServiceApp } from '../platform/http/service-app.js';
import { metricsEndpoint } from '../platform/metrics/index.js';
import type { AuthDeps } from './deps.js';
import { describeAuthRoute } from './openapi-description.js';
import { authCatalogue, oauthErrorOf } from './errors.js';
import { createAuthGuards } from './guards.js';
import { authorizeRoutes } from './routes/authorize.js';
import { authorizeExplainRoutes } from './routes/authorize-explain.js';
import { logoutRoutes } from './routes/logout.js';
import { mfaLoginRoutes } from './routes/mfa-login.js';
import { oauthTokenRoutes } from './routes/oauth-token.js';
import { permissionsRoutes } from './routes/permissions.js';
import { tokenIntrospectionRoutes, introspectionPath } from './routes/token-introspection.js';
import { tokenRevocationRoutes, revocationPath } from './routes/token-revocation.js';
import { tokensRoutes } from './routes/tokens.js';
import { userinfoRoutes } from './routes/userinfo.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { authorizePath, browserCors, hostedSignInRoutes, signInRateLimited } from './hosted-sign-in/index.js';
import { createTokenRateLimit, tokenRoutePaths } from './tokens/token-rate-limit.js';
import { createRequestRateLimits, isProbeOrReference } from '../platform/http/request-rate-limits.js';

export const authRouteFactories: readonly ((deps: AuthDeps) => AnyRoute[])[] = [
  tokensRoutes,
  oauthTokenRoutes,
  tokenRevocationRoutes,
  tokenIntrospectionRoutes,
  wellKnownRoutes,
  authorizeRoutes,
  authorizeExplainRoutes,
  permissionsRoutes,
  userinfoRoutes,
  logoutRoutes,
  mfaLoginRoutes,
];

/** The routes the permission-route limit (RATE_LIMIT_PERMISSION_*) counts. */
export const authPermissionPaths: readonly string[] = ['/v1/permissions'];

// Passed by the overall limit: what products call on every request of theirs (the decisions and token
// introspection: a per-address cap would turn a busy product's traffic into "unavailable"), the routes that
// sign in (their own per-address limit, which keeps counting while Valkey is down), public metadata and probes.
const decisionPaths = new Set(['/v1/authorize', '/v1/authorize/batch', '/v1/authorize/explain', introspectionPath]);
const signInPaths = new Set<string>([...tokenRoutePaths, authorizePath, '/v1/login/mfa/challenge', '/v1/login/mfa/verify']);

function isExemptFromAuthLimits(path: string): boolean {
  return decisionPaths.has(path) || signInPaths.has(path) || path.startsWith('/.well-known/') || isProbeOrReference(path);
}

/** The OAuth endpoints: their refusals are RFC 6749 bodies, not problem+json. */
export const oauthErrorPaths: readonly string[] = ['/oauth/token', revocationPath, introspectionPath];

/**
 * The Auth HTTP API (default port 4000) as an express app; `createAuthListener` is how it runs. Reads no
 * environment and opens no connection.
 */
export function createAuthApp(deps: AuthDeps, routes: readonly AnyRoute[] = authRouteFactories.flatMap((factory) => factory(deps))): Express {
  const build = buildInfo();
  const health = healthRoutes({ service: 'auth', build, pool: deps.pool, engine: deps.engine, valkey: deps.valkey, identityProvider: deps.identityProvider, license: deps.license, clock: { nowMs: deps.nowMs } });
  return createServiceApp({
    info: { title: 'Access Manager Auth', version: build.version, description: 'Tokens, authorize, permissions, userinfo, logout and MFA login' },
    servers: [{ url: '/', description: 'The Auth service this document was read from' }, { url: 'http://127.0.0.1:4000', description: 'npm start' }],
    describe: describeAuthRoute,
    extraOperations: probeOperations,
    routes,
    catalogue: authCatalogue,
    guards: createAuthGuards(deps),
    report: deps.report,
    ...(deps.metrics ? { observe: deps.metrics.http } : {}),
    before: [
      health,
      ...(deps.metrics ? [metricsEndpoint(deps.metrics.registry, deps.metricsToken)] : []),
      ...(deps.settings.requestRateLimits
        ? [
            createRequestRateLimits({
              service: 'auth',
              limits: deps.settings.requestRateLimits,
              valkey: deps.valkey,
              keyPrefix: deps.keyPrefix,
              trustedProxies: deps.settings.trustedProxies,
              exempt: isExemptFromAuthLimits,
              permissionPaths: authPermissionPaths,
            }),
          ]
        : []),
      browserCors({ pool: deps.pool, nowMs: deps.nowMs }),
      createTokenRateLimit({
        valkey: deps.valkey,
        keyPrefix: deps.keyPrefix,
        trustedProxies: deps.settings.trustedProxies,
        limit: deps.settings.tokenRateLimit.limit,
        windowMs: deps.settings.tokenRateLimit.windowSeconds * 1000,
        ...(deps.settings.tokenRateLimit.fallbackLimit === undefined ? {} : { fallbackLimit: deps.settings.tokenRateLimit.fallbackLimit }),
        report: deps.report,
        pages: { paths: [authorizePath], limited: signInRateLimited },
      }),
      hostedSignInRoutes(deps),
    ],
    formPaths: ['/oauth/token', revocationPath, introspectionPath, '/oauth/userinfo', '/v1/logout'],
    oauthErrors: { paths: oauthErrorPaths, errorOf: oauthErrorOf as Record<string, string> },
  });
}

/**
 * The Auth API as it listens: `/v1/authorize`, `/v1/authorize/batch` and `/v1/permissions` answered ahead of
 * express by the lean routes (the hot path; same validation, answers, metrics, request ids and logging), every
 * other request by the express app. Both paths share one set of routes, so one cache of each kind.
 */
export function createAuthListener(deps: AuthDeps): RequestListener {
  const routes = authRouteFactories.flatMap((factory) => factory(deps));
  const app = createAuthApp(deps, routes);
  const lean = leanRoutes({ routes, guards: createAuthGuards(deps), catalogue: authCatalogue, report: deps.report, ...(deps.metrics ? { observe: deps.metrics.http } : {}) });
  return (req, res) => {
    if (!lean(req, res)) app(req, res);
  };
}
