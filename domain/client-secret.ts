import { randomBytes } from 'node:crypto';

const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const clientIdLength = 24;
// The largest multiple of 62 below 256: bytes at or above it are dropped so every character is equally likely.
const unbiasedLimit = 248;

/** A public, URL-safe client identifier: `am_` and 24 base62 characters (about 143 random bits). */
export function generateClientId(): string {
  let id = '';
  while (id.length < clientIdLength) {
    for (const byte of randomBytes(clientIdLength * 2)) {
      if (byte < unbiasedLimit && id.length < clientIdLength) id += base62[byte % 62];
    }
  }
  return `am_${id}`;
}

/** A client secret: 32 random bytes, base64url (256 bits). Shown once, at creation or rotation. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The slow, salted hasher the services hold (platform's argon2id password hasher). */
export interface SecretHasher {
  hash(secret: string): Promise<string>;
}

/**
 * Only an argon2id hash of a client secret is stored. A 256-bit random secret cannot be guessed from a fast
 * hash either, but the same slow, salted hash as for passwords means a leaked table or backup never yields a
 * usable credential whatever the secret's origin (imported or seeded ones included), and one verifier serves both.
 */
export function hashClientSecret(passwords: SecretHasher, secret: string): Promise<string> {
  return passwords.hash(secret);
}
