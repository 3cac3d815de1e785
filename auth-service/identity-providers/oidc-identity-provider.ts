import type pg from 'pg';
import * as oidc from 'openid-client';
import type { Clock } from '../../engine/index.js';
import { canonicalName } from '../../domain/canonical-name.js';
import { signInApplicationOfClient } from '../../directory/sign-in-subjects.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { UpstreamGrant, type AuthenticatedApp, type AuthenticatedSubject, type AuthenticatedUser, type IdentityProvider } from './identity-provider.js';
import { OidcUpstreamSessions } from './oidc-upstream-sessions.js';
import { providerCircuitFetch } from './provider-circuit.js';
import { userOfProviderAccount } from './oidc-user-link.js';
import { activeSubject, toApp, toUser } from './authenticated-subjects.js';

export interface OidcIdentityProviderOptions {
  /** The external provider's issuer; discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuerUrl: string;
  /** Access Manager's own client at the provider (used for the password grant). */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pool: pg.Pool;
  /** Seals the provider's tokens kept beside each session (never stored or logged in clear). */
  readonly secrets: SecretBox;
  /** The ID token claim whose canonical form is matched to `users.username_canonical` (default `preferred_username`). */
  readonly usernameClaim?: string;
  /** Scope asked for at the password grant (default `openid profile email offline_access`: a refresh token to forward). */
  readonly scope?: string;
  /** Bound on every request to the provider, discovery included (default 5 s); after a failure the provider is not asked for min(this, 5 s). */
  readonly timeoutSeconds?: number;
  /** Plain http issuers (tests, a provider on loopback); never in production. */
  readonly allowInsecureRequests?: boolean;
  readonly clock: Clock;
}

/**
 * OAuth errors that mean "these credentials are refused" (RFC 6749 5.2); anything else means the provider cannot
 * decide. At the password grant the client is Access Manager itself: `invalid_client` or `unauthorized_client`
 * there is our misconfiguration (503), never a user's wrong password counted towards a lockout.
 */
const passwordRefusals = new Set(['invalid_grant', 'access_denied']);
const clientRefusals = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied']);

function unavailable(what: string, error: unknown): ServiceError {
  return new ServiceError('IDENTITY_PROVIDER_UNAVAILABLE', { detail: `oidc ${what}: ${(error as Error).message}`, cause: error });
}

/** A refusal by the provider is `undefined`; a network failure, timeout, 5xx or invalid token throws (never an allow). */
async function refusedOrThrow<T>(what: string, refusals: ReadonlySet<string>, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.status >= 400 && error.status < 500 && refusals.has(error.error)) return undefined;
    if (error instanceof ServiceError) throw error;
    throw unavailable(what, error);
  }
}

/**
 * The identity provider over an external OpenID Connect provider, reached with `openid-client`: credentials
 * are checked by the provider (a `password` grant, which the provider must offer, and `client_credentials`),
 * its ID token is validated against its JWKS (signature, issuer, audience, expiry), and the subject is then
 * mapped to Identity's own rows, which keep carrying organizations and permissions: a person by the provider's
 * `(iss, sub)`, pinned at the first sign-in (oidc-user-link.ts), an application by its client id. A provider user
 * or client without an Identity row, or a disabled one, is refused like a wrong password.
 */
export class OidcIdentityProvider implements IdentityProvider {
  readonly #options: OidcIdentityProviderOptions;
  readonly #timeoutSeconds: number;
  readonly #fetch: oidc.CustomFetch;
  #discovery: Promise<oidc.Configuration> | undefined;
  /** The provider's grant kept beside each session: forwarded at refresh, asked at userinfo, revoked at logout. */
  readonly sessions: OidcUpstreamSessions;

  constructor(options: OidcIdentityProviderOptions) {
    this.#options = options;
    this.#timeoutSeconds = options.timeoutSeconds ?? 5;
    this.#fetch = providerCircuitFetch({ cooldownMs: Math.min(this.#timeoutSeconds, 5) * 1000, clock: options.clock });
    this.sessions = new OidcUpstreamSessions({ configuration: () => this.#configuration(), pool: options.pool, secrets: options.secrets, clock: options.clock });
  }

  async #discover(): Promise<oidc.Configuration> {
    const { issuerUrl, clientId, clientSecret } = this.#options;
    const execute = [oidc.enableNonRepudiationChecks, ...(this.#options.allowInsecureRequests ? [oidc.allowInsecureRequests] : [])];
    try {
      return await oidc.discovery(new URL(issuerUrl), clientId, undefined, oidc.ClientSecretPost(clientSecret), { execute, timeout: this.#timeoutSeconds, [oidc.customFetch]: this.#fetch });
    } catch (error) {
      throw unavailable('discovery', error);
    }
  }

  /** Discovery once, cached (with the JWKS openid-client keeps on it); a failed discovery is retried at the next call. */
  #configuration(): Promise<oidc.Configuration> {
    this.#discovery ??= this.#discover().catch((error: unknown) => {
      this.#discovery = undefined;
      throw error;
    });
    return this.#discovery;
  }

  /**
   * Readiness: resolves when the provider's discovery document is reachable now (fetched afresh, so a provider
   * that went down is seen), throws IDENTITY_PROVIDER_UNAVAILABLE otherwise. For `/ready` ("identity provider").
   * The cached configuration is kept: a probe costs one request, not a JWKS refetch at the next sign-in.
   */
  async check(): Promise<void> {
    const fresh = this.#discover();
    await fresh;
    this.#discovery ??= fresh;
  }

  async authenticatePassword(username: string, password: string): Promise<AuthenticatedUser | undefined> {
    const config = await this.#configuration();
    const scope = this.#options.scope ?? 'openid profile email offline_access';
    const response = await refusedOrThrow('password grant', passwordRefusals, () => oidc.genericGrantRequest(config, 'password', { username, password, scope }));
    if (!response) return undefined;
    // Validated by openid-client already: signature against the JWKS (non-repudiation checks), iss, aud, exp.
    const claims = response.claims();
    if (!claims) throw new ServiceError('IDENTITY_PROVIDER_UNAVAILABLE', { detail: 'oidc password grant: no id_token in the token response' });
    // OIDC Core 2: `sub` is at most 255 ASCII characters; anything else is a token we cannot key a link on.
    if (!/^[\x20-\x7e]{1,255}$/.test(claims.sub)) throw new ServiceError('IDENTITY_PROVIDER_UNAVAILABLE', { detail: 'oidc password grant: id_token sub is not 1-255 ASCII characters' });
    const name = claims[this.#options.usernameClaim ?? 'preferred_username'];
    const usernameCanonical = typeof name === 'string' && name.length > 0 ? canonicalName(name) : undefined;
    const row = await userOfProviderAccount(this.#options.pool, { issuer: claims.iss, subject: claims.sub, usernameCanonical });
    if (!row?.active) return undefined;
    const upstream = new UpstreamGrant({
      providerSubject: claims.sub,
      accessToken: response.access_token,
      accessExpiresMs: response.expires_in === undefined ? undefined : this.#options.clock.nowMs() + response.expires_in * 1000,
      refreshToken: response.refresh_token,
    });
    return { ...toUser(row), upstream };
  }

  async authenticateClient(clientId: string, clientSecret: string): Promise<AuthenticatedApp | undefined> {
    const base = await this.#configuration();
    const config = new oidc.Configuration(base.serverMetadata(), clientId, undefined, oidc.ClientSecretPost(clientSecret));
    config.timeout = this.#timeoutSeconds;
    config[oidc.customFetch] = this.#fetch;
    if (this.#options.allowInsecureRequests) oidc.allowInsecureRequests(config);
    const response = await refusedOrThrow('client_credentials grant', clientRefusals, () => oidc.clientCredentialsGrant(config));
    if (!response) return undefined;
    const application = await signInApplicationOfClient(this.#options.pool, clientId);
    return application?.active ? toApp(application) : undefined;
  }

  /** Rereads our own tables at refresh, like the builtin provider; the external provider is asked through `sessions.refresh`. */
  findSubject(kind: AuthenticatedSubject['kind'], tenantId: string, id: string): Promise<AuthenticatedSubject | undefined> {
    return activeSubject(this.#options.pool, kind, tenantId, id);
  }
}
