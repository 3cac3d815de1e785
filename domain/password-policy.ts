import { canonicalName } from './canonical-name.js';

/** Bounds in code points (a 128-character password of astral characters is 256 UTF-16 units). */
export const passwordMinLength = 12;
export const passwordMaxLength = 128;
/** What a request schema may accept before the policy counts code points: bounds the work before hashing. */
export const passwordMaxUtf16Units = passwordMaxLength * 2;

export type PasswordRule = 'length' | 'encoding' | 'classes' | 'username' | 'common';

export interface PasswordProblem {
  readonly rule: PasswordRule;
  readonly message: string;
}

// Among the most used passwords of public breach corpora. Short ones still matter:
// a password that is one of them plus trailing digits and symbols ("Password1234!") is refused too.
const commonPasswords: ReadonlySet<string> = new Set([
  '123456', '123456789', '12345678', '1234567890', '12345', '1234567', 'password', 'qwerty', 'qwerty123', '111111',
  '123123', 'abc123', '000000', '1q2w3e4r', '1q2w3e4r5t6y', 'qwertyuiop', 'iloveyou', 'admin', 'welcome', 'monkey',
  'dragon', 'letmein', 'football', 'baseball', 'sunshine', 'princess', 'master', 'shadow', 'superman', 'michael',
  'login', 'starwars', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'trustno1', 'whatever', 'freedom', 'hello', 'charlie',
  'donald', 'batman', 'access', 'zaq12wsx', 'qazwsx', 'asdfghjkl', 'asdfgh', 'zxcvbnm', 'changeme', 'secret',
  'password1', 'password12', 'password123', 'password1234', 'password12345', 'password123456', 'passwordpassword',
  'qwerty123456', 'qwertyuiop123', 'qwertyuiopasdfghjkl', 'q1w2e3r4t5y6', '1qaz2wsx3edc', '1qaz2wsx3edc4rfv',
  'zaq1zaq1zaq1', '123456789012', '1234567890123', '12345678910', '123456123456', '123123123123', '111111111111',
  '000000000000', '987654321098', 'abcdefghijkl', 'abcd1234abcd', 'abc123abc123', 'iloveyou1234', 'iloveyou123456',
  'welcome12345', 'welcome123456', 'letmein12345', 'letmein123456', 'changeme1234', 'administrator',
  'administrator1', 'admin123456789', 'adminadmin123', 'football1234', 'baseball1234', 'sunshine1234',
  'princess1234', 'superman1234', 'starwars1234', 'monkey123456', 'dragon123456', 'master123456', 'shadow123456',
  'trustno1trustno1', 'correcthorsebatterystaple', 'thequickbrownfox', 'mypassword123', 'mysecretpassword',
  'default12345', 'guest12345678', 'test12345678', 'testtest1234', 'summer2024', 'winter2024', 'spring2024',
  'autumn2024', 'company12345', 'lerian123456',
]);

const lower = /\p{Ll}/u;
const upper = /\p{Lu}/u;
const digit = /\p{Nd}/u;
const other = /[^\p{Ll}\p{Lu}\p{Nd}]/u;
// With the u flag a lone surrogate is a code point of category Cs: it has no UTF-8 form, so hashing it
// would silently turn it into U+FFFD and two different passwords into one.
const loneSurrogate = /\p{Cs}/u;
const trailingDigitsAndSymbols = /[^\p{L}]+$/u;

/**
 * The first rule `password` breaks, or undefined when it is acceptable. Passwords are judged byte-exact:
 * nothing is trimmed or normalised away, any Unicode is allowed, and lengths count code points.
 */
export function passwordProblem(password: string, username?: string): PasswordProblem | undefined {
  if (loneSurrogate.test(password)) return { rule: 'encoding', message: 'the password is not valid Unicode text' };
  const length = [...password].length;
  if (length < passwordMinLength || length > passwordMaxLength) {
    return { rule: 'length', message: `the password must be ${passwordMinLength} to ${passwordMaxLength} characters long` };
  }
  const canonical = canonicalName(password);
  if (username !== undefined && canonical.includes(canonicalName(username))) {
    return { rule: 'username', message: 'the password must not contain the username' };
  }
  if (commonPasswords.has(canonical) || commonPasswords.has(canonical.replace(trailingDigitsAndSymbols, ''))) {
    return { rule: 'common', message: 'the password is too common' };
  }
  const classes = [lower, upper, digit, other].filter((pattern) => pattern.test(password)).length;
  if (classes < 3) {
    return { rule: 'classes', message: 'the password must mix at least 3 of: lower-case letters, upper-case letters, digits, other characters' };
  }
  return undefined;
}
