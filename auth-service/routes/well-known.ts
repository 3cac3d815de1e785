import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { AuthDeps } from '../deps.js';
import { signingAlgorithm } from '../keys/signing-key-store.js';

const cachePublic = { 'Cache-Control': 'public, max-age=300' };

/** OpenID Connect Discovery 1.0 metadata and the JWKS (at `/.well-known/jwks`, the contract's, and `jwks.json`). */
export function wellKnownRoutes(deps: AuthDeps): AnyRoute[] {
  const issuer = deps.settings.issuer.replace(/\/+$/, '');
  const metadata = Object.freeze({
    issuer: deps.settings.issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks`,
    userinfo_endpoint: `${issuer}/v1/userinfo`,
    end_session_endpoint: `${issuer}/v1/logout`,
    grant_types_supported: ['authorization_code', 'password', 'client_credentials', 'refresh_token'],
    // `none`: a public client (a browser app) proves itself at the token endpoint with PKCE alone.
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    id_token_signing_alg_values_supported: [signingAlgorithm],
    // The hosted sign-in page answers codes only (no implicit or hybrid flow), with PKCE S256 always.
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid', 'profile', 'email'],
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sid', 'nonce', 'auth_time', 'amr', 'name', 'preferred_username', 'email', 'owner', 'type', 'displayName', 'azp', 'tenantId', 'tenantSlug'],
  });
  const jwksRoute = (path: string): AnyRoute =>
    defineRoute({
      method: 'get',
      path,
      summary: 'The public keys that verify our tokens (JWKS)',
      tags: ['discovery'],
      auth: 'none',
      responses: { 200: { description: 'JWK Set', schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } },
      async handler() {
        return { body: await deps.keys.jwks(), headers: cachePublic };
      },
    });
  return [
    defineRoute({
      method: 'get',
      path: '/.well-known/openid-configuration',
      summary: 'OpenID Connect discovery metadata',
      tags: ['discovery'],
      auth: 'none',
      responses: { 200: { description: 'OpenID Provider metadata' } },
      async handler() {
        return { body: metadata, headers: cachePublic };
      },
    }),
    jwksRoute('/.well-known/jwks'),
    jwksRoute('/.well-known/jwks.json'),
  ];
}
