import { batchDecisions, type DecisionBatch } from './decision-batch.js';
import type { DecisionRecord } from './decision-record.js';
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
  /** The rule that decided, found at flush time (undefined when it cannot be told any more); asked once per distinct decision of a batch. */
  readonly resolveRule?: (record: DecisionRecord) => string | undefined;
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
 * and returns; it never waits, never throws, never touches the database. A timer (or a full batch) flushes the
 * queue with one INSERT per batch (a row per tenant and day, see `DecisionBatch`), one flush at a time; a database
 * that fails or is down costs the decisions of that flush (counted in `droppedStoreFailed`), never a decision.
 */
export class DecisionRecorder {
  readonly counts: DecisionRecorderCounts = { written: 0, droppedQueueFull: 0, droppedStoreFailed: 0 };
  private queue: DecisionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: DecisionRecorderOptions) {}

  /** Decisions waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  record(decision: DecisionRecord): void {
    if (this.closed || this.queue.length >= this.options.queueMax) {
      this.counts.droppedQueueFull++;
      return;
    }
    this.queue.push(decision);
    if (this.flushing) return;
    if (this.queue.length >= this.options.batchMax) {
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
      if (this.queue.length === 0 || this.closed) return;
      // After a failure only the timer starts the next attempt: a database that is down is not retried in a loop.
      if (drained && this.queue.length >= this.options.batchMax) void this.flush();
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
    while (this.queue.length > 0) {
      const taken = this.take();
      try {
        await this.write(batchDecisions(taken, this.ruleOf));
        this.counts.written += taken.length;
      } catch (error) {
        this.counts.droppedStoreFailed += taken.length;
        this.options.onError?.(error, taken.length);
        return false;
      }
    }
    return true;
  }

  private take(): DecisionRecord[] {
    if (this.queue.length <= this.options.batchMax) {
      const batch = this.queue;
      this.queue = [];
      return batch;
    }
    return this.queue.splice(0, this.options.batchMax);
  }

  private readonly ruleOf = (record: DecisionRecord): string | undefined => {
    try {
      return this.options.resolveRule?.(record);
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
