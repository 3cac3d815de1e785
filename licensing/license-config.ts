import { z } from 'zod';
import { Secret } from '../platform/secret.js';

const path = z.string().min(1).max(4096);

/**
 * The license variables both services read (spread into each service's config schema). Exactly one of
 * LICENSE_KEY/LICENSE_FILE and one of LICENSE_PUBLIC_KEY/LICENSE_PUBLIC_KEY_FILE; `loadLicense` says which
 * is missing, so the start refusal names the license rather than a generic config problem.
 */
export const licenseConfigShape = {
  /** The license token itself. */
  LICENSE_KEY: z.string().max(8_192).transform((value) => new Secret(value)).optional(),
  /** A file holding the license token (a mounted secret). */
  LICENSE_FILE: path.optional(),
  /** The vendor's Ed25519 public key, PEM (SPKI) or JWK. There is no built-in default. */
  LICENSE_PUBLIC_KEY: z.string().min(1).max(4_096).optional(),
  LICENSE_PUBLIC_KEY_FILE: path.optional(),
};

export interface LicenseSettings {
  readonly LICENSE_KEY?: Secret | undefined;
  readonly LICENSE_FILE?: string | undefined;
  readonly LICENSE_PUBLIC_KEY?: string | undefined;
  readonly LICENSE_PUBLIC_KEY_FILE?: string | undefined;
}
