import type { RequestListener } from 'node:http';
import type { Express } from 'express';
import { buildInfo } from '../platform/service/build-info.js';
import { probeOperations } from '../platform/service/version-route.js';
import { leanRoutes } from '../platform/http/lean-routes.js';
import { createServiceApp } from '../platform/http/service-app.js';
import type { AnyRoute } from '../platform/http/route.js';
import { describeAuthRoute } from './openapi-description.js';
import { authCatalogue, oauthErrorOf } from './errors.js';
import { createAuthGuards } from './guards.js';
import { hostedSignInRoutes } from './hosted-sign-in/index.js';
import { authorizeRoutes } from './routes/authorize.js';
import { authorizeExplainRoutes } from './routes/authorize-explain.js';
import { logoutRoutes } from './routes/logout.js';
import { mfaLoginRoutes } from './routes/mfa-login.js';
import { oauthTokenRoutes } from './routes/oauth-token.js';
import { permissionsRoutes } from './routes/permissions.js';
import { introspectionPath, tokenIntrospectionRoutes } from './routes/token-introspection.js';
import { revocationPath, tokenRevocationRoutes } from './routes/token-revocation.js';
import { tokensRoutes } from './routes/tokens.js';
import { userinfoRoutes } from './routes/userinfo.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { isExemptFromAuthLimits } from './request-limit-paths.js';
import type { AuthParts } from './wiring.js';

/** Every route of the Auth API, each factory handed the collaborators it names. */
export function authRoutes(parts: AuthParts): AnyRoute[] {
  return [
    ...tokensRoutes(parts),
    ...oauthTokenRoutes(parts),
    ...tokenRevocationRoutes(parts),
    ...tokenIntrospectionRoutes(parts),
    ...wellKnownRoutes(parts),
    ...authorizeRoutes(parts),
    ...authorizeExplainRoutes(parts),
    ...permissionsRoutes(parts),
    ...userinfoRoutes(parts),
    ...logoutRoutes(parts),
    ...mfaLoginRoutes(parts),
  ];
}

/** The OAuth endpoints: their refusals are RFC 6749 bodies, not problem+json. */
export const oauthErrorPaths: readonly string[] = ['/oauth/token', revocationPath, introspectionPath];

/**
 * The Auth HTTP API (default port 4000) as an express app over collaborators built by `wireAuth`; `createAuthListener`
 * is how it runs. Reads no environment and opens no connection.
 */
export function createAuthApp(parts: AuthParts, routes: readonly AnyRoute[] = authRoutes(parts)): Express {
  return createServiceApp({
    info: { title: 'Access Manager Auth', version: buildInfo().version, description: 'Tokens, authorize, permissions, userinfo, logout and MFA login' },
    servers: [{ url: '/', description: 'The Auth service this document was read from' }, { url: 'http://127.0.0.1:4000', description: 'npm start' }],
    describe: describeAuthRoute,
    extraOperations: probeOperations,
    routes,
    catalogue: authCatalogue,
    guards: createAuthGuards(parts),
    report: parts.report,
    ...(parts.metrics ? { observe: parts.metrics.http } : {}),
    before: [...parts.healthRoutes, ...(parts.requestRateLimits ? [parts.requestRateLimits] : []), parts.browserCors, parts.tokenRateLimit, hostedSignInRoutes(parts)],
    formPaths: ['/oauth/token', revocationPath, introspectionPath, '/oauth/userinfo', '/v1/logout'],
    oauthErrors: { paths: oauthErrorPaths, errorOf: oauthErrorOf as Record<string, string> },
  });
}

/**
 * The Auth API as it listens: `/v1/authorize`, `/v1/authorize/batch` and `/v1/permissions` answered ahead of
 * express by the lean routes (the hot path; same validation, answers, metrics, request ids and logging), every
 * other request by the express app. Both paths share one set of routes, so one cache of each kind. A route the
 * per-address request limits count (RATE_LIMIT_MAX, RATE_LIMIT_PERMISSION_MAX) stays on express while those
 * limits are set, so it is counted there.
 */
export function createAuthListener(parts: AuthParts): RequestListener {
  const routes = authRoutes(parts);
  const app = createAuthApp(parts, routes);
  const lean = leanRoutes({
    routes: parts.requestRateLimits ? routes.filter((route) => isExemptFromAuthLimits(route.path)) : routes,
    guards: createAuthGuards(parts),
    catalogue: authCatalogue,
    report: parts.report,
    ...(parts.metrics ? { observe: parts.metrics.http } : {}),
  });
  return (req, res) => {
    if (!lean(req, res)) app(req, res);
  };
}
