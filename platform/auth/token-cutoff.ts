/** The claim in which Auth also writes the issue time in milliseconds (`iat` has whole seconds only). */
export const issuedAtMsClaim = 'iat_ms';

/**
 * When a token was issued, in milliseconds: `iat_ms` when it agrees with `iat` (both are signed by Auth), else
 * the start of `iat`'s second. NaN when the token has no numeric `iat`.
 */
export function issuedAtMs(claims: Readonly<Record<string, unknown>>): number {
  const iat = claims.iat;
  if (typeof iat !== 'number') return Number.NaN;
  const ms = claims[issuedAtMsClaim];
  return typeof ms === 'number' && Number.isInteger(ms) && Math.floor(ms / 1000) === iat ? ms : iat * 1000;
}

/**
 * Whether a token was issued before its subject's cut-off (`tokens_valid_after`: a password change, a disable,
 * a secret rotation, an MFA reset). Compared in milliseconds through `iat_ms`, so a sign-in right after a
 * rotation works while a token signed earlier in the same second does not; a token without `iat_ms` counts
 * from the start of its `iat` second (refused if the cut-off falls in that second). No cut-off yet
 * (`-infinity`) refuses nothing; a token without `iat` is refused by any cut-off.
 */
export function issuedBeforeCutoff(claims: Readonly<Record<string, unknown>>, cutoffMs: number): boolean {
  return Number.isFinite(cutoffMs) && !(issuedAtMs(claims) >= cutoffMs);
}
