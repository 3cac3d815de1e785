import { hkdfSync } from 'node:crypto';
import { redactedBytes } from './secret.js';

/**
 * A 32-byte key for one purpose, derived from a service's root secret with HKDF-SHA256 (RFC 5869), the purpose
 * as `info`. Keys of different purposes are independent: one in use (or leaked) tells nothing of the root secret
 * or of another purpose's key, so a secret the operator already keeps can serve a new use without a new variable.
 *
 * @example
 * const entryKey = derivedKey(Buffer.from(config.SECRETS_ENCRYPTION_KEY.reveal(), 'base64'), tokenCacheKeyPurpose);
 */
export function derivedKey(rootSecret: Buffer, purpose: string): Buffer {
  if (rootSecret.length < 32) throw new RangeError('the root secret must be at least 32 bytes');
  return redactedBytes(Buffer.from(hkdfSync('sha256', rootSecret, Buffer.alloc(0), purpose, 32)));
}
