import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const challengeIdShape = /^[A-Za-z0-9_-]{43}$/;
const tokenShape = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** A new challenge id: 32 random bytes, base64url (43 characters). */
export function newChallengeId(): string {
  return randomBytes(32).toString('base64url');
}

function signatureOf(secret: Buffer, challengeId: string): Buffer {
  return createHmac('sha256', secret).update(`am-mfa-token-v1:${challengeId}`).digest();
}

/** `mfaToken` = `<challengeId>.<HMAC-SHA256(MFA_SECRET, challengeId)>`, both base64url. */
export function signMfaToken(secret: Buffer, challengeId: string): string {
  if (!challengeIdShape.test(challengeId)) throw new RangeError('not a challenge id');
  return `${challengeId}.${signatureOf(secret, challengeId).toString('base64url')}`;
}

/** The challenge id of a genuine token, or undefined (malformed or tampered); the signature is compared in constant time. */
export function challengeIdOf(secret: Buffer, mfaToken: string): string | undefined {
  const match = tokenShape.exec(mfaToken);
  if (!match) return undefined;
  const [, challengeId, signature] = match as unknown as [string, string, string];
  const given = Buffer.from(signature, 'base64url');
  const expected = signatureOf(secret, challengeId);
  return given.length === expected.length && timingSafeEqual(given, expected) ? challengeId : undefined;
}

/** The stored form of an e-mailed or texted code: bound to its challenge, keyed by MFA_SECRET. */
export function hashOneTimeCode(secret: Buffer, challengeId: string, code: string): string {
  return createHmac('sha256', secret).update(`am-mfa-code-v1:${challengeId}:${code}`).digest('base64url');
}

/** Whether `code` is the one whose hash was stored (constant time). */
export function isOneTimeCode(secret: Buffer, challengeId: string, code: string, storedHash: string): boolean {
  const given = Buffer.from(hashOneTimeCode(secret, challengeId, code), 'base64url');
  const stored = Buffer.from(storedHash, 'base64url');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
