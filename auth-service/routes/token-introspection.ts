import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { Clock } from '../../engine/index.js';
import type { ActiveTokenCheck } from '../../platform/auth/active-token-check.js';
import type { TenancyOptions } from '../../platform/auth/caller-from-token.js';
import type { AuthEvents } from '../audit/auth-events.js';
import type { AuthenticatedClient } from '../oauth/client-authentication.js';
import type { TokenManagement } from '../oauth/token-management.js';
import { tokenManagementForm } from '../oauth/token-management-form.js';

export interface TokenIntrospectionParts {
  readonly tokenManagement: TokenManagement;
  readonly tokenCheck: Pick<ActiveTokenCheck, 'assertActive'>;
  readonly tenancy: TenancyOptions;
  readonly settings: { readonly issuer: string };
  readonly clock: Clock;
  readonly events: Pick<AuthEvents, 'contextOf'>;
}

export const introspectionPath = '/oauth/introspect';

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const inactive = Object.freeze({ active: false });

const introspectionAnswer = z
  .object({
    active: z.boolean(),
    token_type: z.string().optional(),
    scope: z.string().optional(),
    client_id: z.string().optional(),
    username: z.string().optional(),
    sub: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    iss: z.string().optional(),
    exp: z.number().optional(),
    iat: z.number().optional(),
    nbf: z.number().optional(),
    jti: z.string().optional(),
    sid: z.string().optional(),
    tenantId: z.string().optional(),
  })
  .meta({ id: 'TokenIntrospection' });

/**
 * Whose tokens a client may see: its own organization's; a client registered in the platform organization (a
 * console, a product serving every tenant) any organization's, as at sign-in. Anything else is `active: false`,
 * so a client learns nothing about another tenant's tokens.
 */
function maySee(deps: TokenIntrospectionParts, client: AuthenticatedClient, tenantId: string): boolean {
  return client.tenantId === tenantId || client.tenantId === deps.tenancy.defaultTenantId;
}

const stringClaim = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const numberClaim = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/**
 * `POST /oauth/introspect` (RFC 7662), for resource servers: confidential clients only (Basic or form secret).
 * `active: true` only for a token that would be honoured now: an access token that verifies (signature, issuer,
 * audience, type, not expired) and passes the same still-good check as every guard (subject and organization
 * active, session not ended, jti not revoked); a refresh token of the asking client that is unused, unexpired,
 * of a live session and an active subject. Everything else — unknown, expired, revoked, ended, another tenant's,
 * another client's refresh token — is `{"active": false}` and nothing more. PostgreSQL unreachable is 503.
 */
export function tokenIntrospectionRoutes(deps: TokenIntrospectionParts): AnyRoute[] {
  const manage = deps.tokenManagement;
  return [
    defineRoute({
      method: 'post',
      path: introspectionPath,
      summary: 'RFC 7662 token introspection: is this token active now, and whose is it',
      tags: ['tokens'],
      auth: 'none',
      body: tokenManagementForm,
      responses: {
        200: { description: 'RFC 7662 2.2 answer', schema: introspectionAnswer },
        400: { description: 'RFC 6749 5.2 error (invalid_request)' },
        401: { description: 'invalid_client' },
      },
      async handler({ body, req, requestId }) {
        const context = deps.events.contextOf(req, requestId);
        const client = await manage.authenticateClient(req, body, { allowPublic: false, context });
        const found = await manage.findPresented(body.token);
        if (!found) return { body: inactive, headers: noStore };
        if (found.kind === 'access_token') {
          const { caller, token } = found;
          const { claims } = token;
          if (!maySee(deps, client, caller.tenantId) || token.expiresAtMs <= deps.clock.nowMs()) return { body: inactive, headers: noStore };
          try {
            await deps.tokenCheck.assertActive(caller);
          } catch (error) {
            if (error instanceof ServiceError && error.code === 'TOKEN_INVALID') return { body: inactive, headers: noStore };
            throw error;
          }
          return {
            headers: noStore,
            body: {
              active: true,
              token_type: 'Bearer',
              scope: stringClaim(claims.scope),
              client_id: found.clientId,
              username: stringClaim(claims.name),
              sub: caller.id,
              aud: claims.aud,
              iss: claims.iss,
              exp: numberClaim(claims.exp),
              iat: numberClaim(claims.iat),
              nbf: numberClaim(claims.nbf),
              jti: caller.tokenId,
              sid: stringClaim(claims.sid),
              tenantId: caller.tenantId,
            },
          };
        }
        const { state } = found;
        // A refresh token is only ever shown to the client it was issued to: no resource server needs to see one.
        if (state.clientId !== client.clientId || state.used || state.expired || state.sessionEnded) return { body: inactive, headers: noStore };
        let standing;
        try {
          standing = await manage.standingOf(state);
        } catch (error) {
          throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'introspection: token state unreadable', cause: error });
        }
        if (!standing?.subjectActive || !standing.organizationActive || standing.sessionEnded !== false) return { body: inactive, headers: noStore };
        return {
          headers: noStore,
          body: {
            active: true,
            token_type: 'refresh_token',
            ...(state.scope === null ? {} : { scope: state.scope }),
            client_id: client.clientId,
            sub: state.subjectId,
            iss: deps.settings.issuer,
            exp: Math.floor(state.expiresAtMs / 1000),
            iat: Math.floor(state.issuedAtMs / 1000),
            sid: state.sessionId,
            tenantId: state.tenantId,
          },
        };
      },
    }),
  ];
}
