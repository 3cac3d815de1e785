import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineEvent, PolicyEngine } from '../../engine/index.js';

/** What the engine's metrics read: its health, polled at scrape time (the decision path pays nothing). */
export type EngineSource = Pick<PolicyEngine, 'health'>;

/**
 * The policy engine's series. Counters and gauges are read from `engine.health()` when Prometheus scrapes;
 * propagation lag is observed from `revision-propagated` events. No series has a tenant label (10,000
 * tenants would be 10,000 series per metric): `am_policy_revision_sum` equal on every replica means they
 * have converged.
 */
export class EngineMetrics {
  private engine: EngineSource | undefined;
  private readonly propagation: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    // An arrow keeps this object's `this`; collect() is called with the metric as `this`.
    const health = () => this.engine?.health();
    new Counter({
      name: 'am_decision_cache_requests_total',
      help: 'Decision cache lookups by tier (local: in process, shared: Valkey) and result',
      labelNames: ['tier', 'result'] as const,
      registers,
      collect() {
        const stats = health()?.stats;
        this.reset();
        if (!stats) return;
        this.inc({ tier: 'local', result: 'hit' }, stats.localHits);
        this.inc({ tier: 'local', result: 'miss' }, Math.max(0, stats.decisions - stats.localHits));
        this.inc({ tier: 'shared', result: 'hit' }, stats.sharedHits);
        this.inc({ tier: 'shared', result: 'miss' }, stats.sharedMisses);
        this.inc({ tier: 'shared', result: 'error' }, stats.sharedErrors);
      },
    });
    const counter = (name: string, help: string, read: (stats: NonNullable<ReturnType<typeof health>>['stats']) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const stats = health()?.stats;
          this.reset();
          if (stats) this.inc(read(stats));
        },
      });
    counter('am_engine_decisions_total', 'Decisions made by the policy engine (cached or computed)', (s) => s.decisions);
    counter('am_policy_revisions_applied_total', 'Policy revisions applied incrementally from the change log', (s) => s.revisionsApplied);
    counter('am_policy_tenant_reloads_total', 'Whole-tenant policy reloads (the change log no longer reached back)', (s) => s.tenantReloads);
    counter('am_policy_sync_failures_total', 'Revision polls that could not reach the policy store', (s) => s.syncFailures);
    counter('am_policy_tenant_loads_total', 'Tenants read into memory on first use (or again after eviction)', (s) => s.tenantLoads);
    counter('am_policy_tenant_evictions_total', 'Tenants dropped from memory to stay within ENGINE_TENANT_MEMORY_BYTES', (s) => s.tenantEvictions);
    counter('am_policy_tenant_hits_total', 'Decisions whose tenant was already in memory (hit ratio: this over am_engine_decisions_total)', (s) => s.tenantHits);
    const gauge = (name: string, help: string, read: (h: NonNullable<ReturnType<typeof health>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const h = health();
          if (h) this.set(read(h));
        },
      });
    gauge('am_engine_ready', '1 when the policy is loaded and the store answered the last sync', (h) => (h.ready ? 1 : 0));
    gauge('am_policy_tenants', 'Tenants with policy loaded on this replica', (h) => h.tenants);
    gauge('am_policy_rules', 'Policy rules loaded on this replica', (h) => h.rules);
    gauge('am_policy_tenant_bytes', 'Estimated memory of the tenants\' policy loaded on this replica', (h) => h.tenantBytes);
    gauge('am_policy_tenant_budget_bytes', 'ENGINE_TENANT_MEMORY_BYTES (0 when every tenant is kept)', (h) => h.tenantBudgetBytes ?? 0);
    gauge('am_policy_revision_sum', 'Sum of every tenant\'s applied policy revision (equal on converged replicas)', (h) => h.revisionSum);
    gauge('am_policy_last_sync_timestamp_seconds', 'When the policy store last answered a sync (Unix time)', (h) => (h.lastSyncAtMs ?? 0) / 1000);
    this.propagation = new Histogram({
      name: 'am_policy_propagation_seconds',
      help: 'From a policy change announced by another replica to its being applied here (wall clocks of both)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** The engine to report on (it exists only after the events hook was handed to it). */
  watch(engine: EngineSource): void {
    this.engine = engine;
  }

  /** The engine's event hook. */
  readonly onEvent = (event: EngineEvent): void => {
    if (event.type === 'revision-propagated') this.propagation.observe(event.lagMs / 1000);
  };
}
