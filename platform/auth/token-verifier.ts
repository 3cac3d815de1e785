import { hash } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../../engine/index.js';
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
  /**
   * A tier shared by the replicas (Valkey), asked after an in-process miss and before jose, and written after
   * a successful verification for the token's remaining lifetime. A failing tier is skipped: verification runs.
   */
  readonly shared?: SharedTokenCache;
  /** Called when the shared tier fails (wire it to the logger); the request carries on without it. */
  readonly onSharedError?: (error: unknown) => void;
  /** Default: the wall clock. */
  readonly clock?: Clock;
}

/** Verified claims by token digest, shared between replicas; entries must not outlive the token. */
export interface SharedTokenCache {
  get(digest: string): Promise<Readonly<JWTPayload & Record<string, unknown>> | undefined>;
  set(digest: string, claims: Readonly<JWTPayload & Record<string, unknown>>, ttlSeconds: number): Promise<void>;
}

export interface VerifiedToken {
  readonly claims: Readonly<JWTPayload & Record<string, unknown>>;
  readonly expiresAtMs: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** A digest, so the cache never holds a token itself. */
export function tokenDigest(token: string): string {
  // One-shot: no Hash object per request (half the time of createHash().update().digest(), same bytes).
  return hash('sha256', token, 'base64url');
}

/**
 * Verifies access tokens with jose, always pinning the algorithms, issuer, audience, type and required claims
 * (jose checks `exp` only when present and `iss`/`aud` only when told). A verified token is remembered by its
 * digest until it expires, so the hot path verifies each token once; with `shared`, once across the replicas.
 * Claims read from the shared tier are used only while `exp` is ahead and `iss`/`aud` are this verifier's
 * (another service sharing the tier may pin other values); anything else falls through to jose.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const clock = options.clock ?? systemClock;
  const cache = new LRUCache<string, VerifiedToken>({ max: options.cacheEntries ?? 50_000 });
  const algorithms = [...(options.algorithms ?? ['RS256'])];
  const requiredClaims = ['exp', 'iat', 'sub', ...(options.requiredClaims ?? [])];
  const reportShared = (error: unknown): void => options.onSharedError?.(error);

  async function readShared(digest: string): Promise<VerifiedToken | undefined> {
    if (!options.shared) return undefined;
    let claims: Readonly<JWTPayload & Record<string, unknown>> | undefined;
    try {
      claims = await options.shared.get(digest);
    } catch (error) {
      reportShared(error);
      return undefined;
    }
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return undefined;
    const { exp, sub, iss, aud } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp * 1000 <= clock.nowMs()) return undefined;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256 || iss !== options.issuer) return undefined;
    if (!(aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience)))) return undefined;
    if (requiredClaims.some((claim) => claims[claim] === undefined)) return undefined;
    return { claims: Object.freeze({ ...claims }), expiresAtMs: exp * 1000 };
  }

  async function writeShared(digest: string, verified: VerifiedToken): Promise<void> {
    if (!options.shared) return;
    // Whole seconds, rounded down: the entry never outlives `exp` (a token accepted within the clock
    // tolerance after `exp` is not shared at all).
    const ttlSeconds = Math.floor((verified.expiresAtMs - clock.nowMs()) / 1000);
    if (ttlSeconds < 1) return;
    try {
      await options.shared.set(digest, verified.claims, ttlSeconds);
    } catch (error) {
      reportShared(error);
    }
  }

  return {
    async verify(token) {
      const digest = tokenDigest(token);
      const cached = cache.get(digest);
      if (cached && cached.expiresAtMs > clock.nowMs()) return cached;
      const shared = await readShared(digest);
      if (shared) {
        cache.set(digest, shared, { ttl: Math.max(1, shared.expiresAtMs - clock.nowMs()) });
        return shared;
      }
      try {
        const { payload } = await jwtVerify(token, options.keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          requiredClaims,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          currentDate: new Date(clock.nowMs()),
          ...(options.tokenType ? { typ: options.tokenType } : {}),
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
          throw new ServiceError('TOKEN_INVALID', { detail: 'sub is not a string' });
        }
        const verified: VerifiedToken = { claims: Object.freeze({ ...payload }), expiresAtMs: (payload.exp as number) * 1000 };
        cache.set(digest, verified, { ttl: Math.max(1, verified.expiresAtMs - clock.nowMs()) });
        await writeShared(digest, verified);
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
