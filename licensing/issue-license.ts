import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { licenseAlgorithm, licenseAudience, licenseIssuer, licenseLimitsSchema, licenseTokenType, type LicenseLimits } from './license-claims.js';

export interface IssueLicenseOptions {
  readonly privateKey: KeyObject;
  readonly licensee: string;
  readonly validForDays: number;
  readonly limits?: LicenseLimits;
  readonly nowMs: number;
}

/** Signs a license token (a JWT, EdDSA over Ed25519) for `licensee`, valid from now for `validForDays`. */
export async function issueLicense(options: IssueLicenseOptions): Promise<string> {
  const licensee = options.licensee.trim();
  if (licensee.length === 0 || licensee.length > 200) throw new RangeError('licensee must be 1-200 characters');
  if (!Number.isFinite(options.validForDays) || options.validForDays <= 0 || options.validForDays > 36_500) {
    throw new RangeError('validForDays must be more than 0 and at most 36500');
  }
  const limits = licenseLimitsSchema.parse(options.limits ?? {});
  const issuedAt = Math.floor(options.nowMs / 1000);
  return new SignJWT({ licensee, limits })
    .setProtectedHeader({ alg: licenseAlgorithm, typ: licenseTokenType })
    .setIssuer(licenseIssuer)
    .setAudience(licenseAudience)
    .setSubject(licensee)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + Math.round(options.validForDays * 86_400))
    .sign(options.privateKey);
}
