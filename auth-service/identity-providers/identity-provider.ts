import type pg from 'pg';

/** The tokens an external provider granted at a sign-in; in clear only in memory. */
export interface UpstreamTokens {
  /** The provider's `sub`: its userinfo answers must be about this subject. */
  readonly providerSubject: string;
  readonly accessToken: string;
  /** Absent when the provider gave no `expires_in`. */
  readonly accessExpiresMs: number | undefined;
  /** Absent when the provider granted none (no `offline_access`). */
  readonly refreshToken: string | undefined;
}

/** An external provider's grant, carried from the sign-in to the new session. Printing or serialising it shows nothing. */
export class UpstreamGrant {
  readonly #tokens: UpstreamTokens;

  constructor(tokens: UpstreamTokens) {
    this.#tokens = tokens;
    Object.freeze(this);
  }

  reveal(): UpstreamTokens {
    return this.#tokens;
  }

  toJSON(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'UpstreamGrant([redacted])';
  }
}

/** A person whose password was verified: active, in an active organization. */
export interface AuthenticatedUser {
  readonly kind: 'user';
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  /**
   * The subject's cut-off (`tokens_valid_after`, PostgreSQL's text form) as read with its credentials: the session
   * starts only while it is unchanged, so a password change or reset made after the check refuses the sign-in.
   */
  readonly validAfter?: string;
  /** Set by an external provider: its grant, kept (sealed) beside the session this sign-in starts. */
  readonly upstream?: UpstreamGrant;
  /** The same grant sealed (upstream-grant-seal.ts), as it travels through an MFA challenge. */
  readonly upstreamSealed?: string;
}

/** An application whose client secret was verified, in an active organization. */
export interface AuthenticatedApp {
  readonly kind: 'application';
  readonly id: string;
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly name: string;
  readonly clientId: string;
  /**
   * The subject's cut-off (`tokens_valid_after`, PostgreSQL's text form) as read with its credentials: the session
   * starts only while it is unchanged, so a password change or reset made after the check refuses the sign-in.
   */
  readonly validAfter?: string;
}

export type AuthenticatedSubject = AuthenticatedUser | AuthenticatedApp;

/**
 * Where credentials are checked. The built-in provider reads Identity's tables; an external OIDC provider
 * implements the same port. Wrong credentials, an unknown name, a disabled subject or organization are all
 * `undefined` (never told apart), and an implementation spends the same work on each.
 * Throws SERVICE_UNAVAILABLE / IDENTITY_PROVIDER_UNAVAILABLE when it cannot decide.
 *
 * @example
 * const user = await provider.authenticatePassword('ana', 'pw');
 * if (!user) throw new ServiceError('INVALID_GRANT');
 */
export interface IdentityProvider {
  authenticatePassword(username: string, password: string): Promise<AuthenticatedUser | undefined>;
  authenticateClient(clientId: string, clientSecret: string): Promise<AuthenticatedApp | undefined>;
  /** Rereads a session's subject at refresh: undefined when it is gone, disabled, or no longer in `tenantId`. */
  findSubject(kind: AuthenticatedSubject['kind'], tenantId: string, id: string): Promise<AuthenticatedSubject | undefined>;
  /** Present when the provider keeps its own grant beside each of our sessions (external OIDC); absent for builtin. */
  readonly sessions?: UpstreamSessions;
  /** Readiness of an external provider (its discovery reachable); throws IDENTITY_PROVIDER_UNAVAILABLE. Absent for builtin. */
  check?(): Promise<void>;
}

/** What the provider said about a session at our refresh. */
export type UpstreamRefresh = 'refreshed' | 'unchanged' | 'refused' | 'absent';

/** What the provider's userinfo said about a session's user. */
export type UpstreamUserinfo =
  | { readonly kind: 'claims'; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly kind: 'refused' }
  | { readonly kind: 'absent' };

/**
 * The external provider's side of our sessions. `refused` means the provider ended its grant or no longer knows
 * the user: the caller ends our session. `absent` means the session has no provider grant (an application, or a
 * session started before the provider was configured): the caller answers from our own data. A provider that
 * cannot answer throws IDENTITY_PROVIDER_UNAVAILABLE (503), never an allow.
 */
export interface UpstreamSessions {
  /** Keeps the sign-in's grant beside the new session, in the transaction that creates it. */
  attach(db: pg.ClientBase, sessionId: string, grant: UpstreamGrant): Promise<void>;
  /**
   * At our refresh, in its transaction and after our own checks: forwards the provider refresh token and keeps
   * what the provider rotated (`refreshed`); without a provider refresh token the session lives as long as the
   * provider's access token (`unchanged`, then `refused`).
   */
  refresh(db: pg.ClientBase, sessionId: string): Promise<UpstreamRefresh>;
  /** The provider's userinfo for the session's user, its access token renewed first when it has expired. */
  userinfo(sessionId: string): Promise<UpstreamUserinfo>;
  /**
   * At logout, in its transaction: forgets the session's provider tokens and returns what revokes them at the
   * provider, to run once the logout has committed (undefined when there is nothing to revoke).
   */
  detach(db: pg.ClientBase | pg.Pool, sessionId: string): Promise<(() => Promise<void>) | undefined>;
}
