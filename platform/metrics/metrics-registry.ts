import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry of one service's metrics, never prom-client's global one: two apps in one process (the root
 * `npm start`, a test) keep separate series, and every series carries `service` (and `worker` in a cluster worker).
 */
export function createMetricsRegistry(service: string, worker?: number): Registry {
  const registry = new Registry();
  // In a cluster worker every series carries its worker too, so the primary's sum keeps them apart.
  registry.setDefaultLabels(worker === undefined ? { service } : { service, worker: String(worker) });
  // Process figures (CPU, memory, event-loop lag, GC) cost nothing until a scrape reads them.
  collectDefaultMetrics({ register: registry });
  return registry;
}
