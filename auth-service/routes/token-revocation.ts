import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { EndHere } from '../../platform/auth/ended-here.js';
import type { AuthEvents } from '../audit/auth-events.js';
import type { AuthenticatedClient } from '../oauth/client-authentication.js';
import type { PresentedToken } from '../oauth/presented-token.js';
import type { TokenManagement } from '../oauth/token-management.js';
import { tokenManagementForm } from '../oauth/token-management-form.js';

export const revocationPath = '/oauth/revoke';

const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** RFC 7009 2.1: a client may revoke only the tokens issued to it; anything else is left alone, silently. */
function isIssuedTo(found: PresentedToken, client: AuthenticatedClient): boolean {
  if (found.kind === 'access_token') return found.clientId === client.clientId && found.caller.tenantId === client.tenantId;
  return found.state.clientId === client.clientId && found.state.tenantId === client.tenantId;
}

/**
 * `POST /oauth/revoke` (RFC 7009). A refresh token ends its whole session (RFC 7009 2.1: the access tokens of
 * the same grant go too): its refresh tokens expire and every access token carrying its `sid` is refused. An
 * access token is revoked by its `jti` until it expires. Confidential clients authenticate (Basic or form);
 * a public client names itself with `client_id` (RFC 7009 5). The answer is 200 with an empty body for every
 * token it may not or cannot revoke (unknown, expired, another client's, already revoked), so a caller learns
 * nothing about tokens that are not its own; only a failure to record the revocation is an error (503).
 */
export function tokenRevocationRoutes(deps: { tokenManagement: TokenManagement; events: Pick<AuthEvents, 'contextOf' | 'recordSettled'>; endHere: EndHere }): AnyRoute[] {
  const manage = deps.tokenManagement;
  return [
    defineRoute({
      method: 'post',
      path: revocationPath,
      summary: 'RFC 7009 token revocation: a refresh token ends its session, an access token is revoked by jti',
      tags: ['tokens'],
      auth: 'none',
      body: tokenManagementForm,
      responses: {
        200: { description: 'Revoked, or nothing to revoke (empty body)' },
        400: { description: 'RFC 6749 5.2 error (invalid_request)' },
        401: { description: 'invalid_client' },
      },
      async handler({ body, req, requestId }) {
        const context = deps.events.contextOf(req, requestId);
        const client = await manage.authenticateClient(req, body, { allowPublic: true, context });
        const found = await manage.findPresented(body.token);
        if (!found || !isIssuedTo(found, client)) return { status: 200, headers: noStore };
        let targetType: 'user' | 'application';
        let targetId: string;
        let details: Record<string, string>;
        try {
          if (found.kind === 'refresh_token') {
            const { state } = found;
            await manage.endSessionOf(state);
            const subject = `${state.subjectKind === 'application' ? 'app' : 'user'}:${state.subjectId}`;
            deps.endHere({ tenantId: state.tenantId, subject, sid: state.sessionId });
            ({ subjectKind: targetType, subjectId: targetId } = state);
            details = { tokenType: 'refresh_token', sessionId: state.sessionId, clientId: client.clientId };
          } else {
            const { caller, token } = found;
            const jti = caller.tokenId;
            // Auth's access tokens always carry a jti; a hand-made one without it cannot be revoked alone.
            if (jti === undefined) throw new ServiceError('VALIDATION_FAILED', { message: 'the token carries no jti: revoke its refresh token instead', field: 'body.token' });
            await manage.revokeAccessToken({ jti, tenantId: caller.tenantId, expiresAtMs: token.expiresAtMs });
            deps.endHere({ tenantId: caller.tenantId, subject: caller.subject, jti });
            targetType = caller.kind;
            targetId = caller.id;
            details = { tokenType: 'access_token', jti, clientId: client.clientId };
          }
        } catch (error) {
          if (error instanceof ServiceError) throw error;
          throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'revocation could not be recorded', cause: error });
        }
        await deps.events.recordSettled(context, {
          tenantId: client.tenantId,
          actor: `app:${client.applicationId}`,
          action: 'auth.token-revoked',
          outcome: 'success',
          targetType,
          targetId,
          details,
        });
        return { status: 200, headers: noStore };
      },
    }),
  ];
}
