// Auth as a running server: the engine with its change feed, signing keys, the HTTP listener. `main.ts` (one
// service per process) and the root `npm start` (both services in one process) start it the same way.
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import { ValkeyTokenCache } from '../platform/auth/valkey-token-cache.js';
import { startEngineRuntime } from '../platform/engine-runtime.js';
import { listenGracefully, type RunningService, type StartServiceOptions } from '../platform/http/graceful-server.js';
import { loadLicense, watchLicense } from '../platform/license/index.js';
import { createLogger, logReporter } from '../platform/logger.js';
import { createServiceMetrics } from '../platform/metrics/index.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { SecretBox } from '../platform/secret-box.js';
import { createProviderCodeDelivery } from '../platform/senders/index.js';
import { createAuthApp } from './app.js';
import type { AuthConfig } from './config.js';
import { identityProviderFromConfig } from './identity-providers/identity-provider-from-config.js';
import { SigningKeyStore } from './keys/signing-key-store.js';
import { TokenIssuer } from './tokens/token-issuer.js';

/** Starts Auth from a parsed configuration; resolves once it listens. */
export async function startAuthService(config: AuthConfig, options: StartServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ name: 'auth', level: config.LOG_LEVEL });
  // Issue #5: no start without a valid license (a LicenseError is a ConfigError: the caller exits 78).
  const license = await loadLicense(config, Date.now());
  if (license.expiringSoon) logger.warn({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString() }, 'license expires within 14 days');
  else logger.info({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString(), limits: license.limits }, 'license verified');
  const stopLicenseWatch = watchLicense(license, {
    nowMs: () => Date.now(),
    onChange: (status) => logger.warn(status, status.status === 'expired' ? 'license expired: the next start will be refused' : 'license expires within 14 days'),
  });
  const metrics = createServiceMetrics({ service: 'auth', logger });
  const runtime = await startEngineRuntime(config, {
    onEvent: (event) => {
      metrics.onEngineEvent(event);
      if (event.type === 'sync-failed' || event.type === 'feed-failed' || event.type === 'cache-tier-failed') logger.warn({ event: event.type }, 'engine degraded');
    },
    onConnectionError: (source, error) => logger.warn({ source, err: error.message }, 'connection error'),
  });
  try {
    const pool = runtime.pool as NonNullable<typeof runtime.pool>;
    const secrets = new SecretBox(Buffer.from(config.SECRETS_ENCRYPTION_KEY.reveal(), 'base64'));
    const nowMs = () => Date.now();
    const keys = new SigningKeyStore({ pool, secrets, nowMs, maxTokenLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS });
    await keys.start();
    const deliver = createProviderCodeDelivery({ pool, secrets });
    metrics.watchEngine(runtime.engine);
    const app = createAuthApp({
      license,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      pool,
      engine: runtime.engine,
      keys,
      issuer: new TokenIssuer({ keys, issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, multiTenant: config.MULTI_TENANT_ENABLED, nowMs }),
      tokens: createTokenVerifier({
        keys: keys.keyResolver(),
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
        tokenType: 'at+jwt',
        nowMs,
        // Issue #4: verified tokens shared by the replicas, keyed by digest, never beyond the token's exp.
        ...(runtime.valkey ? { shared: new ValkeyTokenCache({ client: runtime.valkey, keyPrefix: config.KEY_PREFIX }) } : {}),
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
        signIn: { maxFailures: config.SIGN_IN_MAX_FAILURES, lockSeconds: config.SIGN_IN_LOCK_SECONDS },
        mfa: config.mfa,
        platformInternalCidrs: config.PLATFORM_INTERNAL_CIDRS,
        trustedProxies: config.TRUSTED_PROXIES,
        tokenRateLimit: { limit: config.RATE_LIMIT_TOKEN_MAX, windowSeconds: config.RATE_LIMIT_TOKEN_WINDOW_SECONDS },
      },
      report: logReporter(logger),
      fetch: globalThis.fetch,
      nowMs,
      deliverMfaCode: ({ tenantId, channel, to, code }) => deliver({ tenantId, channel, to, code }),
      identityProvider: identityProviderFromConfig(config.identityProvider, { pool, secrets }),
    });

    const http = await listenGracefully(app, { port: config.SERVER_PORT, host: config.SERVER_HOST, errorPrefix: 'AUT' });
    logger.info({ url: http.url, issuer: config.TOKEN_ISSUER, feed: runtime.feedName ?? 'none' }, 'auth listening');
    let closing: Promise<void> | undefined;
    return {
      url: http.url,
      close() {
        closing ??= (async () => {
          logger.info('shutting down: draining in-flight requests');
          await http.close(options.drainTimeoutMs);
          stopLicenseWatch();
          await runtime.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    stopLicenseWatch();
    await runtime.close();
    throw error;
  }
}
