import type { ErrorCatalogue } from './service-error.js';

declare module './service-error.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- registers the shared codes
  interface ServiceErrorCodes extends Record<PlatformErrorCode, true> {}
}

/**
 * Failures every HTTP service shares, raised by the platform layer (validation, body parsing, tokens,
 * dependencies). Each service's catalogue extends this with its own codes and contract numbers.
 */
export type PlatformErrorCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_ALG_NOT_ALLOWED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'STALE_REVISION'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL'
  | 'MODEL_CANNOT_ANSWER';

/** Statuses and titles of the shared failures; the contract codes are the service's (`AUT-`/`IDE-`). */
export function platformCatalogue(prefix: 'AUT' | 'IDE'): ErrorCatalogue<PlatformErrorCode> {
  const c = (n: number) => `${prefix}-${String(n).padStart(4, '0')}`;
  return {
    VALIDATION_FAILED: { status: 400, code: c(1), title: 'Invalid request', meaning: "The request's path, query or body breaks the route's schema; `field` names the first offending input. Nothing was changed." },
    MALFORMED_JSON: { status: 400, code: c(2), title: 'Malformed JSON body', meaning: 'The body is not valid JSON (or holds __proto__). Nothing was changed.' },
    UNSUPPORTED_MEDIA_TYPE: { status: 415, code: c(3), title: 'Unsupported media type', meaning: "The body's content type, charset or encoding is not one the route takes (JSON; form-encoded on the OAuth routes)." },
    BODY_TOO_LARGE: { status: 413, code: c(4), title: 'Request body too large', meaning: 'The body is larger than the service accepts.' },
    HEADERS_TOO_LARGE: { status: 431, code: c(5), title: 'Request headers too large', meaning: 'The request headers exceed 16 KiB.' },
    NOT_FOUND: { status: 404, code: c(6), title: 'Not found', meaning: "No route has this path, or the record does not exist in the caller's organization (another organization's records are 404 too)." },
    METHOD_NOT_ALLOWED: { status: 405, code: c(7), title: 'Method not allowed', meaning: 'The path exists but not with this method; `Allow` lists the methods it takes.' },
    TOKEN_MISSING: { status: 401, code: c(8), title: 'Authentication required', meaning: 'No access token was sent (Authorization: Bearer <token>).' },
    TOKEN_INVALID: { status: 401, code: c(9), title: 'Invalid token', meaning: 'The token is malformed, not signed by a trusted key, for another audience or issuer, or no longer good: its session ended, its subject or organization is disabled or gone, or it was revoked.' },
    TOKEN_EXPIRED: { status: 401, code: c(10), title: 'Token expired', meaning: "The token's exp has passed; refresh it or sign in again." },
    TOKEN_ALG_NOT_ALLOWED: { status: 401, code: c(11), title: 'Token algorithm not allowed', meaning: 'The token is signed with an algorithm the service does not accept (only RS256).' },
    FORBIDDEN: { status: 403, code: c(12), title: 'Not permitted', meaning: "The caller is authenticated but not permitted: the engine denies the route's resource and action in the caller's organization." },
    CONFLICT: { status: 409, code: c(13), title: 'Conflict', meaning: 'The write conflicts with the current state (a unique name, a policy line already there).' },
    // c(14) is Identity's own PRECONDITION_FAILED (IDE-0014): only Identity takes If-Match.
    RATE_LIMITED: { status: 429, code: c(15), title: 'Too many requests', meaning: 'Too many requests from this client; wait for Retry-After.', retryable: true },
    STALE_REVISION: { status: 503, code: c(16), title: 'Policy revision not available yet', meaning: 'The replica has not yet reached the policy revision the request asked for (minRevision); retry shortly.', retryable: true },
    SERVICE_UNAVAILABLE: { status: 503, code: c(17), title: 'Service temporarily unavailable', meaning: 'A dependency (PostgreSQL, Valkey, the policy store) cannot be reached; nothing was changed and nothing was allowed. Retry.', retryable: true },
    INTERNAL: { status: 500, code: c(18), title: 'Internal error', meaning: "An unexpected failure; the response carries only the request id, which the service's log links to the cause." },
    // The configured Casbin model, not the caller, is what cannot answer: a 4xx that names why, never a 503.
    MODEL_CANNOT_ANSWER: { status: 409, code: c(19), title: 'The configured policy model cannot answer this request', meaning: 'The Casbin model the service runs cannot express this question (a field it reads that the request cannot fill); the detail says why. Not a caller error to retry.' },
  };
}
