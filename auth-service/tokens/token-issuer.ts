import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../../engine/index.js';
import { issuedAtMsClaim } from '../../platform/auth/token-cutoff.js';
import type { SigningKeyStore } from '../keys/signing-key-store.js';
import { signingAlgorithm } from '../keys/signing-key-store.js';

/** Who a token is about: a person or an application, in an organization. */
export interface TokenSubject {
  readonly kind: 'user' | 'application';
  readonly id: string;
  /** Username for people, application name for applications. */
  readonly name: string;
  readonly displayName: string;
  readonly email?: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
}

/** What an ID token carries from the authorization request that led to it (OIDC Core 2, 3.1.3.6). */
export interface IdTokenClaims {
  /** The relying party's `nonce`, echoed so it can tie the token to its own request (replay protection). */
  readonly nonce?: string;
  /** When the person proved their credentials, in seconds since the epoch. */
  readonly authTimeSeconds?: number;
  /** How they proved them (RFC 8176 values: `pwd`, `otp`, `mfa`). */
  readonly amr?: readonly string[];
}

export interface TokenIssuerOptions {
  readonly keys: SigningKeyStore;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly multiTenant: boolean;
  readonly clock: Clock;
}

export interface IssuedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresInSeconds: number;
  readonly expiresAtMs: number;
}

/**
 * Signs Auth's JWTs with the current key. Access tokens are RFC 9068 `at+jwt` with the Lerian contract's
 * claims (`sub`, `owner`, `type`, `name`, `displayName`, `azp`, and in multi-tenant mode `tenantId`,
 * `tenantSlug`); ID tokens are plain `JWT` for the client, so neither can stand in for the other.
 */
export class TokenIssuer {
  constructor(private readonly options: TokenIssuerOptions) {}

  /** `sessionId` (claim `sid`) ties the token to its sign-in, so ending the session ends the token at once. */
  async accessToken(subject: TokenSubject, clientId: string | undefined, scope: string | undefined, sessionId?: string): Promise<IssuedToken> {
    const claims: Record<string, unknown> = {
      ...(sessionId ? { sid: sessionId } : {}),
      owner: subject.tenantSlug,
      type: subject.kind === 'application' ? 'application' : 'normal-user',
      name: subject.name,
      displayName: subject.displayName,
      ...(clientId ? { azp: clientId } : {}),
      ...(scope ? { scope } : {}),
      // The organization id is always carried: single-tenant services ignore it, multi-tenant ones require it.
      tenantId: subject.tenantId,
      ...(this.options.multiTenant ? { tenantSlug: subject.tenantSlug } : {}),
    };
    return this.sign(claims, subject.id, this.options.audience, 'at+jwt', this.options.accessTokenTtlSeconds);
  }

  async idToken(subject: TokenSubject, clientId: string, sessionId?: string, extra: IdTokenClaims = {}): Promise<IssuedToken> {
    const claims: Record<string, unknown> = {
      ...(sessionId ? { sid: sessionId } : {}),
      ...(extra.nonce === undefined ? {} : { nonce: extra.nonce }),
      ...(extra.authTimeSeconds === undefined ? {} : { auth_time: extra.authTimeSeconds }),
      ...(extra.amr === undefined ? {} : { amr: [...extra.amr] }),
      name: subject.displayName,
      preferred_username: subject.name,
      ...(subject.email ? { email: subject.email } : {}),
      owner: subject.tenantSlug,
      tenantId: subject.tenantId,
    };
    return this.sign(claims, subject.id, clientId, 'JWT', this.options.accessTokenTtlSeconds);
  }

  private async sign(claims: Record<string, unknown>, sub: string, audience: string, typ: string, ttlSeconds: number): Promise<IssuedToken> {
    const { kid, key } = await this.options.keys.signingKey();
    const nowMs = Math.floor(this.options.clock.nowMs());
    const nowSeconds = Math.floor(nowMs / 1000);
    const jti = randomUUID();
    // `iat_ms`: a cut-off (password change, rotation) inside this second must split tokens before and after it.
    const token = await new SignJWT({ ...claims, [issuedAtMsClaim]: nowMs })
      .setProtectedHeader({ alg: signingAlgorithm, kid, typ })
      .setSubject(sub)
      .setIssuer(this.options.issuer)
      .setAudience(audience)
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + ttlSeconds)
      .setJti(jti)
      .sign(key);
    return { token, jti, expiresInSeconds: ttlSeconds, expiresAtMs: (nowSeconds + ttlSeconds) * 1000 };
  }
}
