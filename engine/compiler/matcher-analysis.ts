import { walk, type ExpressionNode, type NodeOf } from './expression-tree.js';
import type { RoleGraph } from './role-graph.js';

/** What a value can be, as far as pruning needs to know. */
export type ValueKind = 'boolean' | 'string' | 'number' | 'any';

/** What an expression reads. */
export interface Uses {
  readonly request: boolean;
  readonly policy: boolean;
  /** Reads role links (their state changes with the policy). */
  readonly roles: boolean;
  /** Calls a function registered in code (opaque: never hoisted, never assumed total). */
  readonly custom: boolean;
}

/** Known facts about the names a matcher can use. */
export interface AnalysisScope {
  readonly request: ReadonlyMap<string, number>;
  readonly policy: ReadonlyMap<string, number>;
  /** Request tokens the matcher reads members of: they may hold an object; every other request value is a string. */
  readonly objectFields: ReadonlySet<string>;
  readonly roleGraphs: ReadonlyMap<string, RoleGraph>;
  readonly builtins: ReadonlySet<string>;
}

/**
 * Whether evaluating a node can throw, for a valid request (strings, or plain objects for object fields) and a
 * rule whose patterns were checked on insertion. `guarded` nodes cannot throw when every request check they
 * name holds (ipMatch on a request value that is an IP address).
 */
export interface Safety {
  readonly total: boolean;
  readonly kind: ValueKind;
  /** Request-only expressions that must be IP addresses for the node to be total. */
  readonly ipGuards: readonly ExpressionNode[];
}

const booleanFunctions = new Set(['keyMatch', 'keyMatch2', 'keyMatch3', 'keyMatch4', 'keyMatch5', 'regexMatch', 'ipMatch', 'globMatch']);
const stringFunctions = new Set(['keyGet', 'keyGet2']);
/** Builtins whose second argument is a pattern they compile (checked per rule when it is a policy field). */
export const patternFunctions = new Set(['keyMatch2', 'keyMatch3', 'keyMatch4', 'keyMatch5', 'keyGet2', 'regexMatch', 'globMatch', 'ipMatch']);

const unsafe: Safety = { total: false, kind: 'any', ipGuards: [] };

export function usesOf(node: ExpressionNode, scope: AnalysisScope): Uses {
  let request = false;
  let policy = false;
  let roles = false;
  let custom = false;
  for (const n of walk(node)) {
    if (n.type === 'Identifier') {
      if (scope.request.has(n.name)) request = true;
      else if (scope.policy.has(n.name)) policy = true;
    } else if (n.type === 'CallExpression' && n.callee.type === 'Identifier') {
      if (scope.roleGraphs.has(n.callee.name)) roles = true;
      else if (!scope.builtins.has(n.callee.name)) custom = true;
    }
  }
  return { request, policy, roles, custom };
}

export function isRequestOnly(node: ExpressionNode, scope: AnalysisScope): boolean {
  const uses = usesOf(node, scope);
  return !uses.policy && !uses.roles && !uses.custom;
}

export function isPolicyField(node: ExpressionNode, scope: AnalysisScope): number | undefined {
  return node.type === 'Identifier' ? scope.policy.get(node.name) : undefined;
}

const combine = (kind: ValueKind, ...parts: Safety[]): Safety => ({
  total: parts.every((p) => p.total),
  kind,
  ipGuards: parts.flatMap((p) => p.ipGuards),
});

/** The safety of `node` (see `Safety`). */
export function safetyOf(node: ExpressionNode, scope: AnalysisScope): Safety {
  switch (node.type) {
    case 'Literal':
      return { total: true, kind: typeof node.value === 'boolean' ? 'boolean' : typeof node.value === 'string' ? 'string' : typeof node.value === 'number' ? 'number' : 'any', ipGuards: [] };
    case 'Identifier':
      if (scope.request.has(node.name)) return { total: true, kind: scope.objectFields.has(node.name) ? 'any' : 'string', ipGuards: [] };
      if (scope.policy.has(node.name)) return { total: true, kind: 'string', ipGuards: [] };
      return unsafe;
    case 'MemberExpression':
      // A member of a request value or a rule value (never null or undefined) cannot throw; deeper can.
      if (!node.computed && node.object.type === 'Identifier' && (scope.request.has(node.object.name) || scope.policy.has(node.object.name))) {
        return { total: true, kind: 'any', ipGuards: [] };
      }
      return unsafe;
    case 'UnaryExpression': {
      const argument = safetyOf(node.argument, scope);
      return combine(node.operator === '!' ? 'boolean' : 'number', argument);
    }
    case 'BinaryExpression': {
      const left = safetyOf(node.left, scope);
      const right = safetyOf(node.right, scope);
      switch (node.operator) {
        case '==': case '!=': case '===': case '!==': case '<': case '>': case '<=': case '>=':
          return combine('boolean', left, right);
        case 'in':
          // `x in y` throws unless y is an object: only a literal list is known to be one.
          return node.right.type === 'ArrayExpression' ? combine('boolean', left, right) : unsafe;
        case '+':
          return combine('any', left, right);
        default:
          return combine('number', left, right);
      }
    }
    case 'LogicalExpression': {
      const left = safetyOf(node.left, scope);
      const right = safetyOf(node.right, scope);
      const kind: ValueKind = left.kind === right.kind ? left.kind : 'any';
      return combine(kind, left, right);
    }
    case 'ConditionalExpression': {
      const consequent = safetyOf(node.consequent, scope);
      const alternate = safetyOf(node.alternate, scope);
      return combine(consequent.kind === alternate.kind ? consequent.kind : 'any', safetyOf(node.test, scope), consequent, alternate);
    }
    case 'ArrayExpression':
      return combine('any', ...node.elements.map((e) => (e ? safetyOf(e, scope) : unsafe)));
    case 'CallExpression':
      return callSafety(node, scope);
    default:
      return unsafe;
  }
}

function callSafety(node: NodeOf<'CallExpression'>, scope: AnalysisScope): Safety {
  if (node.callee.type !== 'Identifier') return unsafe;
  const name = node.callee.name;
  const args = node.arguments.map((arg) => safetyOf(arg, scope));
  const graph = scope.roleGraphs.get(name);
  if (graph) {
    // Pattern matching functions build regular expressions from role names: they may throw.
    if (graph.usesPatterns || node.arguments.length < 2) return unsafe;
    // The domain is read with `.toString()`: a literal null would throw.
    const domain = node.arguments[2];
    if (domain?.type === 'Literal' && domain.value === null) return unsafe;
    return combine('boolean', ...args);
  }
  if (!scope.builtins.has(name)) return unsafe;
  const pattern = node.arguments[1];
  // A pattern from the request could be anything; from a rule or a literal it is checked before use.
  if (patternFunctions.has(name) && pattern !== undefined && pattern.type !== 'Literal' && isPolicyField(pattern, scope) === undefined) return unsafe;
  if (name === 'globMatch') {
    // globMatch reads its arguments as they are: both must be strings.
    if (args.length < 2 || args[0]?.kind !== 'string' || args[1]?.kind !== 'string') return unsafe;
    return combine('boolean', ...args);
  }
  if (name === 'ipMatch') {
    const ip = node.arguments[0];
    if (ip === undefined || !isRequestOnly(ip, scope)) return unsafe;
    const own = combine('boolean', ...args);
    return { ...own, ipGuards: [...own.ipGuards, ip] };
  }
  if (booleanFunctions.has(name)) return combine('boolean', ...args);
  if (stringFunctions.has(name)) return combine('string', ...args);
  return unsafe;
}

/** `a && b && c` (however parenthesised) as [a, b, c], in evaluation order. */
export function conjunctsOf(node: ExpressionNode): ExpressionNode[] {
  if (node.type === 'LogicalExpression' && node.operator === '&&') return [...conjunctsOf(node.left), ...conjunctsOf(node.right)];
  return [node];
}

/** `a || b || c` as [a, b, c]. */
export function disjunctsOf(node: ExpressionNode): ExpressionNode[] {
  if (node.type === 'LogicalExpression' && node.operator === '||') return [...disjunctsOf(node.left), ...disjunctsOf(node.right)];
  return [node];
}

/** One way a conjunct names the values a rule's field may hold for a request. */
export type KeyTerm =
  | { readonly kind: 'request'; readonly expression: ExpressionNode; readonly strict: boolean }
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'roles'; readonly ptype: string; readonly member: ExpressionNode; readonly domain: ExpressionNode | undefined };

/** A conjunct that holds exactly when the rule's `field` is one of the keys its terms produce. */
export interface KeySetIndex {
  readonly kind: 'keys';
  readonly field: number;
  readonly terms: readonly KeyTerm[];
}

/** A conjunct `fn(requestKey, rule[field])` of the keyMatch family: rules are found by the pattern's literal start. */
export interface PatternIndex {
  readonly kind: 'pattern';
  readonly field: number;
  readonly fn: string;
  readonly key: ExpressionNode;
  /** keyMatch's prefix is exact: the conjunct need not be evaluated again. */
  readonly exact: boolean;
}

export type ConjunctIndex = KeySetIndex | PatternIndex;

function keyTerm(node: ExpressionNode, scope: AnalysisScope): { field: number; term: KeyTerm } | undefined {
  if (node.type === 'BinaryExpression' && (node.operator === '==' || node.operator === '===')) {
    const strict = node.operator === '===';
    for (const [policySide, other] of [[node.left, node.right], [node.right, node.left]] as const) {
      const field = isPolicyField(policySide, scope);
      if (field === undefined) continue;
      if (other.type === 'Literal') {
        // A rule value is a string: only a string literal compares as a plain key (`5 == "05"` is true).
        return typeof other.value === 'string' ? { field, term: { kind: 'literal', value: other.value } } : undefined;
      }
      const safety = safetyOf(other, scope);
      if (isRequestOnly(other, scope) && safety.total && safety.ipGuards.length === 0) {
        return { field, term: { kind: 'request', expression: other, strict } };
      }
    }
    return undefined;
  }
  if (node.type === 'CallExpression' && node.callee.type === 'Identifier') {
    const graph = scope.roleGraphs.get(node.callee.name);
    if (!graph || graph.usesPatterns || node.arguments.length < 2 || node.arguments.length > 3) return undefined;
    const [member, role, domain] = node.arguments as [ExpressionNode, ExpressionNode, ExpressionNode | undefined];
    const field = isPolicyField(role, scope);
    if (field === undefined || !isRequestOnly(member, scope) || (domain && !isRequestOnly(domain, scope))) return undefined;
    if (!safetyOf(node, scope).total) return undefined;
    return { field, term: { kind: 'roles', ptype: node.callee.name, member, domain } };
  }
  return undefined;
}

/** How `conjunct` narrows the rules, if it can. */
export function indexOf(conjunct: ExpressionNode, scope: AnalysisScope): ConjunctIndex | undefined {
  const terms = disjunctsOf(conjunct).map((d) => keyTerm(d, scope));
  if (terms.every((t) => t !== undefined)) {
    const fields = new Set(terms.map((t) => t.field));
    if (fields.size === 1) return { kind: 'keys', field: terms[0]?.field as number, terms: terms.map((t) => t.term) };
  }
  if (conjunct.type === 'CallExpression' && conjunct.callee.type === 'Identifier' && conjunct.arguments.length === 2) {
    const fn = conjunct.callee.name;
    if (!['keyMatch', 'keyMatch2', 'keyMatch3', 'keyMatch4', 'keyMatch5'].includes(fn) || !scope.builtins.has(fn)) return undefined;
    const [key, pattern] = conjunct.arguments as [ExpressionNode, ExpressionNode];
    const field = isPolicyField(pattern, scope);
    if (field === undefined || !isRequestOnly(key, scope) || !safetyOf(key, scope).total) return undefined;
    return { kind: 'pattern', field, fn, key, exact: fn === 'keyMatch' };
  }
  return undefined;
}
