import { ConfigError } from '../platform/config-error.js';

/** Why a license was refused; each names one thing an operator can fix. */
export type LicenseErrorCode =
  | 'LICENSE_MISSING'
  | 'LICENSE_MALFORMED'
  | 'LICENSE_BAD_SIGNATURE'
  | 'LICENSE_WRONG_ISSUER'
  | 'LICENSE_EXPIRED'
  | 'LICENSE_PUBLIC_KEY_INVALID';

const hints: Record<LicenseErrorCode, string> = {
  LICENSE_MISSING: 'set LICENSE_KEY (the token) or LICENSE_FILE (a file holding it)',
  LICENSE_MALFORMED: 'the license is not a well-formed Access Manager license token; paste it again exactly as issued',
  LICENSE_BAD_SIGNATURE: 'the license was not signed by the key in LICENSE_PUBLIC_KEY (forged, altered, or issued by another vendor key)',
  LICENSE_WRONG_ISSUER: 'the license was not issued for Access Manager',
  LICENSE_EXPIRED: 'ask your vendor for a renewed license',
  LICENSE_PUBLIC_KEY_INVALID: 'set LICENSE_PUBLIC_KEY (or LICENSE_PUBLIC_KEY_FILE) to the vendor\'s Ed25519 public key, PEM or JWK',
};

/**
 * A license refused at start. It is a configuration problem, so whatever refuses a bad configuration (exit 78
 * with the message) refuses it too. The message says what is wrong and what to do, never the token itself.
 */
export class LicenseError extends ConfigError {
  readonly code: LicenseErrorCode;

  constructor(code: LicenseErrorCode, detail: string) {
    super([`license refused (${code}): ${detail}; ${hints[code]}`]);
    this.name = 'LicenseError';
    this.code = code;
  }
}

export function isLicenseError(error: unknown): error is LicenseError {
  return error instanceof LicenseError;
}
