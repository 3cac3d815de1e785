import type pg from 'pg';
import * as oidc from 'openid-client';
import type { Clock } from '../../engine/index.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { UpstreamGrant, UpstreamRefresh, UpstreamSessions, UpstreamTokens, UpstreamUserinfo } from './identity-provider.js';
import { findOidcSession, saveOidcSession, takeOidcSession } from './oidc-session-store.js';

export interface OidcUpstreamSessionsOptions {
  /** Access Manager's client at the provider, discovered (cached by the identity provider). */
  readonly configuration: () => Promise<oidc.Configuration>;
  readonly pool: pg.Pool;
  readonly secrets: SecretBox;
  readonly clock: Clock;
}

/** A provider access token this close to its expiry is renewed before use (clock skew, the request's own time). */
const expiryMarginMs = 30_000;

function unavailable(what: string, error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  return new ServiceError('IDENTITY_PROVIDER_UNAVAILABLE', { detail: `oidc ${what}: ${(error as Error).message}`, cause: error });
}

/** The provider ended the grant (RFC 6749 5.2 invalid_grant); any other failure means it cannot answer now. */
function isGrantRefused(error: unknown): boolean {
  return error instanceof oidc.ResponseBodyError && error.status === 400 && error.error === 'invalid_grant';
}

/** RFC 6750 3.1: the provider refuses the access token (revoked, or its user gone or disabled). */
function isTokenRefused(error: unknown): boolean {
  if (error instanceof oidc.WWWAuthenticateChallengeError) return error.status === 401;
  return error instanceof oidc.ResponseBodyError && error.status === 401;
}

/** Keeps each of our sessions' provider grant and consults the provider on refresh, userinfo and logout. */
export class OidcUpstreamSessions implements UpstreamSessions {
  constructor(private readonly options: OidcUpstreamSessionsOptions) {}

  async attach(db: pg.ClientBase, sessionId: string, grant: UpstreamGrant): Promise<void> {
    await saveOidcSession(db, this.options.secrets, sessionId, grant.reveal());
  }

  async refresh(db: pg.ClientBase, sessionId: string): Promise<UpstreamRefresh> {
    const stored = await findOidcSession(db, this.options.secrets, sessionId, true);
    if (!stored) return 'absent';
    const renewed = await this.#renew(db, sessionId, stored);
    if (renewed === 'refused') return 'refused';
    return renewed === stored ? 'unchanged' : 'refreshed';
  }

  /**
   * Asks the provider with the stored access token. An expired one is renewed first with the provider refresh
   * token (a serious product keeps asking the provider rather than answering from its own copy: a user removed
   * at the provider must stop getting a profile); so is one the provider refuses although we thought it good
   * (its clock, or an early revocation), once. Refused when the renewal is refused too, or impossible.
   */
  async userinfo(sessionId: string): Promise<UpstreamUserinfo> {
    const { pool, secrets } = this.options;
    let stored: UpstreamTokens | undefined;
    try {
      stored = await findOidcSession(pool, secrets, sessionId);
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'oidc session read failed', cause: error });
    }
    if (!stored) return { kind: 'absent' };
    let renewed = false;
    if (this.#isExpired(stored)) {
      const current = await this.#renewLocked(sessionId, (locked) => this.#isExpired(locked));
      if (current === undefined || current === 'refused') return current === 'refused' ? { kind: 'refused' } : { kind: 'absent' };
      stored = current;
      renewed = true;
    }
    const first = await this.#ask(stored);
    if (first !== 'refused') return first;
    if (!renewed && stored.refreshToken !== undefined) {
      const refusedToken = stored.accessToken;
      const current = await this.#renewLocked(sessionId, (locked) => locked.accessToken === refusedToken);
      if (current === undefined) return { kind: 'absent' };
      if (current === 'refused') return { kind: 'refused' };
      const second = await this.#ask(current);
      if (second !== 'refused') return second;
    }
    await takeOidcSession(pool, secrets, sessionId).catch(() => undefined);
    return { kind: 'refused' };
  }

  async #ask(tokens: UpstreamTokens): Promise<UpstreamUserinfo | 'refused'> {
    const config = await this.options.configuration();
    try {
      return { kind: 'claims', claims: await oidc.fetchUserInfo(config, tokens.accessToken, tokens.providerSubject) };
    } catch (error) {
      if (isTokenRefused(error)) return 'refused';
      throw unavailable('userinfo', error);
    }
  }

  /**
   * Renews under the row lock when `stillNeeded` says so once the lock is held, so concurrent requests (and our
   * refresh grant) forward the provider refresh token once. Never retried: a retry would forward a refresh
   * token the provider has already rotated.
   */
  async #renewLocked(sessionId: string, stillNeeded: (locked: UpstreamTokens) => boolean): Promise<UpstreamTokens | 'refused' | undefined> {
    const { pool, secrets } = this.options;
    return withTransaction(
      pool,
      async (tx) => {
        const locked = await findOidcSession(tx, secrets, sessionId, true);
        if (!locked) return undefined;
        return stillNeeded(locked) ? this.#renew(tx, sessionId, locked, true) : locked;
      },
      1,
    );
  }

  async detach(db: pg.ClientBase | pg.Pool, sessionId: string): Promise<(() => Promise<void>) | undefined> {
    const taken = await takeOidcSession(db, this.options.secrets, sessionId);
    if (!taken) return undefined;
    return async () => {
      const config = await this.options.configuration();
      // RFC 7009; without a revocation endpoint the tokens simply expire at the provider (our copy is gone).
      if (!config.serverMetadata().revocation_endpoint) return;
      try {
        if (taken.refreshToken !== undefined) await oidc.tokenRevocation(config, taken.refreshToken, { token_type_hint: 'refresh_token' });
        await oidc.tokenRevocation(config, taken.accessToken, { token_type_hint: 'access_token' });
      } catch (error) {
        throw unavailable('revocation', error);
      }
    };
  }

  #isExpired(tokens: UpstreamTokens): boolean {
    return tokens.accessExpiresMs !== undefined && tokens.accessExpiresMs - expiryMarginMs <= this.options.clock.nowMs();
  }

  /**
   * Forwards the provider refresh token (the row must be locked by `db`'s transaction) and stores what the
   * provider rotated; returns the tokens unchanged when there is nothing to forward and they are still good
   * (unless `force`: the caller knows they are not).
   * A refusal forgets the provider tokens. If our transaction later rolls back, the provider's rotated refresh
   * token is lost and the next refresh is refused: the session ends, which is the safe way to fail.
   */
  async #renew(db: pg.ClientBase, sessionId: string, stored: UpstreamTokens, force = false): Promise<UpstreamTokens | 'refused'> {
    if (stored.refreshToken === undefined) {
      if (!force && !this.#isExpired(stored)) return stored;
      await takeOidcSession(db, this.options.secrets, sessionId);
      return 'refused';
    }
    const config = await this.options.configuration();
    let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
    try {
      response = await oidc.refreshTokenGrant(config, stored.refreshToken);
    } catch (error) {
      if (!isGrantRefused(error)) throw unavailable('refresh grant', error);
      await takeOidcSession(db, this.options.secrets, sessionId);
      return 'refused';
    }
    // The ID token (if any) was validated by openid-client; it must still be about the same person.
    const claims = response.claims();
    if (claims && claims.sub !== stored.providerSubject) {
      await takeOidcSession(db, this.options.secrets, sessionId);
      return 'refused';
    }
    const renewed: UpstreamTokens = {
      providerSubject: stored.providerSubject,
      accessToken: response.access_token,
      accessExpiresMs: response.expires_in === undefined ? undefined : this.options.clock.nowMs() + response.expires_in * 1000,
      refreshToken: response.refresh_token ?? stored.refreshToken,
    };
    await saveOidcSession(db, this.options.secrets, sessionId, renewed);
    return renewed;
  }
}
