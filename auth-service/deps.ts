import type { RequestRateLimits } from '../platform/rate-limit-config.js';
import type { ValkeyClient } from '../platform/valkey-client.js';
import type { DecisionRecorder } from '../platform/decision-log/index.js';
import type pg from 'pg';
import type { PolicyEngine } from '../engine/index.js';
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
import type { TenantSprayLimit } from './tokens/tenant-spray-limit.js';
import type { TokenIssuer } from './tokens/token-issuer.js';

/** Auth's tunables, with the contract's defaults (LERIAN-CONTRACT "Defaults worth matching"). */
export interface AuthSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number; // 3600
  readonly refreshTokenTtlSeconds: number; // 86400
  /** A session cannot be refreshed beyond this, however often it rotates (SECURITY-CHECKLIST C5). */
  readonly sessionAbsoluteTtlSeconds: number;
  readonly signIn: {
    readonly maxFailures: number; // 5
    readonly lockSeconds: number; // 900
    /** Failed password sign-ins per organization per window (SECURITY-CHECKLIST D3); default 200 per 60 s. */
    readonly tenant?: TenantSprayLimit;
  };
  readonly mfa: {
    readonly sessionTtlSeconds: number; // 300
    readonly maxAttempts: number; // 5
    readonly maxResends: number; // 3
    readonly rememberTtlSeconds: number; // 30 days
    /** HMAC key of mfaToken (MFA_SECRET). */
    readonly tokenSecret: Buffer;
  };
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

/** Everything the Auth app needs, built by main.ts (or a test) and passed in: app.ts opens nothing itself. */
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
  readonly fetch: typeof fetch;
  readonly nowMs: () => number;
  /** Where credentials are checked; absent means the builtin provider over Identity's tables (ARCHITECTURE "Identity provider"). */
  readonly identityProvider?: IdentityProvider;
  /**
   * Sends an MFA code by e-mail or SMS through the organization's provider; absent when none is configured
   * (then those methods answer MFA_METHOD_UNAVAILABLE and only TOTP works).
   */
  readonly deliverMfaCode?: (message: { tenantId: string; userId: string; channel: 'email' | 'sms'; to: string; code: string }) => Promise<void>;
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
