// Latency sampling with process.hrtime.bigint(): per operation where an operation costs a microsecond or
// more, per batch (divided by its size) below that, where the clock's own ~50 ns would dominate.

export interface LatencySummary {
  /** How many latencies were recorded (operations, or batches for `timeBatches`). */
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly maxUs: number;
  readonly opsPerS: number;
}

/** Keeps the optimiser from dropping an operation whose result is otherwise unused. */
export const sink = { value: 0 };

/** Nearest-rank percentile of ascending `sorted` (with 5 samples, p99 is the largest). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarise(latenciesUs: Float64Array | number[], opsPerS: number): LatencySummary {
  const sorted = Float64Array.from(latenciesUs).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    samples: sorted.length,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    meanUs: sorted.length === 0 ? Number.NaN : total / sorted.length,
    maxUs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
    opsPerS,
  };
}

export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Times `samples` calls of `op(i)` one by one; ops/s from the summed latencies (the clock reads included,
 * so slightly pessimistic).
 */
export function timeEach(samples: number, op: (i: number) => void): LatencySummary {
  const latencies = new Float64Array(samples);
  let totalNs = 0n;
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    op(i);
    const elapsed = process.hrtime.bigint() - start;
    totalNs += elapsed;
    latencies[i] = Number(elapsed) / 1_000;
  }
  return summarise(latencies, (samples * 1e9) / Number(totalNs));
}

/** As `timeEach` for asynchronous operations, awaited one at a time (a sequential client). */
export async function timeEachAsync(samples: number, op: (i: number) => Promise<void>): Promise<LatencySummary> {
  const latencies = new Float64Array(samples);
  let totalNs = 0n;
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    const elapsed = process.hrtime.bigint() - start;
    totalNs += elapsed;
    latencies[i] = Number(elapsed) / 1_000;
  }
  return summarise(latencies, (samples * 1e9) / Number(totalNs));
}

/**
 * Times `batches` runs of `batchSize` calls each; every sample is one batch's time divided by its size, so
 * p50/p99 are those of per-batch means (a single slow call is diluted over its batch).
 */
export function timeBatches(batches: number, batchSize: number, op: (i: number) => void): LatencySummary {
  const latencies = new Float64Array(batches);
  let totalNs = 0n;
  let i = 0;
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < batchSize; k++) op(i++);
    const elapsed = process.hrtime.bigint() - start;
    totalNs += elapsed;
    latencies[b] = Number(elapsed) / 1_000 / batchSize;
  }
  return summarise(latencies, (batches * batchSize * 1e9) / Number(totalNs));
}

/** Operations per second of an untimed loop of `count` calls (no clock read per call). */
export function throughput(count: number, op: (i: number) => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) op(i);
  return (count * 1e9) / Number(process.hrtime.bigint() - start);
}
