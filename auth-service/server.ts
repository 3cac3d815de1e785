// Auth as a running server: its signing keys, its deps and their wiring (wireAuth builds every collaborator once),
// and the app over the shared service runtime (license, engine, metrics, listener). `main.ts` (one service per process) and the root `npm start` (both services in one process) start it the same way.
import { requestRateLimitsOf } from '../platform/rate-limit-config.js';
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import type { RunningService, StartServiceOptions } from '../platform/http/graceful-server.js';
import { logReporter } from '../platform/logger.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { createProviderCodeDelivery } from '../messaging/index.js';
import { startServiceRuntime } from '../platform/service/service-runtime.js';
import { systemClock } from '../engine/index.js';
import { DecisionLogMaintenance, DecisionLogStore, DecisionRecorder, decisionLogSettingsOf } from '../platform/decision-log/index.js';
import { decidingRuleResolver } from './decision-log/deciding-rule.js';
import { createAuthListener } from './app.js';
import type { AuthConfig } from './config.js';
import type { AuthDeps } from './deps.js';
import { sharedTokenCache } from './shared-token-cache.js';
import { identityProviderFromConfig } from './identity-providers/identity-provider-from-config.js';
import { scheduleKeyRotation, type KeyRotationSchedule } from './keys/key-rotation-schedule.js';
import { SigningKeyStore } from './keys/signing-key-store.js';
import { TokenIssuer } from './tokens/token-issuer.js';
import { wireAuth } from './wiring.js';

/** Starts Auth from a parsed configuration; resolves once it listens. */
export async function startAuthService(config: AuthConfig, options: StartServiceOptions = {}): Promise<RunningService> {
  const base = await startServiceRuntime(config, { name: 'auth', errorPrefix: 'AUT' }, options);
  const { logger, license, metrics, pool, secrets, engine: runtime } = base;
  let decisionLog: ReturnType<typeof startDecisionLog>;
  let rotation: KeyRotationSchedule | undefined;
  try {
    const clock = systemClock;
    const keys = new SigningKeyStore({ pool, secrets, clock, maxTokenLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS, prepublishSeconds: config.SIGNING_KEY_PREPUBLISH_SECONDS });
    await keys.start();
    rotation = scheduleKeyRotation({
      keys,
      intervalSeconds: config.SIGNING_KEY_ROTATION_INTERVAL_SECONDS,
      onRotated: (kid) => logger.info({ kid, prepublishSeconds: config.SIGNING_KEY_PREPUBLISH_SECONDS }, 'signing key rotated: the new key is published and signs after the prepublish delay'),
      onError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'signing key rotation check failed; the current key keeps signing'),
    });
    await rotation.firstCheck;
    const deliver = createProviderCodeDelivery({ pool, secrets });
    decisionLog = startDecisionLog(config, base);
    const deps = {
      license,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      pool,
      engine: runtime.engine,
      keys,
      issuer: new TokenIssuer({ keys, issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, multiTenant: config.MULTI_TENANT_ENABLED, clock }),
      tokens: createTokenVerifier({
        keys: keys.keyResolver(),
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
        tokenType: 'at+jwt',
        clock,
        // Verified tokens shared by the replicas, keyed by digest, never beyond the token's exp; entries
        // authenticated, so a write to Valkey mints nothing.
        ...(runtime.valkey ? { shared: sharedTokenCache({ client: runtime.valkey, keyPrefix: config.KEY_PREFIX, secretsEncryptionKey: config.SECRETS_ENCRYPTION_KEY, logger, metrics }) } : {}),
        onSharedError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'token cache tier failed'),
      }),
      tenancy: { multiTenant: config.MULTI_TENANT_ENABLED, defaultTenantId: config.DEFAULT_ORGANIZATION_ID ?? '' },
      passwords: createPasswordHasher({ memoryCostKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS }),
      secrets,
      valkey: runtime.valkey,
      keyPrefix: config.KEY_PREFIX,
      settings: {
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
        sessionAbsoluteTtlSeconds: config.SESSION_ABSOLUTE_TTL_SECONDS,
        signIn: {
          maxFailures: config.SIGN_IN_MAX_FAILURES,
          lockSeconds: config.SIGN_IN_LOCK_SECONDS,
          tenant: { maxFailures: config.SIGN_IN_TENANT_MAX_FAILURES, windowSeconds: config.SIGN_IN_TENANT_WINDOW_SECONDS },
        },
        mfa: config.mfa,
        platformInternalCidrs: config.PLATFORM_INTERNAL_CIDRS,
        trustedProxies: config.TRUSTED_PROXIES,
        requestRateLimits: requestRateLimitsOf(config),
        tokenRateLimit: {
          limit: config.RATE_LIMIT_TOKEN_MAX,
          windowSeconds: config.RATE_LIMIT_TOKEN_WINDOW_SECONDS,
          ...(config.RATE_LIMIT_TOKEN_FALLBACK_MAX === undefined ? {} : { fallbackLimit: config.RATE_LIMIT_TOKEN_FALLBACK_MAX }),
        },
      },
      report: logReporter(logger),
      clock,
      deliverMfaCode: ({ tenantId, channel, to, code }: { tenantId: string; channel: 'email' | 'sms'; to: string; code: string }) => deliver({ tenantId, channel, to, code }),
      identityProvider: identityProviderFromConfig(config.identityProvider, { pool, secrets, clock }),
      ...(decisionLog ? { decisionLog: decisionLog.recorder } : {}),
    } satisfies AuthDeps;
    const app = createAuthListener(wireAuth(deps));

    const schedule = rotation;
    const log = decisionLog;
    return await base.serve(app, { issuer: config.TOKEN_ISSUER, decisionLog: log !== undefined }, async () => {
      schedule.stop();
      await log?.close();
    });
  } catch (error) {
    rotation?.stop();
    await decisionLog?.close();
    await base.abort();
    throw error;
  }
}

/**
 * The decision log's writer and its partition keeper on the service's pool. Failures are logged at most once a
 * minute (a database outage would otherwise log at every flush); the drops are counted in the metrics.
 */
function startDecisionLog(config: AuthConfig, base: Awaited<ReturnType<typeof startServiceRuntime>>): { recorder: DecisionRecorder; close: () => Promise<void> } | undefined {
  const settings = decisionLogSettingsOf(config);
  if (!settings.enabled) return undefined;
  const { pool, logger, metrics } = base;
  const store = new DecisionLogStore(pool);
  let lastWarnedMs = Number.NEGATIVE_INFINITY;
  const recorder = new DecisionRecorder({
    sink: store,
    queueMax: settings.queueMax,
    batchMax: settings.batchMax,
    flushIntervalMs: settings.flushIntervalMs,
    resolveRule: decidingRuleResolver(base.engine.engine),
    onError: (error, droppedRows) => {
      const now = systemClock.nowMs();
      if (now - lastWarnedMs < 60_000) return;
      lastWarnedMs = now;
      logger.warn({ err: error instanceof Error ? error.message : String(error), droppedRows }, 'decision log write failed: decisions dropped (counted in am_decision_log_records_total)');
    },
  });
  metrics.watchDecisionLog(recorder);
  const maintenance = new DecisionLogMaintenance({
    store,
    retentionDays: settings.retentionDays,
    clock: systemClock,
    onError: (error) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'decision log partition upkeep failed'),
  });
  maintenance.start();
  return {
    recorder,
    close: async () => {
      maintenance.stop();
      await recorder.close();
    },
  };
}
