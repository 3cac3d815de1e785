import type { PolicyRule } from './policy-rule.js';

/** Casbin's DefaultRoleManager follows at most 10 role links (maxHierarchyLevel); so must we. */
export const maxRoleHierarchyLevel = 10;

const reachMemoLimit = 10_000;
const reachScanLimit = 16;

/** What a tenant's rules say about a request: no matching rule, an allow, or a deny (which overrides). */
export const Outcome = { None: 0, Allow: 1, Deny: 2 } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

interface RuleEntry {
  readonly obj: string;
  readonly act: string;
  readonly deny: boolean;
  /** For a pattern rule, the part of the resource before its first `*`; for an exact one the resource itself. */
  readonly prefix: string;
}

interface SubjectRules {
  readonly exact: Map<string, RuleEntry[]>;
  readonly patterns: RuleEntry[];
}

/**
 * What an indexed line takes beyond its text, in bytes, and what an empty tenant index takes. Measured on Node 20
 * (x64) under `--expose-gc`, each kind in a fresh process: 1,000 tenants of 100 lines (`p` lines of 20 roles over
 * the bench's resources and actions, `g` links of users to groups, each line parsed from JSON text as the store's
 * rows are) and 20,000 empty tenants; the growth of `process.memoryUsage().heapUsed` after a full collection, per
 * line, less the text the estimate counts (the estimate then matched within 2 %). Checked on the bench's
 * 10,000,000-rule shape read from PostgreSQL (its 300 largest tenants, 779,133 lines, loaded by the engine): 133
 * bytes a line measured against 175 estimated; a role's lines share more there, so the estimate errs high.
 * A `p` line holds an index entry and a slot in its resource's list (a list and its key for a resource new to its
 * subject); a `g` line a slot in its member's list of roles (a list and its key for a new member). A name that V8
 * may share between rows is counted as if it were not.
 */
export const policyLineOverheadBytes = 180;
export const groupingLineOverheadBytes = 75;
export const tenantIndexOverheadBytes = 760;

/**
 * The bytes a line is estimated to take once indexed: its text once (the names it keeps, one byte a character as
 * V8 stores Latin-1 text; the tenant's name is not kept per line), plus the measured overhead of its kind.
 */
export function estimatedLineBytes(rule: PolicyRule): number {
  const values = rule.values;
  if (rule.ptype === 'g') return (values[0]?.length ?? 0) + (values[1]?.length ?? 0) + groupingLineOverheadBytes;
  return (values[0]?.length ?? 0) + (values[2]?.length ?? 0) + (values[3]?.length ?? 0) + policyLineOverheadBytes;
}

function findEntry(list: readonly RuleEntry[], obj: string, act: string, deny: boolean): number {
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as RuleEntry;
    if (e.obj === obj && e.act === act && e.deny === deny) return i;
  }
  return -1;
}

/** The `p` line an entry stands for, rebuilt (entries keep no copy of the line: at scale that copy was most of the heap). */
function policyLine(sub: string, tenantId: string, e: RuleEntry): PolicyRule {
  return { ptype: 'p', values: [sub, tenantId, e.obj, e.act, e.deny ? 'deny' : 'allow'] };
}

/**
 * One tenant's rules of the shipped tenant-RBAC model, indexed by subject and resource so a decision reads a
 * handful of entries instead of scanning every rule. It computes exactly what casbin computes for
 * `r.dom == p.dom && (p.sub == "*" || g(r.sub, p.sub, r.dom)) && keyMatch(r.obj, p.obj) && (p.act == "*" || r.act == p.act)`
 * with deny overriding allow. It holds only lines of its own tenant (`p` lines whose domain field and `g` links
 * whose third field is `tenantId`), and keeps no copy of a line: the lines are rebuilt from the index when asked.
 */
export class TenantIndex {
  private readonly bySubject = new Map<string, SubjectRules>();
  /** Member → the roles it is linked to (a short list: a member is usually in one or a few roles). */
  private readonly parents = new Map<string, string[]>();
  /** `p` lines of an effect other than allow or deny: they decide nothing, but are stored lines all the same. */
  private readonly inert: PolicyRule[] = [];
  private lines = 0;
  private reachMemo = new Map<string, readonly string[]>();
  private bytes = tenantIndexOverheadBytes;
  /** Eviction state, kept by the engine: when this tenant was last asked about, on the engine's use counter. */
  lastUsed = 0;
  /** Eviction state: how often it was asked about since it was loaded (counted up to the engine's cap). */
  uses = 0;
  /** Eviction state: the engine's eviction clock at its last use plus `uses` (the lowest is evicted first). */
  priority = 0;

  constructor(readonly tenantId: string) {}

  get ruleCount(): number {
    return this.lines;
  }

  /** The memory its lines are estimated to take (see `estimatedLineBytes`); memos aside, which are bounded. */
  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Adds a rule of this tenant; false when it was already present (or is not of the model's shape, or of another tenant). */
  add(rule: PolicyRule): boolean {
    const values = rule.values;
    if (rule.ptype === 'g') {
      if (values.length !== 3 || values[2] !== this.tenantId) return false;
      const [member = '', role = ''] = values;
      const roles = this.parents.get(member);
      if (roles === undefined) this.parents.set(member, [role]);
      else if (roles.includes(role)) return false;
      else roles.push(role);
      if (this.reachMemo.size > 0) this.reachMemo = new Map();
    } else if (rule.ptype === 'p') {
      if (values.length !== 5 || values[1] !== this.tenantId) return false;
      const [sub = '', , obj = '', act = '', eft = ''] = values;
      // casbin treats any effect other than allow/deny as indeterminate: such a rule decides nothing.
      if (eft === 'allow' || eft === 'deny') {
        if (!this.insert(sub, obj, act, eft === 'deny')) return false;
      } else {
        if (this.inert.some((line) => line.values.every((v, i) => v === values[i]))) return false;
        this.inert.push({ ptype: 'p', values: [...values] });
      }
    } else {
      return false;
    }
    this.lines++;
    this.bytes += estimatedLineBytes(rule);
    return true;
  }

  remove(rule: PolicyRule): boolean {
    const values = rule.values;
    if (rule.ptype === 'g') {
      if (values.length !== 3 || values[2] !== this.tenantId) return false;
      const [member = '', role = ''] = values;
      const roles = this.parents.get(member);
      const at = roles === undefined ? -1 : roles.indexOf(role);
      if (at < 0) return false;
      if ((roles as string[]).length === 1) this.parents.delete(member);
      else (roles as string[]).splice(at, 1);
      if (this.reachMemo.size > 0) this.reachMemo = new Map();
    } else if (rule.ptype === 'p') {
      if (values.length !== 5 || values[1] !== this.tenantId) return false;
      const [sub = '', , obj = '', act = '', eft = ''] = values;
      if (eft === 'allow' || eft === 'deny') {
        if (!this.extract(sub, obj, act, eft === 'deny')) return false;
      } else {
        const at = this.inert.findIndex((line) => line.values.every((v, i) => v === values[i]));
        if (at < 0) return false;
        this.inert.splice(at, 1);
      }
    } else {
      return false;
    }
    this.lines--;
    this.bytes -= estimatedLineBytes(rule);
    return true;
  }

  private insert(sub: string, obj: string, act: string, deny: boolean): boolean {
    let bucket = this.bySubject.get(sub);
    if (!bucket) this.bySubject.set(sub, (bucket = { exact: new Map(), patterns: [] }));
    const star = obj.indexOf('*');
    if (star >= 0) {
      if (findEntry(bucket.patterns, obj, act, deny) >= 0) return false;
      bucket.patterns.push({ obj, act, deny, prefix: obj.slice(0, star) });
      return true;
    }
    const list = bucket.exact.get(obj);
    if (list === undefined) bucket.exact.set(obj, [{ obj, act, deny, prefix: obj }]);
    else if (findEntry(list, obj, act, deny) >= 0) return false;
    else list.push({ obj, act, deny, prefix: obj });
    return true;
  }

  private extract(sub: string, obj: string, act: string, deny: boolean): boolean {
    const bucket = this.bySubject.get(sub);
    if (!bucket) return false;
    if (obj.includes('*')) {
      const at = findEntry(bucket.patterns, obj, act, deny);
      if (at < 0) return false;
      bucket.patterns.splice(at, 1);
    } else {
      const list = bucket.exact.get(obj);
      const at = list === undefined ? -1 : findEntry(list, obj, act, deny);
      if (at < 0) return false;
      if ((list as RuleEntry[]).length === 1) bucket.exact.delete(obj);
      else (list as RuleEntry[]).splice(at, 1);
    }
    if (bucket.exact.size === 0 && bucket.patterns.length === 0) this.bySubject.delete(sub);
    return true;
  }

  /** `sub` and every role it reaches within casbin's hierarchy limit, breadth first. */
  reach(sub: string): readonly string[] {
    const memo = this.reachMemo.get(sub);
    if (memo) return memo;
    // Breadth first, `seen` doubling as the queue: level by level, each name once. A subject reaches a handful of
    // names, so the array is searched instead of hashed (a set per miss was most of a decision on a big tenant,
    // whose subjects outnumber the memo); past `reachScanLimit` names a set takes over.
    const seen = [sub];
    let set: Set<string> | undefined;
    let from = 0;
    for (let level = 0; level < maxRoleHierarchyLevel && from < seen.length; level++) {
      const to = seen.length;
      for (let i = from; i < to; i++) {
        const roles = this.parents.get(seen[i] as string);
        if (roles === undefined) continue;
        for (const role of roles) {
          if (set === undefined ? seen.includes(role) : set.has(role)) continue;
          seen.push(role);
          if (set !== undefined) set.add(role);
          else if (seen.length > reachScanLimit) set = new Set(seen);
        }
      }
      from = to;
    }
    if (this.reachMemo.size >= reachMemoLimit) this.reachMemo = new Map();
    this.reachMemo.set(sub, seen);
    return seen;
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
      for (const e of bucket.patterns) out.push([e.obj, e.act, e.deny]);
    }
    return out;
  }

  /** The `p` lines whose subject is exactly `subject`, as `[resource, action, deny]` (for holdings checks). */
  *linesOf(subject: string): Generator<readonly [resource: string, action: string, deny: boolean]> {
    const bucket = this.bySubject.get(subject);
    if (!bucket) return;
    for (const [obj, list] of bucket.exact) for (const e of list) yield [obj, e.act, e.deny];
    for (const e of bucket.patterns) yield [e.obj, e.act, e.deny];
  }

  /** Whether exactly this rule is stored. */
  has(rule: PolicyRule): boolean {
    const values = rule.values;
    if (rule.ptype === 'g') return values.length === 3 && values[2] === this.tenantId && (this.parents.get(values[0] ?? '')?.includes(values[1] ?? '') ?? false);
    if (rule.ptype !== 'p' || values.length !== 5 || values[1] !== this.tenantId) return false;
    const [sub = '', , obj = '', act = '', eft = ''] = values;
    if (eft !== 'allow' && eft !== 'deny') return this.inert.some((line) => line.values.every((v, i) => v === values[i]));
    const bucket = this.bySubject.get(sub);
    if (!bucket) return false;
    const list = obj.includes('*') ? bucket.patterns : bucket.exact.get(obj);
    return list !== undefined && findEntry(list, obj, act, eft === 'deny') >= 0;
  }

  /** Every rule that matches the request (allow and deny), for explanations. */
  matchingRules(sub: string, obj: string, act: string): PolicyRule[] {
    const out: PolicyRule[] = [];
    const names = new Set([...this.reach(sub), '*']);
    for (const name of names) {
      const bucket = this.bySubject.get(name);
      if (!bucket) continue;
      const entries = [...(bucket.exact.get(obj) ?? []), ...bucket.patterns.filter((e) => obj.startsWith(e.prefix))];
      for (const e of entries) if (e.act === act || e.act === '*') out.push(policyLine(name, this.tenantId, e));
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
    for (const [member, roles] of this.parents) for (const role of roles) yield { ptype: 'g', values: [member, role, this.tenantId] };
    for (const [sub, bucket] of this.bySubject) {
      for (const list of bucket.exact.values()) for (const e of list) yield policyLine(sub, this.tenantId, e);
      for (const e of bucket.patterns) yield policyLine(sub, this.tenantId, e);
    }
    yield* this.inert;
  }
}
