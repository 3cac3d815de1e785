// Plain node-casbin as the reference: one enforcer (its CommonJS build, through CasbinEvaluator) holding every
// rule of every tenant. Each enforce scans every policy line, so at 125,000 rules one call takes most of a
// second: few samples at that size. Every timed request is also asked of the engine (the differential).
import { CasbinEvaluator, type AuthorizationRequest, type ModelDefinition, type PolicyEngine } from '../engine/index.js';
import { collectGarbage, summarise, type LatencySummary } from './latency.js';
import type { GeneratedPolicy } from './policy-generator.js';

export interface Differential {
  readonly requests: number;
  readonly mismatches: number;
  /** The first few disagreements, for replaying with the printed seed. */
  readonly examples: readonly string[];
}

export interface CasbinPlainResult {
  readonly latency: LatencySummary;
  readonly loadMs: number;
  readonly differential: Differential;
  /** Set when the time budget cut the sampling short. */
  readonly note?: string;
}

export interface CasbinPlainOptions {
  readonly model: ModelDefinition;
  readonly policy: GeneratedPolicy;
  readonly requests: readonly AuthorizationRequest[];
  readonly samples: number;
  /** Stop sampling (after at least one sample) once this much time went into timed calls. */
  readonly budgetMs: number;
  /** The engine every sampled request is also asked (decideSync). */
  readonly engine: PolicyEngine;
}

export async function runCasbinPlain(options: CasbinPlainOptions): Promise<CasbinPlainResult> {
  const { model, policy, requests, engine } = options;
  const loadStart = performance.now();
  const evaluator = await CasbinEvaluator.create(model, policy.rules);
  const loadMs = performance.now() - loadStart;
  const args = (request: AuthorizationRequest): string[] => [request.sub, request.dom, request.obj, request.act];

  // The first call compiles the matcher: warm up on requests that are not timed.
  const warmups = Math.max(1, Math.min(10, Math.floor(options.samples / 20)));
  for (let i = 0; i < warmups; i++) evaluator.decide(args(requests[requests.length - 1 - i] as AuthorizationRequest));
  collectGarbage();

  const latencies: number[] = [];
  const examples: string[] = [];
  let mismatches = 0;
  let spentMs = 0;
  for (let i = 0; i < options.samples && (i === 0 || spentMs < options.budgetMs); i++) {
    const request = requests[i % requests.length] as AuthorizationRequest;
    const values = args(request);
    const start = process.hrtime.bigint();
    const allowed = evaluator.decide(values);
    const elapsedUs = Number(process.hrtime.bigint() - start) / 1_000;
    latencies.push(elapsedUs);
    spentMs += elapsedUs / 1_000;
    if (engine.decideSync(request).allowed !== allowed) {
      mismatches++;
      if (examples.length < 5) examples.push(`${JSON.stringify(request)}: casbin ${allowed}, engine ${!allowed}`);
    }
  }
  const totalUs = latencies.reduce((sum, value) => sum + value, 0);
  const latency = summarise(latencies, (latencies.length * 1e6) / totalUs);
  const note =
    latencies.length < options.samples
      ? `time budget ${Math.round(options.budgetMs / 1_000)} s: ${latencies.length} of ${options.samples} samples`
      : undefined;
  return {
    latency,
    loadMs,
    differential: { requests: latencies.length, mismatches, examples },
    ...(note === undefined ? {} : { note }),
  };
}
