import { isSameFact, type DecisionFact, type DecisionRecord } from './decision-record.js';
import { RequestIdBytes } from './request-id-bytes.js';

/**
 * Decisions waiting to be written, in columns of a fixed capacity: a decision is its time, the index of its fact
 * and its request id (as bytes, see RequestIdBytes), and a run of decisions of one fact (a caller's checks repeat
 * back to back) keeps the fact once. Appending keeps no object per decision: a decision waits up to a flush interval, long enough to outlive a
 * young-generation collection, and what outlives one is copied and promoted (then costs the major collections).
 */
export class DecisionColumns<F extends DecisionFact = DecisionFact> {
  readonly atMs: Float64Array;
  /** Index into `facts` of each decision. */
  readonly fact: Uint32Array;
  readonly requestIds: RequestIdBytes;
  readonly facts: F[] = [];
  length = 0;
  private sealed = false;

  constructor(readonly capacity: number) {
    this.atMs = new Float64Array(capacity);
    this.fact = new Uint32Array(capacity);
    this.requestIds = new RequestIdBytes(capacity);
  }

  /** Columns holding these decisions, each record standing for its own fact. */
  static of<R extends DecisionRecord>(records: readonly R[]): DecisionColumns<R> {
    const columns = new DecisionColumns<R>(records.length);
    for (const record of records) columns.append(record);
    return columns;
  }

  /** Full, or sealed: it takes no more decisions and is ready to be written. */
  get isClosed(): boolean {
    return this.sealed || this.length >= this.capacity;
  }

  /** Takes no more decisions: its flush interval is over, so it is written as it is. */
  seal(): void {
    this.sealed = true;
  }

  /** Appends a decision (the caller checks `isClosed` first); the record is kept only when it starts a new fact. */
  append(record: F & Pick<DecisionRecord, 'atMs' | 'requestId'>): void {
    const facts = this.facts;
    const last = facts[facts.length - 1];
    if (last === undefined || !isSameFact(last, record)) facts.push(record);
    const i = this.length++;
    this.atMs[i] = record.atMs;
    this.fact[i] = facts.length - 1;
    this.requestIds.append(record.requestId);
  }
}
