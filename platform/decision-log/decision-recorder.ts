import { batchColumns, type DecisionBatch } from './decision-batch.js';
import { DecisionColumns } from './decision-columns.js';
import type { DecisionFact, DecisionRecord } from './decision-record.js';
import { isMissingPartition, utcDay } from './decision-log-store.js';

/** What the recorder needs of the table. */
export interface DecisionLogSink {
  write(batches: readonly DecisionBatch[]): Promise<void>;
  ensurePartitions(firstDay: string, lastDay: string): Promise<number>;
}

export interface DecisionRecorderOptions {
  readonly sink: DecisionLogSink;
  /** Decisions waiting to be written; a decision arriving at a full queue is dropped and counted. */
  readonly queueMax: number;
  /** Decisions per flush step (written as one row per tenant and day among them). */
  readonly batchMax: number;
  /** Longest a decision waits before a flush starts. */
  readonly flushIntervalMs: number;
  /** The rule that decided, found at flush time (undefined when it cannot be told any more); asked once per distinct fact of a batch. */
  readonly resolveRule?: (fact: DecisionFact) => string | undefined;
  /** A flush that failed: its rows are dropped (counted), never retried into an unbounded backlog. */
  readonly onError?: (error: unknown, droppedRows: number) => void;
}

/** Running totals, read by the metrics at scrape time. */
export interface DecisionRecorderCounts {
  /** Decisions written to the log. */
  written: number;
  /** Decisions refused because the queue was full. */
  droppedQueueFull: number;
  /** Decisions of flushes the database refused or did not answer. */
  droppedStoreFailed: number;
}

/**
 * The decision log's writer. `record` is what every authorize path calls: it appends to a bounded in-memory queue
 * (columns of `batchMax` decisions, see `DecisionColumns`) and returns; it never waits, never throws, never touches
 * the database. A timer (or a full batch) flushes the queue with one INSERT per batch (a row per tenant and day,
 * see `DecisionBatch`), one flush at a time; a database that fails or is down costs the decisions of that flush
 * (counted in `droppedStoreFailed`), never a decision.
 */
export class DecisionRecorder {
  readonly counts: DecisionRecorderCounts = { written: 0, droppedQueueFull: 0, droppedStoreFailed: 0 };
  /** Full columns first; the last one is being appended to. */
  private queue: DecisionColumns[] = [];
  private queuedCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: DecisionRecorderOptions) {}

  /** Decisions waiting to be written. */
  get queued(): number {
    return this.queuedCount;
  }

  record(decision: DecisionRecord): void {
    if (this.closed || this.queuedCount >= this.options.queueMax) {
      this.counts.droppedQueueFull++;
      return;
    }
    let tail = this.queue[this.queue.length - 1];
    if (tail === undefined || tail.isFull) {
      tail = new DecisionColumns(Math.min(this.options.batchMax, this.options.queueMax));
      this.queue.push(tail);
    }
    tail.append(decision);
    this.queuedCount++;
    if (this.flushing) return;
    if (this.queuedCount >= this.options.batchMax) {
      this.cancelTimer();
      void this.flush();
    } else {
      this.startTimer();
    }
  }

  /** Writes everything queued now (and what arrives meanwhile); resolves when the queue was drained once. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().then((drained) => {
      this.flushing = undefined;
      if (this.queuedCount === 0 || this.closed) return;
      // After a failure only the timer starts the next attempt: a database that is down is not retried in a loop.
      if (drained && this.queuedCount >= this.options.batchMax) void this.flush();
      else this.startTimer();
    });
    return this.flushing;
  }

  /** Stops taking decisions and writes what is queued. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    await this.flush();
  }

  private startTimer(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushIntervalMs).unref();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** False when a write failed (the rest stays queued for the next tick). */
  private async drain(): Promise<boolean> {
    // Decisions recorded while a batch is written go to the next batch of this drain (bounded by the queue).
    for (let taken = this.take(); taken !== undefined; taken = this.take()) {
      try {
        await this.write(batchColumns(taken, this.ruleOf));
        this.counts.written += taken.length;
      } catch (error) {
        this.counts.droppedStoreFailed += taken.length;
        this.options.onError?.(error, taken.length);
        return false;
      }
    }
    return true;
  }

  /** The oldest columns (at most `batchMax` decisions); decisions recorded from now on go to new columns. */
  private take(): DecisionColumns | undefined {
    const taken = this.queue.shift();
    if (taken !== undefined) this.queuedCount -= taken.length;
    return taken;
  }

  private readonly ruleOf = (fact: DecisionFact): string | undefined => {
    try {
      return this.options.resolveRule?.(fact);
    } catch {
      return undefined;
    }
  };

  private async write(batches: readonly DecisionBatch[]): Promise<void> {
    try {
      await this.options.sink.write(batches);
    } catch (error) {
      if (!isMissingPartition(error)) throw error;
      // A day nobody made a partition for (maintenance has not run since midnight): make it and write once more.
      let first = batches[0]?.firstAtMs ?? 0;
      let last = first;
      for (const batch of batches) {
        if (batch.firstAtMs < first) first = batch.firstAtMs;
        if (batch.lastAtMs > last) last = batch.lastAtMs;
      }
      await this.options.sink.ensurePartitions(utcDay(first), utcDay(last));
      await this.options.sink.write(batches);
    }
  }
}
