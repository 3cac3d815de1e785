import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { signingAlgorithm, type SigningKeyStore } from '../keys/signing-key-store.js';

const cachePublic = { 'Cache-Control': 'public, max-age=300' };

/** OpenID Connect Discovery 1.0 metadata and the JWKS (at `/.well-known/jwks`, the contract's, and `jwks.json`). */
export function wellKnownRoutes(deps: { settings: { readonly issuer: string }; keys: Pick<SigningKeyStore, 'jwks'> }): AnyRoute[] {
  const issuer = deps.settings.issuer.replace(/\/+$/, '');
  const metadata = Object.freeze({
    issuer: deps.settings.issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks`,
    // Standard claim names (OIDC Core 5.3); the contract's camelCase `/v1/userinfo` stays for Lerian's clients.
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    end_session_endpoint: `${issuer}/v1/logout`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    // RFC 7009 5: a public client revokes its own tokens naming itself by client_id.
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint: `${issuer}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
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
    // What ID tokens and /oauth/userinfo carry (access-token-only claims such as `azp` or `displayName` are not listed).
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sid', 'nonce', 'auth_time', 'amr', 'name', 'preferred_username', 'email', 'email_verified', 'picture', 'profile', 'owner', 'tenantId'],
    // Omitted, these default to true (OIDC Discovery 3): no request objects, no claims parameter are read here.
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
    claims_parameter_supported: false,
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
