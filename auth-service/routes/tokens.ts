import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { AuthEvents } from '../audit/auth-events.js';
import { clientIdField, clientSecretField, deviceTokenField, passwordField, refreshTokenField, scopeField, usernameField } from '../tokens/token-fields.js';
import type { TokenAnswer, TokenService } from '../tokens/token-service.js';

const knownGrants = ['password', 'client_credentials'];

const passwordBody = z
  .object({
    grantType: z.literal('password'),
    username: usernameField,
    password: passwordField,
    clientId: clientIdField.optional(),
    clientSecret: clientSecretField.optional(),
    scope: scopeField.optional(),
    /** The deviceToken an earlier MFA verify with rememberDevice answered. */
    deviceToken: deviceTokenField.optional(),
  })
  .strict()
  .refine((b) => (b.clientId === undefined) === (b.clientSecret === undefined), { message: 'clientId and clientSecret go together', path: ['clientSecret'] });

const clientCredentialsBody = z
  .object({ grantType: z.literal('client_credentials'), clientId: clientIdField, clientSecret: clientSecretField, scope: scopeField.optional() })
  .strict();

// Any other grant type parses, so it can be answered UNSUPPORTED_GRANT_TYPE rather than a validation failure.
const otherGrantBody = z.object({ grantType: z.string().max(64).refine((g) => !knownGrants.includes(g)) }).loose();

type AccessTokenBody = z.infer<typeof passwordBody> | z.infer<typeof clientCredentialsBody> | z.infer<typeof otherGrantBody>;

// otherGrantBody refuses the known grant types, so the grant type alone tells which schema matched.
function isPasswordBody(body: AccessTokenBody): body is z.infer<typeof passwordBody> {
  return body.grantType === 'password';
}
function isClientCredentialsBody(body: AccessTokenBody): body is z.infer<typeof clientCredentialsBody> {
  return body.grantType === 'client_credentials';
}

const refreshBody = z
  .object({ refreshToken: refreshTokenField, scope: scopeField.optional(), clientId: clientIdField.optional(), clientSecret: clientSecretField.optional() })
  .strict()
  .refine((b) => (b.clientId === undefined) === (b.clientSecret === undefined), { message: 'clientId and clientSecret go together', path: ['clientSecret'] });

const tokenAnswer = z
  .object({
    accessToken: z.string(),
    idToken: z.string().optional(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int(),
    refreshToken: z.string().optional(),
    scope: z.string().optional(),
  })
  .meta({ id: 'TokenAnswer' });

const mfaChallenge = z
  .object({ mfaRequired: z.literal(true), mfaToken: z.string(), mfaTypes: z.array(z.string()), preferredType: z.string() })
  .meta({ id: 'MfaChallenge' });

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function contractAnswer(tokens: TokenAnswer): z.infer<typeof tokenAnswer> {
  return {
    accessToken: tokens.accessToken,
    ...(tokens.idToken === undefined ? {} : { idToken: tokens.idToken }),
    tokenType: tokens.tokenType,
    expiresIn: tokens.expiresIn,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
  };
}

/**
 * The contract's token routes (JSON, camelCase). Wrong credentials are INVALID_GRANT (400, AUT-0100): the
 * contract names no status for them and RFC 6749 5.2 answers 400 `invalid_grant`; a wrong client secret is
 * INVALID_CLIENT (401). Client-credentials answers carry no refresh token (RFC 6749 4.4.3).
 */
export function tokensRoutes(deps: { tokenService: Pick<TokenService, 'passwordGrant' | 'clientCredentialsGrant' | 'refreshGrant'>; events: Pick<AuthEvents, 'contextOf'> }): AnyRoute[] {
  const service = deps.tokenService;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/login/oauth/access_token',
      summary: 'Sign in: password grant for people, client_credentials for applications',
      tags: ['tokens'],
      auth: 'none',
      body: z.union([passwordBody, clientCredentialsBody, otherGrantBody]),
      responses: {
        200: { description: 'Tokens, or an MFA challenge to pass first', schema: z.union([tokenAnswer, mfaChallenge]) },
        400: { description: 'INVALID_GRANT, UNSUPPORTED_GRANT_TYPE or invalid request' },
        401: { description: 'INVALID_CLIENT' },
        429: { description: 'ACCOUNT_LOCKED or RATE_LIMITED, with Retry-After' },
      },
      async handler({ body, req, requestId }) {
        const context = deps.events.contextOf(req, requestId);
        if (isPasswordBody(body)) {
          const outcome = await service.passwordGrant({
            username: body.username,
            password: body.password,
            ...(body.clientId !== undefined && body.clientSecret !== undefined ? { client: { clientId: body.clientId, clientSecret: body.clientSecret } } : {}),
            ...(body.scope === undefined ? {} : { scope: body.scope }),
            ...(body.deviceToken === undefined ? {} : { deviceToken: body.deviceToken }),
          }, context);
          return { body: outcome.kind === 'mfa' ? outcome.challenge : contractAnswer(outcome.tokens), headers: noStore };
        }
        if (isClientCredentialsBody(body)) {
          const tokens = await service.clientCredentialsGrant({ clientId: body.clientId, clientSecret: body.clientSecret }, body.scope, context);
          return { body: contractAnswer(tokens), headers: noStore };
        }
        throw new ServiceError('UNSUPPORTED_GRANT_TYPE', { detail: `grantType ${body.grantType}`.slice(0, 100) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/login/oauth/refresh_token',
      summary: "Exchange a refresh token for new tokens (with the client's clientId/clientSecret when the session was started with them); the refresh token rotates, and reusing an old one ends the session",
      tags: ['tokens'],
      auth: 'none',
      body: refreshBody,
      responses: {
        200: { description: 'New tokens, with the next refresh token', schema: tokenAnswer },
        400: { description: 'INVALID_GRANT or INVALID_SCOPE' },
      },
      async handler({ body, req, requestId }) {
        const tokens = await service.refreshGrant({
          refreshToken: body.refreshToken,
          ...(body.scope === undefined ? {} : { scope: body.scope }),
          ...(body.clientId !== undefined && body.clientSecret !== undefined ? { client: { clientId: body.clientId, clientSecret: body.clientSecret } } : {}),
          // As /oauth/token (RFC 6749 6): a session started with a client's credentials (a console's) is refreshed
          // only with that client's; one started without a client needs none, as the contract's body has none.
          requireClientOfSession: true,
        }, deps.events.contextOf(req, requestId));
        return { body: contractAnswer(tokens), headers: noStore };
      },
    }),
  ];
}
