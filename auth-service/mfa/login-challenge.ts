import { randomBytes, randomInt } from 'node:crypto';
import type pg from 'pg';
import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { findRecoveryCode } from '../../domain/recovery-codes.js';
import { checkTotp } from '../../domain/totp.js';
import { mfaAttemptChange, mfaLockSecondsLeft, type CodeOutcome } from '../../domain/mfa-attempts.js';
import type { Clock } from '../../engine/index.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { AuthEvents, RequestContext } from '../audit/auth-events.js';
import type { Challenge, ChallengeStore, ChallengeState, ChallengeUser, CodeChannel, MfaMethod } from './challenge-store.js';
import type { MfaSettings } from './mfa-config.js';
import { holdSubjectForSession } from '../../directory/session-tokens.js';
import { lockFactors, maxCodeAttempts, saveCodeOutcome, saveRecoveryCodeHashes, saveRememberedDevice, type LockedFactors } from '../../directory/mfa-sign-in.js';
import { hashDeviceToken } from './mfa-gate.js';
import { challengeIdOf, hashOneTimeCode, isOneTimeCode } from './mfa-token.js';

const tokenInvalid = (detail: string) => new ServiceError('MFA_TOKEN_INVALID', { detail });

function assertOffered(state: ChallengeState, method: MfaMethod): void {
  if (!state.methods.includes(method)) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { field: 'body.mfaType', detail: `${method} not offered by this challenge` });
}

export interface VerifyInput {
  readonly mfaToken: string;
  readonly mfaType?: MfaMethod;
  readonly passcode?: string;
  readonly recoveryCode?: string;
  readonly rememberDevice?: boolean;
}

export interface VerifiedSignIn {
  readonly user: ChallengeUser;
  readonly clientId: string;
  readonly scope: string | undefined;
  /** Present when `rememberDevice` was asked and the organization allows it: pass it to the next password grant. */
  readonly deviceToken: string | undefined;
}

type Proof = { kind: 'totp'; passcode: string } | { kind: 'recovery'; code: string } | { kind: 'sent'; channel: CodeChannel; passcode: string };

function proofOf(input: VerifyInput, challenge: Challenge): Proof {
  if (input.recoveryCode !== undefined) return { kind: 'recovery', code: input.recoveryCode };
  const passcode = input.passcode as string;
  const { state, sentCode } = challenge;
  const method = input.mfaType ?? sentCode?.channel ?? (state.methods.includes('app') ? 'app' : state.preferredType);
  assertOffered(state, method);
  if (method === 'app') return { kind: 'totp', passcode };
  return { kind: 'sent', channel: method, passcode };
}

/** Why a passcode or recovery code was refused, in the words the security event records. */
type RefusalReason = 'wrong_code' | 'replayed' | 'no_authenticator' | 'recovery_code_unknown' | 'sent_code_wrong' | 'mfa_locked';

interface Refusal {
  readonly reason: RefusalReason;
  /** Set when this wrong code reached the organization's limit and locked the user's one-time codes. */
  readonly lockedUntil?: Date;
  /** Set for `mfa_locked`: whole seconds until the lock ends. */
  readonly lockSecondsLeft?: number;
}

type Passcode = Exclude<Proof, { kind: 'recovery' }>;

const methodOf = (proof: Proof): string => (proof.kind === 'sent' ? proof.channel : proof.kind);

export interface MfaLoginParts {
  readonly database: pg.Pool;
  readonly challenges: ChallengeStore;
  readonly clock: Clock;
  readonly secrets: SecretBox;
  readonly settings: MfaSettings;
  readonly events: Pick<AuthEvents, 'recordSettled'>;
  /**
   * Sends an MFA code by e-mail or SMS through the organization's provider; absent when none is configured
   * (then those methods answer MFA_METHOD_UNAVAILABLE and only TOTP works).
   */
  readonly deliverMfaCode: MfaCodeDelivery | undefined;
}

/** How a code reaches the person: the organization's e-mail or SMS provider. */
export type MfaCodeDelivery = (message: { tenantId: string; userId: string; channel: 'email' | 'sms'; to: string; code: string }) => Promise<void>;

/** The second step of a sign-in: a code sent on request, and a passcode or recovery code checked against the challenge. */
export class MfaLogin {
  constructor(private readonly parts: MfaLoginParts) {}

  private async liveChallenge(mfaToken: string): Promise<{ challengeId: string; challenge: Challenge }> {
    const challengeId = challengeIdOf(this.parts.settings.tokenSecret, mfaToken);
    if (challengeId === undefined) throw tokenInvalid('mfaToken malformed or signature wrong');
    const challenge = await this.parts.challenges.find(challengeId);
    if (!challenge) throw tokenInvalid('challenge expired, used or unknown');
    if (challenge.attempts >= challenge.state.maxAttempts) throw new ServiceError('MFA_ATTEMPTS_EXHAUSTED', { detail: 'challenge has no attempts left' });
    return { challengeId, challenge };
  }

  /**
   * `POST /v1/login/mfa/challenge`: sends a fresh code by e-mail or SMS (the previous one stops working), at most
   * `maxResends` times per challenge; for `app` nothing is sent.
   */
  async sendCode(input: { mfaToken: string; mfaType: MfaMethod }): Promise<{ message: string }> {
    const { challengeId, challenge } = await this.liveChallenge(input.mfaToken);
    assertOffered(challenge.state, input.mfaType);
    if (input.mfaType === 'app') return { message: 'Enter the code shown by your authenticator app' };
    const deliver = this.parts.deliverMfaCode;
    if (!deliver) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { field: 'body.mfaType', detail: 'no MFA code sender configured' });
    const { user } = challenge.state;
    // SMS is offered only to a user with a number (the gate checks it); the number is the one read at the password step.
    const to = input.mfaType === 'sms' ? user.phoneNumber : user.email;
    if (to === undefined) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { field: 'body.mfaType', detail: 'the user has no phone number' });
    const store = this.parts.challenges;
    const sends = await store.increment(challengeId, 'resends');
    if (sends === undefined) throw tokenInvalid('challenge ended while sending');
    if (sends > challenge.state.maxResends) throw new ServiceError('MFA_RESEND_LIMIT', { detail: `send ${sends} of at most ${challenge.state.maxResends}` });
    const channel: CodeChannel = input.mfaType;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (!(await store.setSentCode(challengeId, { channel, hash: hashOneTimeCode(this.parts.settings.tokenSecret, challengeId, code) }))) throw tokenInvalid('challenge ended while sending');
    try {
      await deliver({ tenantId: user.tenantId, userId: user.id, channel, to, code });
    } catch (error) {
      const reason = error instanceof Error ? error.message.split(code).join('[code]') : 'unknown';
      throw new ServiceError('MFA_DELIVERY_FAILED', { detail: `MFA code delivery by ${channel} failed: ${reason}` });
    }
    return { message: channel === 'email' ? 'A code was sent to the e-mail address on file' : 'A code was sent by text message' };
  }

  /**
   * Checks a passcode (authenticator, or a code sent by e-mail or SMS) under the `user_mfa` row lock, against the
   * user's one wrong-code limit: refused while locked, a wrong one counted, the limit's last one locking. A right
   * authenticator code's step is spent.
   */
  private async checkPasscode(client: pg.ClientBase, challengeId: string, user: ChallengeUser, proof: Passcode, factors: LockedFactors): Promise<Refusal | undefined> {
    const nowMs = this.parts.clock.nowMs();
    const lockSecondsLeft = mfaLockSecondsLeft(factors, nowMs);
    if (lockSecondsLeft !== undefined) return { reason: 'mfa_locked', lockSecondsLeft };
    let outcome: CodeOutcome;
    let step: number | undefined;
    if (proof.kind === 'totp') {
      if (!factors.totpEnabled || factors.totpSecretCiphertext === null) return { reason: 'no_authenticator' };
      const secret = this.parts.secrets.open(factors.totpSecretCiphertext, user.id);
      const check = await checkTotp({ secret, passcode: proof.passcode, nowMs, lastAcceptedStep: factors.lastTotpStep });
      outcome = check;
      if (check.valid) step = check.step;
    } else {
      // Re-read: a resend after this request's first read replaced the code. A challenge ended meanwhile compared nothing.
      const sent = (await this.parts.challenges.find(challengeId, client))?.sentCode;
      if (!sent || sent.channel !== proof.channel) return { reason: 'sent_code_wrong' };
      outcome = isOneTimeCode(this.parts.settings.tokenSecret, challengeId, proof.passcode, sent.hash) ? { valid: true } : { valid: false, reason: 'wrong_code' };
    }
    const attempts = mfaAttemptChange(factors, outcome, await maxCodeAttempts(client, user.tenantId), nowMs);
    await saveCodeOutcome(client, user.tenantId, user.id, { ...(step === undefined ? {} : { step }), attempts });
    if (outcome.valid) return undefined;
    const reason: RefusalReason = proof.kind === 'sent' ? 'sent_code_wrong' : outcome.reason === 'replayed' ? 'replayed' : 'wrong_code';
    return { reason, ...(attempts.locked_until ? { lockedUntil: attempts.locked_until } : {}) };
  }

  /**
   * `POST /v1/login/mfa/verify`: checks one passcode or recovery code against the challenge. Every check spends
   * one attempt first (atomically, so concurrent guesses cannot exceed `maxAttempts`); TOTP steps and recovery
   * codes are consumed under the `user_mfa` row lock, and the challenge itself is single use.
   *
   * A passcode, from the authenticator or sent by e-mail or SMS, also meets the user's wrong-code limit that
   * Identity's MFA routes count (`user_mfa` `failed_attempts`, `locked_until`): refused while the user is locked,
   * and a wrong one counts towards the lock, so guesses spread over both services, over channels and over many
   * challenges meet one limit. Every refusal and lock is recorded as a security event.
   */
  async verify(input: VerifyInput, context: RequestContext): Promise<VerifiedSignIn> {
    const { challengeId, challenge } = await this.liveChallenge(input.mfaToken);
    const { state } = challenge;
    const { user } = state;
    const proof = proofOf(input, challenge);
    if (proof.kind === 'sent' && challenge.sentCode?.channel !== proof.channel) {
      throw new ServiceError('MFA_CODE_INVALID', { field: 'body.passcode', message: `request a code by ${proof.channel} first`, detail: 'no code sent on this channel' });
    }
    const store = this.parts.challenges;
    const attempt = await store.increment(challengeId, 'attempts');
    if (attempt === undefined) throw tokenInvalid('challenge ended during verification');
    const refused = (details: Record<string, string | number>) =>
      this.parts.events.recordSettled(context, { tenantId: user.tenantId, actor: `user:${user.id}`, action: 'auth.mfa', outcome: 'failure', targetType: 'user', targetId: user.id, details: { method: methodOf(proof), ...details } });
    if (attempt > state.maxAttempts) {
      await refused({ reason: 'attempts_exhausted', attempt });
      throw new ServiceError('MFA_ATTEMPTS_EXHAUSTED', { detail: `attempt ${attempt} of at most ${state.maxAttempts}` });
    }

    // Remembered in the verify's own transaction, under the user's lock: never for a verify that did not commit.
    const deviceToken = input.rememberDevice === true && state.rememberTtlSeconds > 0 ? randomBytes(32).toString('base64url') : undefined;
    // A refusal is returned, not thrown, so what the attempt spent (a wrong code's count, a lock) commits.
    const refusal = await withTransaction(this.parts.database, async (client): Promise<Refusal | undefined> => {
      // The factors' row first, then the user's, in the order Identity's MFA reset and disable take them (no deadlock).
      const factors = await lockFactors(client, user.tenantId, user.id);
      // Share-locks the user as the session's start will: a password change, disable or MFA reset committed since the
      // password step refuses here, and one that comes later waits for this commit and then deletes the device
      // remembered below with the user's others.
      if (!(await holdSubjectForSession(client, { kind: 'user', tenantId: user.tenantId, id: user.id, validAfter: user.validAfter }))) {
        await store.consume(challengeId);
        throw new ServiceError('INVALID_GRANT', { detail: 'user or organization disabled, or credentials changed, during MFA' });
      }
      if (proof.kind === 'recovery') {
        // Not counted and not refused while locked: a recovery code cannot be guessed, and it is the owner's way out of a lock.
        const index = findRecoveryCode(proof.code, factors.recoveryCodeHashes);
        if (index < 0) return { reason: 'recovery_code_unknown' };
        await saveRecoveryCodeHashes(client, user.tenantId, user.id, factors.recoveryCodeHashes.filter((_, at) => at !== index));
      } else {
        const refused = await this.checkPasscode(client, challengeId, user, proof, factors);
        if (refused) return refused;
      }
      // Inside the transaction: if another request used the challenge first, the step or code is not spent.
      if (!(await store.consume(challengeId, client))) throw tokenInvalid('challenge used by a concurrent verification');
      if (deviceToken !== undefined) {
        await saveRememberedDevice(client, { tenantId: user.tenantId, userId: user.id, tokenHash: hashDeviceToken(deviceToken), expiresAtMs: this.parts.clock.nowMs() + state.rememberTtlSeconds * 1000 });
      }
      return undefined;
    });
    if (refusal !== undefined) {
      await refused({ reason: refusal.reason, attempt });
      if (refusal.lockedUntil) {
        await this.parts.events.recordSettled(context, {
          tenantId: user.tenantId,
          actor: `user:${user.id}`,
          action: 'mfa.lock',
          outcome: 'failure',
          targetType: 'user',
          targetId: user.id,
          details: { method: methodOf(proof), lockedUntil: refusal.lockedUntil.toISOString() },
        });
      }
      if (refusal.lockSecondsLeft !== undefined) {
        throw new ServiceError('RATE_LIMITED', {
          message: 'too many wrong codes; try again later',
          headers: { 'Retry-After': String(refusal.lockSecondsLeft) },
          detail: `one-time codes locked for ${refusal.lockSecondsLeft} s more (attempt ${attempt} of ${state.maxAttempts})`,
        });
      }
      const field = proof.kind === 'recovery' ? 'body.recoveryCode' : 'body.passcode';
      throw new ServiceError('MFA_CODE_INVALID', { field, detail: `${refusal.reason} (attempt ${attempt} of ${state.maxAttempts})` });
    }

    return { user, clientId: state.clientId, scope: state.scope, deviceToken };
  }
}
