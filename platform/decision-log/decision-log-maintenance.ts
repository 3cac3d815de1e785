import type { Clock } from '../../engine/index.js';
import { utcDay } from './decision-log-store.js';

const dayMs = 86_400_000;
const hourMs = 3_600_000;

export interface PartitionKeeper {
  ensurePartitions(firstDay: string, lastDay: string): Promise<number>;
  dropPartitionsBefore(firstKeptDay: string): Promise<string[]>;
}

export interface DecisionLogMaintenanceOptions {
  readonly store: PartitionKeeper;
  readonly retentionDays: number;
  readonly clock: Clock;
  /** Day partitions made ahead of today, so midnight never finds its partition missing. */
  readonly daysAhead?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Keeps the decision log's day partitions: today's and the next few exist, and every day entirely older than
 * the retention (its partition ends before today minus `retentionDays`) is dropped as a whole.
 */
export class DecisionLogMaintenance {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DecisionLogMaintenanceOptions) {}

  /** One pass; returns the partitions made and dropped. */
  async run(): Promise<{ made: number; dropped: string[] }> {
    const { store, clock, retentionDays } = this.options;
    const now = clock.nowMs();
    const made = await store.ensurePartitions(utcDay(now), utcDay(now + (this.options.daysAhead ?? 3) * dayMs));
    const dropped = await store.dropPartitionsBefore(utcDay(now - retentionDays * dayMs));
    return { made, dropped };
  }

  /** Runs now and every hour until `stop`; a failed pass is reported and tried again at the next hour. */
  start(): void {
    const pass = () => {
      this.run().catch((error: unknown) => this.options.onError?.(error));
    };
    pass();
    this.timer = setInterval(pass, hourMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
