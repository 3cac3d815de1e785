import { z } from 'zod';

/** `iss` of every license; a token from another issuer (an access token, another product) is refused. */
export const licenseIssuer = 'access-manager-licensing';
/** `aud` of every license. */
export const licenseAudience = 'access-manager';
/** JOSE `typ` header of a license, so no other JWT signed with the same key can pass for one. */
export const licenseTokenType = 'am-license+jwt';
/** The only signature algorithm accepted (Ed25519). */
export const licenseAlgorithm = 'EdDSA';

/** What a license may cap. Absent means unlimited; Identity refuses a create past a cap (identity-service/license-limits.ts). */
export const licenseLimitsSchema = z
  .object({
    maxOrganizations: z.number().int().min(1).max(1_000_000_000).optional(),
    maxUsers: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .strict();

export type LicenseLimits = z.infer<typeof licenseLimitsSchema>;

/** The claims a verified license must carry beyond iss/aud/exp/iat, which jose checks. */
export const licenseClaimsSchema = z.object({
  licensee: z.string().trim().min(1).max(200),
  limits: licenseLimitsSchema.default({}),
  exp: z.number().int().positive(),
  iat: z.number().int().positive(),
});

/** A verified license. */
export interface License {
  readonly licensee: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly limits: LicenseLimits;
  /** Expires within {@link expiringSoonMs} of the time it was verified at. */
  readonly expiringSoon: boolean;
}

/** How long before expiry a license is reported as expiring (14 days). */
export const expiringSoonMs = 14 * 86_400_000;
