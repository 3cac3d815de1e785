// What the bench and its scale probe process (bench/scale-probe.ts) tell each other: the probe's settings as its
// one argument (JSON), then IPC messages from the probe. The bench parses what it receives.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const scaleProbePath = fileURLToPath(new URL('./scale-probe.ts', import.meta.url));

const count = z.number().int().nonnegative();
const figure = z.number().nonnegative();

export const scaleProbeSettingsSchema = z.strictObject({
  /** A PostgreSQL URL whose search_path is the seeded scale schema. */
  schemaUrl: z.string().min(1).max(2_048),
  /** `start`: start the engine, report, exit. `traffic`: then decide Zipf-distributed requests. */
  mode: z.enum(['start', 'traffic']),
  rules: z.number().int().positive(),
  tenants: z.number().int().positive(),
  tenantMemoryBytes: z.number().int().positive(),
  /** Decisions of the Zipf traffic, each awaited and timed. */
  decisions: count,
  /** Requests of the warm pass over the hottest tenants (each decided twice: local-cache miss, then hit). */
  warmRequests: count,
  zipfExponent: z.number().positive().max(10),
  seed: z.number().int().nonnegative(),
});
export type ScaleProbeSettings = z.output<typeof scaleProbeSettingsSchema>;

const latency = z.strictObject({ samples: count, p50_us: figure, p99_us: figure, max_us: figure });
export type LatencyFigures = z.output<typeof latency>;

const engineFigures = z.strictObject({
  tenants_loaded: count,
  tenant_bytes: count,
  /** Null when the engine kept every tenant (no budget). */
  tenant_budget_bytes: count.nullable(),
  tenant_loads: count,
  tenant_evictions: count,
  tenant_hits: count,
  rules_in_memory: count,
});

export const scaleProbeMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('progress'), what: z.string().max(500) }),
  z.strictObject({
    type: z.literal('started'),
    /** Pool creation and `PolicyEngine.start` until it resolved (the probe's clock). */
    start_ms: figure,
    /** After two full GCs, once started. */
    rss_mb: figure,
    engine: engineFigures,
  }),
  z.strictObject({
    type: z.literal('traffic'),
    decisions: count,
    allowed_share: figure,
    /** Distinct tenants the traffic asked about. */
    tenants_touched: count,
    /** Decisions that loaded their tenant (cold), and every other decision of the traffic (warm, awaited). */
    cold: latency,
    warm: latency,
    /** Warm decisions / all decisions of the traffic. */
    hit_ratio: figure,
    /** `decideSync` on the hottest tenants, loaded: computed (local-cache miss) and answered by the local cache. */
    warm_local_miss: latency,
    warm_local_hit: latency,
    /** Set when the warm pass could not run as planned (a hot tenant evicted under a small budget). */
    warm_note: z.string().max(1_000).nullable(),
    traffic_ms: figure,
    /** After two full GCs at the end, and the process's peak (getrusage maxrss). */
    rss_mb: figure,
    peak_rss_mb: figure,
    engine: engineFigures,
  }),
  z.strictObject({ type: z.literal('failed'), message: z.string().max(10_000) }),
]);
export type ScaleProbeMessage = z.output<typeof scaleProbeMessageSchema>;
export type EngineFigures = z.output<typeof engineFigures>;
