import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EngineEvent } from '../../engine/index.js';
import { accessLog } from './access-log.js';
import { AuthorizeDecisions } from './authorize-decisions.js';
import { DecisionLogMetrics, type DecisionLogSource } from './decision-log-metrics.js';
import { EngineMetrics, type EngineSource } from './engine-metrics.js';
import { httpMetrics, type HttpObserver } from './http-metrics.js';
import { createMetricsRegistry } from './metrics-registry.js';
import { TokenCacheRejections } from './token-cache-rejections.js';
import type { MetricsSource, WorkerLink } from '../cluster/worker-cluster.js';

/** One service's metrics: what main/server wires into the engine hooks and the app. */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** What `GET /metrics` answers: this registry, or in a cluster worker every worker's (labelled `worker`). */
  readonly scrape: MetricsSource;
  /** First middleware of the app: latency histogram per route pattern and the debug access log. */
  readonly http: HttpObserver;
  readonly authorizeDecisions: AuthorizeDecisions;
  /** Shared token-cache entries refused for a bad MAC (a security event). */
  readonly tokenCacheRejections: TokenCacheRejections;
  /** Pass to the engine runtime's `onEvent` (alongside the logger's). */
  onEngineEvent(event: EngineEvent): void;
  /** Report on this engine from now on. */
  watchEngine(engine: EngineSource): void;
  /** Report on this decision-log writer from now on (written, dropped, queued). */
  watchDecisionLog(source: DecisionLogSource): void;
}

export function createServiceMetrics(options: { service: string; logger?: Logger; worker?: WorkerLink | undefined }): ServiceMetrics {
  const registry = createMetricsRegistry(options.service, options.worker?.id);
  const engine = new EngineMetrics(registry);
  const decisionLog = new DecisionLogMetrics(registry);
  return {
    registry,
    scrape: options.worker ? options.worker.metricsOf(registry) : registry,
    http: httpMetrics(registry, options.logger ? accessLog(options.logger) : undefined),
    authorizeDecisions: new AuthorizeDecisions(registry),
    tokenCacheRejections: new TokenCacheRejections(registry),
    onEngineEvent: engine.onEvent,
    watchEngine: (source) => engine.watch(source),
    watchDecisionLog: (source) => decisionLog.watch(source),
  };
}
