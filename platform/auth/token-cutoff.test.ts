import { describe, expect, it } from 'vitest';
import { issuedBeforeCutoff } from './token-cutoff.js';

describe('issuedBeforeCutoff', () => {
  const cutoffMs = 1_700_000_000_400;
  it('compares in whole seconds: the second of the cut-off and later pass, earlier seconds are refused', () => {
    expect(issuedBeforeCutoff(1_699_999_999, cutoffMs)).toBe(true);
    expect(issuedBeforeCutoff(1_700_000_000, cutoffMs)).toBe(false);
    expect(issuedBeforeCutoff(1_700_000_001, cutoffMs)).toBe(false);
  });
  it('no cut-off yet (-infinity from PostgreSQL) refuses nothing', () => {
    expect(issuedBeforeCutoff(0, Number('-Infinity'))).toBe(false);
    expect(issuedBeforeCutoff(0, -Infinity)).toBe(false);
  });
});
