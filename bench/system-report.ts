// The figures of `npm run bench -- system` and their printed table.

export interface SystemBenchResult {
  readonly replicas: number;
  /** Concurrent product-side callers (closed loop: each waits for its answer before asking again). */
  readonly callers: number;
  readonly duration_s: number;
  readonly authorize: {
    readonly requests: number;
    /** Calls the client library answered with an error (Auth unreachable, 5xx): never counted as decisions. */
    readonly failed: number;
    readonly requests_per_s: number;
    readonly p50_ms: number;
    readonly p99_ms: number;
    readonly by_replica: readonly number[];
  };
  /** Per (change, replica): from Identity's answer to the replica's first answer at or after the change's revision (0 when it came first). */
  readonly propagation: {
    readonly changes: number;
    /** (change, replica) pairs measured: changes × replicas when every replica applied every change. */
    readonly measured: number;
    readonly missing: number;
    /** Answers whose decision was not the one of their revision's policy (must be 0). */
    readonly stale_answers: number;
    readonly p50_ms: number;
    readonly p99_ms: number;
    readonly max_ms: number;
  };
}

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a');

export function formatSystemBench(result: SystemBenchResult): string {
  const { authorize, propagation } = result;
  const rows: [string, string][] = [
    ['replicas / callers', `${result.replicas} Auth + Identity, ${result.callers} concurrent callers via createAuthClient`],
    ['authorize throughput', `${Math.round(authorize.requests_per_s).toLocaleString('en-US')} req/s over ${result.duration_s.toFixed(1)} s (${authorize.by_replica.join(' / ')} per replica)`],
    ['authorize p50 / p99', `${ms(authorize.p50_ms)} / ${ms(authorize.p99_ms)}`],
    ['authorize failures', `${authorize.failed} of ${authorize.requests.toLocaleString('en-US')}`],
    ['propagation p50 / p99 / max', `${ms(propagation.p50_ms)} / ${ms(propagation.p99_ms)} / ${ms(propagation.max_ms)}`],
    ['changes applied', `${propagation.measured} of ${propagation.changes * result.replicas} (change × replica), ${propagation.missing} missing`],
    ['stale answers', String(propagation.stale_answers)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return ['System (Identity + 3 Auth replicas as processes, authorize through the client library)', ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`)].join('\n');
}
