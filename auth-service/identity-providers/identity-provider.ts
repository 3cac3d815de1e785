/** A person whose password was verified: active, in an active organization. */
export interface AuthenticatedUser {
  readonly kind: 'user';
  readonly id: string;
  readonly orgId: string;
  readonly orgSlug: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
}

/** An application whose client secret was verified, in an active organization. */
export interface AuthenticatedApp {
  readonly kind: 'application';
  readonly id: string;
  readonly orgId: string;
  readonly orgSlug: string;
  readonly name: string;
  readonly clientId: string;
}

export type AuthenticatedSubject = AuthenticatedUser | AuthenticatedApp;

/**
 * Where credentials are checked. The built-in provider reads Identity's tables; an external OIDC provider
 * implements the same port. Wrong credentials, an unknown name, a disabled subject or organization are all
 * `undefined` (never told apart), and an implementation spends the same work on each (SECURITY-CHECKLIST D5).
 * Throws SERVICE_UNAVAILABLE / IDENTITY_PROVIDER_UNAVAILABLE when it cannot decide.
 *
 * @example
 * const user = await provider.authenticatePassword('ana', 'pw');
 * if (!user) throw new ServiceError('INVALID_GRANT');
 */
export interface IdentityProvider {
  authenticatePassword(username: string, password: string): Promise<AuthenticatedUser | undefined>;
  authenticateClient(clientId: string, clientSecret: string): Promise<AuthenticatedApp | undefined>;
  /** Rereads a session's subject at refresh: undefined when it is gone, disabled, or no longer in `orgId`. */
  findSubject(kind: AuthenticatedSubject['kind'], orgId: string, id: string): Promise<AuthenticatedSubject | undefined>;
  /** Readiness of an external provider (its discovery reachable); throws IDENTITY_PROVIDER_UNAVAILABLE. Absent for builtin. */
  check?(): Promise<void>;
}
