import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthEvents } from '../audit/auth-events.js';
import { clientIdField, clientSecretField, deviceTokenField, passwordField, refreshTokenField, scopeField, usernameField } from '../tokens/token-fields.js';
import type { TokenAnswer, TokenService } from '../tokens/token-service.js';
import type { AuthorizationCodeGrant } from '../hosted-sign-in/index.js';
import { clientCredentialsOf } from '../oauth/client-authentication.js';

// RFC 6749 3.2 / 8.2: unknown token-request parameters are ignored, so this form is not strict; every field the
// endpoint reads is bounded, and a repeated one (an array) is refused as invalid_request.
const tokenForm = z.object({
  grant_type: z.string().min(1).max(64),
  username: usernameField.optional(),
  password: passwordField.optional(),
  client_id: clientIdField.optional(),
  client_secret: clientSecretField.optional(),
  refresh_token: refreshTokenField.optional(),
  scope: scopeField.optional(),
  device_token: deviceTokenField.optional(),
  code: z.string().min(1).max(128).optional(),
  redirect_uri: z.string().min(1).max(2000).optional(),
  code_verifier: z.string().min(1).max(128).optional(),
});

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

const servedGrants = new Set(['authorization_code', 'password', 'client_credentials', 'refresh_token']);

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ServiceError('VALIDATION_FAILED', { message: `${name} is required`, field: `body.${name}` });
  return value;
}

function oauthAnswer(tokens: TokenAnswer): Record<string, string | number> {
  return {
    access_token: tokens.accessToken,
    ...(tokens.idToken === undefined ? {} : { id_token: tokens.idToken }),
    token_type: tokens.tokenType,
    expires_in: tokens.expiresIn,
    ...(tokens.refreshToken === undefined ? {} : { refresh_token: tokens.refreshToken }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}

/**
 * The standard RFC 6749 token endpoint (form body, snake_case answer, RFC 6749 5.2 error bodies), for OAuth
 * and OIDC client libraries; discovery points here. Same token service as the contract's routes.
 *
 * The resource-owner password grant is served here too, so people sign in through any OAuth library (an MFA
 * user gets `403 {"error":"mfa_required","mfa_token":...}`), though OAuth 2.1 drops it. `authorization_code` exchanges a code from the hosted sign-in page (PKCE S256 always);
 * every other grant (implicit, device code, ...) is `unsupported_grant_type`.
 */
export interface OauthTokenParts {
  readonly tokenService: Pick<TokenService, 'passwordGrant' | 'clientCredentialsGrant' | 'refreshGrant'>;
  readonly codeGrant: Pick<AuthorizationCodeGrant, 'exchange'>;
  readonly events: Pick<AuthEvents, 'contextOf'>;
}

export function oauthTokenRoutes(deps: OauthTokenParts): AnyRoute[] {
  const service = deps.tokenService;
  return [
    defineRoute({
      method: 'post',
      path: '/oauth/token',
      summary: 'RFC 6749 token endpoint: authorization_code (with PKCE), password, client_credentials and refresh_token grants',
      tags: ['tokens'],
      auth: 'none',
      body: tokenForm,
      responses: {
        200: { description: 'RFC 6749 5.1 token response' },
        400: { description: 'RFC 6749 5.2 error' },
        401: { description: 'invalid_client' },
        403: { description: '{"error":"mfa_required","mfa_token":...}: pass the MFA challenge at /v1/login/mfa/verify' },
      },
      async handler({ body, req, requestId }) {
        // Before the client is authenticated: a refused grant type costs no secret check.
        if (!servedGrants.has(body.grant_type)) throw new ServiceError('UNSUPPORTED_GRANT_TYPE', { detail: `grant_type ${body.grant_type}` });
        const client = clientCredentialsOf(req, body);
        const context = deps.events.contextOf(req, requestId);
        if (body.grant_type === 'authorization_code') {
          const tokens = await deps.codeGrant.exchange(
            {
              code: required(body.code, 'code'),
              redirectUri: required(body.redirect_uri, 'redirect_uri'),
              codeVerifier: required(body.code_verifier, 'code_verifier'),
              clientId: body.client_id,
              client,
            },
            context,
          );
          return { body: oauthAnswer(tokens), headers: noStore };
        }
        if (body.grant_type === 'password') {
          const outcome = await service.passwordGrant(
            {
              username: required(body.username, 'username'),
              password: required(body.password, 'password'),
              ...(client ? { client } : {}),
              ...(body.scope === undefined ? {} : { scope: body.scope }),
              ...(body.device_token === undefined ? {} : { deviceToken: body.device_token }),
            },
            context,
          );
          if (outcome.kind === 'mfa') {
            const { challenge } = outcome;
            return {
              status: 403,
              headers: noStore,
              body: {
                error: 'mfa_required',
                error_description: 'a second factor is required',
                mfa_token: challenge.mfaToken,
                mfa_types: challenge.mfaTypes,
                preferred_type: challenge.preferredType,
              },
            };
          }
          return { body: oauthAnswer(outcome.tokens), headers: noStore };
        }
        if (body.grant_type === 'client_credentials') {
          if (!client) throw new ServiceError('INVALID_CLIENT', { detail: 'client_credentials without client authentication' });
          return { body: oauthAnswer(await service.clientCredentialsGrant(client, body.scope, context)), headers: noStore };
        }
        const tokens = await service.refreshGrant(
          { refreshToken: required(body.refresh_token, 'refresh_token'), ...(body.scope === undefined ? {} : { scope: body.scope }), ...(client ? { client } : {}), requireClientOfSession: true },
          context,
        );
        return { body: oauthAnswer(tokens), headers: noStore };
      },
    }),
  ];
}
