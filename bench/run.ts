// `npm run bench [-- --quick] [-- --scale] [-- --only <suite>]`: decision latency of plain casbin and of the engine
// (uncached, in-process hit, Valkey hit) at 1k, 10k and 125k rules, cold load from PostgreSQL, resident
// memory, propagation between two processes, an engine-vs-casbin differential, (`--only models`) a catalogue
// of other models at 125k rules, and (`--scale`) 10M rules over 100k tenants under Zipf traffic. Prints a table with the targets and writes bench/results/latest.json. Exits 0
// whatever the figures; 1 only on a crash.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Valkey } from 'iovalkey';
import { z } from 'zod';
import { loadModelFile, PolicyEngine, type ModelDefinition } from '../engine/index.js';
import { engineConfigSchema } from '../platform/engine-config.js';
import { loadEnvFile } from '../platform/env-file.js';
import { createValkeyClient } from '../platform/valkey-client.js';
import { suiteNames, type BenchResults, type SuiteName, type SuiteResult } from './bench-results.js';
import { formatAuthorizeBench, runAuthorizeBench, type AuthorizeBenchResult } from './authorize-suite.js';
import { runCasbinPlain } from './casbin-plain-suite.js';
import { allowedShare, localHitBatchSize, runEngineLocalHit, runEngineUncached, seedMemoryStore } from './engine-suites.js';
import { collectGarbage, type LatencySummary } from './latency.js';
import { measurePolicyLoad } from './policy-load.js';
import { modelCatalogue } from './model-catalogue.js';
import { runModelSuite } from './models-suite.js';
import { generatePolicy, generateRequests } from './policy-generator.js';
import { createPolicySchema, seedPolicySchema } from './policy-schema.js';
import { ProgressLine } from './progress-line.js';
import { measurePropagation, type FeedKind } from './propagation.js';
import { formatResults } from './results-table.js';
import { defaultZipfExponent } from './scale-plan.js';
import { runScaleBench } from './scale-suite.js';
import { runEngineSharedHit } from './shared-cache-suite.js';
import { evaluateTargets, targetRules } from './targets.js';

const resultsPath = new URL('./results/latest.json', import.meta.url);

const onlyChoices = [...suiteNames, 'load', 'propagation', 'authorize', 'models', 'scale'] as const;
type Part = (typeof onlyChoices)[number];

const envSchema = z.object({
  BENCH_DATABASE_URL: z.string().min(1).max(2_048).default('postgres://postgres@127.0.0.1:5432/test'),
  BENCH_VALKEY_URL: z.string().min(1).max(2_048).default('redis://127.0.0.1:6379'),
  /** Where `--scale` keeps its seeded schemas between runs; default: BENCH_DATABASE_URL's server, database am_bench_scale. */
  BENCH_SCALE_DATABASE_URL: z.string().min(1).max(2_048).optional(),
  /** Replays a run's policies and requests. */
  BENCH_SEED: z.coerce.number().int().min(0).max(2 ** 31 - 1).default(20_250_101),
});

interface Size {
  readonly rules: number;
  readonly tenants: number;
}

const sizes: readonly Size[] = [
  { rules: 1_000, tenants: 1 },
  { rules: 10_000, tenants: 10 },
  { rules: targetRules, tenants: 1_000 },
];
const scaleDefaults = { rules: 10_000_000, tenants: 100_000 };

/** How much each measurement samples, by mode. Casbin's samples shrink with size: one call scans every rule. */
interface Plan {
  readonly casbinSamples: (rules: number) => number;
  readonly casbinBudgetMs: number;
  readonly uncachedSamples: number;
  readonly localHitBatches: number;
  readonly sharedHitSamples: number;
  readonly loadRuns: number;
  readonly propagationWrites: number;
  /** The model catalogue: decisions timed per model, casbin enforce calls per model and their time budget. */
  readonly modelSamples: number;
  readonly modelCasbinSamples: number;
  readonly modelCasbinBudgetMs: number;
  /** `--scale`: Zipf decisions timed, warm-pass requests, fresh processes timed starting the engine per rule count. */
  readonly scaleDecisions: number;
  readonly scaleWarmRequests: number;
  readonly scaleStartRuns: number;
}

const plans: Record<'quick' | 'full', Plan> = {
  quick: {
    casbinSamples: (rules) => (rules <= 1_000 ? 500 : rules <= 10_000 ? 50 : rules <= targetRules ? 4 : 1),
    casbinBudgetMs: 5_000,
    uncachedSamples: 30_000,
    localHitBatches: 1_000,
    sharedHitSamples: 2_000,
    loadRuns: 1,
    propagationWrites: 40,
    modelSamples: 20_000,
    modelCasbinSamples: 3,
    modelCasbinBudgetMs: 5_000,
    scaleDecisions: 50_000,
    scaleWarmRequests: 10_000,
    scaleStartRuns: 1,
  },
  full: {
    casbinSamples: (rules) => (rules <= 1_000 ? 1_000 : rules <= 10_000 ? 300 : rules <= targetRules ? 20 : 3),
    casbinBudgetMs: 60_000,
    uncachedSamples: 200_000,
    localHitBatches: 5_000,
    sharedHitSamples: 20_000,
    loadRuns: 3,
    propagationWrites: 200,
    modelSamples: 100_000,
    modelCasbinSamples: 10,
    modelCasbinBudgetMs: 20_000,
    scaleDecisions: 200_000,
    scaleWarmRequests: 20_000,
    scaleStartRuns: 3,
  },
};

const requestsPerSize = 10_000;
const sharedHitDistinct = 2_000;
const propagationSpacingMs = 5;
const feeds: readonly FeedKind[] = ['valkey', 'postgres'];

/** Three decimals are a nanosecond for µs figures: more digits are clock noise. */
function roundedNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1_000) / 1_000 : value;
}

export const usage = `usage: npm run bench [-- options]

  --quick            fewer samples, a shorter run
  --scale            also 10,000,000 rules over 100,000 tenants (seeded once into am_bench_scale, kept)
                     under Zipf traffic; --only scale for that part alone
  --scale-rules N    the scale run's total rules (default 10,000,000)
  --scale-tenants N  the scale run's tenants (default 100,000)
  --scale-budget-mb N  the engine's tenant memory budget (default: the services' ENGINE_TENANT_MEMORY_BYTES)
  --scale-heap-mb N  the probes' Node heap limit, --max-old-space-size (default: twice the budget, as
                     docs/deployment.md says to run the services; 0: Node's own default)
  --only <suite>     one part: ${onlyChoices.join(', ')}
  system [--quick]   the multi-process scenario (its own table)

Prints a table with the targets and writes bench/results/latest.json. Reads BENCH_DATABASE_URL,
BENCH_VALKEY_URL, BENCH_SCALE_DATABASE_URL and BENCH_SEED from the environment or .env.

exit codes: 0 measured (whatever the figures), 1 the run crashed, 64 usage`;

class UsageError extends Error {}

interface Options {
  readonly quick: boolean;
  /** Set by `--scale` or `--only scale`: the shape and the tenant memory budget of the scale run. */
  readonly scale:
    | { readonly rules: number; readonly tenants: number; readonly budgetMb: number | undefined; readonly heapLimitMb: number | undefined }
    | undefined;
  readonly only: Part | undefined;
  readonly help: boolean;
}

function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new UsageError(`${flag} must be a positive integer; got ${JSON.stringify(value)}`);
  return parsed;
}

function parseOptions(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        scale: { type: 'boolean', default: false },
        'scale-rules': { type: 'string' },
        'scale-tenants': { type: 'string' },
        'scale-budget-mb': { type: 'string' },
        'scale-heap-mb': { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const only = values.only;
  if (only !== undefined && !(onlyChoices as readonly string[]).includes(only)) {
    throw new UsageError(`--only must be one of ${onlyChoices.join(', ')}; got ${JSON.stringify(only)}`);
  }
  const scaled = (values.scale ?? false) || only === 'scale';
  const scaleFlags = (['scale-rules', 'scale-tenants', 'scale-budget-mb', 'scale-heap-mb'] as const).filter((flag) => values[flag] !== undefined);
  if (!scaled && scaleFlags.length > 0) throw new UsageError(`--${scaleFlags[0]} needs --scale (or --only scale)`);
  let scale: Options['scale'];
  if (scaled) {
    const rules = positiveInteger('--scale-rules', values['scale-rules'], scaleDefaults.rules);
    const tenants = positiveInteger('--scale-tenants', values['scale-tenants'], scaleDefaults.tenants);
    if (tenants > 999_999) throw new UsageError('--scale-tenants must be at most 999,999');
    if (rules < tenants || rules > 2 ** 31 - 1) throw new UsageError('--scale-rules must be at least --scale-tenants and below 2^31');
    const budgetMb = values['scale-budget-mb'] === undefined ? undefined : positiveInteger('--scale-budget-mb', values['scale-budget-mb'], 0);
    const heapMb = values['scale-heap-mb'];
    let heapLimitMb: number | undefined;
    if (heapMb !== undefined) {
      heapLimitMb = Number(heapMb.replaceAll('_', ''));
      if (!Number.isSafeInteger(heapLimitMb) || heapLimitMb < 0) throw new UsageError(`--scale-heap-mb must be 0 or a positive integer; got ${JSON.stringify(heapMb)}`);
    }
    scale = { rules, tenants, budgetMb, heapLimitMb };
  }
  return { quick: values.quick ?? false, scale, only: only as Part | undefined, help: values.help ?? false };
}

function suiteResult(name: SuiteName, size: Size, latency: LatencySummary, note?: string): SuiteResult {
  return {
    name,
    rules: size.rules,
    tenants: size.tenants,
    p50_us: latency.p50Us,
    p99_us: latency.p99Us,
    ops_per_s: latency.opsPerS,
    mean_us: latency.meanUs,
    max_us: latency.maxUs,
    samples: latency.samples,
    timing: name === 'engine-l1-hit' ? 'per-batch-100' : 'per-op',
    ...(note === undefined ? {} : { note }),
  };
}

async function readyValkey(url: string): Promise<Valkey> {
  const client = createValkeyClient({ url, name: 'bench', commandTimeoutMs: 2_000 });
  if (client.status !== 'ready') {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.disconnect();
        reject(new Error(`Valkey at ${url} not ready within 5 s`));
      }, 5_000);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  return client;
}

interface Context {
  readonly model: ModelDefinition;
  readonly plan: Plan;
  readonly wants: (part: Part) => boolean;
  readonly env: z.output<typeof envSchema>;
  readonly progress: ProgressLine;
  readonly results: BenchResults;
  readonly valkey: () => Promise<Valkey>;
}

/** BENCH_DATABASE_URL's server, database am_bench_scale. */
function scaleDatabaseUrl(benchDatabaseUrl: string): string {
  const url = new URL(benchDatabaseUrl);
  url.pathname = '/am_bench_scale';
  url.searchParams.delete('options');
  return url.toString();
}

/** The services' default tenant memory budget (their engine configuration's default). */
function servicesTenantBudgetBytes(): number {
  const defaults: Record<string, unknown> = engineConfigSchema.parse({});
  const bytes = defaults.ENGINE_TENANT_MEMORY_BYTES;
  return typeof bytes === 'number' ? bytes : 256 * 1024 * 1024;
}

async function benchSize(ctx: Context, size: Size): Promise<void> {
  const { model, plan, wants, env, progress, results } = ctx;
  const label = `${size.rules.toLocaleString('en-US')} rules / ${size.tenants.toLocaleString('en-US')} tenants`;
  const key = String(size.rules);
  const step = (what: string): void => progress.update(`${label}: ${what}`);

  step('generating the policy');
  const policy = generatePolicy({ ...size, seed: env.BENCH_SEED + size.rules });
  const requests = generateRequests(policy, requestsPerSize, env.BENCH_SEED + size.rules + 1);

  // One memory store of the policy, seeded when a part first needs it, read by every engine below.
  let seeded: ReturnType<typeof seedMemoryStore> | undefined;
  const seededStore = () => (seeded ??= seedMemoryStore(model, policy));

  if (wants('engine-budgeted')) {
    // The warm path with tenants loaded on first use, as the services run it (their default budget), against
    // engine-uncached's over the same policy and requests: what bounded memory costs a decision on a loaded tenant.
    step(`engine-budgeted: ${plan.uncachedSamples.toLocaleString('en-US')} decisions, each timed, tenants loaded on first use`);
    const budgeted = await PolicyEngine.start({ model, store: await seededStore(), resyncIntervalMs: 0, tenantMemoryBytes: servicesTenantBudgetBytes() });
    const tenants = [...new Set(requests.map((request) => request.dom))];
    for (const tenantId of tenants) await budgeted.ensureTenant(tenantId);
    // Timed only where every tenant fits the budget: a decideSync on an evicted tenant is refused, not timed.
    if (tenants.every((tenantId) => budgeted.isTenantLoaded(tenantId))) {
      results.suites.push(suiteResult('engine-budgeted', size, runEngineUncached(budgeted, requests, plan.uncachedSamples)));
    }
    budgeted.stop();
  }
  if (wants('casbin-plain') || wants('engine-uncached') || wants('engine-l1-hit') || wants('engine-l2-hit')) {
    step('loading the engine (memory store)');
    const store = await seededStore();
    const engine = await PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
    results.request_mix[key] = { requests: requests.length, allowed_share: allowedShare(engine, requests) };
    if (wants('engine-uncached')) {
      step(`engine-uncached: ${plan.uncachedSamples.toLocaleString('en-US')} decisions, each timed`);
      results.suites.push(suiteResult('engine-uncached', size, runEngineUncached(engine, requests, plan.uncachedSamples)));
    }
    if (wants('casbin-plain')) {
      const samples = plan.casbinSamples(size.rules);
      step(`casbin-plain: ${samples} enforce calls over every rule, and the differential`);
      const casbin = await runCasbinPlain({ model, policy, requests, samples, budgetMs: plan.casbinBudgetMs, engine });
      results.suites.push(suiteResult('casbin-plain', size, casbin.latency, casbin.note));
      results.casbin_load_ms[key] = casbin.loadMs;
      results.differential.by_rules[key] = { requests: casbin.differential.requests, mismatches: casbin.differential.mismatches };
      results.differential.requests += casbin.differential.requests;
      results.differential.mismatches += casbin.differential.mismatches;
      results.differential.examples.push(...casbin.differential.examples);
    }
    engine.stop();
    if (wants('engine-l1-hit')) {
      step(`engine-l1-hit: ${plan.localHitBatches.toLocaleString('en-US')} batches of ${localHitBatchSize}`);
      results.suites.push(suiteResult('engine-l1-hit', size, await runEngineLocalHit(model, store, requests, plan.localHitBatches)));
    }
    if (wants('engine-l2-hit')) {
      step(`engine-l2-hit: ${plan.sharedHitSamples.toLocaleString('en-US')} Valkey GETs, each timed`);
      const latency = await runEngineSharedHit({
        model,
        store,
        client: await ctx.valkey(),
        requests,
        distinct: sharedHitDistinct,
        samples: plan.sharedHitSamples,
      });
      results.suites.push(suiteResult('engine-l2-hit', size, latency));
    }
  }

  const propagates = wants('propagation') && size.rules >= targetRules;
  if (!wants('load') && !propagates) return;
  step('writing the policy to a fresh PostgreSQL schema');
  const schema = await createPolicySchema(env.BENCH_DATABASE_URL, `r${size.rules}`);
  try {
    await seedPolicySchema(schema.url, policy);
    const peerTimeoutMs = 60_000 + size.rules / 10;
    if (wants('load')) {
      step(`cold load from PostgreSQL in ${plan.loadRuns} fresh process${plan.loadRuns > 1 ? 'es' : ''}`);
      const load = await measurePolicyLoad({
        schemaUrl: schema.url,
        valkeyUrl: env.BENCH_VALKEY_URL,
        expectedRules: size.rules,
        runs: plan.loadRuns,
        timeoutMs: peerTimeoutMs,
      });
      results.load_ms[key] = load.loadMs;
      results.load_runs_ms[key] = load.runsMs;
      results.process_ready_ms[key] = load.processReadyMs;
      results.rss_mb_by_rules[key] = load.rssMb;
      results.heap_used_mb_by_rules[key] = load.heapUsedMb;
    }
    if (propagates) {
      for (const feed of feeds) {
        step(`propagation over the ${feed} feed: ${plan.propagationWrites} writes, peer process reporting`);
        const result = await measurePropagation({
          feed,
          model,
          tenants: policy.tenants,
          schemaUrl: schema.url,
          valkeyUrl: env.BENCH_VALKEY_URL,
          writes: plan.propagationWrites,
          spacingMs: propagationSpacingMs,
          seed: env.BENCH_SEED + size.rules + 2,
          peerTimeoutMs,
          reportTimeoutMs: 2_000,
        });
        results.propagation[key] = {
          ...results.propagation[key],
          [feed]: {
            writes: result.writes,
            p50_ms: result.p50Ms,
            p99_ms: result.p99Ms,
            max_ms: result.maxMs,
            lost: result.lost,
            write_p50_ms: result.writeP50Ms,
          },
        };
      }
    }
  } finally {
    step('dropping the PostgreSQL schema');
    await schema.drop();
  }
}

/** Every catalogue model at the target size: engine-uncached and casbin-plain suites tagged with the model. */
async function benchModels(ctx: Context): Promise<void> {
  const { plan, env, progress, results } = ctx;
  const tenants = 1_000;
  for (const entry of modelCatalogue) {
    progress.update(`models: ${entry.name}: generating the policy`);
    let base = entry.baseRules(targetRules, tenants);
    let policy = generatePolicy({ rules: base, tenants, seed: env.BENCH_SEED + targetRules });
    let rules = entry.rules(policy);
    // A model that merges or drops generated lines gets a second, rescaled policy closer to the target size.
    if (Math.abs(rules.length - targetRules) > targetRules / 100) {
      base = Math.round((base * targetRules) / rules.length);
      policy = generatePolicy({ rules: base, tenants, seed: env.BENCH_SEED + targetRules });
      rules = entry.rules(policy);
    }
    const requests = generateRequests(policy, requestsPerSize, env.BENCH_SEED + targetRules + 1);
    const result = await runModelSuite(entry, {
      rules,
      requests,
      engineSamples: plan.modelSamples,
      casbinSamples: plan.modelCasbinSamples,
      casbinBudgetMs: plan.modelCasbinBudgetMs,
      onStep: (what) => progress.update(`models: ${what}`),
    });
    const size = { rules: result.rules, tenants };
    results.suites.push({ ...suiteResult('engine-uncached', size, result.engine), model: entry.name });
    results.suites.push({ ...suiteResult('casbin-plain', size, result.casbin, result.casbinNote), model: entry.name });
    results.models[entry.name] = {
      plan: result.plan,
      rules: result.rules,
      allowed_share: result.allowedShare,
      engine_load_ms: result.engineLoadMs,
      casbin_load_ms: result.casbinLoadMs,
      speedup: result.casbin.p50Us / result.engine.p50Us,
    };
    results.differential.requests += result.differential.requests;
    results.differential.mismatches += result.differential.mismatches;
    results.differential.examples.push(...result.differential.examples);
    collectGarbage();
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  loadEnvFile();
  const env = envSchema.parse(process.env);
  const plan = plans[options.quick ? 'quick' : 'full'];
  const progress = new ProgressLine();
  const model = await loadModelFile();
  const cpus = os.cpus();
  const results: BenchResults = {
    when: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    scale: null,
    only: options.only ?? null,
    seed: env.BENCH_SEED,
    duration_s: 0,
    machine: {
      cpus: cpus.length,
      cpu_model: cpus[0]?.model.trim() ?? 'unknown',
      total_memory_mb: Math.round(os.totalmem() / 1024 / 1024),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    },
    suites: [],
    request_mix: {},
    load_ms: {},
    load_runs_ms: {},
    process_ready_ms: {},
    casbin_load_ms: {},
    rss_mb: null,
    rss_mb_by_rules: {},
    heap_used_mb_by_rules: {},
    propagation_p99_ms: null,
    propagation: {},
    models: {},
    differential: { requests: 0, mismatches: 0, by_rules: {}, examples: [] },
    targets: [],
  };
  let valkey: Promise<Valkey> | undefined;
  const ctx: Context = {
    model,
    plan,
    // engine-budgeted's target is relative to engine-uncached: `--only engine-uncached` runs both.
    wants: (part) => options.only === undefined || options.only === part || (part === 'engine-budgeted' && options.only === 'engine-uncached'),
    env,
    progress,
    results,
    valkey: () => (valkey ??= readyValkey(env.BENCH_VALKEY_URL)),
  };
  let authorize: AuthorizeBenchResult | undefined;
  try {
    if (options.only !== 'authorize' && options.only !== 'models' && options.only !== 'scale') for (const size of sizes) await benchSize(ctx, size);
    if (ctx.wants('models')) await benchModels(ctx);
    if (ctx.wants('authorize')) {
      authorize = await runAuthorizeBench({
        ...(options.quick ? { durationSeconds: 2, rounds: 1, warmupSeconds: 2, switchedPhases: 8, switchedWindowMs: 1_000 } : { durationSeconds: 5, rounds: 5, warmupSeconds: 3, switchedPhases: 60, switchedWindowMs: 1_000 }),
        onStep: (what) => progress.update(`authorize over HTTP: ${what}`),
      });
    }
    if (options.scale) {
      const budgetMb = options.scale.budgetMb;
      const tenantMemoryBytes = budgetMb === undefined ? servicesTenantBudgetBytes() : budgetMb * 1024 * 1024;
      const heapLimitMb = options.scale.heapLimitMb ?? Math.ceil((2 * tenantMemoryBytes) / 1024 / 1024);
      results.scale = await runScaleBench({
        databaseUrl: env.BENCH_SCALE_DATABASE_URL ?? scaleDatabaseUrl(env.BENCH_DATABASE_URL),
        shape: { rules: options.scale.rules, tenants: options.scale.tenants },
        tenantMemoryBytes,
        heapLimitMb: heapLimitMb === 0 ? undefined : heapLimitMb,
        decisions: plan.scaleDecisions,
        warmRequests: plan.scaleWarmRequests,
        zipfExponent: defaultZipfExponent,
        startRuns: plan.scaleStartRuns,
        seed: env.BENCH_SEED,
        onStep: (what) => progress.update(what),
      });
    }
  } finally {
    await valkey?.then((client) => client.quit()).catch(() => undefined);
  }
  // The catalogue keeps its own order (model by model) after the sized suites.
  const sized = results.suites.filter((s) => s.model === undefined).sort((a, b) => a.rules - b.rules || suiteNames.indexOf(a.name) - suiteNames.indexOf(b.name));
  results.suites.splice(0, results.suites.length, ...sized, ...results.suites.filter((s) => s.model !== undefined));
  results.rss_mb = results.rss_mb_by_rules[targetRules] ?? null;
  results.propagation_p99_ms = results.propagation[targetRules]?.valkey?.p99_ms ?? null;
  results.duration_s = progress.elapsedMs / 1_000;
  results.targets = evaluateTargets(authorize ? { ...results, authorize_http: authorize } : results);
  progress.update('writing bench/results/latest.json');
  await writeFile(resultsPath, `${JSON.stringify(authorize ? { ...results, authorize_http: authorize } : results, roundedNumbers, 2)}\n`);
  progress.done();
  process.stdout.write(`${formatResults(results)}\n`);
  if (authorize) process.stdout.write(`\n${formatAuthorizeBench(authorize)}\n`);
}

try {
  // `npm run bench -- system [--quick]`: the multi-process scenario, with its own options and table (loaded only then).
  if (process.argv[2] === 'system') await (await import('./system-bench.js')).runSystemBenchCli(process.argv.slice(3));
  else await main();
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n\n${usage}\n`);
    process.exitCode = 64;
  } else {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
