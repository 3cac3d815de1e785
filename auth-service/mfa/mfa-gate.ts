import { createHash } from 'node:crypto';
import { ServiceError } from '../../platform/http/service-error.js';
import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { UpstreamGrant } from '../identity-providers/identity-provider.js';
import { sealUpstreamGrant } from '../identity-providers/upstream-grant-seal.js';
import { mfaMethods, type ChallengeStore, type ChallengeUser, type MfaMethod } from './challenge-store.js';
import type { MfaSettings } from './mfa-config.js';
import { findMfaProfile, isRememberedDevice, type MfaProfile } from '../../directory/mfa-sign-in.js';
import { newChallengeId, signMfaToken } from './mfa-token.js';

/** The password grant's answer when a second factor is needed instead of tokens (Lerian's contract). */
export interface MfaChallengeAnswer {
  readonly mfaRequired: true;
  readonly mfaToken: string;
  readonly mfaTypes: MfaMethod[];
  readonly preferredType: MfaMethod;
}

export interface MfaGateContext {
  /** The client the tokens will be issued to once the challenge is passed. */
  readonly clientId: string;
  readonly scope?: string;
  /** The `deviceToken` a previous verify with `rememberDevice` returned (from the password grant's body). */
  readonly deviceToken?: string;
}

/** The stored form of a remembered-device token. */
export function hashDeviceToken(deviceToken: string): string {
  return createHash('sha256').update(`am-remembered-device-v1:${deviceToken}`).digest('hex');
}

const deviceTokenShape = /^[A-Za-z0-9_-]{43}$/;

export interface MfaGateParts {
  readonly database: pg.Pool;
  readonly challenges: ChallengeStore;
  readonly clock: Clock;
  readonly secrets: SecretBox;
  readonly settings: MfaSettings;
  /** Whether codes can be sent by e-mail or SMS (a sender is configured). */
  readonly canSendCodes: boolean;
}

/**
 * Decides, after a correct password, whether the sign-in needs a second factor: when the organization requires
 * MFA or the user enabled a factor, unless `deviceToken` is a live remembered device of this same user.
 */
export class MfaGate {
  constructor(private readonly parts: MfaGateParts) {}

  /** Whether the method can be used now: e-mail needs a sender; SMS needs a sender and the user's phone number. */
  private isUsable(method: MfaMethod, profile: MfaProfile): boolean {
    if (method === 'app') return true;
    if (method === 'email') return this.parts.canSendCodes;
    return this.parts.canSendCodes && profile.phoneNumber !== null;
  }

  private methodsFor(profile: MfaProfile): MfaMethod[] {
    const enrolled = mfaMethods.filter((method) => profile.enabled[method]);
    const usable = enrolled.filter((method) => profile.allowedMethods.includes(method) && this.isUsable(method, profile));
    if (usable.length > 0) return usable;
    if (enrolled.length > 0) throw new ServiceError('MFA_METHOD_UNAVAILABLE', { detail: `enrolled ${enrolled.join(',')}, none allowed and deliverable` });
    // The organization requires MFA of a user who has not enrolled: a code to the address on file, if allowed.
    if (profile.allowedMethods.includes('email') && this.isUsable('email', profile)) return ['email'];
    throw new ServiceError('MFA_ENROLMENT_REQUIRED', { detail: 'organization requires MFA; user has no usable factor' });
  }

  /**
   * The challenge answer to send instead of tokens, or undefined when tokens may be issued now. Throws 503 when
   * the challenge store is unreachable (never lets the sign-in through without its factor).
   *
   * @example
   * const challenge = await gate.challengeFor(user, { clientId, deviceToken: body.deviceToken });
   * if (challenge) return { status: 200, body: challenge };
   */
  async challengeFor(user: ChallengeUser & { readonly upstream?: UpstreamGrant }, ctx: MfaGateContext): Promise<MfaChallengeAnswer | undefined> {
    const { database, clock, settings } = this.parts;
    const profile = await findMfaProfile(database, user.tenantId, user.id);
    const anyEnrolled = mfaMethods.some((method) => profile.enabled[method]);
    if (!profile.required && !anyEnrolled) return undefined;

    const rememberTtlSeconds = Math.min(settings.rememberTtlSeconds, profile.rememberDeviceDays * 86_400);
    if (ctx.deviceToken !== undefined && rememberTtlSeconds > 0 && deviceTokenShape.test(ctx.deviceToken)) {
      const remembered = await isRememberedDevice(database, { tenantId: user.tenantId, userId: user.id, tokenHash: hashDeviceToken(ctx.deviceToken), nowMs: clock.nowMs() });
      if (remembered) return undefined;
    }

    const methods = this.methodsFor(profile);
    const preferredType = profile.preferredType !== null && methods.includes(profile.preferredType) ? profile.preferredType : (methods[0] as MfaMethod);
    const ttlSeconds = Math.min(settings.sessionTtlSeconds, profile.codeTtlSeconds);
    const challengeId = newChallengeId();
    await this.parts.challenges.create(challengeId, {
      user: {
        id: user.id,
        tenantId: user.tenantId,
        tenantSlug: user.tenantSlug,
        username: user.username,
        displayName: user.displayName,
        email: user.email,
        ...(profile.phoneNumber === null ? {} : { phoneNumber: profile.phoneNumber }),
        ...(user.validAfter === undefined ? {} : { validAfter: user.validAfter }),
        ...(user.upstream ? { upstreamSealed: sealUpstreamGrant(this.parts.secrets, user.id, user.upstream) } : {}),
      },
      clientId: ctx.clientId,
      ...(ctx.scope === undefined ? {} : { scope: ctx.scope }),
      methods,
      preferredType,
      expiresAtMs: clock.nowMs() + ttlSeconds * 1000,
      maxAttempts: Math.min(settings.maxAttempts, profile.maxAttempts),
      maxResends: Math.min(settings.maxResends, profile.maxResends),
      rememberTtlSeconds,
    });
    return { mfaRequired: true, mfaToken: signMfaToken(settings.tokenSecret, challengeId), mfaTypes: methods, preferredType };
  }
}
