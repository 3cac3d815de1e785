import { generate, generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 parameters every authenticator app understands: HMAC-SHA-1, 6 digits, 30-second steps. */
export const totpPeriodSeconds = 30;
export const totpDigits = 6;
/** Steps accepted either side of the server's current step (RFC 6238 §5.2: at most one). */
export const totpWindowSteps = 1;

const algorithm = 'sha1';
const passcodeShape = /^[0-9]{6}$/;

/** A new TOTP secret: 20 random bytes (160 bits, RFC 4226 §4 R6), Base32 as authenticator apps expect. */
export function createTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The RFC 6238 time step that contains `nowMs` (T0 = 0). */
export function totpStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / totpPeriodSeconds);
}

/**
 * The `otpauth://totp/...` URL an authenticator app scans. A colon separates issuer and account in the
 * label (Key Uri Format), so neither may contain one.
 */
export function totpUri(options: { secret: string; issuer: string; accountName: string }): string {
  const clean = (value: string) => value.replace(/:/g, '').trim() || '-';
  return generateURI({
    issuer: clean(options.issuer),
    label: clean(options.accountName),
    secret: options.secret,
    algorithm,
    digits: totpDigits,
    period: totpPeriodSeconds,
  });
}

/** The code of `secret` at `nowMs` (for tests and tools; the server never needs to show a code). */
export function totpCodeAt(secret: string, nowMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(nowMs / 1000), algorithm, digits: totpDigits, period: totpPeriodSeconds });
}

/** A verification outcome: the step a code matched, or why it was refused. */
export type TotpCheck = { readonly valid: true; readonly step: number } | { readonly valid: false; readonly reason: 'wrong_code' | 'replayed' };

/**
 * Checks a passcode against a secret at the server's time with a ±1 step window, accepting only steps after
 * `lastAcceptedStep`: a code is good at most once, and once a step is used no earlier step is accepted
 * either (RFC 6238 §5.2, NIST SP 800-63B §5.1.4.2). The caller persists the returned `step` as the new
 * last accepted step in the same transaction that read the old one (SELECT ... FOR UPDATE), so two
 * concurrent uses of one code cannot both succeed.
 *
 * @example
 * const check = await checkTotp({ secret, passcode: '123456', nowMs: clock.nowMs(), lastAcceptedStep: row.lastStep });
 * if (check.valid) await saveLastStep(check.step);
 */
export async function checkTotp(input: { secret: string; passcode: string; nowMs: number; lastAcceptedStep: number }): Promise<TotpCheck> {
  if (!passcodeShape.test(input.passcode)) return { valid: false, reason: 'wrong_code' };
  const options = {
    secret: input.secret,
    token: input.passcode,
    epoch: Math.floor(input.nowMs / 1000),
    epochTolerance: totpWindowSteps * totpPeriodSeconds,
    algorithm,
    digits: totpDigits,
    period: totpPeriodSeconds,
  } as const;
  const lastStep = Math.max(0, Math.floor(input.lastAcceptedStep));
  // otplib refuses an afterTimeStep beyond the window; then every step in reach is already used.
  if (lastStep < totpStepAt(input.nowMs) + totpWindowSteps) {
    const fresh = await verify({ ...options, afterTimeStep: lastStep });
    if (fresh.valid && 'timeStep' in fresh) return { valid: true, step: fresh.timeStep };
  }
  const anyStep = await verify(options);
  return { valid: false, reason: anyStep.valid ? 'replayed' : 'wrong_code' };
}
