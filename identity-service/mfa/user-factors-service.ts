import { clearUserMfa, findUserMfa, lockUserMfa, updateUserMfa, type MfaMethod, type UserMfaChange } from '../../directory/mfa-factors.js';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from '../../domain/recovery-codes.js';
import { checkTotp, createTotpSecret, totpUri } from '../../domain/totp.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { assertMayChangeCredentials } from '../no-escalation.js';
import type { WriteRequest } from '../record-change.js';
import { runWrite } from '../write-transaction.js';
import { checkEmailedCode, issueEmailedCode } from './emailed-code.js';
import { factorProofOf, type FactorProof } from './factor-proof.js';
import { findMfaSettings } from './mfa-settings-store.js';
import { limitsOf, statusOf, type MfaStatus } from './mfa-views.js';
import { openPendingState, sealPendingState, totpSecretBox, type PendingEnrolment, type PendingMfaState } from './pending-state.js';
import {
  assertNotLocked,
  codeAttempts,
  credentialsOwner,
  deliver,
  invalidCode,
  notEnrolled,
  proveFactor,
  requireSender,
  sameSecret,
  saveAttempts,
  selfUser,
  spentProof,
  userInTenant,
} from './user-factor-checks.js';

/** The issuer shown by authenticator apps next to the account. */
const totpIssuer = 'Access Manager';

/** What a setup answers, once: the TOTP secret and its URL (app) and the new recovery codes. */
export interface FactorSetup {
  readonly secret?: string;
  readonly url?: string;
  readonly recoveryCodes: string[];
  readonly mfaType: MfaMethod;
  readonly enabled: false;
}

type ProofInput = { readonly passcode?: string | undefined; readonly emailCode?: string | undefined; readonly recoveryCode?: string | undefined };

/**
 * A user's second factors: set up (a pending factor and new recovery codes), verify, enable, prefer, prove a
 * current factor by e-mail, disable (with a proof) and the administrator's reset. Everything single-use is read
 * and spent under the user's `user_mfa` row lock; a refused code is returned from the transaction rather than
 * thrown, so what it spent (a wrong code's count, an e-mailed code's attempt) commits.
 */
export function userFactorsService(deps: IdentityDeps) {
  return {
    /** The status (never a secret); the caller is the user or allowed `mfa` `get` (the route decides). */
    async status(request: WriteRequest, userId: string): Promise<MfaStatus> {
      const user = await userInTenant(deps, request.caller, userId);
      return statusOf(await findUserMfa(deps.pool, request.caller.tenantId, user.id));
    },

    /** Starts setting up a factor; while one is enabled, a proof of it is required (a stolen token cannot swap in its own). */
    async setup(request: WriteRequest, userId: string, input: ProofInput & { readonly mfaType: MfaMethod }): Promise<{ setup: FactorSetup; policyRevision: number }> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const settings = await findMfaSettings(deps.pool, caller.tenantId);
      if (!settings.allowedMethods.includes(input.mfaType)) throw new ServiceError('MFA_METHOD_NOT_ALLOWED', { field: 'body.mfaType' });
      // A code sent by SMS goes to the user's own number: without one there is nothing to set up.
      const codeTo = input.mfaType === 'sms' ? user.phoneNumber : user.email;
      if (codeTo === null) throw new ServiceError('VALIDATION_FAILED', { message: 'the user has no phone number: set phoneNumber first', field: 'body.mfaType' });
      const send = input.mfaType === 'app' ? undefined : requireSender(deps);
      const proof = factorProofOf(input);
      const recoveryCodes = generateRecoveryCodes();
      const secret = input.mfaType === 'app' ? createTotpSecret() : undefined;
      const nowMs = deps.clock.nowMs();
      const { value: outcome, policyRevision } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        let pending: PendingMfaState;
        let spent: UserMfaChange = {};
        if (statusOf(row).enabled) {
          if (!proof) throw new ServiceError('MFA_PROOF_REQUIRED', { detail: 'setup while a factor is enabled, without proof' });
          const check = await proveFactor(deps, tx, row, proof, nowMs);
          if (!check.accepted) return { refused: check, code: undefined };
          pending = check.pending;
          spent = spentProof(row, check);
        } else {
          pending = openPendingState(deps.secrets, row);
        }
        let enrolment: PendingEnrolment = { method: input.mfaType, totpSecret: secret, lastStep: 0, recoveryCodeHashes: recoveryCodes.map(hashRecoveryCode), verified: false };
        let code: string | undefined;
        // A code sent by e-mail or SMS: the same short-lived, counted, single-use code (kept as `emailCode`).
        if (input.mfaType !== 'app') {
          const previous = pending.enrolment?.method === input.mfaType ? pending.enrolment.emailCode : undefined;
          const issued = issueEmailedCode(previous, limitsOf(settings), nowMs);
          if (!issued.ok) throw new ServiceError('RATE_LIMITED', { message: 'too many codes sent; wait for the last one to expire' });
          enrolment = { ...enrolment, emailCode: issued.state };
          code = issued.code;
        }
        // Replaces a pending enrolment; an enabled factor stays in force until this one is enabled.
        await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment }), ...spent });
        tx.audit({ action: 'mfa.setup', targetType: 'user', targetId: user.id, after: { mfaType: input.mfaType, ...(statusOf(row).enabled && proof ? { proof: Object.keys(proof)[0] } : {}) } });
        return { refused: undefined, code };
      });
      if (outcome.refused) throw invalidCode(outcome.refused.field, outcome.refused.reason ?? 'refused');
      if (send && outcome.code !== undefined) await deliver(send, caller.tenantId, codeTo, outcome.code, input.mfaType === 'sms' ? 'sms' : 'email');
      const totp = secret === undefined ? {} : { secret, url: totpUri({ secret, issuer: totpIssuer, accountName: user.username }) };
      return { setup: { ...totp, recoveryCodes, mfaType: input.mfaType, enabled: false }, policyRevision };
    },

    /** Verifies a code of the pending factor (or of the enabled authenticator); each code is accepted once. */
    async verify(request: WriteRequest, userId: string, input: { readonly passcode: string; readonly mfaType: MfaMethod; readonly secret?: string | undefined }): Promise<void> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const nowMs = deps.clock.nowMs();
      const { value: refusal } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        assertNotLocked(row, nowMs);
        const pending = openPendingState(deps.secrets, row);
        const enrolment = pending.enrolment?.method === input.mfaType ? pending.enrolment : undefined;
        if (enrolment) {
          if (input.secret !== undefined && !(enrolment.totpSecret !== undefined && sameSecret(input.secret, enrolment.totpSecret))) {
            return { field: 'body.secret', reason: 'secret differs from the pending one' };
          }
          let verified: PendingEnrolment | undefined;
          let reason = 'wrong code';
          let attempts: UserMfaChange;
          if (enrolment.totpSecret !== undefined) {
            const check = await checkTotp({ secret: enrolment.totpSecret, passcode: input.passcode, nowMs, lastAcceptedStep: enrolment.lastStep });
            attempts = await codeAttempts(tx, row, check, nowMs);
            if (check.valid) verified = { ...enrolment, verified: true, lastStep: check.step };
            else reason = `pending passcode ${check.reason}`;
          } else {
            const check = checkEmailedCode(enrolment.emailCode, input.passcode, nowMs);
            const next = { ...enrolment, emailCode: check.next };
            attempts = await codeAttempts(tx, row, check, nowMs);
            if (check.valid) verified = { ...next, verified: true };
            else {
              reason = `pending e-mailed code ${check.reason}`;
              await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: next }) });
            }
          }
          if (!verified) {
            await saveAttempts(tx, user.id, attempts);
            return { field: 'body.passcode', reason };
          }
          await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: verified }), ...attempts });
          tx.audit({ action: 'mfa.verify', targetType: 'user', targetId: user.id, after: { mfaType: input.mfaType, pending: true } });
          return undefined;
        }
        if (input.mfaType !== 'app' || !row.totpEnabled || row.totpSecretCiphertext === null) throw notEnrolled('no pending setup or enabled factor of this type to verify');
        const secret = totpSecretBox.open(deps.secrets, user.id, row.totpSecretCiphertext);
        if (input.secret !== undefined && !sameSecret(input.secret, secret)) return { field: 'body.secret', reason: 'secret differs from the enabled one' };
        const check = await checkTotp({ secret, passcode: input.passcode, nowMs, lastAcceptedStep: row.lastTotpStep });
        const attempts = await codeAttempts(tx, row, check, nowMs);
        if (!check.valid) {
          await saveAttempts(tx, user.id, attempts);
          return { field: 'body.passcode', reason: `passcode ${check.reason}` };
        }
        await updateUserMfa(tx.client, tx.tenantId, user.id, { lastTotpStep: check.step, ...attempts });
        return undefined;
      });
      if (refusal) throw invalidCode(refusal.field, refusal.reason);
    },

    /** Enables the verified pending factor, acknowledging (and spending) one of its recovery codes. */
    async enable(request: WriteRequest, userId: string, input: { readonly recoveryCode: string; readonly mfaType: MfaMethod; readonly secret?: string | undefined }): Promise<{ policyRevision: number }> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const settings = await findMfaSettings(deps.pool, caller.tenantId);
      if (!settings.allowedMethods.includes(input.mfaType)) throw new ServiceError('MFA_METHOD_NOT_ALLOWED', { field: 'body.mfaType' });
      const { policyRevision } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        const pending = openPendingState(deps.secrets, row);
        const enrolment = pending.enrolment?.method === input.mfaType ? pending.enrolment : undefined;
        if (!enrolment) throw notEnrolled('set this factor up first');
        if (!enrolment.verified) throw notEnrolled('verify a code of the new setup first');
        if (input.secret !== undefined && !(enrolment.totpSecret !== undefined && sameSecret(input.secret, enrolment.totpSecret))) {
          throw invalidCode('body.secret', 'secret differs from the pending one');
        }
        const acknowledged = findRecoveryCode(input.recoveryCode, enrolment.recoveryCodeHashes);
        if (acknowledged < 0) throw invalidCode('body.recoveryCode', 'not one of the recovery codes of this setup');
        const change: UserMfaChange = {
          totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, enrolment: undefined }),
          recoveryCodeHashes: enrolment.recoveryCodeHashes.filter((_, index) => index !== acknowledged),
          preferredType: row.preferredType ?? input.mfaType,
          ...(enrolment.totpSecret !== undefined
            ? { totpSecretCiphertext: totpSecretBox.seal(deps.secrets, user.id, enrolment.totpSecret), totpEnabled: true, lastTotpStep: enrolment.lastStep }
            : input.mfaType === 'sms'
              ? { smsEnabled: true }
              : { emailEnabled: true }),
        };
        const updated = await updateUserMfa(tx.client, tx.tenantId, user.id, change);
        // A factor replaced (a new authenticator secret over an enabled one): whoever held the old one is signed out.
        if (enrolment.totpSecret !== undefined ? row.totpEnabled : input.mfaType === 'sms' ? row.smsEnabled : row.emailEnabled) {
          await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_reenrolled');
        }
        tx.audit({ action: 'mfa.enable', targetType: 'user', targetId: user.id, before: statusOf(row), after: statusOf(updated) });
      });
      return { policyRevision };
    },

    /** Chooses which enabled factor sign-in asks for first. */
    async prefer(request: WriteRequest, userId: string, mfaType: MfaMethod): Promise<{ status: MfaStatus; policyRevision: number }> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const { value: row, policyRevision } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const current = await lockUserMfa(tx.client, tx.tenantId, user.id);
        if (!statusOf(current).methods.includes(mfaType)) throw notEnrolled('this factor is not enabled');
        const updated = await updateUserMfa(tx.client, tx.tenantId, user.id, { preferredType: mfaType });
        tx.audit({ action: 'mfa.preferred', targetType: 'user', targetId: user.id, before: statusOf(current), after: statusOf(updated) });
        return updated;
      });
      return { status: statusOf(row), policyRevision };
    },

    /** E-mails the code that proves a current factor (kept as the pending `disableCode`; a new one replaces it). */
    async sendProofCode(request: WriteRequest, userId: string): Promise<{ expiresInSeconds: number }> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const send = requireSender(deps);
      const settings = await findMfaSettings(deps.pool, caller.tenantId);
      const { value: code } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        if (!statusOf(row).enabled) throw notEnrolled('MFA is not enabled');
        const pending = openPendingState(deps.secrets, row);
        const issued = issueEmailedCode(pending.disableCode, limitsOf(settings), deps.clock.nowMs());
        if (!issued.ok) throw new ServiceError('RATE_LIMITED', { message: 'too many codes sent; wait for the last one to expire' });
        await updateUserMfa(tx.client, tx.tenantId, user.id, { totpPendingCiphertext: sealPendingState(deps.secrets, user.id, { ...pending, disableCode: issued.state }) });
        return issued.code;
      });
      await deliver(send, caller.tenantId, user.email, code);
      return { expiresInSeconds: settings.codeTtlSeconds };
    },

    /** Turns MFA off with a proof of a current factor; the user's sessions end. */
    async disable(request: WriteRequest, userId: string, proof: FactorProof): Promise<{ status: MfaStatus; policyRevision: number }> {
      const { caller } = request;
      const user = await selfUser(deps, caller, userId);
      const nowMs = deps.clock.nowMs();
      const { value: outcome, policyRevision } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const row = await lockUserMfa(tx.client, tx.tenantId, user.id);
        // The built-in administrator's factors go only with the escalation permission, even its own.
        await assertMayChangeCredentials(deps, tx.policyTransaction, caller, await credentialsOwner(tx.client, tx.tenantId, user.id));
        assertNotLocked(row, nowMs);
        if (!statusOf(row).enabled) throw notEnrolled('MFA is not enabled');
        const check = await proveFactor(deps, tx, row, proof, nowMs);
        if (!check.accepted) return { refused: check, cleared: undefined };
        if (check.totpStep !== undefined) await updateUserMfa(tx.client, tx.tenantId, user.id, { lastTotpStep: check.totpStep });
        const cleared = await clearUserMfa(tx.client, tx.tenantId, user.id);
        await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_disabled');
        tx.audit({ action: 'mfa.disable', targetType: 'user', targetId: user.id, before: statusOf(row), after: { ...statusOf(cleared), proof: Object.keys(proof)[0] } });
        return { refused: undefined, cleared };
      });
      if (outcome.refused) throw invalidCode(outcome.refused.field, outcome.refused.reason ?? 'refused');
      return { status: statusOf(outcome.cleared), policyRevision };
    },

    /** The administrator's reset: every factor and recovery code of the user goes, and its sessions end. */
    async reset(request: WriteRequest, userId: string): Promise<{ status: MfaStatus; policyRevision: number }> {
      const { caller } = request;
      const user = await userInTenant(deps, caller, userId);
      const { value: row, policyRevision } = await runWrite(deps, caller, request.requestId, async (tx) => {
        const current = await lockUserMfa(tx.client, tx.tenantId, user.id);
        await assertMayChangeCredentials(deps, tx.policyTransaction, caller, await credentialsOwner(tx.client, tx.tenantId, user.id));
        const cleared = await clearUserMfa(tx.client, tx.tenantId, user.id);
        await tx.endSessions({ kind: 'user', tenantId: tx.tenantId, userId: user.id }, 'mfa_reset');
        tx.audit({ action: 'mfa.reset', targetType: 'user', targetId: user.id, before: statusOf(current), after: statusOf(cleared) });
        return cleared;
      });
      return { status: statusOf(row), policyRevision };
    },
  };
}

export type UserFactorsService = ReturnType<typeof userFactorsService>;
