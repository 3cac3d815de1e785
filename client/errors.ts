/**
 * Why Auth gave no decision. `unauthenticated`, `forbidden` and `not_found` are Auth's own refusals at that
 * status; `unavailable` is everything else (unreachable, timed out, circuit open, 5xx, 400/408/422/429,
 * redirects, an unreadable answer): Lerian's client rule, and the middleware answers it with 503.
 */
export type AuthClientErrorKind = 'unauthenticated' | 'forbidden' | 'not_found' | 'unavailable';

const statusOfKind: Record<AuthClientErrorKind, number> = { unauthenticated: 401, forbidden: 403, not_found: 404, unavailable: 503 };

export class AuthClientError extends Error {
  override readonly name = 'AuthClientError';
  readonly status: number;

  constructor(
    readonly kind: AuthClientErrorKind,
    message: string,
    /** Auth's contract code (`AUT-xxxx`) when Auth answered one. */
    readonly code?: string,
    /** The status Auth answered, when it answered. */
    readonly upstreamStatus?: number,
  ) {
    super(message);
    this.status = statusOfKind[kind];
  }
}

export function isAuthClientError(error: unknown): error is AuthClientError {
  return error instanceof AuthClientError;
}

/** Lerian's status rule: only 2xx is an answer; 401/403/404 refuse at that status; anything else is unavailable. */
export function errorOfStatus(status: number, code: string | undefined, what: string): AuthClientError {
  if (status === 401) return new AuthClientError('unauthenticated', `${what}: the token was refused`, code, status);
  if (status === 403) return new AuthClientError('forbidden', `${what}: refused`, code, status);
  if (status === 404) return new AuthClientError('not_found', `${what}: not found`, code, status);
  return new AuthClientError('unavailable', `${what}: Auth answered ${status}`, code, status);
}
