import { platformCatalogue, type PlatformErrorCode } from '../platform/http/platform-errors.js';
import type { ErrorCatalogue } from '../platform/http/service-error.js';

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
  INVALID_GRANT: { status: 400, code: 'AUT-0100', title: 'Invalid credentials or grant' },
  INVALID_CLIENT: { status: 401, code: 'AUT-0101', title: 'Invalid client' },
  UNSUPPORTED_GRANT_TYPE: { status: 400, code: 'AUT-0102', title: 'Unsupported grant type' },
  INVALID_SCOPE: { status: 400, code: 'AUT-0103', title: 'Invalid scope' },
  ACCOUNT_LOCKED: { status: 429, code: 'AUT-0104', title: 'Too many failed sign-ins; try again later', retryable: true },
  IP_NOT_ALLOWED: { status: 403, code: 'AUT-0105', title: 'Client address not allowed for this organization' },
  MFA_TOKEN_INVALID: { status: 401, code: 'AUT-0106', title: 'MFA challenge expired or invalid' },
  MFA_CODE_INVALID: { status: 400, code: 'AUT-0107', title: 'Invalid MFA code' },
  MFA_ATTEMPTS_EXHAUSTED: { status: 429, code: 'AUT-0108', title: 'Too many MFA attempts; sign in again' },
  MFA_RESEND_LIMIT: { status: 429, code: 'AUT-0109', title: 'Too many codes sent; sign in again' },
  MFA_METHOD_UNAVAILABLE: { status: 400, code: 'AUT-0110', title: 'MFA method not available for this user' },
  MFA_ENROLMENT_REQUIRED: { status: 403, code: 'AUT-0112', title: 'MFA is required but no method is available for this user' },
  MFA_DELIVERY_FAILED: { status: 503, code: 'AUT-0113', title: 'The MFA code could not be sent; try again', retryable: true },
  IDENTITY_PROVIDER_UNAVAILABLE: { status: 503, code: 'AUT-0111', title: 'Identity provider unavailable', retryable: true },
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
