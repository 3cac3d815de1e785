import { randomBytes, randomInt } from 'node:crypto';
import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { findRecoveryCode } from '../../platform/recovery-codes.js';
import { checkTotp } from '../../platform/totp.js';
import type { AuthDeps } from '../deps.js';
import { challengeStoreFor, type Challenge, type ChallengeState, type ChallengeUser, type CodeChannel, type MfaMethod } from './challenge-store.js';
import { isActiveUser, lockFactors, saveLastTotpStep, saveRecoveryCodeHashes, saveRememberedDevice } from './login-mfa-store.js';
import { hashDeviceToken } from './mfa-gate.js';
import { challengeIdOf, hashOneTimeCode, isOneTimeCode } from './mfa-token.js';

const tokenInvalid = (detail: string) => new ServiceError('MFA_TOKEN_INVALID', { detail });

async function liveChallenge(deps: AuthDeps, mfaToken: string): Promise<{ challengeId: string; challenge: Challenge }> {
  const challengeId = challengeIdOf(deps.settings.mfa.tokenSecret, mfaToken);
  if (challengeId === undefined) throw tokenInvalid('mfaToken malformed or signature wrong');
  const challenge = await challengeStoreFor(deps).find(challengeId);
  if (!challenge) throw tokenInvalid('challenge expired, used or unknown');
  if (challenge.attempts >= challenge.state.maxAttempts) throw new ServiceError('MFA_ATTEMPTS_EXHAUSTED', { detail: 'challenge has no attempts left' });
  return { challengeId, challenge };
}

function assertOffered(state: ChallengeState, method: MfaMethod): void {
  if (!state.methods.includes(method)) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { field: 'body.mfaType', detail: `${method} not offered by this challenge` });
}

/**
 * `POST /v1/login/mfa/challenge`: sends a fresh code by e-mail or SMS (the previous one stops working), at most
 * `maxResends` times per challenge; for `app` nothing is sent.
 */
export async function sendChallengeCode(deps: AuthDeps, input: { mfaToken: string; mfaType: MfaMethod }): Promise<{ message: string }> {
  const { challengeId, challenge } = await liveChallenge(deps, input.mfaToken);
  assertOffered(challenge.state, input.mfaType);
  if (input.mfaType === 'app') return { message: 'Enter the code shown by your authenticator app' };
  const deliver = deps.deliverMfaCode;
  if (!deliver) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { field: 'body.mfaType', detail: 'no MFA code sender configured' });
  const store = challengeStoreFor(deps);
  const sends = await store.increment(challengeId, 'resends');
  if (sends === undefined) throw tokenInvalid('challenge ended while sending');
  if (sends > challenge.state.maxResends) throw new ServiceError('MFA_RESEND_LIMIT', { detail: `send ${sends} of at most ${challenge.state.maxResends}` });
  const channel: CodeChannel = input.mfaType;
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  if (!(await store.setSentCode(challengeId, { channel, hash: hashOneTimeCode(deps.settings.mfa.tokenSecret, challengeId, code) }))) throw tokenInvalid('challenge ended while sending');
  const { user } = challenge.state;
  try {
    await deliver({ tenantId: user.orgId, userId: user.id, channel, to: user.email, code });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split(code).join('[code]') : 'unknown';
    throw new ServiceError('MFA_DELIVERY_FAILED', { detail: `MFA code delivery by ${channel} failed: ${reason}` });
  }
  return { message: channel === 'email' ? 'A code was sent to the e-mail address on file' : 'A code was sent by text message' };
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

/**
 * `POST /v1/login/mfa/verify`: checks one passcode or recovery code against the challenge. Every check spends
 * one attempt first (atomically, so concurrent guesses cannot exceed `maxAttempts`); TOTP steps and recovery
 * codes are consumed under the `user_mfa` row lock, and the challenge itself is single use.
 */
export async function verifyChallenge(deps: AuthDeps, input: VerifyInput): Promise<VerifiedSignIn> {
  const { challengeId, challenge } = await liveChallenge(deps, input.mfaToken);
  const { state } = challenge;
  const proof = proofOf(input, challenge);
  if (proof.kind === 'sent' && challenge.sentCode?.channel !== proof.channel) {
    throw new ServiceError('MFA_CODE_INVALID', { field: 'body.passcode', message: `request a code by ${proof.channel} first`, detail: 'no code sent on this channel' });
  }
  const store = challengeStoreFor(deps);
  const attempt = await store.increment(challengeId, 'attempts');
  if (attempt === undefined) throw tokenInvalid('challenge ended during verification');
  if (attempt > state.maxAttempts) throw new ServiceError('MFA_ATTEMPTS_EXHAUSTED', { detail: `attempt ${attempt} of at most ${state.maxAttempts}` });

  const { user } = state;
  const refusal = await withTransaction(deps.pool, async (client) => {
    if (!(await isActiveUser(client, user.orgId, user.id))) {
      await store.consume(challengeId);
      throw new ServiceError('INVALID_GRANT', { detail: 'user or organization disabled during MFA' });
    }
    if (proof.kind === 'sent') {
      // Re-read: a resend after this request's first read replaced the code.
      const current = await store.find(challengeId);
      const sent = current?.sentCode;
      if (!sent || sent.channel !== proof.channel || !isOneTimeCode(deps.settings.mfa.tokenSecret, challengeId, proof.passcode, sent.hash)) return `${proof.channel} code wrong`;
    } else {
      const factors = await lockFactors(client, user.orgId, user.id);
      if (proof.kind === 'totp') {
        if (!factors?.totpEnabled || factors.totpSecretCiphertext === null) return 'no authenticator enrolled';
        const secret = deps.secrets.open(factors.totpSecretCiphertext, user.id);
        const check = await checkTotp({ secret, passcode: proof.passcode, nowMs: deps.nowMs(), lastAcceptedStep: factors.lastTotpStep });
        // A replayed code is refused like a wrong one; the private detail (logged) says which.
        if (!check.valid) return `passcode ${check.reason}`;
        await saveLastTotpStep(client, user.orgId, user.id, check.step);
      } else {
        const index = findRecoveryCode(proof.code, factors?.recoveryCodeHashes ?? []);
        if (!factors || index < 0) return 'recovery code unknown or used';
        await saveRecoveryCodeHashes(client, user.orgId, user.id, factors.recoveryCodeHashes.filter((_, at) => at !== index));
      }
    }
    // Inside the transaction: if another request used the challenge first, the step or code is not spent.
    if (!(await store.consume(challengeId))) throw tokenInvalid('challenge used by a concurrent verification');
    return undefined;
  });
  if (refusal !== undefined) {
    const field = proof.kind === 'recovery' ? 'body.recoveryCode' : 'body.passcode';
    throw new ServiceError('MFA_CODE_INVALID', { field, detail: `${refusal} (attempt ${attempt} of ${state.maxAttempts})` });
  }

  let deviceToken: string | undefined;
  if (input.rememberDevice === true && state.rememberTtlSeconds > 0) {
    deviceToken = randomBytes(32).toString('base64url');
    await saveRememberedDevice(deps.pool, { orgId: user.orgId, userId: user.id, tokenHash: hashDeviceToken(deviceToken), expiresAtMs: deps.nowMs() + state.rememberTtlSeconds * 1000 });
  }
  return { user, clientId: state.clientId, scope: state.scope, deviceToken };
}
