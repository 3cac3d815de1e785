import { EngineError } from '../errors.js';
import { assertStorableRule } from '../storable-rule.js';
import type { PolicyChange, PolicyRule, PolicySnapshot, RevisionChanges, TenantSnapshot, WriteResult } from '../policy-rule.js';
import type { PolicyStore, PolicyTransaction } from '../ports.js';

function key(rule: PolicyRule): string {
  return `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
}

function defaultTenantOf(rule: PolicyRule): string | undefined {
  return rule.ptype.startsWith('g') ? rule.values[2] : rule.values[1];
}

/** What one transaction has written to one tenant, seen only inside it until the commit. */
interface TenantStage {
  revision: number;
  /** Rule key → the rule (present) or undefined (removed), over the committed rules. */
  readonly rules: Map<string, PolicyRule | undefined>;
  readonly log: RevisionChanges[];
}

class MemoryTransaction implements PolicyTransaction {
  constructor(readonly store: MemoryPolicyStore) {}

  readonly stages = new Map<string, TenantStage>();
  readonly locked: string[] = [];
  readonly effects: (() => Promise<void>)[] = [];
  ended = false;

  afterCommit(effect: () => Promise<void>): void {
    this.effects.push(effect);
  }
}

/**
 * A policy store in memory, with the same contract as the PostgreSQL one (atomic batches in transactions, a
 * write lock per tenant held to the end of the transaction, revisions, a change log), for unit tests and for
 * engines that need no persistence. `unavailable = true` simulates an outage.
 */
export class MemoryPolicyStore implements PolicyStore {
  unavailable = false;
  private readonly rules = new Map<string, PolicyRule>();
  private readonly tenantRevisions = new Map<string, number>();
  private readonly log = new Map<string, RevisionChanges[]>();
  private readonly locks = new Map<string, { readonly owner: MemoryTransaction; readonly released: Promise<void>; readonly release: () => void }>();

  constructor(
    private readonly tenantOf: (rule: PolicyRule) => string | undefined = defaultTenantOf,
    private readonly changeLogRevisionsKept = 1_000,
  ) {}

  private check(): void {
    if (this.unavailable) throw new EngineError('POLICY_STORE_UNAVAILABLE', 'memory store marked unavailable');
  }

  async loadAll(): Promise<PolicySnapshot> {
    this.check();
    return { revisions: new Map(this.tenantRevisions), rules: [...this.rules.values()] };
  }

  async loadTenant(tenantId: string): Promise<TenantSnapshot> {
    this.check();
    const rules = [...this.rules.values()].filter((rule) => this.tenantOf(rule) === tenantId);
    return { tenantId, revision: this.tenantRevisions.get(tenantId) ?? 0, rules };
  }

  async changesSince(tenantId: string, afterRevision: number): Promise<readonly RevisionChanges[] | undefined> {
    this.check();
    const current = this.tenantRevisions.get(tenantId) ?? 0;
    if (current <= afterRevision) return [];
    const entries = (this.log.get(tenantId) ?? []).filter((e) => e.revision > afterRevision);
    if (entries[0]?.revision !== afterRevision + 1) return undefined;
    return entries;
  }

  async revisions(tenantIds?: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.check();
    if (tenantIds === undefined) return new Map(this.tenantRevisions);
    const out = new Map<string, number>();
    for (const tenantId of tenantIds) {
      const revision = this.tenantRevisions.get(tenantId);
      if (revision !== undefined) out.set(tenantId, revision);
    }
    return out;
  }

  async transaction<T>(work: (tx: PolicyTransaction) => Promise<T>): Promise<T> {
    this.check();
    const tx = new MemoryTransaction(this);
    let value: T;
    try {
      value = await work(tx);
      this.check();
    } catch (error) {
      this.end(tx);
      throw error;
    }
    this.commit(tx);
    this.end(tx);
    for (const effect of tx.effects) await effect();
    return value;
  }

  /**
   * A validated batch in a transaction of its own, for seeding a store before an engine reads it and for
   * standing in for another process's writer in tests (nothing is announced).
   */
  async applyChanges(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    changes.forEach(({ rule }, i) => assertStorableRule(rule, `changes[${i}].rule`));
    for (const { rule } of changes) {
      if (this.tenantOf(rule) !== tenantId) throw new EngineError('INVALID_RULE', `rule is not of tenant ${tenantId}`);
    }
    return this.transaction((tx) => this.applyChangesWithin(tx, tenantId, changes));
  }

  async applyChangesWithin(tx: PolicyTransaction, tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    const own = this.own(tx);
    this.check();
    if (changes.length === 0) return { tenantId, revision: own.stages.get(tenantId)?.revision ?? this.tenantRevisions.get(tenantId) ?? 0, changed: false };
    const stage = await this.stage(own, tenantId);
    const effective: PolicyChange[] = [];
    for (const change of changes) {
      const id = key(change.rule);
      const present = stage.rules.has(id) ? stage.rules.get(id) !== undefined : this.rules.has(id);
      if (change.op === 'add' && !present) {
        stage.rules.set(id, { ptype: change.rule.ptype, values: [...change.rule.values] });
        effective.push(change);
      } else if (change.op === 'remove' && present) {
        stage.rules.set(id, undefined);
        effective.push(change);
      }
    }
    if (effective.length === 0) return { tenantId, revision: stage.revision, changed: false };
    stage.revision += 1;
    stage.log.push({ tenantId, revision: stage.revision, changes: effective });
    return { tenantId, revision: stage.revision, changed: true };
  }

  async lockTenantWithin(tx: PolicyTransaction, tenantId: string): Promise<number> {
    const own = this.own(tx);
    this.check();
    return (await this.stage(own, tenantId)).revision;
  }

  async rulesOfSubjectWithin(tx: PolicyTransaction, tenantId: string, subject: string): Promise<PolicyRule[]> {
    const own = this.own(tx);
    this.check();
    const stage = await this.stage(own, tenantId);
    const visible = new Map(this.rules);
    for (const [id, rule] of stage.rules) {
      if (rule) visible.set(id, rule);
      else visible.delete(id);
    }
    return [...visible.values()].filter((rule) => rule.values[0] === subject && this.tenantOf(rule) === tenantId);
  }

  private own(tx: PolicyTransaction): MemoryTransaction {
    if (!(tx instanceof MemoryTransaction) || tx.store !== this) throw new TypeError('not a transaction of this memory store');
    if (tx.ended) throw new TypeError('the transaction has ended');
    return tx;
  }

  /** The tenant's stage in `tx`, taking the tenant's write lock first (held until the transaction ends). */
  private async stage(tx: MemoryTransaction, tenantId: string): Promise<TenantStage> {
    const staged = tx.stages.get(tenantId);
    if (staged) return staged;
    for (let held = this.locks.get(tenantId); held; held = this.locks.get(tenantId)) await held.released;
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.locks.set(tenantId, { owner: tx, released, release });
    tx.locked.push(tenantId);
    const stage: TenantStage = { revision: this.tenantRevisions.get(tenantId) ?? 0, rules: new Map(), log: [] };
    tx.stages.set(tenantId, stage);
    return stage;
  }

  private commit(tx: MemoryTransaction): void {
    for (const [tenantId, stage] of tx.stages) {
      if (stage.log.length === 0) continue;
      for (const [id, rule] of stage.rules) {
        if (rule) this.rules.set(id, rule);
        else this.rules.delete(id);
      }
      this.tenantRevisions.set(tenantId, stage.revision);
      const entries = this.log.get(tenantId) ?? [];
      entries.push(...stage.log);
      while (entries.length > this.changeLogRevisionsKept) entries.shift();
      this.log.set(tenantId, entries);
    }
  }

  private end(tx: MemoryTransaction): void {
    tx.ended = true;
    for (const tenantId of tx.locked) {
      const held = this.locks.get(tenantId);
      if (held?.owner === tx) {
        this.locks.delete(tenantId);
        held.release();
      }
    }
  }
}
