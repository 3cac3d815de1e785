import { patternReach } from './builtin-functions.js';

/** One stored policy rule as the evaluator holds it. */
export interface RuleEntry {
  readonly ptype: string;
  readonly values: readonly string[];
  /** Insertion order (the store's order: a rule removed and added again comes last). */
  readonly counter: number;
  /** casbin's `parseInt(priority, 10)` for models with a priority field. */
  readonly priority: number;
  /** Position in casbin's policy order where it needs a full sort (subject priority, unparsable priorities). */
  rank: number;
  /** Never found through the indexes: evaluated in full, in order, for every request of its partition. */
  readonly unsafe: boolean;
}

/** One level of the index: a rule field narrowed by a set of keys, or by the literal start of a pattern. */
export type IndexLevel = { readonly kind: 'keys'; readonly field: number } | { readonly kind: 'pattern'; readonly field: number; readonly fn: string };

interface KeysNode {
  readonly kind: 'keys';
  readonly children: Map<string, IndexNode>;
}

interface PatternNode {
  readonly kind: 'pattern';
  readonly exact: Map<string, IndexNode>;
  readonly prefixes: Map<string, IndexNode>;
  /** The prefixes as a list, scanned with startsWith while short (no key slices to build). */
  prefixList: (readonly [string, IndexNode])[];
  /** Distinct prefix lengths present, ascending (for long lists: one slice and lookup per length). */
  lengths: number[];
  any: IndexNode | undefined;
}

/** Up to this many prefixes, a scan beats slicing the key once per distinct prefix length. */
const prefixScanLimit = 24;

interface LeafNode {
  readonly kind: 'leaf';
  readonly entries: RuleEntry[];
}

type IndexNode = KeysNode | PatternNode | LeafNode;

/** Per request and level: the keys to follow (a keys level), or the key a pattern must fit (a pattern level). */
export type LevelKeys = readonly (string | readonly string[])[] | string;

function emptyNode(levels: readonly IndexLevel[], depth: number): IndexNode {
  const level = levels[depth];
  if (!level) return { kind: 'leaf', entries: [] };
  if (level.kind === 'keys') return { kind: 'keys', children: new Map() };
  return { kind: 'pattern', exact: new Map(), prefixes: new Map(), prefixList: [], lengths: [], any: undefined };
}

function isEmpty(node: IndexNode): boolean {
  if (node.kind === 'leaf') return node.entries.length === 0;
  if (node.kind === 'keys') return node.children.size === 0;
  return node.exact.size === 0 && node.prefixes.size === 0 && node.any === undefined;
}

/**
 * One partition's rules in a tree of maps, one level per indexed field: a decision follows only the branches
 * its keys name, so it reads the few rules that can match instead of every rule. Leaves keep insertion order.
 */
export class RuleIndex {
  private root: IndexNode;

  constructor(private readonly levels: readonly IndexLevel[]) {
    this.root = emptyNode(levels, 0);
  }

  add(entry: RuleEntry): void {
    let node = this.root;
    for (let depth = 0; depth < this.levels.length; depth++) node = this.child(node, depth, entry.values, true) as IndexNode;
    (node as LeafNode).entries.push(entry);
  }

  remove(entry: RuleEntry): void {
    const path: IndexNode[] = [];
    let node: IndexNode | undefined = this.root;
    for (let depth = 0; depth < this.levels.length && node; depth++) {
      path.push(node);
      node = this.child(node, depth, entry.values, false);
    }
    if (!node || node.kind !== 'leaf') return;
    const at = node.entries.indexOf(entry);
    if (at >= 0) node.entries.splice(at, 1);
    // Drop the branches the removal emptied, so churn does not grow the tree.
    for (let depth = path.length - 1; depth >= 0 && isEmpty(node); depth--) {
      const parent = path[depth] as IndexNode;
      this.detach(parent, depth, entry.values, node);
      node = parent;
    }
  }

  private child(node: IndexNode, depth: number, values: readonly string[], create: boolean): IndexNode | undefined {
    const level = this.levels[depth] as IndexLevel;
    const value = values[level.field] as string;
    if (node.kind === 'keys') {
      let next = node.children.get(value);
      if (!next && create) node.children.set(value, (next = emptyNode(this.levels, depth + 1)));
      return next;
    }
    if (node.kind !== 'pattern' || level.kind !== 'pattern') return undefined;
    const reach = patternReach(level.fn, value);
    if (reach === undefined) {
      if (!node.any && create) node.any = emptyNode(this.levels, depth + 1);
      return node.any;
    }
    const [map, key] = 'exact' in reach ? [node.exact, reach.exact] : [node.prefixes, reach.prefix];
    let next = map.get(key);
    if (!next && create) {
      map.set(key, (next = emptyNode(this.levels, depth + 1)));
      if (map === node.prefixes) {
        node.prefixList = [...node.prefixList, [key, next] as const];
        if (!node.lengths.includes(key.length)) node.lengths = [...node.lengths, key.length].sort((a, b) => a - b);
      }
    }
    return next;
  }

  private detach(parent: IndexNode, depth: number, values: readonly string[], emptied: IndexNode): void {
    const level = this.levels[depth] as IndexLevel;
    const value = values[level.field] as string;
    if (parent.kind === 'keys') {
      parent.children.delete(value);
      return;
    }
    if (parent.kind !== 'pattern' || level.kind !== 'pattern') return;
    if (parent.any === emptied) {
      parent.any = undefined;
      return;
    }
    const reach = patternReach(level.fn, value);
    if (reach === undefined) return;
    if ('exact' in reach) {
      parent.exact.delete(reach.exact);
      return;
    }
    parent.prefixes.delete(reach.prefix);
    parent.prefixList = parent.prefixList.filter(([prefix]) => prefix !== reach.prefix);
    if (![...parent.prefixes.keys()].some((k) => k.length === reach.prefix.length)) {
      parent.lengths = parent.lengths.filter((length) => length !== reach.prefix.length);
    }
  }

  /**
   * Calls `visit` with every rule the keys allow, each once; stops as soon as `visit` returns true. `keys[d]` is
   * the request's keys for level d. Returns true when stopped.
   */
  find(keys: readonly LevelKeys[], visit: (entry: RuleEntry) => boolean): boolean {
    return this.walk(this.root, 0, keys, visit);
  }

  private walk(node: IndexNode, depth: number, keys: readonly LevelKeys[], visit: (entry: RuleEntry) => boolean): boolean {
    if (node.kind === 'leaf') {
      for (const entry of node.entries) if (visit(entry)) return true;
      return false;
    }
    const wanted = keys[depth] as LevelKeys;
    if (node.kind === 'keys') {
      const groups = wanted as readonly (string | readonly string[])[];
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g] as string | readonly string[];
        if (typeof group === 'string') {
          if (!seenBefore(groups, g, group) && this.follow(node.children.get(group), depth, keys, visit)) return true;
          continue;
        }
        for (const key of group) {
          if (!seenBefore(groups, g, key) && this.follow(node.children.get(key), depth, keys, visit)) return true;
        }
      }
      return false;
    }
    const key = wanted as string;
    if (this.follow(node.exact.get(key), depth, keys, visit)) return true;
    if (node.prefixList.length <= prefixScanLimit) {
      for (const [prefix, child] of node.prefixList) {
        if (key.startsWith(prefix) && this.walk(child, depth + 1, keys, visit)) return true;
      }
    } else {
      for (const length of node.lengths) {
        if (length > key.length) break;
        if (this.follow(node.prefixes.get(key.slice(0, length)), depth, keys, visit)) return true;
      }
    }
    return this.follow(node.any, depth, keys, visit);
  }

  private follow(node: IndexNode | undefined, depth: number, keys: readonly LevelKeys[], visit: (entry: RuleEntry) => boolean): boolean {
    return node !== undefined && this.walk(node, depth + 1, keys, visit);
  }
}

/** Whether `key` was already offered by an earlier group of the same level (so no rule is visited twice). */
function seenBefore(groups: readonly (string | readonly string[])[], before: number, key: string): boolean {
  for (let g = 0; g < before; g++) {
    const group = groups[g] as string | readonly string[];
    if (typeof group === 'string' ? group === key : group.includes(key)) return true;
  }
  return false;
}
