import { isIpAddress, nameOf, requestKey } from './builtin-functions.js';
import { compileExpression, type CompileScope, type Evaluate, type LinkTrace } from './compile-expression.js';
import { walk, type ExpressionNode } from './expression-tree.js';
import { conjunctsOf, indexOf, isPolicyField, patternFunctions, safetyOf, usesOf, type AnalysisScope, type KeyTerm } from './matcher-analysis.js';
import type { IndexLevel, LevelKeys } from './rule-index.js';

/** A pattern argument read from a rule field: checked when the rule is added (a bad one is never pruned). */
export interface PatternField {
  readonly field: number;
  readonly fn: string;
}

/**
 * How one matcher is evaluated over a partition's rules. Pruning is sound only where skipping a rule cannot
 * change casbin's answer, so it uses the leading conjuncts that cannot throw and whose false values mean
 * "no effect" (the safe prefix); everything else stays in the residual, evaluated in casbin's order.
 */
export interface MatcherPlan {
  /** The whole matcher. */
  readonly full: Evaluate;
  /** The whole matcher, reporting the role links that held into `trace`. */
  readonly traced: Evaluate;
  readonly trace: LinkTrace;
  /** casbin's `matcher.includes('p_')`: without it casbin evaluates the matcher once, on empty rule values. */
  readonly readsPolicy: boolean;
  /** Request checks that make the prefix safe (ipMatch addresses); any failing → evaluate every rule in order. */
  readonly guards: readonly ((request: readonly unknown[]) => boolean)[];
  /** Prefix conjuncts of the request alone: one false means no rule can match. */
  readonly requestChecks: readonly Evaluate[];
  /** Prefix conjuncts of the rule alone: decided when the rule is added (false → it never matches). */
  readonly ruleChecks: readonly Evaluate[];
  /** Request and rule fields of a prefix `r.dom == p.dom`: rules are kept apart by that field. */
  readonly partition: { readonly request: number; readonly policy: number } | undefined;
  readonly levels: readonly IndexLevel[];
  /** Per level, the request's keys; undefined when this request cannot use the index (evaluate in full). */
  readonly levelKeys: readonly ((request: readonly unknown[]) => LevelKeys | undefined)[];
  /** What a candidate found through the index must still pass, with the value casbin's matcher would give. */
  readonly residual: Evaluate;
  /** The residual cannot throw: candidates may be visited in any order when the effect allows it. */
  readonly residualTotal: boolean;
  readonly patternFields: readonly PatternField[];
  /** Human-readable account of the plan (for `policy check` and tests). */
  readonly summary: string;
}

const noRule: readonly unknown[] = [];

function andChain(parts: readonly Evaluate[]): Evaluate {
  if (parts.length === 1) return parts[0] as Evaluate;
  return (request, rule) => {
    let value: unknown = true;
    for (const part of parts) {
      value = part(request, rule);
      if (!value) return value;
    }
    return value;
  };
}

function requestOnly(evaluate: Evaluate): (request: readonly unknown[]) => unknown {
  return (request) => evaluate(request, noRule);
}

function termKeys(term: KeyTerm, scope: CompileScope): (request: readonly unknown[]) => string | readonly string[] | undefined {
  switch (term.kind) {
    case 'literal': {
      const value = term.value;
      return () => value;
    }
    case 'request': {
      const value = requestOnly(compileExpression(term.expression, scope));
      const strict = term.strict;
      const none: readonly string[] = [];
      return (request) => {
        const key = value(request);
        if (typeof key === 'string') return key;
        // A rule value is a string: `===` never equals anything else; `==` might (`5 == "5"`), so do not narrow.
        return strict ? none : undefined;
      };
    }
    case 'roles': {
      const graph = scope.roleGraphs.get(term.ptype);
      if (!graph) throw new Error(`no role graph ${term.ptype}`);
      const member = requestOnly(compileExpression(term.member, scope));
      if (!term.domain) return (request) => graph.reach(nameOf(member(request)));
      const domain = requestOnly(compileExpression(term.domain, scope));
      return (request) => graph.reach(nameOf(member(request)), (domain(request) as { toString(): string }).toString());
    }
  }
}

/** Builds the plan of `matcher` (casbin's escaped text parsed to `tree`). */
export function planMatcher(tree: ExpressionNode, matcherText: string, scope: CompileScope, analysis: AnalysisScope, tenantField: { request: number; policy: number } | undefined): MatcherPlan {
  const trace: LinkTrace = { current: undefined };
  const full = compileExpression(tree, scope);
  const traced = compileExpression(tree, { ...scope, trace });
  const conjuncts = conjunctsOf(tree);
  const notes: string[] = [];

  const prefix: ExpressionNode[] = [];
  const guards: ((request: readonly unknown[]) => boolean)[] = [];
  for (const conjunct of conjuncts) {
    const safety = safetyOf(conjunct, analysis);
    if (!safety.total || (safety.kind !== 'boolean' && safety.kind !== 'string')) break;
    prefix.push(conjunct);
    for (const ip of safety.ipGuards) {
      const value = requestOnly(compileExpression(ip, scope));
      guards.push((request) => isIpAddress(nameOf(value(request))));
    }
  }

  const dropped = new Set<ExpressionNode>();
  const requestChecks: Evaluate[] = [];
  const ruleChecks: Evaluate[] = [];
  const levels: IndexLevel[] = [];
  const levelKeys: ((request: readonly unknown[]) => LevelKeys | undefined)[] = [];
  const usedFields = new Set<number>();
  let partition: MatcherPlan['partition'];

  for (const conjunct of prefix) {
    const uses = usesOf(conjunct, analysis);
    if (!uses.policy && !uses.roles && !uses.custom) {
      requestChecks.push(compileExpression(conjunct, scope));
      dropped.add(conjunct);
      continue;
    }
    if (!uses.request && !uses.roles && !uses.custom) {
      ruleChecks.push(compileExpression(conjunct, scope));
      dropped.add(conjunct);
      continue;
    }
    const index = indexOf(conjunct, analysis);
    if (!index || usedFields.has(index.field)) continue;
    if (
      !partition && tenantField && index.kind === 'keys' && index.field === tenantField.policy && index.terms.length === 1 &&
      index.terms[0]?.kind === 'request' && index.terms[0].expression.type === 'Identifier' &&
      analysis.request.get(index.terms[0].expression.name) === tenantField.request && !analysis.objectFields.has(index.terms[0].expression.name)
    ) {
      partition = tenantField;
      usedFields.add(index.field);
      dropped.add(conjunct);
      notes.push('rules kept apart by tenant');
      continue;
    }
    usedFields.add(index.field);
    if (index.kind === 'keys') {
      const sources = index.terms.map((term) => termKeys(term, scope));
      levels.push({ kind: 'keys', field: index.field });
      // Reused by every decision: the index walk reads it before the next decision could refill it.
      const groups: (string | readonly string[])[] = [];
      levelKeys.push((request) => {
        groups.length = 0;
        for (const source of sources) {
          const keys = source(request);
          if (keys === undefined) return undefined;
          groups.push(keys);
        }
        return groups;
      });
      dropped.add(conjunct);
      notes.push(`hash index on ${fieldName(analysis, index.field)}`);
    } else {
      const key = requestOnly(compileExpression(index.key, scope));
      const fn = index.fn;
      levels.push({ kind: 'pattern', field: index.field, fn });
      levelKeys.push((request) => requestKey(fn, nameOf(key(request))));
      if (index.exact) dropped.add(conjunct);
      notes.push(`prefix index on ${fieldName(analysis, index.field)} (${fn})`);
    }
  }

  const kept = conjuncts.filter((c) => !dropped.has(c));
  const lastDropped = dropped.has(conjuncts[conjuncts.length - 1] as ExpressionNode);
  let residual: Evaluate;
  if (kept.length === 0) residual = () => true;
  else {
    const chain = andChain(kept.map((c) => compileExpression(c, scope)));
    // A dropped last conjunct was truthy for every candidate: casbin's value then is `true` or a non-empty
    // string, both an Allow, never the residual's own (possibly numeric) value.
    residual = lastDropped ? (request, rule) => chain(request, rule) && true : chain;
  }
  const residualTotal = kept.every((c) => safetyOf(c, analysis).total);

  const patternFields: PatternField[] = [];
  for (const node of walk(tree)) {
    if (node.type !== 'CallExpression' || node.callee.type !== 'Identifier' || !patternFunctions.has(node.callee.name)) continue;
    const pattern = node.arguments[1];
    const field = pattern === undefined ? undefined : isPolicyField(pattern, analysis);
    if (field !== undefined && !patternFields.some((p) => p.field === field && p.fn === (node.callee as { name: string }).name)) {
      patternFields.push({ field, fn: node.callee.name });
    }
  }

  if (levels.length === 0 && !partition) notes.push('no index: every rule of the policy is evaluated (compiled)');
  if (kept.length > 0) notes.push(`${kept.length} condition(s) checked on each candidate`);
  return {
    full,
    traced,
    trace,
    readsPolicy: matcherText.includes('p_'),
    guards,
    requestChecks,
    ruleChecks,
    partition,
    levels,
    levelKeys,
    residual,
    residualTotal,
    patternFields,
    summary: notes.join('; '),
  };
}

function fieldName(analysis: AnalysisScope, field: number): string {
  for (const [name, index] of analysis.policy) if (index === field) return name.replace(/^p_/, 'p.');
  return `p[${field}]`;
}
