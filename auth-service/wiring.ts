import type { RequestHandler, Router } from 'express';
import { applicationProfile, userProfile } from '../directory/subject-profiles.js';
import type { Clock, PolicyEngine } from '../engine/index.js';
import type { License } from '../licensing/index.js';
import { ActiveTokenCheck } from '../platform/auth/active-token-check.js';
import type { TenancyOptions } from '../platform/auth/caller-from-token.js';
import { endHereAndInSiblings, endHereWith } from '../platform/auth/ended-here.js';
import { workerLink } from '../platform/cluster/worker-cluster.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { DecisionRecorder } from '../platform/decision-log/index.js';
import { createClientAddress, parseRanges } from '../platform/http/client-address.js';
import { createRequestRateLimits } from '../platform/http/request-rate-limits.js';
import type { ErrorReporter } from '../platform/http/error-handler.js';
import { metricsEndpoint, type ServiceMetrics } from '../platform/metrics/index.js';
import type { SecretBox } from '../platform/secret-box.js';
import { buildInfo } from '../platform/service/build-info.js';
import { healthRoutes } from '../platform/service/health-routes.js';
import { AuthEvents } from './audit/auth-events.js';
import { clientIpCheck, type ClientIpCheck } from './authorization/ip-check.js';
import { IpAllowlists } from './authorization/ip-allowlist.js';
import { resolveSubject, type SubjectLookup } from './authorization/subject.js';
import type { AuthDeps, AuthSettings } from './deps.js';
import { AuthorizationCodeGrant, authorizePath, browserCors, signInRateLimited, signInRecordsIn, type SignInRecords } from './hosted-sign-in/index.js';
import { createBuiltinIdentityProvider } from './identity-providers/builtin-identity-provider.js';
import type { IdentityProvider } from './identity-providers/identity-provider.js';
import { upstreamProfiles, type UpstreamProfiles } from './identity-providers/upstream-userinfo.js';
import type { SigningKeyStore } from './keys/signing-key-store.js';
import { PgChallengeStore } from './mfa/challenge-store.js';
import { MfaGate, MfaLogin } from './mfa/index.js';
import type { ProfileLookup } from './routes/userinfo.js';
import { TokenManagement } from './oauth/token-management.js';
import { SessionLogout } from './tokens/session-logout.js';
import { createTokenRateLimit } from './tokens/token-rate-limit.js';
import { TokenService } from './tokens/token-service.js';
import type { EndHere } from '../platform/auth/ended-here.js';
import { authPermissionPaths, isExemptFromAuthLimits } from './request-limit-paths.js';

/**
 * Every collaborator of one Auth app, built once by `wireAuth`: the routes, the guards and the middleware take
 * what they need from here (narrow interfaces), never a pool or a Valkey client.
 */
export interface AuthParts {
  readonly settings: AuthSettings;
  readonly tenancy: TenancyOptions;
  readonly clock: Clock;
  readonly engine: PolicyEngine;
  readonly keys: SigningKeyStore;
  /** Verifies our own access tokens. */
  readonly tokens: TokenVerifier;
  readonly secrets: SecretBox;
  readonly report: ErrorReporter;
  readonly metrics: ServiceMetrics | undefined;
  readonly license: License | undefined;
  /** Absent when DECISION_LOG_ENABLED=false. */
  readonly decisionLog: DecisionRecorder | undefined;

  readonly tokenCheck: ActiveTokenCheck;
  readonly endHere: EndHere;
  readonly events: AuthEvents;
  /** The client address of a request (socket, or X-Forwarded-For through TRUSTED_PROXIES only). */
  readonly clientAddress: ReturnType<typeof createClientAddress>;
  readonly checkClientIp: ClientIpCheck;
  readonly findSubject: SubjectLookup;
  readonly profileOf: ProfileLookup;
  readonly upstreamProfileOf: UpstreamProfiles;
  readonly identityProvider: IdentityProvider;
  readonly mfaGate: MfaGate;
  readonly mfaLogin: MfaLogin;
  readonly tokenService: TokenService;
  readonly codeGrant: AuthorizationCodeGrant;
  readonly logout: SessionLogout;
  readonly tokenManagement: TokenManagement;
  readonly records: SignInRecords;
  /** `/health`, `/ready` (and `/readyz`), `/metrics` when a token is set: mounted before everything else. */
  readonly healthRoutes: readonly Router[];
  /** CORS for browser clients on the token and logout endpoints (registered redirect origins only). */
  readonly browserCors: Router;
  /** The overall and permission-route limits per client address (RATE_LIMIT_*); undefined when none are set. */
  readonly requestRateLimits: RequestHandler | undefined;
  /** The per-address limit of the token routes and the hosted sign-in page's posts. */
  readonly tokenRateLimit: Router;
}

/**
 * Builds Auth's collaborators from its deps, each exactly once, in dependency order; throws on unusable address
 * settings (TRUSTED_PROXIES, PLATFORM_INTERNAL_CIDRS). `server.ts` calls it, and so does every test that builds
 * an app, so tests run the wiring production runs.
 *
 * @example
 * const app = createAuthApp(wireAuth(deps));
 */
export function wireAuth(deps: AuthDeps): AuthParts {
  const { pool, clock, settings, secrets, report } = deps;
  const clientAddress = createClientAddress(settings.trustedProxies);
  const platformInternal = parseRanges('PLATFORM_INTERNAL_CIDRS', settings.platformInternalCidrs);
  const tokenCheck = new ActiveTokenCheck({ pool, clock });
  const endHere = endHereAndInSiblings(endHereWith({ tokenCheck, clock, accessTokenTtlSeconds: settings.accessTokenTtlSeconds }), workerLink());
  const events = new AuthEvents({ database: pool, clock, report, clientAddress });
  const identityProvider = deps.identityProvider ?? createBuiltinIdentityProvider({ pool, passwords: deps.passwords });
  const challenges = new PgChallengeStore({ pool, clock });
  const mfaGate = new MfaGate({ database: pool, challenges, clock, secrets, settings: settings.mfa, canSendCodes: deps.deliverMfaCode !== undefined });
  const mfaLogin = new MfaLogin({ database: pool, challenges, clock, secrets, settings: settings.mfa, events, deliverMfaCode: deps.deliverMfaCode });
  const tokenService = new TokenService({
    database: pool,
    clock,
    settings,
    tenancy: deps.tenancy,
    secrets,
    keys: deps.keys,
    issuer: deps.issuer,
    provider: identityProvider,
    mfaGate,
    events,
    endHere,
    report,
  });
  const health = healthRoutes({ service: 'auth', build: buildInfo(), pool, engine: deps.engine, valkey: deps.valkey, identityProvider: deps.identityProvider, license: deps.license, clock });
  const parts: AuthParts = {
    settings,
    tenancy: deps.tenancy,
    clock,
    engine: deps.engine,
    keys: deps.keys,
    tokens: deps.tokens,
    secrets,
    report,
    metrics: deps.metrics,
    license: deps.license,
    decisionLog: deps.decisionLog,
    tokenCheck,
    endHere,
    events,
    clientAddress,
    checkClientIp: clientIpCheck({ ipAllowlists: new IpAllowlists({ pool }), clientAddress, platformInternal }),
    findSubject: (tenantId, named) => resolveSubject(pool, tenantId, named),
    profileOf: (caller) => (caller.kind === 'application' ? applicationProfile(pool, caller.tenantId, caller.id) : userProfile(pool, caller.tenantId, caller.id)),
    upstreamProfileOf: upstreamProfiles({ sessions: identityProvider.sessions, database: pool, endHere }),
    identityProvider,
    mfaGate,
    mfaLogin,
    tokenService,
    codeGrant: new AuthorizationCodeGrant({ database: pool, clock, keys: deps.keys, events, tokenService }),
    logout: new SessionLogout({ database: pool, upstream: identityProvider.sessions }),
    tokenManagement: new TokenManagement({ database: pool, tokens: deps.tokens, tenancy: deps.tenancy, tokenService }),
    records: signInRecordsIn(pool),
    healthRoutes: [health, ...(deps.metrics ? [metricsEndpoint(deps.metrics.scrape, deps.metricsToken)] : [])],
    requestRateLimits: settings.requestRateLimits
      ? createRequestRateLimits({
          service: 'auth',
          limits: settings.requestRateLimits,
          valkey: deps.valkey,
          keyPrefix: deps.keyPrefix,
          trustedProxies: settings.trustedProxies,
          exempt: isExemptFromAuthLimits,
          permissionPaths: authPermissionPaths,
          report: deps.report,
        })
      : undefined,
    browserCors: browserCors({ database: pool, clock }),
    tokenRateLimit: createTokenRateLimit({
      valkey: deps.valkey,
      keyPrefix: deps.keyPrefix,
      trustedProxies: settings.trustedProxies,
      limit: settings.tokenRateLimit.limit,
      windowMs: settings.tokenRateLimit.windowSeconds * 1000,
      ...(settings.tokenRateLimit.fallbackLimit === undefined ? {} : { fallbackLimit: settings.tokenRateLimit.fallbackLimit }),
      report,
      pages: { paths: [authorizePath], limited: signInRateLimited },
    }),
  };
  return Object.freeze(parts);
}
