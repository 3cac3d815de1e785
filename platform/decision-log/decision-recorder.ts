import type { DecisionRecord, StoredDecision } from './decision-record.js';
import { isMissingPartition, utcDay } from './decision-log-store.js';

/** What the recorder needs of the table. */
export interface DecisionLogSink {
  insert(rows: readonly StoredDecision[]): Promise<void>;
  ensurePartitions(firstDay: string, lastDay: string): Promise<number>;
}

export interface DecisionRecorderOptions {
  readonly sink: DecisionLogSink;
  /** Decisions waiting to be written; a decision arriving at a full queue is dropped and counted. */
  readonly queueMax: number;
  /** Rows per insert. */
  readonly batchMax: number;
  /** Longest a decision waits before a flush starts. */
  readonly flushIntervalMs: number;
  /** The rule that decided, found at flush time (undefined when it cannot be told any more). */
  readonly resolveRule?: (record: DecisionRecord) => string | undefined;
  /** A flush that failed: its rows are dropped (counted), never retried into an unbounded backlog. */
  readonly onError?: (error: unknown, droppedRows: number) => void;
}

/** Running totals, read by the metrics at scrape time. */
export interface DecisionRecorderCounts {
  /** Rows written to the log. */
  written: number;
  /** Decisions refused because the queue was full. */
  droppedQueueFull: number;
  /** Rows of flushes the database refused or did not answer. */
  droppedStoreFailed: number;
}

/**
 * The decision log's writer. `record` is what every authorize path calls: it appends to a bounded in-memory queue
 * and returns; it never waits, never throws, never touches the database. A timer (or a full batch) flushes the
 * queue with one multi-row insert per batch, one flush at a time; a database that fails or is down costs the
 * rows of that flush (counted in `droppedStoreFailed`), never a decision.
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
      const batch = this.take();
      const rows = batch.map((record) => this.stored(record));
      try {
        await this.write(rows);
        this.counts.written += rows.length;
      } catch (error) {
        this.counts.droppedStoreFailed += rows.length;
        this.options.onError?.(error, rows.length);
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

  private stored(record: DecisionRecord): StoredDecision {
    let rule: string | undefined;
    try {
      rule = this.options.resolveRule?.(record);
    } catch {
      rule = undefined;
    }
    return { ...record, rule };
  }

  private async write(rows: readonly StoredDecision[]): Promise<void> {
    try {
      await this.options.sink.insert(rows);
    } catch (error) {
      if (!isMissingPartition(error)) throw error;
      // A day nobody made a partition for (maintenance has not run since midnight): make it and write once more.
      let first = rows[0]?.atMs ?? 0;
      let last = first;
      for (const row of rows) {
        if (row.atMs < first) first = row.atMs;
        if (row.atMs > last) last = row.atMs;
      }
      await this.options.sink.ensurePartitions(utcDay(first), utcDay(last));
      await this.options.sink.insert(rows);
    }
  }
}
