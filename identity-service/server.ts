// Identity as a running server: one PostgreSQL pool, the engine with its change feed, the HTTP listener.
// `main.ts` (one service per process) and the root `npm start` (both services in one process) start it the same way.
import { createRemoteJWKSet } from 'jose';
import type { PgPolicyStore } from '../engine/adapters/index.js';
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import { startEngineRuntime } from '../platform/engine-runtime.js';
import { listenGracefully, type RunningService, type StartServiceOptions } from '../platform/http/graceful-server.js';
import { loadLicense, watchLicense } from '../platform/license/index.js';
import { createLogger, logReporter } from '../platform/logger.js';
import { createServiceMetrics } from '../platform/metrics/index.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { SecretBox } from '../platform/secret-box.js';
import { createProviderCodeDelivery } from '../platform/senders/index.js';
import { createIdentityApp } from './app.js';
import type { IdentityConfig } from './config.js';

/** Starts Identity from a parsed configuration; resolves once it listens. */
export async function startIdentityService(config: IdentityConfig, options: StartServiceOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ name: 'identity', level: config.LOG_LEVEL });
  // Issue #5: no start without a valid license (a LicenseError is a ConfigError: the caller exits 78).
  const license = await loadLicense(config, Date.now());
  if (license.expiringSoon) logger.warn({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString() }, 'license expires within 14 days');
  else logger.info({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString(), limits: license.limits }, 'license verified');
  const stopLicenseWatch = watchLicense(license, {
    nowMs: () => Date.now(),
    onChange: (status) => logger.warn(status, status.status === 'expired' ? 'license expired: the next start will be refused' : 'license expires within 14 days'),
  });
  const metrics = createServiceMetrics({ service: 'identity', logger });
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
    const deliverCode = createProviderCodeDelivery({ pool, secrets });
    const defaultTenantId = (config.DEFAULT_ORGANIZATION_ID ?? config.PLATFORM_ORGANIZATION_ID) as string;
    metrics.watchEngine(runtime.engine);
    const app = createIdentityApp({
      license,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      pool,
      engine: runtime.engine,
      policyStore: runtime.store as PgPolicyStore,
      valkey: runtime.valkey,
      tokens: createTokenVerifier({
        keys: createRemoteJWKSet(new URL(config.JWKS_URL ?? `${config.TOKEN_ISSUER.replace(/\/$/, '')}/.well-known/jwks`), { timeoutDuration: 2_000, cooldownDuration: 30_000 }),
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
        tokenType: 'at+jwt',
      }),
      tenancy: { multiTenant: config.MULTI_TENANT_ENABLED, defaultTenantId },
      platformTenantId: config.PLATFORM_ORGANIZATION_ID ?? defaultTenantId,
      passwords: createPasswordHasher({ memoryCostKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS }),
      secrets,
      report: logReporter(logger),
      fetch: globalThis.fetch,
      nowMs: () => Date.now(),
      deliverMfaCode: ({ tenantId, to, code }) => deliverCode({ tenantId, channel: 'email', to, code }),
    });

    const http = await listenGracefully(app, { port: config.SERVER_PORT, host: config.SERVER_HOST, errorPrefix: 'IDE' });
    logger.info({ url: http.url, feed: runtime.feedName ?? 'none' }, 'identity listening');
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
