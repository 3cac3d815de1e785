// What Auth and Identity do alike around their app: the license gate, the logger, metrics, the engine runtime,
// the listener and the drain on close. Each service's server.ts builds only its own app in between.
import type { RequestListener } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EngineConfig } from '../engine-config.js';
import { startEngineRuntime, type EngineRuntime } from '../engine-runtime.js';
import { workerLink } from '../cluster/worker-cluster.js';
import { listenGracefully, type RunningService, type StartServiceOptions } from '../http/graceful-server.js';
import { loadLicense, watchLicense, type License, type LicenseSettings } from '../../licensing/index.js';
import { systemClock } from '../../engine/index.js';
import { createLogger } from '../logger.js';
import { createServiceMetrics, type ServiceMetrics } from '../metrics/index.js';
import { heapLimitAdvice } from './heap-limit-advice.js';
import { SecretBox } from '../secret-box.js';
import type { Secret } from '../secret.js';

/** The part of a service's configuration this runtime reads. */
export type ServiceRuntimeConfig = EngineConfig &
  LicenseSettings & {
    readonly LOG_LEVEL: string;
    readonly SECRETS_ENCRYPTION_KEY: Secret;
    readonly SERVER_PORT: number;
    readonly SERVER_HOST: string;
  };

export interface ServiceRuntime {
  readonly logger: Logger;
  readonly license: License;
  readonly metrics: ServiceMetrics;
  readonly engine: EngineRuntime;
  /** Both services require DATABASE_URL, so the runtime always has a pool. */
  readonly pool: pg.Pool;
  readonly secrets: SecretBox;
  /**
   * Listens with the app; closing drains in-flight requests, runs `afterDrain` (work that needs the pools, such
   * as writing queued decisions), then closes the engine runtime and its pools.
   */
  serve(app: RequestListener, listening: Record<string, unknown>, afterDrain?: () => Promise<void>): Promise<RunningService>;
  /** Undoes the start when building the app failed. */
  abort(): Promise<void>;
}

/**
 * Refuses to start without a valid license (a LicenseError is a ConfigError: the caller exits 78), then starts
 * the engine runtime with metrics and degradation warnings wired, and warns once when Node's heap limit does not
 * suit the tenant memory budget (`heapLimitAdvice`).
 */
export async function startServiceRuntime(
  config: ServiceRuntimeConfig,
  service: { readonly name: 'auth' | 'identity'; readonly errorPrefix: 'AUT' | 'IDE' },
  options: StartServiceOptions = {},
): Promise<ServiceRuntime> {
  const logger = options.logger ?? createLogger({ name: service.name, level: config.LOG_LEVEL });
  const license = await loadLicense(config, systemClock.nowMs());
  if (license.expiringSoon) logger.warn({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString() }, 'license expires within 14 days');
  else logger.info({ licensee: license.licensee, expiresAt: license.expiresAt.toISOString(), limits: license.limits }, 'license verified');
  const stopLicenseWatch = watchLicense(license, {
    clock: systemClock,
    onChange: (status) => logger.warn(status, status.status === 'expired' ? 'license expired: the next start will be refused' : 'license expires within 14 days'),
  });
  const metrics = createServiceMetrics({ service: service.name, logger, worker: workerLink() });
  let engine: EngineRuntime;
  try {
    engine = await startEngineRuntime(config, {
      onEvent: (event) => {
        metrics.onEngineEvent(event);
        if (event.type === 'sync-failed' || event.type === 'feed-failed' || event.type === 'cache-tier-failed') logger.warn({ event: event.type }, 'engine degraded');
      },
      onConnectionError: (source, error) => logger.warn({ source, err: error.message }, 'connection error'),
    });
  } catch (error) {
    stopLicenseWatch();
    throw error;
  }
  metrics.watchEngine(engine.engine);
  const heapLimitBytes = getHeapStatistics().heap_size_limit;
  const heapAdvice = heapLimitAdvice(config.ENGINE_TENANT_MEMORY_BYTES, heapLimitBytes);
  if (heapAdvice) logger.warn({ heapLimitBytes, tenantBudgetBytes: config.ENGINE_TENANT_MEMORY_BYTES }, heapAdvice);
  const abort = async (): Promise<void> => {
    stopLicenseWatch();
    await engine.close();
  };
  return {
    logger,
    license,
    metrics,
    engine,
    pool: engine.pool as pg.Pool,
    secrets: new SecretBox(Buffer.from(config.SECRETS_ENCRYPTION_KEY.reveal(), 'base64')),
    abort,
    async serve(app, listening, afterDrain) {
      const http = await listenGracefully(app, { port: config.SERVER_PORT, host: config.SERVER_HOST, errorPrefix: service.errorPrefix });
      logger.info({ url: http.url, feed: engine.feedName ?? 'none', ...listening }, `${service.name} listening`);
      let closing: Promise<void> | undefined;
      return {
        url: http.url,
        close() {
          closing ??= (async () => {
            logger.info('shutting down: draining in-flight requests');
            await http.close(options.drainTimeoutMs);
            await afterDrain?.().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'closing step failed'));
            await abort();
          })();
          return closing;
        },
      };
    },
  };
}
