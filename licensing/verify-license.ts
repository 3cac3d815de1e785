import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import {
  expiringSoonMs,
  licenseAlgorithm,
  licenseAudience,
  licenseClaimsSchema,
  licenseIssuer,
  licenseTokenType,
  type License,
} from './license-claims.js';
import { LicenseError } from './license-error.js';

// A license is a few hundred bytes; anything far larger is not one and is refused before parsing.
const maxTokenLength = 8_192;

export interface VerifyLicenseOptions {
  readonly token: string | undefined;
  readonly publicKey: KeyObject;
  readonly nowMs: number;
}

/**
 * Verifies a license offline against the vendor's public key: signature (EdDSA only), `typ`, issuer,
 * audience and expiry, then the claims. Throws a {@link LicenseError} naming what is wrong.
 *
 * @example
 * const license = await verifyLicense({ token, publicKey: parseLicensePublicKey(pem), nowMs: Date.now() });
 * license.expiringSoon // true within 14 days of expiry
 */
export async function verifyLicense(options: VerifyLicenseOptions): Promise<License> {
  const token = options.token?.trim();
  if (!token) throw new LicenseError('LICENSE_MISSING', 'no license was given');
  if (token.length > maxTokenLength) throw new LicenseError('LICENSE_MALFORMED', `the token is ${token.length} characters long`);
  let payload;
  try {
    ({ payload } = await jwtVerify(token, options.publicKey, {
      algorithms: [licenseAlgorithm],
      typ: licenseTokenType,
      issuer: licenseIssuer,
      audience: licenseAudience,
      requiredClaims: ['exp', 'iat', 'licensee'],
      currentDate: new Date(options.nowMs),
    }));
  } catch (error) {
    throw refusal(error);
  }
  const claims = licenseClaimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new LicenseError('LICENSE_MALFORMED', `bad claims: ${claims.error.issues.map((i) => `${i.path.join('.') || '(claims)'} ${i.message}`).join(', ')}`);
  }
  const expiresAtMs = claims.data.exp * 1000;
  return Object.freeze({
    licensee: claims.data.licensee,
    issuedAt: new Date(claims.data.iat * 1000),
    expiresAt: new Date(expiresAtMs),
    limits: Object.freeze(claims.data.limits),
    expiringSoon: expiresAtMs - options.nowMs <= expiringSoonMs,
  });
}

function refusal(error: unknown): LicenseError {
  // jose verifies the signature before any claim, so a claim error below comes from a genuine license.
  if (error instanceof errors.JWTExpired) {
    const licensee = typeof error.payload.licensee === 'string' ? ` (licensee ${JSON.stringify(error.payload.licensee.slice(0, 200))})` : '';
    const exp = typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000).toISOString() : 'an unknown date';
    return new LicenseError('LICENSE_EXPIRED', `the license expired on ${exp}${licensee}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSEAlgNotAllowed) {
    return new LicenseError('LICENSE_BAD_SIGNATURE', 'the signature does not verify');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss' || error.claim === 'aud') return new LicenseError('LICENSE_WRONG_ISSUER', `unexpected "${error.claim}" claim`);
    return new LicenseError('LICENSE_MALFORMED', `the "${error.claim}" claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}`);
  }
  return new LicenseError('LICENSE_MALFORMED', 'not a signed JWT');
}
