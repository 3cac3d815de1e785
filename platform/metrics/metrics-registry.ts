import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of one service's metrics, never prom-client's global one: two apps in one process (the root
 * `npm start`, a test) keep separate series, and every series carries `service`.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Process figures (CPU, memory, event-loop lag, GC) cost nothing until a scrape reads them.
  collectDefaultMetrics({ register: registry });
  return registry;
}
