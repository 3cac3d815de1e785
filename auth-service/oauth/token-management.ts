import type { Request } from 'express';
import type pg from 'pg';
import { endSessions } from '../../directory/sessions.js';
import { expireRefreshTokensOfSession, type RefreshTokenState } from '../../directory/refresh-tokens.js';
import { revokeAccessToken } from '../../directory/revoked-access-tokens.js';
import { readTokenState, type TokenState } from '../../directory/token-states.js';
import type { TenancyOptions } from '../../platform/auth/caller-from-token.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import type { RequestContext } from '../audit/auth-events.js';
import type { TokenService } from '../tokens/token-service.js';
import { authenticateEndpointClient, type AuthenticatedClient, type ClientAuthenticationForm } from './client-authentication.js';
import { findPresentedToken, type PresentedToken } from './presented-token.js';

export interface TokenManagementParts {
  readonly database: pg.Pool;
  readonly tokens: TokenVerifier;
  readonly tenancy: TenancyOptions;
  readonly tokenService: Pick<TokenService, 'authenticateClient'>;
}

/** What the revocation and introspection endpoints do with the tokens and clients they are handed. */
export class TokenManagement {
  constructor(private readonly parts: TokenManagementParts) {}

  /** The client of the request (see authenticateEndpointClient). */
  authenticateClient(req: Request, form: ClientAuthenticationForm, options: { readonly allowPublic: boolean; readonly context: RequestContext }): Promise<AuthenticatedClient> {
    return authenticateEndpointClient(this.parts, req, form, options);
  }

  /** What a presented token is (see findPresentedToken). */
  findPresented(token: string): Promise<PresentedToken | undefined> {
    return findPresentedToken(this.parts, token);
  }

  /** Ends the session of a refresh token and expires its refresh tokens, in one transaction (RFC 7009 2.1). */
  async endSessionOf(state: RefreshTokenState): Promise<void> {
    await withTransaction(this.parts.database, async (tx) => {
      await endSessions(tx, { kind: 'session', sessionId: state.sessionId, tenantId: state.tenantId, subjectId: state.subjectId }, 'token_revoked');
      await expireRefreshTokensOfSession(tx, state.sessionId);
    });
  }

  /** Revokes one access token by its jti until it expires. */
  revokeAccessToken(token: { readonly jti: string; readonly tenantId: string; readonly expiresAtMs: number }): Promise<void> {
    return revokeAccessToken(this.parts.database, token);
  }

  /** Whether the session of a refresh token and its subject still stand (the guards' still-good read). */
  standingOf(state: RefreshTokenState): Promise<TokenState | undefined> {
    return readTokenState(this.parts.database, { subjectKind: state.subjectKind, subjectId: state.subjectId, tenantId: state.tenantId, sessionId: state.sessionId, jti: undefined });
  }
}
