import type { RequestRateLimits } from '../platform/rate-limit-config.js';
import type { ValkeyClient } from '../platform/valkey-client.js';
import type { DecisionRecorder } from '../platform/decision-log/index.js';
import type pg from 'pg';
import type { Clock, PolicyEngine } from '../engine/index.js';
import type { TenancyOptions } from '../platform/auth/caller-from-token.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { ErrorReporter } from '../platform/http/error-handler.js';
import type { License } from '../licensing/index.js';
import type { ServiceMetrics } from '../platform/metrics/index.js';
import type { PasswordHasher } from '../platform/password-hasher.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { Secret } from '../platform/secret.js';
import type { IdentityProvider } from './identity-providers/identity-provider.js';
import type { SigningKeyStore } from './keys/signing-key-store.js';
import type { MfaCodeDelivery, MfaSettings } from './mfa/index.js';
import type { TokenIssuer } from './tokens/token-issuer.js';
import type { SessionSettings } from './tokens/token-service.js';

/** Auth's tunables, with the contract's defaults (those of Lerian's Access Manager). */
export interface AuthSettings extends SessionSettings {
  readonly issuer: string;
  readonly mfa: MfaSettings;
  /** Callers inside these may omit `clientIp` on /v1/authorize (PLATFORM_INTERNAL_CIDRS). */
  readonly platformInternalCidrs: readonly string[];
  /** Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); anything else is the socket address. */
  readonly trustedProxies: readonly string[];
  /**
   * Requests per client address per window on the token routes (RATE_LIMIT_TOKEN_MAX, contract default 10 / 60 s);
   * `fallbackLimit` (RATE_LIMIT_TOKEN_FALLBACK_MAX, default half of `limit`) counts in process while Valkey is down.
   */
  readonly tokenRateLimit: { readonly limit: number; readonly windowSeconds: number; readonly fallbackLimit?: number };
  /** The overall and permission-route limits per client address (RATE_LIMIT_*); absent: none. */
  readonly requestRateLimits?: RequestRateLimits | undefined;
}

/**
 * What Auth is built from: connections, keys, settings and the pluggable parts, made by `server.ts` (or a test).
 * `wireAuth` (wiring.ts) builds every collaborator from them once; the app and its routes see only those.
 */
export interface AuthDeps {
  readonly pool: pg.Pool;
  readonly engine: PolicyEngine;
  readonly keys: SigningKeyStore;
  readonly issuer: TokenIssuer;
  /** Verifies our own access tokens (keys from `keys`, issuer/audience/typ pinned). */
  readonly tokens: TokenVerifier;
  readonly tenancy: TenancyOptions;
  readonly passwords: PasswordHasher;
  readonly secrets: SecretBox;
  /** Absent on embedded defaults: per-process state then (rate limits, caches). */
  readonly valkey: ValkeyClient | undefined;
  readonly keyPrefix: string;
  readonly settings: AuthSettings;
  readonly report: ErrorReporter;
  readonly clock: Clock;
  /** Where credentials are checked; absent means the builtin provider over Identity's tables (ARCHITECTURE "Identity provider"). */
  readonly identityProvider?: IdentityProvider;
  /**
   * Sends an MFA code by e-mail or SMS through the organization's provider; absent when none is configured
   * (then those methods answer MFA_METHOD_UNAVAILABLE and only TOTP works).
   */
  readonly deliverMfaCode?: MfaCodeDelivery;
  /** The license verified at start: `/health` warns in `X-License-Warning`, `/ready` reports its status. */
  readonly license?: License;
  /** Prometheus metrics of this service; `/metrics` is served only with `metricsToken` (METRICS_TOKEN). */
  readonly metrics?: ServiceMetrics;
  readonly metricsToken?: Secret | undefined;
  /**
   * The decision log's writer: every authorize path (the express routes and any leaner one) calls its `record`
   * once per decided check. Absent when DECISION_LOG_ENABLED=false.
   */
  readonly decisionLog?: DecisionRecorder;
}
