import type { RequestRateLimits } from '../platform/rate-limit-config.js';
import type { ValkeyClient } from '../platform/valkey-client.js';
import type pg from 'pg';
import type { ConsoleOptions } from './console/console-routes.js';
import type { Clock, PolicyEngine } from '../engine/index.js';
import type { TenancyOptions } from '../platform/auth/caller-from-token.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { ErrorReporter } from '../platform/http/error-handler.js';
import type { License } from '../licensing/index.js';
import type { ServiceMetrics } from '../platform/metrics/index.js';
import type { PasswordHasher } from '../platform/password-hasher.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { Secret } from '../platform/secret.js';
import type { LockoutSettings } from '../platform/sign-in-lockout-config.js';

/**
 * Sends a one-time code to a user's e-mail address or phone (SMS) through the organization's provider for the
 * channel (`tenantId` chooses it); when absent, routes that must send a code answer 503.
 */
export type DeliverCode = (message: { tenantId: string; channel: 'email' | 'sms'; to: string; code: string }) => Promise<void>;

/** Everything the Identity app needs, built by main.ts (or a test) and passed in: app.ts opens nothing itself. */
export interface IdentityDeps {
  readonly pool: pg.Pool;
  /** Decides, and writes policy (`writeWithin` in the write's transaction). */
  readonly engine: PolicyEngine;
  readonly tokens: TokenVerifier;
  readonly tenancy: TenancyOptions;
  /** The organization whose administrators manage organizations (its policy decides `organizations`). */
  readonly platformTenantId: string;
  readonly passwords: PasswordHasher;
  readonly secrets: SecretBox;
  readonly report: ErrorReporter;
  /** Outbound HTTP for provider senders (SendGrid, Twilio, webhooks); injected so tests reach local receivers. */
  readonly fetch: typeof fetch;
  /** The one source of time Identity reads (lockouts, one-time codes, message senders, the token check). */
  readonly clock: Clock;
  /** The engine's Valkey client when VALKEY_URL is set: only `/ready` uses it here. */
  readonly valkey?: ValkeyClient | undefined;
  /**
   * The per-account sign-in lockout that a wrong current password at update-password counts into (Auth's
   * SIGN_IN_MAX_FAILURES / SIGN_IN_LOCK_SECONDS); absent: their defaults.
   */
  readonly signInLockout?: LockoutSettings;
  /** Sends e-mailed MFA codes (setup confirmation, disable proof); absent → those routes answer 503. */
  readonly deliverMfaCode?: DeliverCode;
  /** The license verified at start: `/health` warns in `X-License-Warning`, `/ready` reports its status. */
  readonly license?: License;
  /** Prometheus metrics of this service; `/metrics` is served only with `metricsToken` (METRICS_TOKEN). */
  readonly metrics?: ServiceMetrics;
  readonly metricsToken?: Secret | undefined;
  /**
   * Where callers come from (TRUSTED_PROXIES, PLATFORM_INTERNAL_CIDRS), for the organizations' `identity` IP
   * allowlists; absent: the socket address, and no caller is internal.
   */
  readonly network?: { readonly trustedProxies: readonly string[]; readonly platformInternalCidrs: readonly string[] };
  /** The overall limit per client address (RATE_LIMIT_*), counted under `keyPrefix` in `valkey`; absent: none. */
  readonly requestRateLimits?: { readonly limits: RequestRateLimits; readonly keyPrefix: string } | undefined;
  /** The administration console served under /console/ (absent: not served). */
  readonly console?: ConsoleOptions;
}
