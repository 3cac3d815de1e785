import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How many one-time recovery codes a user receives at each MFA setup. */
export const recoveryCodeCount = 10;

// 32 symbols without 0/O and 1/I: a byte's low five bits pick one uniformly.
const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const symbolsPerCode = 16; // 80 bits
const groupLength = 4;

/**
 * New recovery codes such as `7KQ4-XM2P-9HTA-WC3N`, 80 random bits each. They are shown to the user once;
 * only `hashRecoveryCode` of each is stored.
 */
export function generateRecoveryCodes(count: number = recoveryCodeCount): string[] {
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    const symbols = [...randomBytes(symbolsPerCode)].map((byte) => alphabet[byte & 31]).join('');
    const groups: string[] = [];
    for (let at = 0; at < symbols.length; at += groupLength) groups.push(symbols.slice(at, at + groupLength));
    codes.push(groups.join('-'));
  }
  return codes;
}

/** What a user may type for a code: any case, with or without dashes and spaces. */
export function normalizeRecoveryCode(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

/**
 * The stored form of a recovery code. The codes carry 80 random bits, so a plain SHA-256 (domain-separated)
 * resists guessing without a slow password hash.
 */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(`am-recovery-code-v1:${normalizeRecoveryCode(code)}`).digest('hex');
}

/**
 * The index in `hashes` of the code's hash, or -1. Every stored hash is compared in constant time, whatever
 * the input's length, so timing reveals neither a match's position nor a near miss.
 */
export function findRecoveryCode(code: string, hashes: readonly string[]): number {
  const candidate = Buffer.from(hashRecoveryCode(code), 'hex');
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = Buffer.from(hash, 'hex');
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate) && found === -1) found = index;
  });
  return found;
}
