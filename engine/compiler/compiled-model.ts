import { casbin } from '../casbin-runtime.js';
import { assertUsablePattern, builtinFunctions, matchingFunctionNames, type BuiltinFunction, type MatchingFunctionName } from './builtin-functions.js';
import { MatcherCompileError, type CompileScope } from './compile-expression.js';
import { CompiledEvaluator } from './compiled-evaluator.js';
import { parseExpression } from './expression-parser.js';
import { walk, type ExpressionNode } from './expression-tree.js';
import type { AnalysisScope } from './matcher-analysis.js';
import { planMatcher, type MatcherPlan } from './matcher-plan.js';
import { effectKindOf, type EffectKind } from './policy-effect.js';
import { RoleGraph, type NameMatcher } from './role-graph.js';

/** A function a deployment registers for its matchers (casbin's `addFunction`); called with the matcher's values. */
export type MatcherFunction = (...args: unknown[]) => unknown;

/**
 * What a model is compiled with beyond its text: casbin's `addFunction`, `addNamedMatchingFunc` and
 * `addNamedDomainMatchingFunc`, the last two naming a builtin (`keyMatch2`, ...) by role type.
 */
export interface CompileOptions {
  readonly functions?: Readonly<Record<string, MatcherFunction>>;
  readonly roleMatching?: Readonly<Record<string, MatchingFunctionName>>;
  readonly domainMatching?: Readonly<Record<string, MatchingFunctionName>>;
}

/** A model compiled once; each evaluator it creates holds its own rules and role links. */
export interface CompiledModel {
  /** Request fields in order, without `r.` (`sub`, `obj`, `act`). */
  readonly requestFields: readonly string[];
  /** Request fields whose members the matcher reads: they may hold an object; the others take strings. */
  readonly objectFields: ReadonlySet<string>;
  /** Policy line types and their fields (`p` → `sub, obj, act`). */
  readonly policyTypes: ReadonlyMap<string, readonly string[]>;
  /** Role line types and their arity (`g` → 3). */
  readonly roleTypes: ReadonlyMap<string, number>;
  readonly effect: EffectKind;
  /** The `p` fields read as patterns, with the function that reads each. */
  readonly patternFields: readonly { readonly field: number; readonly fn: string }[];
  /** How decisions are made, in words (indexes, partitions, residual conditions). */
  readonly plan: string;
  /** Whether the `p` rules are kept apart by tenant (a top-level `r.dom == p.dom`). */
  readonly partitioned: boolean;
  /** No index and no partition narrows the rules: every decision evaluates every rule (compiled). */
  readonly scans: boolean;
  createEvaluator(): CompiledEvaluator;
}

interface CasbinAssertion {
  readonly value: string;
  readonly tokens: readonly string[];
}

/** Where a model fails to compile: `section` names the model part so the caller can point at its line. */
export class ModelCompileError extends Error {
  constructor(
    readonly section: 'r' | 'p' | 'g' | 'e' | 'm',
    message: string,
  ) {
    super(message);
    this.name = 'ModelCompileError';
  }
}

const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

function assertions(model: { model: Map<string, Map<string, unknown>> }, section: string): Map<string, CasbinAssertion> {
  return (model.model.get(section) ?? new Map()) as Map<string, CasbinAssertion>;
}

/**
 * Compiles a model's text as node-casbin reads it (its own model parser gives the sections, with `r.x` already
 * rewritten to `r_x`), so every definition means what it means to casbin. Throws `ModelCompileError` for what
 * casbin would refuse or could not evaluate, and for what this engine refuses on purpose (`eval`, method
 * calls, role definitions with two domains).
 */
export function compileModel(text: string, options: CompileOptions = {}): CompiledModel {
  let parsed;
  try {
    parsed = casbin.newModelFromString(text) as unknown as { model: Map<string, Map<string, unknown>> };
  } catch (error) {
    throw new ModelCompileError('m', `casbin refused the model: ${(error as Error).message}`);
  }
  const r = assertions(parsed, 'r').get('r');
  const p = assertions(parsed, 'p').get('p');
  const e = assertions(parsed, 'e').get('e');
  const m = assertions(parsed, 'm').get('m');
  if (!r) throw new ModelCompileError('r', 'missing "r" in [request_definition]');
  if (!p) throw new ModelCompileError('p', 'missing "p" in [policy_definition]');
  if (!e) throw new ModelCompileError('e', 'missing "e" in [policy_effect]');
  if (!m) throw new ModelCompileError('m', 'missing "m" in [matchers]');

  const effect = effectKindOf(e.value);
  if (!effect) {
    throw new ModelCompileError(
      'e',
      `unsupported effect "${e.value.replace(/p_eft/g, 'p.eft')}": node-casbin supports some(where (p.eft == allow)), !some(where (p.eft == deny)), ` +
        'some(where (p.eft == allow)) && !some(where (p.eft == deny)), priority(p.eft) || deny and subjectPriority(p.eft) || deny, written exactly so',
    );
  }

  const policyTypes = new Map<string, readonly string[]>();
  for (const [ptype, assertion] of assertions(parsed, 'p')) policyTypes.set(ptype, assertion.tokens.map((t) => t.slice(ptype.length + 1)));
  const roleTypes = new Map<string, number>();
  for (const [ptype, assertion] of assertions(parsed, 'g')) {
    const arity = (assertion.value.match(/_/g) ?? []).length;
    if (!/^_(\s*,\s*_)*$/.test(assertion.value.trim())) {
      throw new ModelCompileError('g', `${ptype} = ${assertion.value}: a role definition is "_, _" or "_, _, _" (node-casbin has no conditional roles)`);
    }
    if (arity < 2 || arity > 3) {
      throw new ModelCompileError('g', `${ptype} has ${arity} fields: node-casbin's role manager takes a member, a role and at most one domain (it throws on links with more)`);
    }
    roleTypes.set(ptype, arity);
  }
  if (effect === 'subject-priority' && !roleTypes.has('g')) {
    throw new ModelCompileError('e', 'subjectPriority(p.eft) orders rules by the "g" role hierarchy: the model needs a role definition g');
  }

  const functions = new Map<string, BuiltinFunction>(builtinFunctions);
  for (const [name, fn] of Object.entries(options.functions ?? {})) {
    if (!identifierPattern.test(name) || name === 'eval' || builtinFunctions.has(name) || roleTypes.has(name)) {
      throw new ModelCompileError('m', `cannot register a function named "${name}" (it must be a new name, not a builtin or a role type)`);
    }
    if (typeof fn !== 'function') throw new ModelCompileError('m', `the registered function "${name}" is not a function`);
    functions.set(name, fn);
  }
  const matcherFor = (kind: string, ptype: string, name: string | undefined): NameMatcher | undefined => {
    if (name === undefined) return undefined;
    if (!roleTypes.has(ptype)) throw new ModelCompileError('g', `${kind} matching for "${ptype}", which the model does not define`);
    const fn = (matchingFunctionNames as readonly string[]).includes(name) ? builtinFunctions.get(name) : undefined;
    if (!fn) throw new ModelCompileError('g', `${kind} matching function "${name}" is not one of ${matchingFunctionNames.join(', ')}`);
    return (a, b) => fn(a, b) as boolean;
  };
  for (const ptype of Object.keys(options.roleMatching ?? {})) matcherFor('role', ptype, options.roleMatching?.[ptype]);
  for (const ptype of Object.keys(options.domainMatching ?? {})) matcherFor('domain', ptype, options.domainMatching?.[ptype]);

  const matcherText = m.value;
  let tree: ExpressionNode;
  try {
    tree = parseExpression(casbin.Util.bracketCompatible(matcherText));
  } catch (error) {
    throw new ModelCompileError('m', `the matcher does not parse: ${(error as Error).message}`);
  }

  const requestIndex = new Map(r.tokens.map((token, i) => [token, i]));
  const policyIndex = new Map(p.tokens.map((token, i) => [token, i]));
  const objectTokens = new Set<string>();
  for (const node of walk(tree)) {
    if (node.type === 'MemberExpression' && node.object.type === 'Identifier' && requestIndex.has(node.object.name)) objectTokens.add(node.object.name);
  }
  const requestFields = r.tokens.map((t) => t.slice(2));
  const policyFields = policyTypes.get('p') as readonly string[];
  const tenantField =
    requestFields.includes('dom') && policyFields.includes('dom')
      ? { request: requestFields.indexOf('dom'), policy: policyFields.indexOf('dom') }
      : undefined;

  const build = (): { plan: MatcherPlan; graphs: Map<string, RoleGraph> } => {
    const graphs = new Map<string, RoleGraph>();
    for (const ptype of roleTypes.keys()) {
      graphs.set(ptype, new RoleGraph(ptype, matcherFor('role', ptype, options.roleMatching?.[ptype]), matcherFor('domain', ptype, options.domainMatching?.[ptype])));
    }
    const scope: CompileScope = { request: requestIndex, policy: policyIndex, roleGraphs: graphs, functions };
    const analysis: AnalysisScope = {
      request: requestIndex,
      policy: policyIndex,
      objectFields: objectTokens,
      roleGraphs: graphs,
      builtins: new Set(builtinFunctions.keys()),
    };
    try {
      return { plan: planMatcher(tree, matcherText, scope, analysis, tenantField), graphs };
    } catch (error) {
      if (error instanceof MatcherCompileError) throw new ModelCompileError('m', error.message);
      throw error;
    }
  };

  const first = build();
  // A literal pattern fails the same way for every request: refuse the model now rather than every decision.
  for (const node of walk(tree)) {
    if (node.type !== 'CallExpression' || node.callee.type !== 'Identifier') continue;
    const pattern = node.arguments[1];
    if (pattern?.type !== 'Literal' || typeof pattern.value !== 'string') continue;
    try {
      assertUsablePattern(node.callee.name, pattern.value);
    } catch (error) {
      throw new ModelCompileError('m', `${node.callee.name}(..., "${pattern.value}"): ${(error as Error).message}`);
    }
  }

  const evaluatorSpec = {
    effect,
    policyArity: policyFields.length,
    eftIndex: policyFields.indexOf('eft'),
    priorityIndex: policyFields.indexOf('priority'),
    policyFields,
    roleTypes,
  };
  let firstUsed = false;
  return Object.freeze({
    requestFields,
    objectFields: new Set([...objectTokens].map((t) => t.slice(2))),
    policyTypes,
    roleTypes,
    effect,
    patternFields: first.plan.patternFields,
    plan: first.plan.summary,
    partitioned: first.plan.partition !== undefined,
    scans: first.plan.partition === undefined && first.plan.levels.length === 0 && first.plan.readsPolicy,
    createEvaluator(): CompiledEvaluator {
      const { plan, graphs } = firstUsed ? build() : first;
      firstUsed = true;
      return new CompiledEvaluator({ ...evaluatorSpec, plan, graphs });
    },
  });
}
