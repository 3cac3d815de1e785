import { platformCatalogue, type PlatformErrorCode } from '../platform/http/platform-errors.js';
import type { ErrorCatalogue } from '../platform/http/service-error.js';

declare module '../platform/http/service-error.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- registers this service's codes
  interface ServiceErrorCodes extends Record<IdentityErrorCode, true> {}
}

/** Identity's own failures; the shared ones (validation, tokens, 404, 503...) come from the platform. */
export type IdentityErrorCode =
  | 'PRECONDITION_FAILED'
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
  | 'MFA_CODE_INVALID'
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
  PRECONDITION_FAILED: { status: 412, code: 'IDE-0014', title: 'Precondition failed', meaning: 'If-Match names a version that is no longer current: someone else changed the record; read it again and retry.' },
  USERNAME_TAKEN: { status: 409, code: 'IDE-0100', title: 'Username already in use', meaning: 'Another user of the organization has this username (compared case-folded, NFKC).' },
  EMAIL_TAKEN: { status: 409, code: 'IDE-0101', title: 'E-mail already in use', meaning: 'Another user of the organization has this e-mail address.' },
  NAME_TAKEN: { status: 409, code: 'IDE-0102', title: 'Name already in use', meaning: 'Another record of this kind in the organization has this name (compared case-folded, NFKC).' },
  CLIENT_ID_TAKEN: { status: 409, code: 'IDE-0103', title: 'Client id already in use', meaning: 'Another application already has this client id.' },
  WEAK_PASSWORD: { status: 400, code: 'IDE-0104', title: 'Password does not meet the policy', meaning: 'The new password breaks the password policy (length, character classes, not the username); `message` says which rule.' },
  WRONG_PASSWORD: { status: 400, code: 'IDE-0105', title: 'Current password is wrong', meaning: "The current password given to change one's own password is wrong; it counts toward the account's sign-in lock." },
  GROUP_HAS_MEMBERS: { status: 409, code: 'IDE-0106', title: 'Group still has members', meaning: 'A group is deleted only once it has no members.' },
  BUILTIN_READ_ONLY: { status: 409, code: 'IDE-0107', title: 'Built-in records are managed by the bootstrap reconciler', meaning: "Built-in records (the seed's administrator, groups, roles, applications) change only through the bootstrap reconciler." },
  REFERENCE_NOT_FOUND: { status: 400, code: 'IDE-0108', title: 'A referenced record does not exist', meaning: "The body names a record (a group, a role, a user, an application, a provider) that does not exist in the caller's organization; nothing was written." },
  PROVIDER_FIELD_IMMUTABLE: { status: 400, code: 'IDE-0110', title: 'Provider category and type cannot change', meaning: "A provider's category and type are fixed once created; create another provider instead." },
  PROVIDER_SEND_FAILED: { status: 502, code: 'IDE-0111', title: 'The provider did not accept the message', meaning: 'The provider (SMTP, SendGrid, Twilio, webhook) did not accept the test message; its answer is logged, not shown.', retryable: true },
  MFA_CODE_INVALID: { status: 400, code: 'IDE-0112', title: 'Invalid MFA code', meaning: "The second-factor code or recovery code is wrong, expired or already used; a wrong six-digit code counts toward the user's MFA lock." },
  MFA_NOT_ENROLLED: { status: 409, code: 'IDE-0113', title: 'MFA is not set up for this user', meaning: 'The user has no factor of this kind set up (or the setup to verify or enable is missing).' },
  MFA_METHOD_NOT_ALLOWED: { status: 400, code: 'IDE-0114', title: 'MFA method not allowed by the organization', meaning: "The organization's MFA settings do not allow this method." },
  CIDR_INVALID: { status: 400, code: 'IDE-0115', title: 'Invalid CIDR', meaning: 'An allowlist entry is not a valid CIDR range, or the list would lock out the administrator setting it.' },
  DECLARATION_FORBIDDEN: { status: 403, code: 'IDE-0116', title: 'Only the product application itself may publish its declaration', meaning: "A product's declaration is accepted only from the product's own application." },
  LICENSE_LIMIT_REACHED: { status: 403, code: 'IDE-0117', title: 'The license does not allow more of these', meaning: "The license's limit for this kind of record (organizations, users, applications) is reached." },
  MFA_PROOF_REQUIRED: { status: 403, code: 'IDE-0118', title: 'Proof of a current MFA factor is required: a passcode, an e-mailed code or a recovery code', meaning: 'Changing the second factor while one is enabled needs proof of a current one: a passcode, an e-mailed code or a recovery code.' },
  ACCOUNT_LOCKED: { status: 429, code: 'IDE-0119', title: 'Too many wrong passwords; try again later', meaning: "Too many wrong current passwords (the account's sign-in lock); wait for Retry-After.", retryable: true },
  // The body's `missing` lists the (resource, action) pairs the caller would have to hold itself.
  ESCALATION_REFUSED: { status: 403, code: 'IDE-0120', title: 'Nobody may give more than they hold', meaning: 'Nobody may give more than they hold: `missing` lists the (resource, action) pairs the caller would have to hold. Nothing was written.' },
  IP_NOT_ALLOWED: { status: 403, code: 'IDE-0121', title: 'Client address not allowed for this organization', meaning: "The caller's address is outside the organization's identity allowlist." },
};
