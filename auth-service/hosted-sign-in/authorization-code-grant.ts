import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { endSessions } from '../../directory/sessions.js';
import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import type { AuthEvents, RequestContext } from '../audit/auth-events.js';
import type { SigningKeyStore } from '../keys/signing-key-store.js';
import type { ClientCredentials, TokenAnswer, TokenService } from '../tokens/token-service.js';
import { codeHashOf, findAuthorizationCode, markAuthorizationCodeUsed } from './authorization-codes.js';
import { findClientRegistration } from '../../directory/client-registrations.js';
import { verifiesS256Challenge } from './pkce.js';

export interface AuthorizationCodeGrantInput {
  readonly code: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  /** The `client_id` form field: how a public client names itself. */
  readonly clientId: string | undefined;
  /** A confidential client's id and secret (Basic or form). */
  readonly client: ClientCredentials | undefined;
}

type Exchange = { readonly tokens: TokenAnswer } | { readonly reused: string | undefined };

export interface AuthorizationCodeGrantParts {
  readonly database: pg.Pool;
  readonly clock: Clock;
  readonly keys: Pick<SigningKeyStore, 'signingKey'>;
  readonly events: Pick<AuthEvents, 'recordSettled'>;
  readonly tokenService: Pick<TokenService, 'authenticateClient' | 'startSessionWithin' | 'endLocally'>;
}

/** The authorization_code grant of `/oauth/token`: a code the hosted sign-in issued, exchanged once. */
export class AuthorizationCodeGrant {
  constructor(private readonly parts: AuthorizationCodeGrantParts) {}

  /**
   * RFC 6749 4.1.3 with PKCE (RFC 7636 4.6): the code is exchanged once, only by the client it was issued to, with
   * the same redirect URI and the verifier of its S256 challenge; a public client authenticates by PKCE alone, a
   * confidential one with its secret as well. The exchange holds the code's row lock: the first one spends the code
   * and starts the session in the same transaction, a later one finds it spent, ends what the first one started
   * (RFC 6749 4.1.2, RFC 9700 4.5) and is refused. A refusal of the binding (client, redirect URI, verifier) spends
   * nothing, and a failure of ours rolls everything back.
   */
  async exchange(input: AuthorizationCodeGrantInput, context: RequestContext): Promise<TokenAnswer> {
    const { parts } = this;
    const service = parts.tokenService;
    const clientId = input.client?.clientId ?? input.clientId;
    if (clientId === undefined) throw new ServiceError('INVALID_CLIENT', { detail: 'authorization_code without client_id' });
    const registration = await findClientRegistration(parts.database, clientId);
    if (!registration) throw new ServiceError('INVALID_CLIENT', { detail: 'unknown client' });
    if (registration.isPublic) {
      if (input.client) throw new ServiceError('INVALID_CLIENT', { detail: 'a public client has no secret' });
    } else {
      if (!input.client) throw new ServiceError('INVALID_CLIENT', { detail: 'a confidential client must authenticate' });
      await service.authenticateClient(input.client, context);
    }

    const codeHash = codeHashOf(input.code);
    const found = await findAuthorizationCode(parts.database, codeHash);
    if (!found) throw new ServiceError('INVALID_GRANT', { detail: 'unknown authorization code' });
    await parts.keys.signingKey();
    const nowMs = parts.clock.nowMs();
    const outcome = await withTransaction(parts.database, async (tx): Promise<Exchange> => {
      const code = await findAuthorizationCode(tx, codeHash, true);
      if (!code) throw new ServiceError('INVALID_GRANT', { detail: 'unknown authorization code' });
      if (code.used) {
        if (code.sessionId !== undefined) await endSessions(tx, { kind: 'session', sessionId: code.sessionId, tenantId: code.tenantId }, 'code_reuse');
        return { reused: code.sessionId };
      }
      if (code.expiresMs <= nowMs) throw new ServiceError('INVALID_GRANT', { detail: 'authorization code expired' });
      if (code.clientId !== clientId) throw new ServiceError('INVALID_GRANT', { detail: 'authorization code issued to another client' });
      if (code.redirectUri !== input.redirectUri) throw new ServiceError('INVALID_GRANT', { detail: 'redirect_uri differs from the authorization request' });
      if (!verifiesS256Challenge(input.codeVerifier, code.codeChallenge)) throw new ServiceError('INVALID_GRANT', { detail: 'code_verifier does not match the code_challenge' });
      const started = await service.startSessionWithin(
        tx,
        { ...code.subject, kind: 'user' },
        clientId,
        code.scope,
        { context, grant: 'authorization_code' },
        { ...(code.nonce === undefined ? {} : { nonce: code.nonce }), authTimeSeconds: Math.floor(code.authTimeMs / 1000), amr: code.amr },
      );
      await markAuthorizationCodeUsed(tx, codeHash, nowMs, started.sessionId);
      return { tokens: started.tokens };
    });
    if ('tokens' in outcome) return outcome.tokens;
    // After the commit: the revocation stands even if the event cannot be written.
    if (outcome.reused !== undefined) service.endLocally({ tenantId: found.tenantId, subjectKind: 'user', subjectId: found.subject.id }, outcome.reused);
    await parts.events.recordSettled(context, {
      tenantId: found.tenantId,
      actor: 'anonymous',
      action: 'auth.code-reuse',
      outcome: 'failure',
      targetType: 'user',
      targetId: found.subject.id,
      details: { clientId, ...(outcome.reused === undefined ? {} : { sessionId: outcome.reused, sessionRevoked: true }) },
    });
    throw new ServiceError('INVALID_GRANT', { detail: 'authorization code used before; the session it started is ended' });
  }
}
