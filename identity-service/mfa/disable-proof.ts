import { findRecoveryCode } from '../../platform/recovery-codes.js';
import { checkTotp, type TotpCheck } from '../../platform/totp.js';
import type { UserMfaRow } from '../store/mfa-store.js';
import { checkEmailedCode } from './emailed-code.js';
import type { PendingMfaState } from './pending-state.js';

/** What proves a user may turn MFA off: a current authenticator code, a code e-mailed for it, or a recovery code. */
export type DisableProof = { readonly passcode: string } | { readonly emailCode: string } | { readonly recoveryCode: string };

export type DisableProofCheck = {
  readonly accepted: boolean;
  /** The request field the proof came in, to name in a refusal. */
  readonly field: 'body.passcode' | 'body.emailCode' | 'body.recoveryCode';
  /** Why it was refused (logged, never sent). */
  readonly reason?: string;
  /** The pending state to store whatever the outcome: a wrong e-mailed code still spends an attempt. */
  readonly pending: PendingMfaState;
  /** The TOTP step a passcode used, so it stays spent. */
  readonly totpStep?: number;
  /** The outcome of an authenticator code, to be counted (see `totpAttemptChange`). */
  readonly totp?: TotpCheck;
};

/**
 * Checks a disable proof against the user's locked MFA row. Every kind is single use: the TOTP step must be
 * later than the last accepted one, the e-mailed code is dropped once matched, and a recovery code is
 * spent (with everything else) by the disable it proves.
 */
export async function checkDisableProof(input: {
  readonly row: UserMfaRow;
  readonly pending: PendingMfaState;
  /** The enabled TOTP secret, opened; undefined when the app factor is not enabled. */
  readonly totpSecret: string | undefined;
  readonly proof: DisableProof;
  readonly nowMs: number;
}): Promise<DisableProofCheck> {
  const { row, pending, proof } = input;
  if ('passcode' in proof) {
    if (input.totpSecret === undefined) return { accepted: false, field: 'body.passcode', reason: 'authenticator app not enabled', pending };
    const check = await checkTotp({ secret: input.totpSecret, passcode: proof.passcode, nowMs: input.nowMs, lastAcceptedStep: row.last_totp_step });
    return check.valid
      ? { accepted: true, field: 'body.passcode', pending, totpStep: check.step, totp: check }
      : { accepted: false, field: 'body.passcode', reason: `passcode ${check.reason}`, pending, totp: check };
  }
  if ('emailCode' in proof) {
    const check = checkEmailedCode(pending.disableCode, proof.emailCode, input.nowMs);
    const next: PendingMfaState = { ...pending, disableCode: check.next };
    return check.valid ? { accepted: true, field: 'body.emailCode', pending: next } : { accepted: false, field: 'body.emailCode', reason: `e-mailed code ${check.reason}`, pending: next };
  }
  const index = findRecoveryCode(proof.recoveryCode, row.recovery_code_hashes);
  return index >= 0 ? { accepted: true, field: 'body.recoveryCode', pending } : { accepted: false, field: 'body.recoveryCode', reason: 'recovery code unknown or used', pending };
}
