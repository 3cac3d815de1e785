// Identity as a running server: its app over the shared service runtime (license, engine, metrics, listener).
// `main.ts` (one service per process) and the root `npm start` (both services in one process) start it the same way.
import { createRemoteJWKSet } from 'jose';
import { systemClock } from '../engine/index.js';
import { createTokenVerifier } from '../platform/auth/token-verifier.js';
import type { RunningService, StartServiceOptions } from '../platform/http/graceful-server.js';
import { logReporter } from '../platform/logger.js';
import { createPasswordHasher } from '../platform/password-hasher.js';
import { createProviderCodeDelivery } from '../messaging/index.js';
import { startServiceRuntime } from '../platform/service/service-runtime.js';
import { requestRateLimitsOf } from '../platform/rate-limit-config.js';
import { createIdentityApp } from './app.js';
import { consoleDistDir } from './console/console-build.js';
import type { IdentityConfig } from './config.js';
import { identityShapesNotice } from './identity-line-shapes.js';

/** Starts Identity from a parsed configuration; resolves once it listens. */
export async function startIdentityService(config: IdentityConfig, options: StartServiceOptions = {}): Promise<RunningService> {
  const base = await startServiceRuntime(config, { name: 'identity', errorPrefix: 'IDE' }, options);
  const { logger, license, metrics, pool, secrets, engine: runtime } = base;
  try {
    const deliverCode = createProviderCodeDelivery({ pool, secrets });
    const limits = requestRateLimitsOf(config);
    const defaultTenantId = (config.DEFAULT_ORGANIZATION_ID ?? config.PLATFORM_ORGANIZATION_ID) as string;
    const app = createIdentityApp({
      license,
      metrics,
      metricsToken: config.METRICS_TOKEN,
      pool,
      engine: runtime.engine,
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
      clock: systemClock,
      signInLockout: { maxFailures: config.SIGN_IN_MAX_FAILURES, lockSeconds: config.SIGN_IN_LOCK_SECONDS },
      deliverMfaCode: ({ tenantId, channel, to, code }) => deliverCode({ tenantId, channel, to, code }),
      network: { trustedProxies: config.TRUSTED_PROXIES, platformInternalCidrs: config.PLATFORM_INTERNAL_CIDRS },
      console: { authIssuer: config.TOKEN_ISSUER, directory: consoleDistDir },
      // Identity has no permission routes: only the overall limit applies.
      requestRateLimits: limits && { limits: { overall: limits.overall }, keyPrefix: config.KEY_PREFIX },
    });

    const shapesNotice = identityShapesNotice(runtime.engine.modelDefinition);
    if (shapesNotice) logger.warn(shapesNotice);
    return await base.serve(app, {});
  } catch (error) {
    await base.abort();
    throw error;
  }
}
