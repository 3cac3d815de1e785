// The shape of bench/results/latest.json (snake_case, units in names), shared by the runner, the targets
// and the printed table.
import type { FeedKind } from './propagation.js';
import type { ScaleFigures } from './scale-suite.js';

export const suiteNames = ['casbin-plain', 'engine-uncached', 'engine-budgeted', 'engine-l1-hit', 'engine-l2-hit'] as const;
export type SuiteName = (typeof suiteNames)[number];

export interface SuiteResult {
  readonly name: SuiteName;
  /** Set for the model catalogue (`--only models`): the catalogue model measured. */
  readonly model?: string;
  readonly rules: number;
  readonly tenants: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly ops_per_s: number;
  readonly mean_us: number;
  readonly max_us: number;
  readonly samples: number;
  /** `per-op`: each call timed; `per-batch-100`: batches of 100 calls, each sample a batch's mean. */
  readonly timing: 'per-op' | 'per-batch-100';
  readonly note?: string;
}

export interface PropagationFigures {
  readonly writes: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly lost: number;
  readonly write_p50_ms: number;
}

export interface TargetResult {
  readonly name: string;
  readonly comparison: '<=' | '>=';
  readonly target: number;
  readonly unit: string;
  /** null when the measurement did not run (`--only`). */
  readonly value: number | null;
  readonly pass: boolean | null;
}

export interface ModelFigures {
  readonly plan: string;
  readonly rules: number;
  readonly allowed_share: number;
  readonly engine_load_ms: number;
  readonly casbin_load_ms: number;
  /** casbin-plain p50 / engine-uncached p50. */
  readonly speedup: number;
}

export interface BenchResults {
  readonly when: string;
  readonly mode: 'quick' | 'full';
  /** `--scale`: many tenants under Zipf traffic; null when not run. */
  scale: ScaleFigures | null;
  readonly only: string | null;
  readonly seed: number;
  duration_s: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpu_model: string;
    readonly total_memory_mb: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly suites: SuiteResult[];
  /** Per rule count: the requests cycled through and the share the engine allows. */
  readonly request_mix: Record<string, { requests: number; allowed_share: number }>;
  /** Per rule count: cold load from PostgreSQL into a ready engine, fresh process, median of the runs. */
  readonly load_ms: Record<string, number>;
  readonly load_runs_ms: Record<string, readonly number[]>;
  /** Per rule count: fork of a fresh process to its engine being ready (start-up and module loading included). */
  readonly process_ready_ms: Record<string, number>;
  /** Plain casbin building its enforcer from the rules in memory, per rule count. */
  readonly casbin_load_ms: Record<string, number>;
  /** Resident memory of a process holding the 125,000-rule engine (after GC). */
  rss_mb: number | null;
  readonly rss_mb_by_rules: Record<string, number>;
  readonly heap_used_mb_by_rules: Record<string, number>;
  /** Valkey feed, 125,000 rules. */
  propagation_p99_ms: number | null;
  readonly propagation: Record<string, Partial<Record<FeedKind, PropagationFigures>>>;
  /** Per catalogue model: how the engine decides it and what the run saw. */
  readonly models: Record<string, ModelFigures>;
  readonly differential: {
    requests: number;
    mismatches: number;
    readonly by_rules: Record<string, { requests: number; mismatches: number }>;
    readonly examples: string[];
  };
  targets: TargetResult[];
}
