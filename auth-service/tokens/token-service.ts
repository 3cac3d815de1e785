import type pg from 'pg';
import type { Clock } from '../../engine/index.js';
import type { TenancyOptions } from '../../platform/auth/caller-from-token.js';
import { subjectOf } from '../../platform/http/caller.js';
import type { ErrorReporter } from '../../platform/http/error-handler.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { endSessions } from '../../directory/sessions.js';
import { canonicalName } from '../../domain/canonical-name.js';
import { clearSignInFailures, recordSignInFailure, signInLockSecondsLeft } from '../../directory/account-sign-in-failures.js';
import { upstreamGrantOf } from '../identity-providers/upstream-grant-seal.js';
import { endUpstreamGrant } from '../identity-providers/upstream-revocation.js';
import type { AuthenticatedApp, AuthenticatedSubject, AuthenticatedUser, IdentityProvider } from '../identity-providers/identity-provider.js';
import type { MfaChallengeAnswer, MfaGate } from '../mfa/mfa-gate.js';
import type { SigningKeyStore } from '../keys/signing-key-store.js';
import { unknownNameTarget, type AuthEvents, type RequestContext } from '../audit/auth-events.js';
import { applicationWithClientId } from '../../directory/applications.js';
import { accountNamed } from '../../directory/users.js';
import type { EndHere } from '../../platform/auth/ended-here.js';
import type { IdTokenClaims, TokenIssuer, TokenSubject } from './token-issuer.js';
import { assertTenantNotSprayed, defaultTenantSprayLimit, organizationOfUsername, recordTenantFailure, type TenantSprayLimit } from './tenant-spray-limit.js';
import { findRefreshTokenSession, holdSubjectForSession, insertRefreshToken, insertSession, lockRefreshToken, markRefreshTokenUsed, refreshTokenHash } from '../../directory/session-tokens.js';

/** The lifetimes and sign-in limits the token service keeps (part of Auth's settings). */
export interface SessionSettings {
  /** The audience of our own tokens: an ID token issued without a client is addressed to it (logout's id_token_hint). */
  readonly audience: string;
  readonly accessTokenTtlSeconds: number; // 3600
  readonly refreshTokenTtlSeconds: number; // 86400
  /** A session cannot be refreshed beyond this, however often it rotates. */
  readonly sessionAbsoluteTtlSeconds: number;
  readonly signIn: {
    readonly maxFailures: number; // 5
    readonly lockSeconds: number; // 900
    /** Failed password sign-ins per organization per window; default 200 per 60 s. */
    readonly tenant?: TenantSprayLimit;
  };
}

/** What the token service is built from (auth-service/wiring.ts builds it once per app). */
export interface TokenServiceParts {
  readonly database: pg.Pool;
  readonly clock: Clock;
  readonly settings: SessionSettings;
  readonly tenancy: TenancyOptions;
  readonly secrets: SecretBox;
  readonly keys: Pick<SigningKeyStore, 'signingKey'>;
  readonly issuer: Pick<TokenIssuer, 'accessToken' | 'idToken'>;
  readonly provider: IdentityProvider;
  readonly mfaGate: Pick<MfaGate, 'challengeFor'>;
  readonly events: Pick<AuthEvents, 'recordGrantWithin' | 'recordSettled'>;
  readonly endHere: EndHere;
  readonly report: ErrorReporter;
}

/** The token answer, before a codec writes it as the contract's camelCase or RFC 6749's snake_case. */
export interface TokenAnswer {
  readonly accessToken: string;
  readonly idToken?: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  /** Absent for client_credentials (RFC 6749 4.4.3). */
  readonly refreshToken?: string;
  readonly scope?: string;
}

/** What the password grant answers: tokens, or an MFA challenge to pass first. */
export type PasswordGrantOutcome = { readonly kind: 'tokens'; readonly tokens: TokenAnswer } | { readonly kind: 'mfa'; readonly challenge: MfaChallengeAnswer };

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface PasswordGrantInput {
  readonly username: string;
  readonly password: string;
  /** A console's own credentials; when given they must be right (INVALID_CLIENT) and the tokens are issued to it. */
  readonly client?: ClientCredentials;
  readonly scope?: string;
  readonly deviceToken?: string;
}

/** The client a sign-in is for, once known: by its checked secret (password grant) or its authorization request. */
export interface SigningInClient {
  readonly clientId: string;
  readonly tenantId: string;
}

export interface PasswordSignInInput {
  readonly username: string;
  readonly password: string;
  readonly client?: SigningInClient;
  readonly scope?: string;
  readonly deviceToken?: string;
}

/** The password step's outcome: the person (all factors done), or the second factor to ask for. */
export type PasswordSignIn = { readonly kind: 'user'; readonly user: AuthenticatedUser } | { readonly kind: 'mfa'; readonly challenge: MfaChallengeAnswer };

export interface RefreshGrantInput {
  readonly refreshToken: string;
  readonly scope?: string;
  /** The client presenting the token; when given it must be the one the session was issued to. */
  readonly client?: ClientCredentials;
  /** RFC 6749 6: a session issued to a client can be refreshed only with that client's authentication. */
  readonly requireClientOfSession: boolean;
}

function scopeSet(scope: string | null | undefined): Set<string> {
  return new Set((scope ?? '').split(' ').filter((s) => s.length > 0));
}

/** RFC 6749 6 / C6: a refresh may keep or narrow the session's scope, never widen it. */
function narrowedScope(granted: string | null, requested: string | undefined): string | undefined {
  if (requested === undefined) return granted ?? undefined;
  const allowed = scopeSet(granted);
  const asked = scopeSet(requested);
  for (const s of asked) if (!allowed.has(s)) throw new ServiceError('INVALID_SCOPE', { message: 'the requested scope exceeds the granted scope' });
  return [...asked].join(' ');
}

export function tokenSubjectOf(subject: AuthenticatedSubject): TokenSubject {
  if (subject.kind === 'user') {
    return { kind: 'user', id: subject.id, name: subject.username, displayName: subject.displayName, email: subject.email, tenantId: subject.tenantId, tenantSlug: subject.tenantSlug };
  }
  return { kind: 'application', id: subject.id, name: subject.name, displayName: subject.name, tenantId: subject.tenantId, tenantSlug: subject.tenantSlug };
}

/** How a sign-in that starts a session is recorded: the request it came in, and the grant that proved it. */
export interface SignInRecord {
  readonly context: RequestContext;
  readonly grant: 'password' | 'client_credentials' | 'password+mfa' | 'authorization_code';
}

export function actorOf(subject: { kind: 'user' | 'application'; id: string }): string {
  return `${subject.kind === 'application' ? 'app' : 'user'}:${subject.id}`;
}

/**
 * The one token service behind `/v1/login/oauth/*` and `/oauth/token`: the codecs differ, the rules do not.
 * Every refusal of credentials is INVALID_GRANT with the same body, whatever the cause.
 */
export class TokenService {
  private readonly provider: IdentityProvider;

  constructor(private readonly parts: TokenServiceParts) {
    this.provider = parts.provider;
  }

  private async signTokens(
    subject: AuthenticatedSubject,
    clientId: string | undefined,
    scope: string | undefined,
    sessionId: string,
    refreshToken: string | undefined,
    idClaims?: IdTokenClaims,
  ): Promise<TokenAnswer> {
    const tokenSubject = tokenSubjectOf(subject);
    const access = await this.parts.issuer.accessToken(tokenSubject, clientId, scope, sessionId);
    // ID tokens are for people; without a client they are addressed to our own audience (logout's id_token_hint).
    const id = subject.kind === 'user' ? await this.parts.issuer.idToken(tokenSubject, clientId ?? this.parts.settings.audience, sessionId, idClaims) : undefined;
    return {
      accessToken: access.token,
      ...(id ? { idToken: id.token } : {}),
      tokenType: 'Bearer',
      expiresIn: access.expiresInSeconds,
      ...(refreshToken === undefined ? {} : { refreshToken }),
      ...(scope === undefined ? {} : { scope }),
    };
  }

  /**
   * Starts a session for a signed-in subject inside the caller's transaction (the session, its first refresh token,
   * the sign-in's security event, the signed tokens) and answers the tokens with the session's id. Applications get
   * no refresh token but still a session (`sid`), so ending it ends their tokens. The signing key must be loaded
   * first (`keys.signingKey()`), so no second pool connection is needed while the transaction holds one.
   */
  async startSessionWithin(
    client: pg.ClientBase,
    subject: AuthenticatedSubject,
    clientId: string | undefined,
    scope: string | undefined,
    record: SignInRecord,
    idClaims?: IdTokenClaims,
  ): Promise<{ sessionId: string; tokens: TokenAnswer }> {
    const nowMs = this.parts.clock.nowMs();
    if (!(await holdSubjectForSession(client, subject))) {
      throw new ServiceError('INVALID_GRANT', { detail: `${actorOf(subject)} changed (credentials, status or organization) since its credentials were checked` });
    }
    const session = await insertSession(client, {
      tenantId: subject.tenantId,
      subjectKind: subject.kind,
      subjectId: subject.id,
      clientId,
      scope,
      nowMs,
      absoluteTtlSeconds: subject.kind === 'user' ? this.parts.settings.sessionAbsoluteTtlSeconds : this.parts.settings.accessTokenTtlSeconds,
    });
    const refreshToken =
      subject.kind === 'user' ? await insertRefreshToken(client, session.id, nowMs, this.parts.settings.refreshTokenTtlSeconds, session.absoluteExpiresMs) : undefined;
    const upstream = upstreamGrantOf(this.parts.secrets, subject);
    if (upstream) await this.parts.provider.sessions?.attach(client, session.id, upstream);
    await this.parts.events.recordGrantWithin(client, record.context, {
      tenantId: subject.tenantId,
      actor: actorOf(subject),
      action: 'auth.sign-in',
      outcome: 'success',
      targetType: subject.kind,
      targetId: subject.id,
      details: { grant: record.grant, sessionId: session.id, ...(clientId === undefined ? {} : { clientId }) },
    });
    return { sessionId: session.id, tokens: await this.signTokens(subject, clientId, scope, session.id, refreshToken, idClaims) };
  }

  /** Starts a session for a signed-in subject in a transaction of its own (startSessionWithin) and answers the tokens. */
  async issueSession(subject: AuthenticatedSubject, clientId: string | undefined, scope: string | undefined, record: SignInRecord): Promise<TokenAnswer> {
    // Loads the signing key outside the transaction: no second pool connection is needed while one is held.
    await this.parts.keys.signingKey();
    return withTransaction(this.parts.database, async (client) => (await this.startSessionWithin(client, subject, clientId, scope, record)).tokens);
  }

  /**
   * Starts a person's session and answers the tokens, for a sign-in whose factors are all verified (the MFA
   * verify step calls this after the second factor). `clientId` is the client the sign-in started with; an empty
   * string means none.
   *
   * @example
   * const signIn = await mfaLogin.verify(body, context);
   * return { body: await tokenService.issueUserSession(signIn.user, signIn.clientId, signIn.scope, context) };
   */
  async issueUserSession(user: Omit<AuthenticatedUser, 'kind'>, clientId: string | undefined, scope: string | undefined, context: RequestContext): Promise<TokenAnswer> {
    return this.issueSession({ ...user, kind: 'user' }, clientId === '' ? undefined : clientId, scope, { context, grant: 'password+mfa' });
  }

  /** Checks a client's id and secret; a refusal is recorded and thrown as INVALID_CLIENT. */
  async authenticateClient(credentials: ClientCredentials, context: RequestContext): Promise<AuthenticatedApp> {
    const app = await this.provider.authenticateClient(credentials.clientId, credentials.clientSecret);
    if (!app) {
      const known = await applicationWithClientId(this.parts.database, credentials.clientId).catch(() => undefined);
      await this.parts.events.recordSettled(context, {
        tenantId: known?.tenantId,
        actor: 'anonymous',
        action: 'auth.sign-in',
        outcome: 'failure',
        targetType: known ? 'application' : 'client',
        // A client id that names no application is kept only as a digest, like an unknown username.
        targetId: known?.id ?? unknownNameTarget(credentials.clientId),
        details: { reason: 'invalid_client', ...(known ? { clientId: credentials.clientId } : {}) },
      });
      throw new ServiceError('INVALID_CLIENT', { detail: 'client authentication failed' });
    }
    return app;
  }

  /** A refused password sign-in, recorded against the account the name belongs to (when it is one). */
  private async signInRefused(usernameCanonical: string, context: RequestContext, action: 'auth.sign-in' | 'auth.lockout', details: Record<string, string | number>): Promise<void> {
    // The refusal stands whatever happens here: a failed lookup only leaves the event without its organization.
    const account = await accountNamed(this.parts.database, usernameCanonical).catch(() => undefined);
    await this.parts.events.recordSettled(context, {
      tenantId: account?.tenantId,
      actor: 'anonymous',
      action,
      outcome: 'failure',
      targetType: account ? 'user' : 'username',
      targetId: account?.id ?? unknownNameTarget(usernameCanonical),
      details,
    });
  }

  /**
   * Resource-owner password grant: the password sign-in (passwordSignIn), then the session and its tokens.
   */
  async passwordGrant(input: PasswordGrantInput, context: RequestContext): Promise<PasswordGrantOutcome> {
    const client = input.client ? await this.authenticateClient(input.client, context) : undefined;
    const outcome = await this.passwordSignIn(
      {
        username: input.username,
        password: input.password,
        ...(client ? { client } : {}),
        ...(input.scope === undefined ? {} : { scope: input.scope }),
        ...(input.deviceToken === undefined ? {} : { deviceToken: input.deviceToken }),
      },
      context,
    );
    if (outcome.kind === 'mfa') return outcome;
    return { kind: 'tokens', tokens: await this.issueSession(outcome.user, client?.clientId, input.scope, { context, grant: 'password' }) };
  }

  /**
   * The password step of every sign-in (the password grant and the hosted sign-in page): the person whose
   * password is right, or the MFA challenge to pass first; no session yet. The tenant comes from the username
   * (globally unique). Locked accounts are refused before the password is checked; every failure, for known and
   * unknown names alike, counts, and so does the organization's spray limit.
   */
  async passwordSignIn(input: PasswordSignInInput, context: RequestContext): Promise<PasswordSignIn> {
    const { parts } = this;
    const { client } = input;
    const canonical = canonicalName(input.username);
    const lockSeconds = await signInLockSecondsLeft(parts.database, canonical, parts.clock.nowMs());
    if (lockSeconds !== undefined) {
      await this.signInRefused(canonical, context, 'auth.sign-in', { grant: 'password', reason: 'account_locked' });
      throw new ServiceError('ACCOUNT_LOCKED', { detail: 'sign-in locked after repeated failures', headers: { 'Retry-After': String(lockSeconds) } });
    }
    const tenantLimit = parts.settings.signIn.tenant ?? defaultTenantSprayLimit;
    const tenantOfName = await organizationOfUsername(parts.database, canonical);
    if (tenantOfName !== undefined) {
      try {
        await assertTenantNotSprayed(parts.database, tenantOfName, parts.clock.nowMs(), tenantLimit);
      } catch (error) {
        if (error instanceof ServiceError && error.code === 'RATE_LIMITED') await this.signInRefused(canonical, context, 'auth.sign-in', { grant: 'password', reason: 'organization_rate_limited' });
        throw error;
      }
    }
    const user = await this.provider.authenticatePassword(input.username, input.password);
    if (!user) {
      if (tenantOfName !== undefined) await recordTenantFailure(parts.database, tenantOfName, parts.clock.nowMs(), tenantLimit);
      const failures = await recordSignInFailure(parts.database, canonical, parts.clock.nowMs(), parts.settings.signIn);
      await this.signInRefused(canonical, context, 'auth.sign-in', { grant: 'password', reason: 'invalid_credentials', failures });
      // Exactly one failure reaches the limit, however many run at once (the count is atomic): one lockout event.
      if (failures === parts.settings.signIn.maxFailures) {
        await this.signInRefused(canonical, context, 'auth.lockout', { failures, lockSeconds: parts.settings.signIn.lockSeconds });
      }
      throw new ServiceError('INVALID_GRANT', { detail: 'password sign-in failed' });
    }
    await clearSignInFailures(parts.database, canonical);
    // A console registered in the platform organization may sign in anyone; another client only its own tenant's people.
    if (client && client.tenantId !== user.tenantId && client.tenantId !== parts.tenancy.defaultTenantId) {
      await this.signInRefused(canonical, context, 'auth.sign-in', { grant: 'password', reason: 'client_of_another_organization', clientId: client.clientId });
      throw new ServiceError('INVALID_GRANT', { detail: `client ${client.clientId} belongs to another organization than the user` });
    }
    const challenge = await parts.mfaGate.challengeFor(user, {
      clientId: client?.clientId ?? '',
      ...(input.scope === undefined ? {} : { scope: input.scope }),
      ...(input.deviceToken === undefined ? {} : { deviceToken: input.deviceToken }),
    });
    if (challenge) return { kind: 'mfa', challenge };
    return { kind: 'user', user };
  }

  /** Client-credentials grant: the application's own token, scoped to its organization. */
  async clientCredentialsGrant(credentials: ClientCredentials, scope: string | undefined, context: RequestContext): Promise<TokenAnswer> {
    const app = await this.authenticateClient(credentials, context);
    return this.issueSession(app, app.clientId, scope, { context, grant: 'client_credentials' });
  }

  /**
   * Refresh with rotation (RFC 9700 4.14.2), in one transaction holding the token row: a token used before
   * revokes its whole session and is refused; the session's tenant and subject are fixed, so a refresh never
   * moves to another tenant. Concurrent refreshes of one token serialize on the row lock: the first rotates,
   * every later one sees a used token, which is reuse: the family is revoked (safe, and simple: no grace window).
   * A failure of ours (database, signing) rolls everything back and revokes nothing.
   */
  async refreshGrant(input: RefreshGrantInput, context: RequestContext): Promise<TokenAnswer> {
    const { parts } = this;
    const client = input.client ? await this.authenticateClient(input.client, context) : undefined;
    const tokenHash = refreshTokenHash(input.refreshToken);
    const nowMs = parts.clock.nowMs();
    // Everything that needs the pool (or the identity provider) is read before the transaction takes the row
    // lock: under a burst, waiters hold every pooled connection, and the holder must not need another one.
    const found = await findRefreshTokenSession(parts.database, tokenHash);
    if (!found) throw new ServiceError('INVALID_GRANT', { detail: 'unknown refresh token' });
    const subject = await this.provider.findSubject(found.subjectKind, found.tenantId, found.subjectId);
    await parts.keys.signingKey();
    const outcome = await withTransaction(parts.database, async (tx): Promise<{ reused: string } | { providerRefused: string } | { tokens: TokenAnswer }> => {
      const row = await lockRefreshToken(tx, tokenHash);
      if (!row) throw new ServiceError('INVALID_GRANT', { detail: 'unknown refresh token' });
      if (row.used) {
        await endSessions(tx, { kind: 'session', sessionId: row.sessionId, tenantId: row.tenantId }, 'refresh_reuse');
        return { reused: row.sessionId };
      }
      if (row.revoked) throw new ServiceError('INVALID_GRANT', { detail: 'session revoked' });
      if (row.expiresMs <= nowMs) throw new ServiceError('INVALID_GRANT', { detail: 'refresh token expired' });
      if (row.absoluteExpiresMs <= nowMs) throw new ServiceError('INVALID_GRANT', { detail: 'session past its absolute lifetime' });
      if (client ? client.clientId !== row.clientId : input.requireClientOfSession && row.clientId !== null) {
        throw new ServiceError('INVALID_GRANT', { detail: 'refresh token issued to another client' });
      }
      const scope = narrowedScope(row.scope, input.scope);
      if (!subject || row.sessionId !== found.sessionId || subject.tenantId !== row.tenantId || subject.id !== row.subjectId) throw new ServiceError('INVALID_GRANT', { detail: 'subject no longer active in the session organization' });
      // oidc mode: the provider refresh token is forwarded too; a provider outage throws (503) and rolls back.
      if ((await this.provider.sessions?.refresh(tx, row.sessionId)) === 'refused') return { providerRefused: row.sessionId };
      await markRefreshTokenUsed(tx, tokenHash, nowMs);
      const successor = await insertRefreshToken(tx, row.sessionId, nowMs, parts.settings.refreshTokenTtlSeconds, row.absoluteExpiresMs);
      return { tokens: await this.signTokens(subject, row.clientId ?? undefined, scope, row.sessionId, successor) };
    });
    if ('providerRefused' in outcome) {
      // Outside the row lock, as logout takes the session row before the refresh tokens.
      await withTransaction(parts.database, (tx) => endSessions(tx, { kind: 'session', sessionId: outcome.providerRefused, tenantId: found.tenantId }, 'provider_refused'));
      this.endLocally(found, outcome.providerRefused);
      throw new ServiceError('INVALID_GRANT', { detail: `identity provider refused the refresh; session ${outcome.providerRefused} ended` });
    }
    if ('reused' in outcome) {
      // After the commit: the revocation stands even if the event cannot be written; this replica refuses the
      // session's access tokens at once.
      this.endLocally(found, outcome.reused);
      await parts.events.recordSettled(context, {
        tenantId: found.tenantId,
        actor: 'anonymous',
        action: 'auth.refresh-reuse',
        outcome: 'failure',
        targetType: found.subjectKind,
        targetId: found.subjectId,
        details: { sessionId: outcome.reused, sessionRevoked: true },
      });
      await endUpstreamGrant(parts, this.provider.sessions, outcome.reused, context.requestId);
      throw new ServiceError('INVALID_GRANT', { detail: `refresh token reused; session ${outcome.reused} revoked` });
    }
    return outcome.tokens;
  }

  /** This replica refuses an ended session's access tokens at once (the others within the token check's bound). */
  endLocally(found: { tenantId: string; subjectKind: 'user' | 'application'; subjectId: string }, sessionId: string): void {
    this.parts.endHere({ tenantId: found.tenantId, subject: subjectOf(found.subjectKind, found.subjectId), sid: sessionId });
  }
}

