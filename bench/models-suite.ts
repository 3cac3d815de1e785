// One catalogue model at scale: its rules in an engine (memory store, no decision cache) timed per decision
// through `decideRequestSync`, and the same rules in plain node-casbin timed on a few requests (each scans every
// rule), every casbin answer compared with the engine's.
import { CasbinEvaluator, parseModel, PolicyEngine, type PolicyChange, type PolicyRule } from '../engine/index.js';
import { MemoryPolicyStore } from '../engine/adapters/index.js';
import { collectGarbage, sink, summarise, throughput, timeEach, type LatencySummary } from './latency.js';
import type { CatalogueModel } from './model-catalogue.js';
import type { AuthorizationRequest } from '../engine/index.js';

export interface ModelSuiteOptions {
  readonly rules: readonly PolicyRule[];
  readonly requests: readonly AuthorizationRequest[];
  readonly engineSamples: number;
  readonly casbinSamples: number;
  /** Stop sampling casbin (after at least one sample) once this much time went into timed calls. */
  readonly casbinBudgetMs: number;
  readonly onStep: (what: string) => void;
}

export interface ModelSuiteResult {
  readonly plan: string;
  readonly rules: number;
  readonly engine: LatencySummary;
  readonly casbin: LatencySummary;
  readonly casbinNote: string | undefined;
  readonly allowedShare: number;
  readonly engineLoadMs: number;
  readonly casbinLoadMs: number;
  readonly differential: { readonly requests: number; readonly mismatches: number; readonly examples: readonly string[] };
}

async function seededEngine(entry: CatalogueModel, rules: readonly PolicyRule[]): Promise<PolicyEngine> {
  const model = parseModel(entry.text);
  const store = new MemoryPolicyStore(model.tenantOf);
  const byTenant = new Map<string, PolicyChange[]>();
  for (const rule of rules) {
    const tenant = model.tenantOf(rule) as string;
    let changes = byTenant.get(tenant);
    if (!changes) byTenant.set(tenant, (changes = []));
    changes.push({ op: 'add', rule });
  }
  for (const [tenant, changes] of byTenant) await store.applyChanges(tenant, changes);
  return PolicyEngine.start({ model, store, resyncIntervalMs: 0 });
}

export async function runModelSuite(entry: CatalogueModel, options: ModelSuiteOptions): Promise<ModelSuiteResult> {
  const { rules, requests } = options;
  const values = requests.map((request, i) => entry.request(request, i));
  const n = values.length;

  options.onStep(`${entry.name}: loading ${rules.length.toLocaleString('en-US')} rules into the engine`);
  const engineStart = performance.now();
  const engine = await seededEngine(entry, rules);
  const engineLoadMs = performance.now() - engineStart;
  let casbinResult: Omit<ModelSuiteResult, 'engine' | 'allowedShare' | 'engineLoadMs' | 'plan' | 'rules'>;
  let engineLatency: LatencySummary;
  let allowed = 0;
  try {
    for (const request of values) if (engine.decideRequestSync(request as never).allowed) allowed++;
    options.onStep(`${entry.name}: engine-uncached, ${options.engineSamples.toLocaleString('en-US')} decisions, each timed`);
    const op = (i: number): void => {
      if (engine.decideRequestSync(values[i % n] as never).allowed) sink.value++;
    };
    for (let i = 0; i < Math.min(options.engineSamples, 20_000); i++) op(i);
    collectGarbage();
    const latency = timeEach(options.engineSamples, op);
    engineLatency = { ...latency, opsPerS: throughput(options.engineSamples, op) };

    options.onStep(`${entry.name}: plain casbin, loading the same rules`);
    const casbinStart = performance.now();
    const casbin = await CasbinEvaluator.create(parseModel(entry.text), rules);
    const casbinLoadMs = performance.now() - casbinStart;
    casbin.decide(values[n - 1] as unknown[]); // the first call compiles casbin's matcher
    collectGarbage();
    options.onStep(`${entry.name}: plain casbin, up to ${options.casbinSamples} enforce calls over every rule`);
    const latencies: number[] = [];
    const examples: string[] = [];
    let mismatches = 0;
    let spentMs = 0;
    for (let i = 0; i < options.casbinSamples && (i === 0 || spentMs < options.casbinBudgetMs); i++) {
      const request = values[(i * 7919) % n] as unknown[];
      const start = process.hrtime.bigint();
      const answer = casbin.decide(request);
      const elapsedUs = Number(process.hrtime.bigint() - start) / 1_000;
      latencies.push(elapsedUs);
      spentMs += elapsedUs / 1_000;
      if (engine.decideRequestSync(request as never).allowed !== answer) {
        mismatches++;
        if (examples.length < 3) examples.push(`${entry.name} ${JSON.stringify(request)}: casbin ${answer}, engine ${!answer}`);
      }
    }
    const totalUs = latencies.reduce((sum, value) => sum + value, 0);
    casbinResult = {
      casbin: summarise(latencies, (latencies.length * 1e6) / totalUs),
      casbinNote: latencies.length < options.casbinSamples ? `time budget: ${latencies.length} of ${options.casbinSamples} samples` : undefined,
      casbinLoadMs,
      differential: { requests: latencies.length, mismatches, examples },
    };
  } finally {
    engine.stop();
  }
  return {
    plan: parseModel(entry.text).plan,
    rules: rules.length,
    engine: engineLatency,
    allowedShare: allowed / n,
    engineLoadMs,
    ...casbinResult,
  };
}
