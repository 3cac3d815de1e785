import { platformCatalogue, type PlatformErrorCode } from '../platform/http/platform-errors.js';
import type { ErrorCatalogue } from '../platform/http/service-error.js';

declare module '../platform/http/service-error.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- registers this service's codes
  interface ServiceErrorCodes extends Record<AuthErrorCode, true> {}
}

/** Auth's own failures; the shared ones (validation, tokens, 404, 503...) come from the platform. */
export type AuthErrorCode =
  | 'INVALID_GRANT'
  | 'INVALID_CLIENT'
  | 'UNSUPPORTED_GRANT_TYPE'
  | 'INVALID_SCOPE'
  | 'ACCOUNT_LOCKED'
  | 'IP_NOT_ALLOWED'
  | 'MFA_TOKEN_INVALID'
  | 'MFA_CODE_INVALID'
  | 'MFA_ATTEMPTS_EXHAUSTED'
  | 'MFA_RESEND_LIMIT'
  | 'MFA_METHOD_UNAVAILABLE'
  | 'MFA_ENROLMENT_REQUIRED'
  | 'MFA_DELIVERY_FAILED'
  | 'IDENTITY_PROVIDER_UNAVAILABLE';

export type AuthError = AuthErrorCode | PlatformErrorCode;

/** The one table that maps Auth's failures to HTTP and the contract's AUT codes. */
export const authCatalogue: ErrorCatalogue<AuthError> = {
  ...platformCatalogue('AUT'),
  INVALID_GRANT: { status: 400, code: 'AUT-0100', title: 'Invalid credentials or grant', meaning: 'The credentials, refresh token or authorization code are wrong, expired, already used or bound to another client. The answer is the same whichever part was wrong.' },
  INVALID_CLIENT: { status: 401, code: 'AUT-0101', title: 'Invalid client', meaning: 'The client id and secret do not name an application of the organization, or the client is not allowed this grant.' },
  UNSUPPORTED_GRANT_TYPE: { status: 400, code: 'AUT-0102', title: 'Unsupported grant type', meaning: 'The grant_type is not one Auth serves (authorization_code, password, client_credentials, refresh_token).' },
  INVALID_SCOPE: { status: 400, code: 'AUT-0103', title: 'Invalid scope', meaning: 'The requested scope is not one the client may ask for.' },
  ACCOUNT_LOCKED: { status: 429, code: 'AUT-0104', title: 'Too many failed sign-ins; try again later', meaning: 'Too many failed sign-ins for this account (or password sign-ins into this organization); wait for Retry-After.', retryable: true },
  IP_NOT_ALLOWED: { status: 403, code: 'AUT-0105', title: 'Client address not allowed for this organization', meaning: "The end user's address (clientIp) is outside the organization's allowlist for this product; nothing was decided." },
  MFA_TOKEN_INVALID: { status: 401, code: 'AUT-0106', title: 'MFA challenge expired or invalid', meaning: "The mfaToken of the sign-in's second step is unknown, expired or already used; sign in again." },
  MFA_CODE_INVALID: { status: 400, code: 'AUT-0107', title: 'Invalid MFA code', meaning: "The second-factor code is wrong, expired or already used; it counts toward the user's MFA lock." },
  MFA_ATTEMPTS_EXHAUSTED: { status: 429, code: 'AUT-0108', title: 'Too many MFA attempts; sign in again', meaning: "Too many wrong second-factor codes: the user's MFA lock is on; wait for Retry-After (a recovery code still works at sign-in)." },
  MFA_RESEND_LIMIT: { status: 429, code: 'AUT-0109', title: 'Too many codes sent; sign in again', meaning: 'Too many codes were sent for this sign-in; sign in again.' },
  MFA_METHOD_UNAVAILABLE: { status: 400, code: 'AUT-0110', title: 'MFA method not available for this user', meaning: 'The chosen second-factor method is not offered to this user (not enrolled, not allowed by the organization, or no sender configured).' },
  MFA_ENROLMENT_REQUIRED: { status: 403, code: 'AUT-0112', title: 'MFA is required but no method is available for this user', meaning: 'The organization requires MFA but the user has no usable factor; an administrator must let the user enrol.' },
  MFA_DELIVERY_FAILED: { status: 503, code: 'AUT-0113', title: 'The MFA code could not be sent; try again', meaning: "The code could not be sent through the organization's provider; retry.", retryable: true },
  IDENTITY_PROVIDER_UNAVAILABLE: { status: 503, code: 'AUT-0111', title: 'Identity provider unavailable', meaning: 'The external OpenID Connect provider cannot be reached; nothing was issued. Retry.', retryable: true },
};

/** RFC 6749 5.2 error codes for the standard token endpoint. */
export const oauthErrorOf: Partial<Record<AuthError, string>> = {
  INVALID_GRANT: 'invalid_grant',
  INVALID_CLIENT: 'invalid_client',
  UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
  INVALID_SCOPE: 'invalid_scope',
  VALIDATION_FAILED: 'invalid_request',
  MALFORMED_JSON: 'invalid_request',
  ACCOUNT_LOCKED: 'invalid_grant',
};
