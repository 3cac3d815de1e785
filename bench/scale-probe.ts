// A fresh OS process for `npm run bench -- --scale`: starts an engine over the seeded scale schema as the services
// do (PostgreSQL store, local decision cache, their defaults, the tenant memory budget), reports its start time and
// memory, then (traffic mode) decides Zipf-distributed requests one at a time and reports cold and warm latencies,
// the hit ratio, loads, evictions and memory. Settings: one JSON argument (see scale-probe-protocol.ts).
import { loadModelFile, MemoryDecisionCache, PolicyEngine, type AuthorizationRequest, type PolicyEngineOptions } from '../engine/index.js';
import { createPolicyStore } from '../engine/adapters/index.js';
import { engineConfigSchema } from '../platform/engine-config.js';
import { createPgPool } from '../platform/postgres-pool.js';
import { percentile } from './latency.js';
import { seededRandom } from './policy-generator.js';
import { planTenantSizes, scaleRequest, zipfSampler } from './scale-plan.js';
import { scaleProbeSettingsSchema, type EngineFigures, type LatencyFigures, type ScaleProbeMessage, type ScaleProbeSettings } from './scale-probe-protocol.js';

const megabyte = 1024 * 1024;
/** The warm pass asks this many of the hottest tenants. */
const warmTenants = 10;

function send(message: ScaleProbeMessage): void {
  process.send?.(message);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

function summary(latenciesUs: Float64Array, samples: number): LatencyFigures {
  const sorted = latenciesUs.slice(0, samples).sort();
  return {
    samples,
    p50_us: samples === 0 ? 0 : percentile(sorted, 50),
    p99_us: samples === 0 ? 0 : percentile(sorted, 99),
    max_us: samples === 0 ? 0 : (sorted[samples - 1] as number),
  };
}

function engineFigures(engine: PolicyEngine): EngineFigures {
  const health = engine.health();
  return {
    tenants_loaded: health.tenantsLoaded,
    tenant_bytes: health.tenantBytes,
    tenant_budget_bytes: health.tenantBudgetBytes ?? null,
    tenant_loads: health.stats.tenantLoads,
    tenant_evictions: health.stats.tenantEvictions,
    tenant_hits: health.stats.tenantHits,
    rules_in_memory: health.rules,
  };
}

const tenantLoadsOf = (engine: PolicyEngine): number => engine.health().stats.tenantLoads;

/** Zipf traffic: each `decide` awaited and timed; cold when it made the engine load a tenant. */
async function runTraffic(engine: PolicyEngine, settings: ScaleProbeSettings, sizes: Int32Array, random: () => number) {
  const nextRank = zipfSampler(settings.tenants, settings.zipfExponent, random);
  const cold = new Float64Array(settings.decisions);
  const warm = new Float64Array(settings.decisions);
  const touched = new Uint8Array(settings.tenants);
  let coldCount = 0;
  let warmCount = 0;
  let allowed = 0;
  let touchedCount = 0;
  let loads = tenantLoadsOf(engine);
  const startedAt = performance.now();
  for (let i = 0; i < settings.decisions; i++) {
    const rank = nextRank();
    const request = scaleRequest(rank, sizes[rank] as number, random);
    const start = process.hrtime.bigint();
    const decision = await engine.decide(request);
    const elapsedUs = Number(process.hrtime.bigint() - start) / 1_000;
    if (decision.allowed) allowed++;
    if (touched[rank] === 0) {
      touched[rank] = 1;
      touchedCount++;
    }
    const loadsNow = tenantLoadsOf(engine);
    if (loadsNow > loads) cold[coldCount++] = elapsedUs;
    else warm[warmCount++] = elapsedUs;
    loads = loadsNow;
    if ((i + 1) % 20_000 === 0) send({ type: 'progress', what: `${(i + 1).toLocaleString('en-US')} of ${settings.decisions.toLocaleString('en-US')} decisions, ${coldCount.toLocaleString('en-US')} cold` });
  }
  return {
    decisions: settings.decisions,
    allowed_share: settings.decisions === 0 ? 0 : allowed / settings.decisions,
    tenants_touched: touchedCount,
    cold: summary(cold, coldCount),
    warm: summary(warm, warmCount),
    hit_ratio: settings.decisions === 0 ? 0 : warmCount / settings.decisions,
    traffic_ms: performance.now() - startedAt,
  };
}

/**
 * `decideSync` on the hottest tenants once they are loaded, as the engine suites time it: a first pass over
 * requests the local cache has not seen (each timed, split by whether the cache answered), then the same requests
 * again (all answered by the cache).
 */
async function runWarmPass(engine: PolicyEngine, settings: ScaleProbeSettings, sizes: Int32Array, random: () => number) {
  const hottest = Math.min(warmTenants, settings.tenants);
  const requests: AuthorizationRequest[] = [];
  for (let i = 0; i < settings.warmRequests; i++) {
    const rank = Math.floor(random() * hottest);
    requests.push(scaleRequest(rank, sizes[rank] as number, random));
  }
  // One decision per tenant loads it; the timed passes below never do (decideSync does not load).
  for (let rank = 0; rank < hottest; rank++) {
    await engine.decide({ ...(scaleRequest(rank, sizes[rank] as number, random)), obj: 'warm-up' });
  }
  const miss = new Float64Array(requests.length * 2);
  const hit = new Float64Array(requests.length * 2);
  let missCount = 0;
  let hitCount = 0;
  const loadsBefore = tenantLoadsOf(engine);
  try {
    for (let pass = 0; pass < 2; pass++) {
      for (const request of requests) {
        const start = process.hrtime.bigint();
        const decision = engine.decideSync(request);
        const elapsedUs = Number(process.hrtime.bigint() - start) / 1_000;
        if (decision.source === 'local-cache') hit[hitCount++] = elapsedUs;
        else miss[missCount++] = elapsedUs;
      }
    }
  } catch (error) {
    const note = `the warm pass stopped: ${error instanceof Error ? error.message : String(error)} (a hot tenant evicted: the budget holds fewer than the ${hottest} hottest tenants?)`;
    return { warm_local_miss: summary(miss, missCount), warm_local_hit: summary(hit, hitCount), warm_note: note.slice(0, 1_000) };
  }
  const loaded = tenantLoadsOf(engine) - loadsBefore;
  return {
    warm_local_miss: summary(miss, missCount),
    warm_local_hit: summary(hit, hitCount),
    warm_note: loaded === 0 ? null : `${loaded} tenants loaded during the warm pass`,
  };
}

async function main(settings: ScaleProbeSettings): Promise<void> {
  const model = await loadModelFile();
  const defaults = engineConfigSchema.parse({});
  const startedAt = performance.now();
  const pool = createPgPool({ url: settings.schemaUrl, maxConnections: defaults.DB_POOL_MAX, statementTimeoutMs: 600_000, applicationName: 'bench-scale' });
  const options: PolicyEngineOptions = {
    model,
    store: createPolicyStore({ pool, model, loadAllTimeoutMs: 600_000 }),
    localCache: new MemoryDecisionCache({ maxEntries: defaults.DECISION_CACHE_MAX_ENTRIES }),
    resyncIntervalMs: defaults.ENGINE_RESYNC_INTERVAL_MS,
    staleWaitMs: defaults.ENGINE_STALE_WAIT_MS,
    tenantMemoryBytes: settings.tenantMemoryBytes,
  };
  const engine = await PolicyEngine.start(options);
  const startMs = performance.now() - startedAt;
  try {
    collectGarbage();
    send({ type: 'started', start_ms: startMs, rss_mb: process.memoryUsage().rss / megabyte, engine: engineFigures(engine) });
    if (settings.mode === 'start') return;

    const sizes = planTenantSizes(settings);
    const random = seededRandom(settings.seed);
    const traffic = await runTraffic(engine, settings, sizes, random);
    send({ type: 'progress', what: `warm pass: ${settings.warmRequests.toLocaleString('en-US')} requests on the ${warmTenants} hottest tenants, twice` });
    const warmPass = await runWarmPass(engine, settings, sizes, random);
    collectGarbage();
    send({
      type: 'traffic',
      ...traffic,
      ...warmPass,
      rss_mb: process.memoryUsage().rss / megabyte,
      // getrusage's maxrss is in kilobytes on Linux.
      peak_rss_mb: (process.resourceUsage().maxRSS * 1024) / megabyte,
      engine: engineFigures(engine),
    });
  } finally {
    engine.stop();
    await pool.end();
  }
}

try {
  await main(scaleProbeSettingsSchema.parse(JSON.parse(process.argv[2] ?? '')));
} catch (error) {
  send({ type: 'failed', message: (error instanceof Error ? (error.stack ?? error.message) : String(error)).slice(0, 10_000) });
  process.exitCode = 1;
} finally {
  if (process.connected) process.disconnect();
}
