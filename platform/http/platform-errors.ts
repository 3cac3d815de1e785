import type { ErrorCatalogue } from './service-error.js';

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
  | 'PRECONDITION_FAILED'
  | 'RATE_LIMITED'
  | 'STALE_REVISION'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL'
  | 'MODEL_CANNOT_ANSWER';

/** Statuses and titles of the shared failures; the contract codes are the service's (`AUT-`/`IDE-`). */
export function platformCatalogue(prefix: 'AUT' | 'IDE'): ErrorCatalogue<PlatformErrorCode> {
  const c = (n: number) => `${prefix}-${String(n).padStart(4, '0')}`;
  return {
    VALIDATION_FAILED: { status: 400, code: c(1), title: 'Invalid request' },
    MALFORMED_JSON: { status: 400, code: c(2), title: 'Malformed JSON body' },
    UNSUPPORTED_MEDIA_TYPE: { status: 415, code: c(3), title: 'Unsupported media type' },
    BODY_TOO_LARGE: { status: 413, code: c(4), title: 'Request body too large' },
    HEADERS_TOO_LARGE: { status: 431, code: c(5), title: 'Request headers too large' },
    NOT_FOUND: { status: 404, code: c(6), title: 'Not found' },
    METHOD_NOT_ALLOWED: { status: 405, code: c(7), title: 'Method not allowed' },
    TOKEN_MISSING: { status: 401, code: c(8), title: 'Authentication required' },
    TOKEN_INVALID: { status: 401, code: c(9), title: 'Invalid token' },
    TOKEN_EXPIRED: { status: 401, code: c(10), title: 'Token expired' },
    TOKEN_ALG_NOT_ALLOWED: { status: 401, code: c(11), title: 'Token algorithm not allowed' },
    FORBIDDEN: { status: 403, code: c(12), title: 'Not permitted' },
    CONFLICT: { status: 409, code: c(13), title: 'Conflict' },
    PRECONDITION_FAILED: { status: 412, code: c(14), title: 'Precondition failed' },
    RATE_LIMITED: { status: 429, code: c(15), title: 'Too many requests', retryable: true },
    STALE_REVISION: { status: 503, code: c(16), title: 'Policy revision not available yet', retryable: true },
    SERVICE_UNAVAILABLE: { status: 503, code: c(17), title: 'Service temporarily unavailable', retryable: true },
    INTERNAL: { status: 500, code: c(18), title: 'Internal error' },
    // The configured Casbin model, not the caller, is what cannot answer: a 4xx that names why, never a 503.
    MODEL_CANNOT_ANSWER: { status: 409, code: c(19), title: 'The configured policy model cannot answer this request' },
  };
}
