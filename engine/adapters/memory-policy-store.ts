import { EngineError } from '../errors.js';
import { assertStorableRule } from '../storable-rule.js';
import type { PolicyChange, PolicyRule, PolicySnapshot, RevisionChanges, TenantSnapshot, WriteResult } from '../policy-rule.js';
import type { PolicyStore } from '../ports.js';

function key(rule: PolicyRule): string {
  return `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
}

function defaultTenantOf(rule: PolicyRule): string | undefined {
  return rule.ptype.startsWith('g') ? rule.values[2] : rule.values[1];
}

/**
 * A policy store in memory, with the same contract as the PostgreSQL one (atomic batches, revisions, a
 * change log), for unit tests and for engines that need no persistence. `unavailable = true` simulates an
 * outage.
 */
export class MemoryPolicyStore implements PolicyStore {
  unavailable = false;
  private readonly rules = new Map<string, PolicyRule>();
  private readonly tenantRevisions = new Map<string, number>();
  private readonly log = new Map<string, RevisionChanges[]>();

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

  async applyChanges(tenantId: string, changes: readonly PolicyChange[]): Promise<WriteResult> {
    this.check();
    changes.forEach(({ rule }, i) => assertStorableRule(rule, `changes[${i}].rule`));
    for (const { rule } of changes) {
      if (this.tenantOf(rule) !== tenantId) throw new EngineError('INVALID_RULE', `rule is not of tenant ${tenantId}`);
    }
    const effective: PolicyChange[] = [];
    for (const change of changes) {
      const id = key(change.rule);
      if (change.op === 'add' && !this.rules.has(id)) {
        this.rules.set(id, { ptype: change.rule.ptype, values: [...change.rule.values] });
        effective.push(change);
      } else if (change.op === 'remove' && this.rules.delete(id)) {
        effective.push(change);
      }
    }
    const current = this.tenantRevisions.get(tenantId) ?? 0;
    if (effective.length === 0) return { tenantId, revision: current, changed: false };
    const revision = current + 1;
    this.tenantRevisions.set(tenantId, revision);
    const entries = this.log.get(tenantId) ?? [];
    entries.push({ tenantId, revision, changes: effective });
    while (entries.length > this.changeLogRevisionsKept) entries.shift();
    this.log.set(tenantId, entries);
    return { tenantId, revision, changed: true };
  }

  async changesSince(tenantId: string, afterRevision: number): Promise<readonly RevisionChanges[] | undefined> {
    this.check();
    const current = this.tenantRevisions.get(tenantId) ?? 0;
    if (current <= afterRevision) return [];
    const entries = (this.log.get(tenantId) ?? []).filter((e) => e.revision > afterRevision);
    if (entries[0]?.revision !== afterRevision + 1) return undefined;
    return entries;
  }

  async revisions(): Promise<ReadonlyMap<string, number>> {
    this.check();
    return new Map(this.tenantRevisions);
  }
}
