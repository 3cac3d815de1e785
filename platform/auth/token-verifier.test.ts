import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tokenDigest } from './token-verifier.js';

describe('tokenDigest', () => {
  it('is the SHA-256 of the token, base64url (FIPS 180-2 "abc" vector): keys replicas already share in Valkey keep matching', () => {
    expect(tokenDigest('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('equals the streaming digest on tokens of every length up to the bearer limit', () => {
    const seed = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl-_';
    for (let length = 0; length <= 8_192; length += 97) {
      const token = seed.repeat(Math.ceil(length / seed.length) + 1).slice(0, length);
      expect(tokenDigest(token)).toBe(createHash('sha256').update(token).digest('base64url'));
    }
  });
});
