import type { Express } from 'express';
import { buildInfo } from '../platform/service/build-info.js';
import { probeOperations } from '../platform/service/version-route.js';
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

/** The Auth HTTP API (default port 4000) over collaborators built by `wireAuth`. Reads no environment and opens no connection. */
export function createAuthApp(parts: AuthParts): Express {
  return createServiceApp({
    info: { title: 'Access Manager Auth', version: buildInfo().version, description: 'Tokens, authorize, permissions, userinfo, logout and MFA login' },
    servers: [{ url: '/', description: 'The Auth service this document was read from' }, { url: 'http://127.0.0.1:4000', description: 'npm start' }],
    describe: describeAuthRoute,
    extraOperations: probeOperations,
    routes: authRoutes(parts),
    catalogue: authCatalogue,
    guards: createAuthGuards(parts),
    report: parts.report,
    ...(parts.metrics ? { observe: parts.metrics.http } : {}),
    before: [...parts.healthRoutes, ...(parts.requestRateLimits ? [parts.requestRateLimits] : []), parts.browserCors, parts.tokenRateLimit, hostedSignInRoutes(parts)],
    formPaths: ['/oauth/token', revocationPath, introspectionPath, '/oauth/userinfo', '/v1/logout'],
    oauthErrors: { paths: oauthErrorPaths, errorOf: oauthErrorOf as Record<string, string> },
  });
}
