/**
 * Whether a token was issued before its subject's cut-off (`tokens_valid_after`: a password change, a disable,
 * a secret rotation, an MFA reset). `iat` has whole seconds, so the cut-off is compared in whole seconds: a token
 * Auth signs in the same second as the cut-off (a sign-in right after a rotation) is accepted, at the price of
 * also accepting one signed earlier in that second. No cut-off yet (`-infinity`) refuses nothing.
 */
export function issuedBeforeCutoff(iatSeconds: number, cutoffMs: number): boolean {
  return Number.isFinite(cutoffMs) && iatSeconds < Math.floor(cutoffMs / 1000);
}
