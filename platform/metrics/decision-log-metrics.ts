import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read of the decision log's writer (DecisionRecorder). */
export interface DecisionLogSource {
  readonly counts: { readonly written: number; readonly droppedQueueFull: number; readonly droppedStoreFailed: number };
  readonly queued: number;
}

/**
 * `am_decision_log_records_total{outcome}`: decisions written to the log, or dropped because the queue was full
 * (`dropped_queue_full`) or the database refused or did not answer a flush (`dropped_store_failed`);
 * `am_decision_log_queue_length`: decisions waiting to be written. Read from the writer at scrape time.
 */
export class DecisionLogMetrics {
  private source: DecisionLogSource | undefined;

  constructor(registry: Registry) {
    const read = () => this.source;
    new Counter({
      name: 'am_decision_log_records_total',
      help: 'Authorize decisions written to the decision log, or dropped (queue full, database failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const source = read();
        if (!source) return;
        this.inc({ outcome: 'written' }, source.counts.written);
        this.inc({ outcome: 'dropped_queue_full' }, source.counts.droppedQueueFull);
        this.inc({ outcome: 'dropped_store_failed' }, source.counts.droppedStoreFailed);
      },
    });
    new Gauge({
      name: 'am_decision_log_queue_length',
      help: 'Authorize decisions waiting to be written to the decision log',
      registers: [registry],
      collect() {
        this.set(read()?.queued ?? 0);
      },
    });
  }

  watch(source: DecisionLogSource): void {
    this.source = source;
  }
}
