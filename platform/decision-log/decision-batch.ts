import { DecisionColumns } from './decision-columns.js';
import type { RequestIdBytes } from './request-id-bytes.js';
import { isSameFact, type DecisionFact, type DecisionLogReason, type DecisionRecord } from './decision-record.js';

const dayMs = 86_400_000;

/** Decisions in one batch at most: a decision's id is its batch's id × 10,000 + its position. */
export const maxDecisionsPerBatch = 10_000;

/**
 * The decisions of one tenant on one UTC day from one flush, stored as a single row: what repeats (the subject,
 * resource, action, product, outcome, revision, rule and client address of a decision — its "fact") is kept once
 * per batch, and each decision is only its time, the index of its fact and its request id. Indexes are 1-based, as
 * PostgreSQL's arrays are.
 */
export interface DecisionBatch {
  readonly tenantId: string;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  readonly allowedCount: number;
  readonly deniedCount: number;
  /** The batch's distinct subjects (the indexed column a subject's decisions are found by). */
  readonly subjects: readonly string[];
  readonly facts: {
    readonly subject: readonly number[];
    readonly resource: readonly string[];
    readonly action: readonly string[];
    readonly product: readonly (string | null)[];
    readonly allowed: readonly boolean[];
    readonly reason: readonly DecisionLogReason[];
    readonly revision: readonly number[];
    readonly rule: readonly (string | null)[];
    readonly clientIp: readonly (string | null)[];
  };
  /** One element per decision, in the order recorded. */
  readonly decisions: {
    readonly atOffsetMs: readonly number[];
    readonly fact: readonly number[];
    /** The decisions' request ids, one line each (an empty line for none): the `request_ids` column's text. */
    readonly requestIds: string;
  };
}

class BatchBuilder {
  firstAtMs = Number.POSITIVE_INFINITY;
  lastAtMs = Number.NEGATIVE_INFINITY;
  allowedCount = 0;
  deniedCount = 0;
  readonly subjects: string[] = [];
  readonly subjectIndex = new Map<string, number>();
  readonly factIndex = new Map<string, number>();
  readonly facts = {
    subject: [] as number[],
    resource: [] as string[],
    action: [] as string[],
    product: [] as (string | null)[],
    allowed: [] as boolean[],
    reason: [] as DecisionLogReason[],
    revision: [] as number[],
    rule: [] as (string | null)[],
    clientIp: [] as (string | null)[],
  };
  readonly atMs: number[] = [];
  readonly fact: number[] = [];
  /** Each decision's position in the columns it came from (its request id is read from there). */
  readonly position: number[] = [];
  /** The previous decision's fact and its index: a caller's decisions often repeat back to back, and then no key is built. */
  private last: DecisionFact | undefined;
  private lastFact = 0;

  constructor(readonly tenantId: string) {}

  add(record: DecisionFact, atMs: number, position: number, ruleOf: (fact: DecisionFact) => string | undefined): void {
    const fact = this.last !== undefined && isSameFact(this.last, record) ? this.lastFact : this.factOf(record, ruleOf);
    this.last = record;
    this.lastFact = fact;
    if (atMs < this.firstAtMs) this.firstAtMs = atMs;
    if (atMs > this.lastAtMs) this.lastAtMs = atMs;
    if (record.allowed) this.allowedCount++;
    else this.deniedCount++;
    this.atMs.push(atMs);
    this.fact.push(fact);
    this.position.push(position);
  }

  private factOf(record: DecisionFact, ruleOf: (fact: DecisionFact) => string | undefined): number {
    // The separator cannot occur in a name the engine accepts; `undefined` product and address differ from any name.
    const key = `${record.subject}\u0000${record.resource}\u0000${record.action}\u0000${record.product ?? '\u0001'}\u0000${record.allowed ? 1 : 0}${record.reason}\u0000${record.revision}\u0000${record.clientIp ?? '\u0001'}`;
    let fact = this.factIndex.get(key);
    if (fact === undefined) {
      const facts = this.facts;
      fact = facts.resource.length + 1;
      this.factIndex.set(key, fact);
      let subject = this.subjectIndex.get(record.subject);
      if (subject === undefined) {
        subject = this.subjects.push(record.subject);
        this.subjectIndex.set(record.subject, subject);
      }
      facts.subject.push(subject);
      facts.resource.push(record.resource);
      facts.action.push(record.action);
      facts.product.push(record.product ?? null);
      facts.allowed.push(record.allowed);
      facts.reason.push(record.reason);
      facts.revision.push(record.revision);
      facts.rule.push(ruleOf(record) ?? null);
      facts.clientIp.push(record.clientIp ?? null);
    }
    return fact;
  }

  build(requestIds: RequestIdBytes): DecisionBatch {
    const first = this.firstAtMs;
    const positions = this.position;
    // Positions only grow, so a batch with as many as its columns is all of them, in order: their ids are one text.
    const whole = positions.length === requestIds.length;
    return {
      tenantId: this.tenantId,
      firstAtMs: first,
      lastAtMs: this.lastAtMs,
      allowedCount: this.allowedCount,
      deniedCount: this.deniedCount,
      subjects: this.subjects,
      facts: this.facts,
      decisions: { atOffsetMs: this.atMs.map((at) => at - first), fact: this.fact, requestIds: whole ? requestIds.text() : requestIds.textOf(positions) },
    };
  }
}

/**
 * Groups decisions into one batch per tenant and UTC day (a batch never spans a day, so it belongs to exactly one
 * day partition), keeping each distinct fact once. `ruleOf` is asked once per distinct fact of a batch, not per
 * decision: every decision of a fact was made on the same question at the same revision.
 */
export function batchDecisions<R extends DecisionRecord>(records: readonly R[], ruleOf: (record: R) => string | undefined): DecisionBatch[] {
  return batchColumns(DecisionColumns.of(records), ruleOf);
}

/** `batchDecisions` over queued columns; `ruleOf` is given one of the fact's records. */
export function batchColumns<F extends DecisionFact>(columns: DecisionColumns<F>, ruleOf: (fact: F) => string | undefined): DecisionBatch[] {
  const builders = new Map<string, BatchBuilder>();
  const full: DecisionBatch[] = [];
  const { atMs, fact, requestIds, facts } = columns;
  const ask = ruleOf as (fact: DecisionFact) => string | undefined;
  let last: BatchBuilder | undefined;
  let lastTenant = '';
  let lastDay = Number.NaN;
  for (let i = 0; i < columns.length; i++) {
    const at = atMs[i] as number;
    const record = facts[fact[i] as number] as F;
    const day = Math.floor(at / dayMs);
    // Consecutive decisions are usually of one tenant and day: skip the lookup then.
    if (last === undefined || record.tenantId !== lastTenant || day !== lastDay) {
      const key = `${day}\u0000${record.tenantId}`;
      last = builders.get(key);
      if (last === undefined) {
        last = new BatchBuilder(record.tenantId);
        builders.set(key, last);
      }
      lastTenant = record.tenantId;
      lastDay = day;
    }
    if (last.fact.length === maxDecisionsPerBatch) {
      full.push(last.build(requestIds));
      last = new BatchBuilder(record.tenantId);
      builders.set(`${day}\u0000${record.tenantId}`, last);
    }
    last.add(record, at, i, ask);
  }
  return [...full, ...[...builders.values()].map((builder) => builder.build(requestIds))];
}
