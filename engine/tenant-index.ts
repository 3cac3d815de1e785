import type { PolicyRule } from './policy-rule.js';

/** Casbin's DefaultRoleManager follows at most 10 role links (maxHierarchyLevel); so must we. */
export const maxRoleHierarchyLevel = 10;

const reachMemoLimit = 10_000;

/** What a tenant's rules say about a request: no matching rule, an allow, or a deny (which overrides). */
export const Outcome = { None: 0, Allow: 1, Deny: 2 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

interface RuleEntry {
  readonly values: readonly string[];
  readonly act: string;
  readonly deny: boolean;
  /** For a pattern rule, the part of the resource before its first `*`. */
  readonly prefix: string;
}

interface SubjectRules {
  readonly exact: Map<string, RuleEntry[]>;
  readonly patterns: RuleEntry[];
}

/**
 * What an indexed line takes beyond its text, in bytes, and what an empty tenant index takes: measured on Node 20
 * (x64) by building 1,000 tenants of 100 lines each (`p` lines of five fields, about 95 characters; `g` links of
 * three, about 110) and 20,000 empty tenants, each kind in a fresh process under `--expose-gc`, and dividing the
 * growth of `process.memoryUsage().heapUsed` after a full collection by the count, the text's share taken out.
 * A `p` line holds its values array, an index entry, a bucket slot, a resource prefix and its key in the key set;
 * a `g` line its key and a link in a set. Within 10 % across the shapes measured; memos aside, which are bounded.
 */
export const policyLineOverheadBytes = 510;
export const groupingLineOverheadBytes = 285;
export const tenantIndexOverheadBytes = 920;

/**
 * The bytes a line is estimated to take once indexed: its text twice (the values and the key made of them), one
 * byte a character as V8 stores Latin-1 text (names are identifiers), plus the measured overhead of its kind.
 */
export function estimatedLineBytes(rule: PolicyRule): number {
  let characters = rule.ptype.length;
  for (const value of rule.values) characters += value.length + 1;
  return characters * 2 + (rule.ptype === 'g' ? groupingLineOverheadBytes : policyLineOverheadBytes);
}

function ruleKey(rule: PolicyRule): string {
  return `${rule.ptype}\u0000${rule.values.join('\u0000')}`;
}

function removeEntry(list: RuleEntry[], values: readonly string[]): void {
  const index = list.findIndex((e) => e.values.every((v, i) => v === values[i]));
  if (index >= 0) list.splice(index, 1);
}

/**
 * One tenant's rules of the shipped tenant-RBAC model, indexed by subject and resource so a decision reads a
 * handful of entries instead of scanning every rule. It computes exactly what casbin computes for
 * `r.dom == p.dom && (p.sub == "*" || g(r.sub, p.sub, r.dom)) && keyMatch(r.obj, p.obj) && (p.act == "*" || r.act == p.act)`
 * with deny overriding allow.
 */
export class TenantIndex {
  private readonly bySubject = new Map<string, SubjectRules>();
  private readonly parents = new Map<string, Set<string>>();
  private readonly ruleKeys = new Set<string>();
  private reachMemo = new Map<string, readonly string[]>();
  private bytes = tenantIndexOverheadBytes;
  /** Eviction state, kept by the engine: when this tenant was last asked about, on the engine's use counter. */
  lastUsed = 0;
  /** Eviction state: how often it was asked about since it was loaded. */
  uses = 0;
  /** Eviction state: the engine's eviction clock at its last use plus `uses` (the lowest is evicted first). */
  priority = 0;

  constructor(readonly tenantId: string) {}

  get ruleCount(): number {
    return this.ruleKeys.size;
  }

  /** The memory its lines are estimated to take (see `estimatedLineBytes`); memos aside, which are bounded. */
  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Adds a rule of this tenant; false when it was already present (or is not of the model's shape). */
  add(rule: PolicyRule): boolean {
    const key = ruleKey(rule);
    if (this.ruleKeys.has(key)) return false;
    if (rule.ptype === 'g') {
      if (rule.values.length !== 3) return false;
      const [member = '', role = ''] = rule.values;
      let set = this.parents.get(member);
      if (!set) this.parents.set(member, (set = new Set()));
      set.add(role);
      this.reachMemo = new Map();
    } else if (rule.ptype === 'p') {
      if (rule.values.length !== 5) return false;
      const [sub = '', , obj = '', act = '', eft = ''] = rule.values;
      // casbin treats any effect other than allow/deny as indeterminate: such a rule decides nothing.
      if (eft === 'allow' || eft === 'deny') this.insert(sub, obj, { values: rule.values, act, deny: eft === 'deny', prefix: obj.slice(0, obj.indexOf('*')) });
    } else {
      return false;
    }
    this.ruleKeys.add(key);
    this.bytes += estimatedLineBytes(rule);
    return true;
  }

  remove(rule: PolicyRule): boolean {
    const key = ruleKey(rule);
    if (!this.ruleKeys.delete(key)) return false;
    this.bytes -= estimatedLineBytes(rule);
    if (rule.ptype === 'g') {
      const [member = '', role = ''] = rule.values;
      this.parents.get(member)?.delete(role);
      this.reachMemo = new Map();
      return true;
    }
    const [sub = '', , obj = ''] = rule.values;
    const bucket = this.bySubject.get(sub);
    if (!bucket) return true;
    if (obj.includes('*')) removeEntry(bucket.patterns, rule.values);
    else {
      const list = bucket.exact.get(obj);
      if (list) {
        removeEntry(list, rule.values);
        if (list.length === 0) bucket.exact.delete(obj);
      }
    }
    return true;
  }

  private insert(sub: string, obj: string, entry: RuleEntry): void {
    let bucket = this.bySubject.get(sub);
    if (!bucket) this.bySubject.set(sub, (bucket = { exact: new Map(), patterns: [] }));
    if (obj.includes('*')) bucket.patterns.push(entry);
    else {
      const list = bucket.exact.get(obj);
      if (list) list.push(entry);
      else bucket.exact.set(obj, [entry]);
    }
  }

  /** `sub` and every role it reaches within casbin's hierarchy limit, breadth first. */
  reach(sub: string): readonly string[] {
    const memo = this.reachMemo.get(sub);
    if (memo) return memo;
    const seen = new Set<string>([sub]);
    let frontier = [sub];
    for (let level = 0; level < maxRoleHierarchyLevel && frontier.length > 0; level++) {
      const next: string[] = [];
      for (const name of frontier) {
        const roles = this.parents.get(name);
        if (!roles) continue;
        for (const role of roles) {
          if (!seen.has(role)) {
            seen.add(role);
            next.push(role);
          }
        }
      }
      frontier = next;
    }
    const result = [...seen];
    if (this.reachMemo.size >= reachMemoLimit) this.reachMemo = new Map();
    this.reachMemo.set(sub, result);
    return result;
  }

  decide(sub: string, obj: string, act: string): Outcome {
    const subjects = this.reach(sub);
    let allowed = false;
    for (let i = 0; i <= subjects.length; i++) {
      const name = i < subjects.length ? subjects[i] : '*';
      if (name === '*' && i < subjects.length) continue; // the `*` bucket is read once, last
      const bucket = this.bySubject.get(name as string);
      if (!bucket) continue;
      const exact = bucket.exact.get(obj);
      if (exact) {
        for (const e of exact) {
          if (e.act === act || e.act === '*') {
            if (e.deny) return Outcome.Deny;
            allowed = true;
          }
        }
      }
      for (const e of bucket.patterns) {
        if ((e.act === act || e.act === '*') && obj.startsWith(e.prefix)) {
          if (e.deny) return Outcome.Deny;
          allowed = true;
        }
      }
    }
    return allowed ? Outcome.Allow : Outcome.None;
  }

  /**
   * The policy lines that apply to `sub` (its own, those of every role it reaches, and those of subject `*`),
   * allow and deny, as `[resource, action, deny]` triples. For permission maps; not the hot path.
   */
  rulesFor(sub: string): Array<readonly [resource: string, action: string, deny: boolean]> {
    const out: Array<readonly [string, string, boolean]> = [];
    const names = new Set([...this.reach(sub), '*']);
    for (const name of names) {
      const bucket = this.bySubject.get(name);
      if (!bucket) continue;
      for (const [obj, list] of bucket.exact) for (const e of list) out.push([obj, e.act, e.deny]);
      for (const e of bucket.patterns) out.push([e.values[2] ?? '', e.act, e.deny]);
    }
    return out;
  }

  /** The `p` lines whose subject is exactly `subject`, as `[resource, action, deny]` (for holdings checks). */
  *linesOf(subject: string): Generator<readonly [resource: string, action: string, deny: boolean]> {
    const bucket = this.bySubject.get(subject);
    if (!bucket) return;
    for (const [obj, list] of bucket.exact) for (const e of list) yield [obj, e.act, e.deny];
    for (const e of bucket.patterns) yield [e.values[2] ?? '', e.act, e.deny];
  }

  /** Whether exactly this rule is stored. */
  has(rule: PolicyRule): boolean {
    return this.ruleKeys.has(ruleKey(rule));
  }

  /** Every rule that matches the request (allow and deny), for explanations. */
  matchingRules(sub: string, obj: string, act: string): PolicyRule[] {
    const out: PolicyRule[] = [];
    const names = new Set([...this.reach(sub), '*']);
    for (const name of names) {
      const bucket = this.bySubject.get(name);
      if (!bucket) continue;
      const entries = [...(bucket.exact.get(obj) ?? []), ...bucket.patterns.filter((e) => obj.startsWith(e.prefix))];
      for (const e of entries) if (e.act === act || e.act === '*') out.push({ ptype: 'p', values: e.values });
    }
    return out;
  }

  /** The role links from `sub` to `role`, shortest first ([] when `role` is not reached). */
  pathTo(sub: string, role: string): string[] {
    const previous = new Map<string, string>();
    const seen = new Set([sub]);
    let frontier = [sub];
    for (let level = 0; level < maxRoleHierarchyLevel && frontier.length > 0 && !seen.has(role); level++) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const parent of this.parents.get(name) ?? []) {
          if (seen.has(parent)) continue;
          seen.add(parent);
          previous.set(parent, name);
          next.push(parent);
        }
      }
      frontier = next;
    }
    if (!seen.has(role)) return [];
    const path = [role];
    for (let at = role; at !== sub; ) {
      at = previous.get(at) as string;
      path.unshift(at);
    }
    return path;
  }

  /** Every rule of the tenant (for diffing and dumps). */
  *rules(): Generator<PolicyRule> {
    for (const key of this.ruleKeys) {
      const [ptype = '', ...values] = key.split('\u0000');
      yield { ptype, values };
    }
  }
}
