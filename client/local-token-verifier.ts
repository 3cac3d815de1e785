import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { AuthClientError } from './errors.js';

export interface LocalVerificationOptions {
  /** Auth's JWKS (`<PLUGIN_AUTH_ADDRESS>/.well-known/jwks`). */
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly timeoutMs?: number;
}

// The key set could not be had: that is Auth being away, not the token being bad.
const unavailableCodes = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/**
 * Verifies Auth's access tokens locally against its published keys (fetched once, cached, refetched on an
 * unknown `kid` after a cooldown): a forged, expired or foreign token is refused without a round trip.
 * Issuer, audience, algorithm, `typ` (RFC 9068 `at+jwt`) and the claims we rely on are all pinned.
 */
export function createLocalTokenVerifier(options: LocalVerificationOptions): (token: string) => Promise<JWTPayload> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.timeoutMs ?? 2_000, cooldownDuration: 30_000 });
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256'],
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    } catch (error) {
      if (!(error instanceof errors.JOSEError) || unavailableCodes.has(error.code)) {
        throw new AuthClientError('unavailable', 'the token keys could not be fetched');
      }
      throw new AuthClientError('unauthenticated', `the token was refused (${error.code})`);
    }
  };
}
