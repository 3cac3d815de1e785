import type { PolicyChange, PolicyRule } from '../policy-rule.js';
import type { DecisionReason } from '../ports.js';
import { assertUsablePattern } from './builtin-functions.js';
import type { HeldLink } from './compile-expression.js';
import type { MatcherPlan } from './matcher-plan.js';
import { Effect, EffectStream, isOrderSensitive, ruleEffect, type EffectKind } from './policy-effect.js';
import { casbinPolicyOrder } from './policy-order.js';
import { defaultRoleDomain, type RoleGraph } from './role-graph.js';
import { RuleIndex, type LevelKeys, type RuleEntry } from './rule-index.js';

export interface EvaluatorSpec {
  readonly effect: EffectKind;
  readonly plan: MatcherPlan;
  readonly graphs: ReadonlyMap<string, RoleGraph>;
  readonly policyArity: number;
  readonly eftIndex: number;
  readonly priorityIndex: number;
  readonly policyFields: readonly string[];
  readonly roleTypes: ReadonlyMap<string, number>;
}

export interface CompiledDecision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
}

/** One rule whose matcher held for the request, with its effect and the role links that held. */
export interface MatchedRule {
  readonly rule: PolicyRule;
  readonly effect: 'allow' | 'deny' | 'other';
  readonly links: readonly HeldLink[];
}

export interface CompiledExplanation extends CompiledDecision {
  /** Every rule that matched, in casbin's order. */
  readonly matched: readonly MatchedRule[];
  /** The rules the effect decided by (a deny that overrides, the first allow, the first by priority, ...). */
  readonly deciding: readonly PolicyRule[];
}

interface Partition {
  readonly index: RuleIndex;
  /** Rules the indexes cannot be trusted with (a pattern casbin cannot compile, a wrong field count). */
  readonly unsafe: RuleEntry[];
  /** Every rule of the partition, including those a rule-only condition rules out. */
  readonly members: Set<RuleEntry>;
}

const singlePartition = '_';
const allowed: CompiledDecision = Object.freeze({ allowed: true, reason: 'allowed_by_policy' });
const denied: CompiledDecision = Object.freeze({ allowed: false, reason: 'denied_by_policy' });
const unmatched: CompiledDecision = Object.freeze({ allowed: false, reason: 'no_matching_policy' });

function ruleKey(ptype: string, values: readonly string[]): string {
  return `${ptype}\u0000${values.join('\u0000')}`;
}

function usable(fn: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  try {
    assertUsablePattern(fn, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A compiled model holding rules: decides requests of the model's arity with node-casbin's exact answer, from
 * indexes where the plan allows and in full, in casbin's order, where it does not. Changes apply synchronously,
 * so a decision sees a batch entirely or not at all. Its semantics are those of an enforcer that loaded the
 * current policy (casbin's in-memory edits can order priorities differently until it reloads).
 */
export class CompiledEvaluator {
  private readonly rulesByKey = new Map<string, PolicyRule>();
  private readonly policy = new Map<string, RuleEntry>();
  private readonly partitions = new Map<string, Partition>();
  private readonly groupRules = new Map<string, readonly string[]>();
  private counter = 0;
  private unparsedPriorities = 0;
  private ranksValid = false;
  private readonly emptyRule: readonly string[];
  private readonly orderSensitive: boolean;

  constructor(private readonly spec: EvaluatorSpec) {
    this.emptyRule = spec.policyFields.map(() => '');
    this.orderSensitive = isOrderSensitive(spec.effect);
    this.sharedStream = new EffectStream(spec.effect);
  }

  get ruleCount(): number {
    return this.rulesByKey.size;
  }

  rules(): PolicyRule[] {
    return [...this.rulesByKey.values()];
  }

  /** The `p` lines a request whose partition value is `partitionValue` can reach (every line without partitions). */
  policyLinesFor(partitionValue: string): (readonly string[])[] {
    const partition = this.partitions.get(this.spec.plan.partition ? partitionValue : singlePartition);
    return partition ? [...partition.members].map((entry) => entry.values) : [];
  }

  /** Applies a batch in one synchronous run; adding a present rule or removing an absent one does nothing. */
  apply(changes: readonly PolicyChange[]): void {
    for (const { op, rule } of changes) {
      if (op === 'add') this.add(rule);
      else this.remove(rule);
    }
  }

  private add(rule: PolicyRule): void {
    const key = ruleKey(rule.ptype, rule.values);
    if (this.rulesByKey.has(key)) return;
    const values = [...rule.values];
    this.rulesByKey.set(key, { ptype: rule.ptype, values });
    const arity = this.spec.roleTypes.get(rule.ptype);
    if (arity !== undefined) {
      const graph = this.spec.graphs.get(rule.ptype) as RoleGraph;
      // casbin reads a role line's first `arity` fields; a third one is the domain.
      graph.addLink(values[0] ?? '', values[1] ?? '', arity > 2 && values.length > 2 ? values[2] : defaultRoleDomain);
      if (rule.ptype === 'g') this.groupRules.set(key, values);
      this.ranksValid = false;
      return;
    }
    if (rule.ptype !== 'p') return;
    const { plan, policyArity, priorityIndex } = this.spec;
    const unsafe = values.length !== policyArity || plan.patternFields.some(({ field, fn }) => !usable(fn, values[field]));
    const priority = priorityIndex >= 0 ? parseInt(values[priorityIndex] as string, 10) : 0;
    const entry: RuleEntry = { ptype: 'p', values, counter: this.counter++, priority, rank: 0, unsafe };
    if (Number.isNaN(priority) && priorityIndex >= 0) this.unparsedPriorities++;
    this.policy.set(key, entry);
    this.ranksValid = false;
    const partition = this.partitionFor(values, true) as Partition;
    partition.members.add(entry);
    if (unsafe) {
      partition.unsafe.push(entry);
      return;
    }
    if (plan.ruleChecks.some((check) => !check([], values))) return;
    partition.index.add(entry);
  }

  private remove(rule: PolicyRule): void {
    const key = ruleKey(rule.ptype, rule.values);
    if (!this.rulesByKey.delete(key)) return;
    const arity = this.spec.roleTypes.get(rule.ptype);
    if (arity !== undefined) {
      const values = rule.values;
      (this.spec.graphs.get(rule.ptype) as RoleGraph).deleteLink(values[0] ?? '', values[1] ?? '', arity > 2 && values.length > 2 ? values[2] : defaultRoleDomain);
      this.groupRules.delete(key);
      this.ranksValid = false;
      return;
    }
    const entry = this.policy.get(key);
    if (!entry) return;
    this.policy.delete(key);
    this.ranksValid = false;
    if (Number.isNaN(entry.priority) && this.spec.priorityIndex >= 0) this.unparsedPriorities--;
    const partition = this.partitionFor(entry.values, false);
    if (!partition) return;
    partition.members.delete(entry);
    if (entry.unsafe) partition.unsafe.splice(partition.unsafe.indexOf(entry), 1);
    else partition.index.remove(entry);
    if (partition.members.size === 0) this.partitions.delete(this.partitionKey(entry.values));
  }

  private partitionKey(values: readonly unknown[]): string {
    const field = this.spec.plan.partition?.policy;
    return field === undefined ? singlePartition : String(values[field]);
  }

  private partitionFor(values: readonly string[], create: boolean): Partition | undefined {
    const key = this.partitionKey(values);
    let partition = this.partitions.get(key);
    if (!partition && create) {
      partition = { index: new RuleIndex(this.spec.plan.levels), unsafe: [], members: new Set() };
      this.partitions.set(key, partition);
    }
    return partition;
  }

  // ---- order ----

  private readonly byOrder = (a: RuleEntry, b: RuleEntry): number => {
    if (this.needsRanks()) return a.rank - b.rank;
    if (this.spec.priorityIndex >= 0) return a.priority - b.priority || a.counter - b.counter;
    return a.counter - b.counter;
  };

  /** Subject priority, or a priority casbin's parseInt cannot read: only casbin's own sort gives its order. */
  private needsRanks(): boolean {
    return this.spec.effect === 'subject-priority' || this.unparsedPriorities > 0;
  }

  private ensureRanks(): void {
    if (!this.needsRanks() || this.ranksValid) return;
    const entries = [...this.policy.values()];
    const byValues = new Map<readonly string[], RuleEntry>(entries.map((e) => [e.values, e]));
    const ordered = casbinPolicyOrder({
      rules: entries.map((e) => e.values),
      tokens: this.spec.policyFields,
      sortByPriority: this.spec.priorityIndex >= 0,
      sortBySubject: this.spec.effect === 'subject-priority',
      groupRules: [...this.groupRules.values()],
    });
    ordered.forEach((values, rank) => {
      (byValues.get(values) as RuleEntry).rank = rank;
    });
    this.ranksValid = true;
  }

  private globalOrder(): RuleEntry[] {
    this.ensureRanks();
    return [...this.policy.values()].sort(this.byOrder);
  }

  // ---- decisions ----

  private stream!: EffectStream;
  private request!: readonly unknown[];
  /** One stream reused by decisions; a decision made inside another (a registered function) gets its own. */
  private readonly sharedStream: EffectStream;
  private depth = 0;
  private readonly keys: LevelKeys[] = [];
  private readonly candidates: RuleEntry[] = [];
  private readonly pushCandidate = (entry: RuleEntry): boolean => {
    this.candidates.push(entry);
    return false;
  };
  private readonly pushEffect = (entry: RuleEntry): boolean => {
    const { plan, eftIndex } = this.spec;
    const value = plan.residual(this.request, entry.values);
    this.stream.push(ruleEffect(value, eftIndex >= 0 ? entry.values[eftIndex] : undefined));
    return this.stream.done;
  };

  /** The decision for `request` (values in the model's request order, validated by the caller). */
  decide(request: readonly unknown[]): CompiledDecision {
    this.depth++;
    try {
      return this.decideOnce(request, this.depth === 1 ? this.sharedStream.reset() : new EffectStream(this.spec.effect));
    } finally {
      this.depth--;
    }
  }

  private decideOnce(request: readonly unknown[], stream: EffectStream): CompiledDecision {
    const { plan } = this.spec;
    if (!plan.readsPolicy || this.policy.size === 0) {
      stream.push(plan.full(request, this.emptyRule) ? Effect.Allow : Effect.Indeterminate);
      return this.answer(stream);
    }
    // Every rule outside the candidates would push "indeterminate" in casbin: push one for them all.
    stream.push(Effect.Indeterminate);
    const found = this.locate(request);
    if (found === 'none') return this.answer(stream);
    if (found === 'all') {
      this.evaluateInOrder(request, this.globalOrder(), stream);
      return this.answer(stream);
    }
    const { partition, keys } = found;
    if (!keys) {
      this.ensureRanks();
      this.evaluateInOrder(request, [...partition.members].sort(this.byOrder), stream);
      return this.answer(stream);
    }
    if (!this.orderSensitive && plan.residualTotal && partition.unsafe.length === 0) {
      this.stream = stream;
      this.request = request;
      partition.index.find(keys, this.pushEffect);
      return this.answer(stream);
    }
    this.candidates.length = 0;
    partition.index.find(keys, this.pushCandidate);
    const ordered = [...this.candidates, ...partition.unsafe];
    this.ensureRanks();
    ordered.sort(this.byOrder);
    this.evaluateInOrder(request, ordered, stream, true);
    return this.answer(stream);
  }

  /**
   * Where the candidates for `request` are: nowhere (a request-only condition fails, or its tenant has no rules),
   * every rule in casbin's order (a guard fails), a whole partition (the request cannot use the index), or the
   * partition's index with the request's keys.
   */
  private locate(request: readonly unknown[]): 'none' | 'all' | { partition: Partition; keys: LevelKeys[] | undefined } {
    const { plan } = this.spec;
    for (const guard of plan.guards) if (!guard(request)) return 'all';
    for (const check of plan.requestChecks) if (!check(request, [])) return 'none';
    const partition = this.partitions.get(plan.partition ? (request[plan.partition.request] as string) : singlePartition);
    if (!partition) return 'none';
    // Read by the index walk that follows, before anything could reuse it.
    const keys = this.keys;
    keys.length = 0;
    for (const keysOf of plan.levelKeys) {
      const levelKeys = keysOf(request);
      if (levelKeys === undefined) return { partition, keys: undefined };
      keys.push(levelKeys);
    }
    return { partition, keys };
  }

  private evaluateInOrder(request: readonly unknown[], entries: readonly RuleEntry[], stream: EffectStream, residualOnSafe = false): void {
    const { plan, eftIndex } = this.spec;
    for (const entry of entries) {
      const value = residualOnSafe && !entry.unsafe ? plan.residual(request, entry.values) : plan.full(request, entry.values);
      stream.push(ruleEffect(value, eftIndex >= 0 ? entry.values[eftIndex] : undefined));
      if (stream.done) return;
    }
  }

  private answer(stream: EffectStream): CompiledDecision {
    if (stream.result) return allowed;
    return stream.recorded ? denied : unmatched;
  }

  /** The decision with every matching rule, the deciding ones and the role links that held (not the hot path). */
  explain(request: readonly unknown[]): CompiledExplanation {
    const { plan, eftIndex } = this.spec;
    const decision = this.decide(request);
    if (!plan.readsPolicy || this.policy.size === 0) return { ...decision, matched: [], deciding: [] };
    const found = this.locate(request);
    let entries: RuleEntry[];
    if (found === 'none') entries = [];
    else if (found === 'all') entries = this.globalOrder();
    else {
      this.candidates.length = 0;
      if (found.keys) found.partition.index.find(found.keys, this.pushCandidate);
      else this.candidates.push(...found.partition.members);
      entries = [...new Set([...this.candidates, ...found.partition.unsafe])];
      this.ensureRanks();
      entries.sort(this.byOrder);
    }
    const stream = new EffectStream(this.spec.effect);
    stream.push(Effect.Indeterminate);
    const matched: MatchedRule[] = [];
    let decidedBy: PolicyRule | undefined;
    for (const entry of entries) {
      const links: HeldLink[] = [];
      plan.trace.current = links;
      let effect: number;
      try {
        effect = ruleEffect(plan.traced(request, entry.values), eftIndex >= 0 ? entry.values[eftIndex] : undefined);
      } catch (error) {
        // casbin stops at its decision: a rule it would never reach cannot fail the explanation.
        if (stream.done) continue;
        throw error;
      } finally {
        plan.trace.current = undefined;
      }
      if (effect === Effect.Indeterminate) continue;
      const rule: PolicyRule = { ptype: entry.ptype, values: entry.values };
      matched.push({ rule, effect: effect === Effect.Allow ? 'allow' : effect === Effect.Deny ? 'deny' : 'other', links });
      if (!stream.done) {
        stream.push(effect);
        if (stream.done) decidedBy = rule;
      }
    }
    const deciding =
      this.spec.effect === 'allow-and-deny' && decision.allowed
        ? matched.filter((m) => m.effect === 'allow').map((m) => m.rule)
        : decidedBy
          ? [decidedBy]
          : [];
    return { ...decision, matched, deciding };
  }

  /** The role links from `name1` to `name2` in one role type (for explanations). */
  rolePath(ptype: string, name1: string, name2: string, domain: string | undefined): string[] {
    return this.spec.graphs.get(ptype)?.pathTo(name1, name2, domain ?? defaultRoleDomain) ?? [];
  }
}
