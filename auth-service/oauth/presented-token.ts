import { callerFromToken, type TenancyOptions } from '../../platform/auth/caller-from-token.js';
import type { TokenVerifier, VerifiedToken } from '../../platform/auth/token-verifier.js';
import type { Caller } from '../../platform/http/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { readRefreshTokenState, type RefreshTokenState } from '../../directory/refresh-tokens.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import { refreshTokenHash } from '../../directory/session-tokens.js';

/** A token a client handed to the revocation or introspection endpoint, once recognised as one of ours. */
export type PresentedToken =
  | { readonly kind: 'access_token'; readonly caller: Caller; readonly token: VerifiedToken; readonly clientId: string | undefined }
  | { readonly kind: 'refresh_token'; readonly state: RefreshTokenState };

// A JWS compact serialisation: three base64url parts. Our refresh tokens are one base64url string, never this.
const jwsShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const refreshShape = /^[A-Za-z0-9_-]{1,512}$/;

/**
 * What `token` is: an access token whose signature, issuer, audience, type and expiry check out, or a refresh
 * token we hold (in any state: the caller decides what used, expired or ended means for it); undefined for
 * anything else. The two shapes cannot be mistaken for each other, so a `token_type_hint` changes nothing (RFC
 * 7009 2.1 and RFC 7662 2.1 let the server search every type). PostgreSQL unreachable is SERVICE_UNAVAILABLE.
 */
export async function findPresentedToken(deps: { readonly tokens: TokenVerifier; readonly tenancy: TenancyOptions; readonly database: Queryable }, token: string): Promise<PresentedToken | undefined> {
  if (jwsShape.test(token)) {
    try {
      const verified = await deps.tokens.verify(token);
      const azp = verified.claims.azp;
      return { kind: 'access_token', caller: callerFromToken(verified, deps.tenancy), token: verified, clientId: typeof azp === 'string' ? azp : undefined };
    } catch (error) {
      if (error instanceof ServiceError && error.code !== 'SERVICE_UNAVAILABLE') return undefined;
      throw error;
    }
  }
  if (!refreshShape.test(token)) return undefined;
  try {
    const state = await readRefreshTokenState(deps.database, refreshTokenHash(token));
    return state === undefined ? undefined : { kind: 'refresh_token', state };
  } catch (error) {
    throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'refresh token lookup failed', cause: error });
  }
}
