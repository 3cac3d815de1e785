import { platformCatalogue, type PlatformErrorCode } from '../platform/http/platform-errors.js';
import type { ErrorCatalogue } from '../platform/http/service-error.js';

/** Identity's own failures; the shared ones (validation, tokens, 404, 503...) come from the platform. */
export type IdentityErrorCode =
  | 'USERNAME_TAKEN'
  | 'EMAIL_TAKEN'
  | 'NAME_TAKEN'
  | 'CLIENT_ID_TAKEN'
  | 'WEAK_PASSWORD'
  | 'WRONG_PASSWORD'
  | 'GROUP_HAS_MEMBERS'
  | 'BUILTIN_READ_ONLY'
  | 'REFERENCE_NOT_FOUND'
  | 'PROVIDER_FIELD_IMMUTABLE'
  | 'PROVIDER_SEND_FAILED'
  | 'MFA_INVALID_CODE'
  | 'MFA_NOT_ENROLLED'
  | 'MFA_METHOD_NOT_ALLOWED'
  | 'CIDR_INVALID'
  | 'DECLARATION_FORBIDDEN'
  | 'LICENSE_LIMIT_REACHED'
  | 'IP_NOT_ALLOWED'
  | 'MFA_PROOF_REQUIRED'
  | 'ACCOUNT_LOCKED'
  | 'ESCALATION_REFUSED';

export type IdentityError = IdentityErrorCode | PlatformErrorCode;

/** The one table that maps Identity's failures to HTTP and the contract's IDE codes. */
export const identityCatalogue: ErrorCatalogue<IdentityError> = {
  ...platformCatalogue('IDE'),
  USERNAME_TAKEN: { status: 409, code: 'IDE-0100', title: 'Username already in use' },
  EMAIL_TAKEN: { status: 409, code: 'IDE-0101', title: 'E-mail already in use' },
  NAME_TAKEN: { status: 409, code: 'IDE-0102', title: 'Name already in use' },
  CLIENT_ID_TAKEN: { status: 409, code: 'IDE-0103', title: 'Client id already in use' },
  WEAK_PASSWORD: { status: 400, code: 'IDE-0104', title: 'Password does not meet the policy' },
  WRONG_PASSWORD: { status: 400, code: 'IDE-0105', title: 'Current password is wrong' },
  GROUP_HAS_MEMBERS: { status: 409, code: 'IDE-0106', title: 'Group still has members' },
  BUILTIN_READ_ONLY: { status: 409, code: 'IDE-0107', title: 'Built-in records are managed by the bootstrap reconciler' },
  REFERENCE_NOT_FOUND: { status: 400, code: 'IDE-0108', title: 'A referenced record does not exist' },
  PROVIDER_FIELD_IMMUTABLE: { status: 400, code: 'IDE-0110', title: 'Provider category and type cannot change' },
  PROVIDER_SEND_FAILED: { status: 502, code: 'IDE-0111', title: 'The provider did not accept the message', retryable: true },
  MFA_INVALID_CODE: { status: 400, code: 'IDE-0112', title: 'Invalid MFA code' },
  MFA_NOT_ENROLLED: { status: 409, code: 'IDE-0113', title: 'MFA is not set up for this user' },
  MFA_METHOD_NOT_ALLOWED: { status: 400, code: 'IDE-0114', title: 'MFA method not allowed by the organization' },
  CIDR_INVALID: { status: 400, code: 'IDE-0115', title: 'Invalid CIDR' },
  DECLARATION_FORBIDDEN: { status: 403, code: 'IDE-0116', title: 'Only the product application itself may publish its declaration' },
  LICENSE_LIMIT_REACHED: { status: 403, code: 'IDE-0117', title: 'The license does not allow more of these' },
  MFA_PROOF_REQUIRED: { status: 403, code: 'IDE-0118', title: 'Proof of a current MFA factor is required: a passcode, an e-mailed code or a recovery code' },
  ACCOUNT_LOCKED: { status: 429, code: 'IDE-0119', title: 'Too many wrong passwords; try again later', retryable: true },
  // The body's `missing` lists the (resource, action) pairs the caller would have to hold itself.
  ESCALATION_REFUSED: { status: 403, code: 'IDE-0120', title: 'Nobody may give more than they hold' },
  IP_NOT_ALLOWED: { status: 403, code: 'IDE-0121', title: 'Client address not allowed for this organization' },
};
