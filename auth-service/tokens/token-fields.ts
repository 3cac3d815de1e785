import { z } from 'zod';

/** Request fields both token codecs share: bounded before anything is hashed or looked up. */
// No control characters or lone surrogates: no stored name holds them, and PostgreSQL refuses NUL (a 500 before).
export const usernameField = z.string().min(1).max(256).regex(/^[^\p{Cc}\p{Cs}\u2028\u2029]+$/u, 'no control characters');
/** Passwords are taken byte-exact (no trim); anything longer than this is refused before hashing. */
export const passwordField = z.string().min(1).max(1024);
export const clientIdField = z.string().min(1).max(200).regex(/^[\x21-\x7E]+$/, 'printable ASCII');
export const clientSecretField = z.string().min(1).max(512);
export const refreshTokenField = z.string().min(1).max(512);
/** RFC 6749 3.3: space-separated scope tokens of NQCHAR. */
export const scopeField = z
  .string()
  .max(1000)
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens');
export const deviceTokenField = z.string().min(1).max(128);
