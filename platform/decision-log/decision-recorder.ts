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
 * the database. A batch is written when it is full or when the flush interval since its first decision ends: one
 * INSERT per batch (a row per tenant and day, see `DecisionBatch`), one flush at a time; a database that fails or is
 * down costs the decisions of that flush (counted in `droppedStoreFailed`), never a decision.
 *
 * Decisions recorded while a batch is written wait for their own batch to fill or their own interval: writing
 * whatever arrived during the last INSERT as soon as it returned made rows of one round trip's decisions (about a
 * tenth of a batch under load), and PostgreSQL's cost per row, not per decision, then was most of the log's cost.
 */
export class DecisionRecorder {
  readonly counts: DecisionRecorderCounts = { written: 0, droppedQueueFull: 0, droppedStoreFailed: 0 };
  /** Oldest first; only the last one may still take decisions. */
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

  /** Nothing queued and no write under way: every decision recorded so far is written (or counted as dropped). */
  get idle(): boolean {
    return this.queuedCount === 0 && this.flushing === undefined;
  }

  record(decision: DecisionRecord): void {
    if (this.closed || this.queuedCount >= this.options.queueMax) {
      this.counts.droppedQueueFull++;
      return;
    }
    let tail = this.queue[this.queue.length - 1];
    if (tail === undefined || tail.isClosed) {
      tail = new DecisionColumns(Math.min(this.options.batchMax, this.options.queueMax));
      this.queue.push(tail);
      // The timer is the open columns' (the ones before are closed, written by the flush under way): it runs from
      // their first decision.
      this.cancelTimer();
      this.startTimer();
    }
    tail.append(decision);
    this.queuedCount++;
    if (tail.isClosed && !this.flushing) void this.writeClosed();
  }

  /** Writes everything queued now; resolves when it is written (or dropped, when the database failed). */
  async flush(): Promise<void> {
    this.queue[this.queue.length - 1]?.seal();
    await this.writeClosed();
    // A flush that was under way when this one was asked for left the columns sealed since.
    if (this.queue[0]?.isClosed) await this.writeClosed();
  }

  /** Stops taking decisions and writes what is queued; what the database would not take is counted as dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    await this.flush();
    this.counts.droppedStoreFailed += this.queuedCount;
    this.queue = [];
    this.queuedCount = 0;
  }

  /** Writes the closed columns (full, or sealed by their interval), one flush at a time. */
  private writeClosed(): Promise<void> {
    this.flushing ??= this.drain().then((drained) => {
      this.flushing = undefined;
      // Columns that closed while this flush wrote (a full batch needs no timer); after a failure only the timer
      // starts the next attempt, so a database that is down is not retried in a loop.
      if (drained && this.queue[0]?.isClosed) void this.writeClosed();
      else if (this.queuedCount > 0 && !this.closed) this.startTimer();
    });
    return this.flushing;
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

  /** False when a write failed (the closed columns after it stay queued for the next attempt). */
  private async drain(): Promise<boolean> {
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

  /** The oldest columns when they are closed; decisions recorded from now on go to new columns. */
  private take(): DecisionColumns | undefined {
    if (!this.queue[0]?.isClosed) return undefined;
    const taken = this.queue.shift() as DecisionColumns;
    this.queuedCount -= taken.length;
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
