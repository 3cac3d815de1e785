import { createHash, timingSafeEqual } from 'node:crypto';

// RFC 7636 4.1-4.2: a verifier is 43-128 unreserved characters; an S256 challenge is its SHA-256, base64url, 43 characters.
const verifierShape = /^[A-Za-z0-9._~-]{43,128}$/;
const challengeShape = /^[A-Za-z0-9_-]{43}$/;

export function isS256Challenge(challenge: string): boolean {
  return challengeShape.test(challenge);
}

/** Whether `verifier` is the one the S256 `challenge` was made from (compared in constant time). */
export function verifiesS256Challenge(verifier: string, challenge: string): boolean {
  if (!verifierShape.test(verifier) || !challengeShape.test(challenge)) return false;
  const digest = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'), 'ascii');
  return timingSafeEqual(digest, Buffer.from(challenge, 'ascii'));
}
