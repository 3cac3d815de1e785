import type { CodeOutcome } from '../../domain/mfa-attempts.js';
import { findRecoveryCode } from '../../domain/recovery-codes.js';
import { checkTotp } from '../../domain/totp.js';
import type { UserMfa } from '../../directory/mfa-factors.js';
import { checkEmailedCode } from './emailed-code.js';
import type { PendingMfaState } from './pending-state.js';

/**
 * What proves a user holds a current factor, before MFA is turned off or a factor is set up while one is enabled:
 * a current authenticator code, a code e-mailed for it, or a recovery code. A stolen access token alone proves
 * none of them, so it can neither remove the second factor nor swap in one of its own.
 */
export type FactorProof = { readonly passcode: string } | { readonly emailCode: string } | { readonly recoveryCode: string };

export type FactorProofCheck = {
  readonly accepted: boolean;
  /** The request field the proof came in, to name in a refusal. */
  readonly field: 'body.passcode' | 'body.emailCode' | 'body.recoveryCode';
  /** Why it was refused (logged, never sent). */
  readonly reason?: string;
  /** The pending state to store whatever the outcome: a wrong e-mailed code still spends an attempt, a used one is gone. */
  readonly pending: PendingMfaState;
  /** The TOTP step a passcode used, so it stays spent. */
  readonly totpStep?: number;
  /** The recovery code used (its index in `row.recoveryCodeHashes`), to spend unless everything is cleared anyway. */
  readonly recoveryCodeIndex?: number;
  /** The outcome of a one-time code (authenticator or e-mailed), to be counted (see `mfaAttemptChange`). */
  readonly counted?: CodeOutcome;
};

/** The proof a body carries, when it carries exactly one of `passcode`, `emailCode`, `recoveryCode`. */
export function factorProofOf(body: { passcode?: string | undefined; emailCode?: string | undefined; recoveryCode?: string | undefined }): FactorProof | undefined {
  if (body.passcode !== undefined) return { passcode: body.passcode };
  if (body.emailCode !== undefined) return { emailCode: body.emailCode };
  if (body.recoveryCode !== undefined) return { recoveryCode: body.recoveryCode };
  return undefined;
}

/**
 * Checks a proof against the user's locked MFA row. Every kind is single use: the TOTP step must be later than
 * the last accepted one, the e-mailed code is dropped once matched, and the caller spends the recovery code.
 */
export async function checkFactorProof(input: {
  readonly row: UserMfa;
  readonly pending: PendingMfaState;
  /** The enabled TOTP secret, opened; undefined when the app factor is not enabled. */
  readonly totpSecret: string | undefined;
  readonly proof: FactorProof;
  readonly nowMs: number;
}): Promise<FactorProofCheck> {
  const { row, pending, proof } = input;
  if ('passcode' in proof) {
    if (input.totpSecret === undefined) return { accepted: false, field: 'body.passcode', reason: 'authenticator app not enabled', pending };
    const check = await checkTotp({ secret: input.totpSecret, passcode: proof.passcode, nowMs: input.nowMs, lastAcceptedStep: row.lastTotpStep });
    return check.valid
      ? { accepted: true, field: 'body.passcode', pending, totpStep: check.step, counted: check }
      : { accepted: false, field: 'body.passcode', reason: `passcode ${check.reason}`, pending, counted: check };
  }
  if ('emailCode' in proof) {
    const check = checkEmailedCode(pending.disableCode, proof.emailCode, input.nowMs);
    const next: PendingMfaState = { ...pending, disableCode: check.next };
    return check.valid
      ? { accepted: true, field: 'body.emailCode', pending: next, counted: check }
      : { accepted: false, field: 'body.emailCode', reason: `e-mailed code ${check.reason}`, pending: next, counted: check };
  }
  const index = findRecoveryCode(proof.recoveryCode, row.recoveryCodeHashes);
  return index >= 0
    ? { accepted: true, field: 'body.recoveryCode', pending, recoveryCodeIndex: index }
    : { accepted: false, field: 'body.recoveryCode', reason: 'recovery code unknown or used', pending };
}
