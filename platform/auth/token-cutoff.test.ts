import { describe, expect, it } from 'vitest';
import { issuedAtMs, issuedBeforeCutoff } from './token-cutoff.js';

describe('issuedBeforeCutoff', () => {
  const cutoffMs = 1_700_000_000_400;
  it('with iat_ms: compared to the millisecond, so the same second splits at the cut-off', () => {
    expect(issuedBeforeCutoff({ iat: 1_700_000_000, iat_ms: 1_700_000_000_399 }, cutoffMs)).toBe(true);
    expect(issuedBeforeCutoff({ iat: 1_700_000_000, iat_ms: 1_700_000_000_400 }, cutoffMs)).toBe(false);
    expect(issuedBeforeCutoff({ iat: 1_700_000_001, iat_ms: 1_700_000_001_000 }, cutoffMs)).toBe(false);
  });
  it('without iat_ms (or one that disagrees with iat): the start of the iat second', () => {
    expect(issuedBeforeCutoff({ iat: 1_700_000_000 }, cutoffMs)).toBe(true);
    expect(issuedBeforeCutoff({ iat: 1_700_000_001 }, cutoffMs)).toBe(false);
    expect(issuedAtMs({ iat: 1_700_000_000, iat_ms: 1_700_000_005_000 })).toBe(1_700_000_000_000);
    expect(issuedBeforeCutoff({ iat: 1_699_999_999, iat_ms: 1_700_000_000_999 }, cutoffMs)).toBe(true);
  });
  it('no cut-off yet (-infinity from PostgreSQL) refuses nothing; a token without iat is refused by any cut-off', () => {
    expect(issuedBeforeCutoff({ iat: 0 }, Number('-Infinity'))).toBe(false);
    expect(issuedBeforeCutoff({}, cutoffMs)).toBe(true);
    expect(issuedBeforeCutoff({ iat: '1700000001' }, cutoffMs)).toBe(true);
  });
});
