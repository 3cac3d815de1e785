import { createHash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { ServiceError } from '../http/service-error.js';

export interface TokenVerifierOptions {
  /** The keys tokens must be signed with: `createRemoteJWKSet(url)` or `createLocalJWKSet(jwks)`. */
  readonly keys: JWTVerifyGetKey;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms?: readonly string[];
  /** The token type required in the header (RFC 9068 access tokens: `at+jwt`), so ID or refresh tokens are refused. */
  readonly tokenType?: string;
  readonly clockToleranceSeconds?: number;
  /** Claims every token must carry besides `exp`, `iat` and `sub`. */
  readonly requiredClaims?: readonly string[];
  readonly cacheEntries?: number;
  readonly nowMs?: () => number;
}

export interface VerifiedToken {
  readonly claims: Readonly<JWTPayload & Record<string, unknown>>;
  readonly expiresAtMs: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** A digest, so the cache never holds a token itself (SECURITY-CHECKLIST K2). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Verifies access tokens with jose, always pinning the algorithms, issuer, audience, type and required claims
 * (jose checks `exp` only when present and `iss`/`aud` only when told). A verified token is remembered by its
 * digest until it expires, so the hot path verifies each token once.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const nowMs = options.nowMs ?? Date.now;
  const cache = new LRUCache<string, VerifiedToken>({ max: options.cacheEntries ?? 50_000 });
  const algorithms = [...(options.algorithms ?? ['RS256'])];
  const requiredClaims = ['exp', 'iat', 'sub', ...(options.requiredClaims ?? [])];
  return {
    async verify(token) {
      const digest = tokenDigest(token);
      const cached = cache.get(digest);
      if (cached && cached.expiresAtMs > nowMs()) return cached;
      try {
        const { payload } = await jwtVerify(token, options.keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          requiredClaims,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          currentDate: new Date(nowMs()),
          ...(options.tokenType ? { typ: options.tokenType } : {}),
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
          throw new ServiceError('TOKEN_INVALID', { detail: 'sub is not a string' });
        }
        const verified: VerifiedToken = { claims: Object.freeze({ ...payload }), expiresAtMs: (payload.exp as number) * 1000 };
        cache.set(digest, verified, { ttl: Math.max(1, verified.expiresAtMs - nowMs()) });
        return verified;
      } catch (error) {
        if (error instanceof ServiceError) throw error;
        if (error instanceof errors.JWTExpired) throw new ServiceError('TOKEN_EXPIRED', { detail: error.message, cause: error });
        if (error instanceof errors.JOSEAlgNotAllowed) throw new ServiceError('TOKEN_ALG_NOT_ALLOWED', { detail: error.message, cause: error });
        // Malformed tokens, bad signatures, unknown kid, JWKS unreachable: all mean "not a valid token here".
        throw new ServiceError('TOKEN_INVALID', { detail: error instanceof Error ? error.message : 'verification failed', cause: error });
      }
    },
  };
}
