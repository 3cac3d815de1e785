// What a load recorded around policy changes says: stale answers, and how long each replica took to apply each change.
import type { AuthorizeSample } from './authorize-load.js';

export interface PolicyChange {
  /** The tenant revision the write answered (X-Policy-Revision). */
  readonly revision: number;
  /** The decision the asked question has from this revision on. */
  readonly allowed: boolean;
  /** When the write's answer arrived (performance.now()). */
  readonly answeredAtMs: number;
}

export interface PropagationFigures {
  /** Answers whose decision is not the one of the newest change at or below their revision. */
  readonly stale: AuthorizeSample[];
  /** Per replica and change: ms from the write's answer to the replica's first answer at or after its revision. */
  readonly delaysMs: number[];
  /** Changes some replica never answered at or after (replica, revision). */
  readonly missing: { replica: number; revision: number }[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of ascending values. */
export function percentileOf(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * `changes` ascending by revision; `before` is the decision below the first change. Only answered samples (200)
 * are judged. A replica that answers revision r must decide with the policy of revision r: the newest change at
 * or below r.
 */
export function analysePropagation(samples: readonly AuthorizeSample[], changes: readonly PolicyChange[], before: boolean, replicas: readonly number[]): PropagationFigures {
  const expectedAt = (revision: number): boolean => {
    let allowed = before;
    for (const change of changes) if (change.revision <= revision) allowed = change.allowed;
    return allowed;
  };
  const answered = samples.filter((s) => s.status === 200 && s.revision !== undefined);
  const stale = answered.filter((s) => s.authorized !== expectedAt(s.revision!));
  const delaysMs: number[] = [];
  const missing: { replica: number; revision: number }[] = [];
  for (const replica of replicas) {
    const ofReplica = answered.filter((s) => s.replica === replica).sort((a, b) => a.endedMs - b.endedMs);
    for (const change of changes) {
      const first = ofReplica.find((s) => s.revision! >= change.revision);
      if (!first) missing.push({ replica, revision: change.revision });
      else delaysMs.push(Math.max(0, first.endedMs - change.answeredAtMs));
    }
  }
  const sorted = [...delaysMs].sort((a, b) => a - b);
  return { stale, delaysMs, missing, p50Ms: percentileOf(sorted, 50), p99Ms: percentileOf(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN };
}
