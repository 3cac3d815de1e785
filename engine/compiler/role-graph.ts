import { maxRoleHierarchyLevel } from '../tenant-index.js';

/** The domain of a role link without one (casbin's DefaultRoleManager default). */
export const defaultRoleDomain = 'casbin::default';

const reachMemoLimit = 10_000;

/** A name matcher for role names or domains: `(name, pattern) => matches`, as casbin's matching functions. */
export type NameMatcher = (name: string, pattern: string) => boolean;

interface Link {
  readonly name1: string;
  readonly name2: string;
  readonly domain: string;
}

/** casbin's Role: a name and its direct roles, unique by name, in the order they were linked. */
class TempRole {
  readonly roles: TempRole[] = [];
  constructor(readonly name: string) {}

  addRole(role: TempRole): void {
    if (!this.roles.some((r) => r.name === role.name)) this.roles.push(role);
  }
}

type TempRoles = Map<string, TempRole>;

function loadOrCreate(roles: TempRoles, name: string): TempRole {
  let role = roles.get(name);
  if (!role) roles.set(name, (role = new TempRole(name)));
  return role;
}

/**
 * One role type's links (`g`, `g2`, ...) with node-casbin's DefaultRoleManager semantics: `hasLink(a, b, d)`
 * is true when a = b or b is reached from a by at most 10 links in domain d. Without matching functions the
 * links are an adjacency list per domain and each subject's reach is memoised; with a role-name or domain
 * matching function (casbin's `addNamedMatchingFunc` / `addNamedDomainMatchingFunc`) it rebuilds casbin's
 * per-domain role set the way casbin does, from the links in stored order (the order matters there), and keeps
 * it until the links change. The semantics are those of an enforcer that loaded the current policy.
 */
export class RoleGraph {
  private readonly links = new Map<string, Link>();
  private readonly parents = new Map<string, Map<string, string[]>>();
  private readonly reachMemo = new Map<string, Map<string, readonly string[]>>();
  private domainRoles: Map<string, TempRoles> | undefined;
  private readonly tempRoles = new Map<string, TempRoles>();
  private readonly patternReachMemo = new Map<string, Map<string, Set<string> | null>>();

  constructor(
    readonly ptype: string,
    private readonly matching: NameMatcher | undefined,
    private readonly domainMatching: NameMatcher | undefined,
  ) {}

  /** True when role names or domains are matched as patterns (no memoised reach; no index expansion). */
  get usesPatterns(): boolean {
    return this.matching !== undefined || this.domainMatching !== undefined;
  }

  get linkCount(): number {
    return this.links.size;
  }

  addLink(name1: string, name2: string, domain: string = defaultRoleDomain): void {
    const key = `${name1}\u0000${name2}\u0000${domain}`;
    if (this.links.has(key)) return;
    this.links.set(key, { name1, name2, domain });
    let names = this.parents.get(domain);
    if (!names) this.parents.set(domain, (names = new Map()));
    const list = names.get(name1);
    if (list) list.push(name2);
    else names.set(name1, [name2]);
    this.changed(domain);
  }

  deleteLink(name1: string, name2: string, domain: string = defaultRoleDomain): void {
    if (!this.links.delete(`${name1}\u0000${name2}\u0000${domain}`)) return;
    const list = this.parents.get(domain)?.get(name1);
    if (list) {
      const at = list.indexOf(name2);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.parents.get(domain)?.delete(name1);
    }
    this.changed(domain);
  }

  private changed(domain: string): void {
    this.reachMemo.delete(domain);
    this.domainRoles = undefined;
    this.tempRoles.clear();
    this.patternReachMemo.clear();
  }

  /** casbin's `hasLink(name1, name2, domain)`. */
  hasLink(name1: string, name2: string, domain: string = defaultRoleDomain): boolean {
    if (name1 === name2) return true;
    if (!this.usesPatterns) return this.reach(name1, domain).includes(name2);
    return this.patternReach(name1, domain)?.has(name2) ?? false;
  }

  /**
   * Every name `name1` reaches in `domain` (itself first, then breadth first): exactly the names n for which
   * `hasLink(name1, n, domain)` holds. Only without matching functions (with them the set has no end).
   */
  reach(name1: string, domain: string = defaultRoleDomain): readonly string[] {
    let memo = this.reachMemo.get(domain);
    const known = memo?.get(name1);
    if (known) return known;
    const names = this.parents.get(domain);
    const seen = new Set<string>([name1]);
    let frontier = [name1];
    for (let level = 0; names && level < maxRoleHierarchyLevel && frontier.length > 0; level++) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const parent of names.get(name) ?? []) {
          if (!seen.has(parent)) {
            seen.add(parent);
            next.push(parent);
          }
        }
      }
      frontier = next;
    }
    const result = [...seen];
    if (!memo) this.reachMemo.set(domain, (memo = new Map()));
    if (memo.size >= reachMemoLimit) memo.clear();
    memo.set(name1, result);
    return result;
  }

  /** The links from `name1` to `name2` in `domain`, shortest first ([] when `name2` is not reached). */
  pathTo(name1: string, name2: string, domain: string = defaultRoleDomain): string[] {
    if (name1 === name2) return [name1];
    if (!this.hasLink(name1, name2, domain)) return [];
    const children = (name: string): readonly string[] =>
      this.usesPatterns ? this.patternChildren(name, name === name1, domain) : (this.parents.get(domain)?.get(name) ?? []);
    const previous = new Map<string, string>();
    const seen = new Set([name1]);
    let frontier = [name1];
    for (let level = 0; level < maxRoleHierarchyLevel && frontier.length > 0 && !seen.has(name2); level++) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const parent of children(name)) {
          if (seen.has(parent)) continue;
          seen.add(parent);
          previous.set(parent, name);
          next.push(parent);
        }
      }
      frontier = next;
    }
    const path = [name2];
    for (let at = name2; at !== name1; ) {
      at = previous.get(at) as string;
      path.unshift(at);
    }
    return path;
  }

  // ---- with matching functions: casbin's generateTempRoles, rebuilt from the links in stored order ----

  private allDomains(): Map<string, TempRoles> {
    if (this.domainRoles) return this.domainRoles;
    const domains = new Map<string, TempRoles>([[defaultRoleDomain, new Map()]]);
    for (const { name1, name2, domain } of this.links.values()) {
      let roles = domains.get(domain);
      if (!roles) domains.set(domain, (roles = new Map()));
      const role1 = loadOrCreate(roles, name1);
      role1.addRole(loadOrCreate(roles, name2));
    }
    this.domainRoles = domains;
    return domains;
  }

  private createRole(roles: TempRoles, name: string): TempRole {
    const role = loadOrCreate(roles, name);
    if (this.matching) {
      for (const key of roles.keys()) {
        if (this.matching(name, key) && name !== key) role.addRole(loadOrCreate(roles, key));
      }
    }
    return role;
  }

  private temp(domain: string): TempRoles {
    const cached = this.tempRoles.get(domain);
    if (cached) return cached;
    const all = this.allDomains();
    const extra = new Set([domain]);
    if (this.domainMatching) {
      for (const key of all.keys()) if (this.domainMatching(domain, key)) extra.add(key);
    }
    const roles: TempRoles = new Map();
    for (const dom of extra) {
      for (const value of (all.get(dom) ?? new Map<string, TempRole>()).values()) {
        const role1 = this.createRole(roles, value.name);
        for (const n of value.roles.map((r) => r.name)) role1.addRole(this.createRole(roles, n));
      }
    }
    if (this.tempRoles.size >= reachMemoLimit) this.tempRoles.clear();
    this.tempRoles.set(domain, roles);
    return roles;
  }

  private hasRole(roles: TempRoles, name: string): boolean {
    if (!this.matching) return roles.has(name);
    for (const key of roles.keys()) if (this.matching(name, key)) return true;
    return false;
  }

  /** The roles casbin's `createRole(name)` gives `name` for one hasLink call (without touching the cached set). */
  private patternChildren(name: string, isQueried: boolean, domain: string): string[] {
    const roles = this.temp(domain);
    const out = (roles.get(name)?.roles ?? []).map((r) => r.name);
    if (isQueried && this.matching) {
      for (const key of roles.keys()) if (this.matching(name, key) && name !== key && !out.includes(key)) out.push(key);
    }
    return out;
  }

  private patternReach(name1: string, domain: string): Set<string> | undefined {
    let memo = this.patternReachMemo.get(domain);
    const known = memo?.get(name1);
    if (known !== undefined) return known ?? undefined;
    const reached = this.computePatternReach(name1, domain);
    if (!memo) this.patternReachMemo.set(domain, (memo = new Map()));
    if (memo.size >= reachMemoLimit) memo.clear();
    memo.set(name1, reached ?? null);
    return reached;
  }

  private computePatternReach(name1: string, domain: string): Set<string> | undefined {
    const roles = this.temp(domain);
    if (!this.hasRole(roles, name1)) return undefined;
    const seen = new Set<string>([name1]);
    let frontier = [name1];
    for (let level = 0; level < maxRoleHierarchyLevel && frontier.length > 0; level++) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const parent of this.patternChildren(name, level === 0, domain)) {
          if (!seen.has(parent)) {
            seen.add(parent);
            next.push(parent);
          }
        }
      }
      frontier = next;
    }
    // casbin also requires the target itself to be a known (or matching) role name.
    for (const name of seen) if (name !== name1 && !this.hasRole(roles, name)) seen.delete(name);
    return seen;
  }
}
