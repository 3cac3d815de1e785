// Prometheus metrics of a service: registry, HTTP latency, authorize outcomes, engine figures, /metrics.
export { AuthorizeDecisions } from './authorize-decisions.js';
export { DecisionLogMetrics, type DecisionLogSource } from './decision-log-metrics.js';
export { EngineMetrics, type EngineSource } from './engine-metrics.js';
export { httpMetrics, unmatchedRoute, type HttpObserver, type RequestFinished } from './http-metrics.js';
export { metricsConfigShape } from './metrics-config.js';
export { metricsEndpoint } from './metrics-endpoint.js';
export { createMetricsRegistry } from './metrics-registry.js';
export { createServiceMetrics, type ServiceMetrics } from './service-metrics.js';
export { TokenCacheRejections } from './token-cache-rejections.js';
