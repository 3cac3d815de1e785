import { assertUsablePattern } from './compiler/builtin-functions.js';
import { compileModel, ModelCompileError, type CompiledModel, type CompileOptions } from './compiler/compiled-model.js';
import { parseExpression } from './compiler/expression-parser.js';
import { walk } from './compiler/expression-tree.js';
import type { EffectKind } from './compiler/policy-effect.js';
import { EngineError } from './errors.js';
import { isPlainName, isResourcePattern } from './policy-names.js';
import type { PolicyRule } from './policy-rule.js';
import { assertStorableRule } from './storable-rule.js';

/** The fields of the convenience request `{ sub, dom, obj, act }` (`decideSync`). */
export const requestFieldNames = ['sub', 'dom', 'obj', 'act'] as const;
export type RequestFieldName = (typeof requestFieldNames)[number];

/** The single tenant partition of a model that has no `dom` field. */
export const singlePartitionTenant = '_';

/** Whether the engine can list a subject's permissions under a model, and if not, why. */
export type PermissionEnumeration = { readonly supported: true } | { readonly supported: false; readonly reason: string };

/**
 * A parsed, validated, compiled Casbin model. Every model is decided by the compiled evaluator with plain
 * node-casbin's exact answers; `fastPath` is true for exactly the shipped tenant-RBAC model
 * (`policies/model.conf`), whose decisions come from a dedicated per-tenant index.
 */
export interface ModelDefinition {
  readonly text: string;
  readonly fastPath: boolean;
  /** The request fields, in the model's order (`r = sub, obj, act` → `['sub', 'obj', 'act']`). */
  readonly requestFields: readonly string[];
  /** Request fields the matcher reads attributes of (`r.obj.Owner`): they take an attribute object or a string. */
  readonly objectFields: ReadonlySet<string>;
  /** Policy line types and their fields: `p` → `['sub', 'obj', 'act']`, `p2` → ... */
  readonly policyShapes: ReadonlyMap<string, readonly string[]>;
  /** Role line types and their field count: `g` → 3 (member, role, domain), `g2` → 2. */
  readonly roleShapes: ReadonlyMap<string, number>;
  readonly effect: EffectKind;
  /** How decisions are computed (indexes, tenant partitions, conditions checked per candidate), in words. */
  readonly plan: string;
  readonly permissionEnumeration: PermissionEnumeration;
  readonly compiled: CompiledModel;
  /** Whether the model has a line of type `ptype` with `fields` values (`hasLineShape('g2', 2)`). */
  hasLineShape(ptype: string, fields: number): boolean;
  /** The tenant a stored rule belongs to. */
  tenantOf(rule: PolicyRule): string | undefined;
  /** Throws `INVALID_RULE` for a rule this model cannot hold safely. */
  assertRule(rule: PolicyRule): void;
}

interface Line {
  readonly number: number;
  readonly key: string;
  readonly value: string;
}

const knownSections = new Map<string, string>([
  ['request_definition', 'r'],
  ['policy_definition', 'p'],
  ['role_definition', 'g'],
  ['policy_effect', 'e'],
  ['matchers', 'm'],
]);
const requiredSections = ['request_definition', 'policy_definition', 'policy_effect', 'matchers'];

const shipped = {
  r: 'sub,dom,obj,act',
  p: 'sub,dom,obj,act,eft',
  g: '_,_,_',
  e: 'some(where(p.eft==allow))&&!some(where(p.eft==deny))',
  m: 'r.dom==p.dom&&(p.sub=="*"||g(r.sub,p.sub,r.dom))&&keyMatch(r.obj,p.obj)&&(p.act=="*"||r.act==p.act)',
};

function modelError(line: number | undefined, why: string): EngineError {
  return new EngineError('INVALID_MODEL', line === undefined ? why : `line ${line}: ${why}`, {
    field: line === undefined ? 'model' : `line ${line}`,
  });
}

/**
 * The model's sections as node-casbin's config reader sees them (text after `#` or `;` is a comment, a line
 * ending in `\` continues on the next), with the line each definition starts on.
 */
function scan(text: string): Map<string, Line[]> {
  const sections = new Map<string, Line[]>();
  let current: string | undefined;
  let pending = '';
  let pendingLine = 0;
  const write = (number: number, line: string): void => {
    if (current === undefined) throw modelError(number, 'a definition must follow a [section] header');
    const eq = line.indexOf('=');
    if (eq <= 0) throw modelError(number, `expected "key = value", got "${line.slice(0, 80)}"`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const prefix = knownSections.get(current) ?? '';
    if (!new RegExp(`^${prefix}[0-9]*$`).test(key)) {
      throw modelError(number, `key "${key}" does not belong in [${current}] (expected ${prefix}, ${prefix}2, ...)`);
    }
    if (value === '') throw modelError(number, `"${key}" has no value`);
    sections.get(current)?.push({ number, key, value });
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const number = index + 1;
    let content = raw;
    for (const comment of ['#', ';']) {
      const at = content.indexOf(comment);
      if (at > -1) content = content.slice(0, at);
    }
    const line = content.trim();
    if (line === '') return;
    if (line.startsWith('[') && line.endsWith(']')) {
      if (pending !== '') write(pendingLine, pending);
      pending = '';
      const name = line.slice(1, -1);
      if (!knownSections.has(name)) {
        throw modelError(number, `unknown section [${name}]: node-casbin would ignore it silently (the sections are ${[...knownSections.keys()].join(', ')})`);
      }
      if (sections.has(name)) throw modelError(number, `section [${name}] appears twice`);
      current = name;
      sections.set(name, []);
      return;
    }
    if (pending === '') pendingLine = number;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trim();
      return;
    }
    write(pendingLine, pending + line);
    pending = '';
  });
  if (pending !== '') write(pendingLine, pending);
  for (const name of requiredSections) {
    if (!sections.has(name) || sections.get(name)?.length === 0) throw modelError(undefined, `missing section [${name}]`);
  }
  return sections;
}

function tokens(line: Line): string[] {
  const list = line.value.split(',').map((t) => t.trim());
  for (const token of list) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) throw modelError(line.number, `"${token}" is not a field name`);
  }
  if (new Set(list).size !== list.length) throw modelError(line.number, 'a field name appears twice');
  return list;
}

function compact(value: string): string {
  return value.replace(/\s+/g, '');
}

const sectionOfKey: Record<string, string> = { r: 'request_definition', p: 'policy_definition', g: 'role_definition', e: 'policy_effect', m: 'matchers' };

const enumerableRequestFields = new Set(['sub', 'dom', 'obj', 'act']);

/**
 * A subject's permissions can be listed when a request is nothing but `sub`, `obj`, `act` (and `dom`), read as
 * strings, and the `p` lines name what to try (`obj` and `act` fields): each pair a line writes is then decided
 * for the subject. A request object (`r.attrs.amount`) or any other field makes the answer depend on values no
 * line holds.
 */
function enumerationOf(fastPath: boolean, compiled: CompiledModel, requestFields: readonly string[]): PermissionEnumeration {
  if (fastPath) return { supported: true };
  const cannot = (why: string): PermissionEnumeration => ({ supported: false, reason: `${why}; ask for each decision instead` });
  if (compiled.objectFields.size > 0) {
    return cannot(`the matcher reads attributes of the request (${[...compiled.objectFields].map((f) => `r.${f}`).join(', ')}), so what is allowed depends on each request's attributes`);
  }
  const other = requestFields.find((field) => !enumerableRequestFields.has(field));
  if (other !== undefined) return cannot(`the request field "${other}" is none of sub, dom, obj, act`);
  for (const needed of ['sub', 'obj', 'act']) {
    if (!requestFields.includes(needed)) return cannot(`the request has no "${needed}" field`);
  }
  const policyFields = compiled.policyTypes.get('p') ?? [];
  for (const needed of ['obj', 'act']) {
    if (!policyFields.includes(needed)) return cannot(`the policy lines have no "${needed}" field to list`);
  }
  return { supported: true };
}

/**
 * Parses, validates and compiles model text; every error names the offending line (INVALID_MODEL). `options`
 * registers what casbin's API adds in code: matcher functions, and role-name or domain matching functions per
 * role type.
 *
 * @example
 * const model = parseModel(modelText); // the text of policies/model.conf
 * model.fastPath;                 // true
 * model.requestFields;            // ['sub', 'dom', 'obj', 'act']
 * model.policyShapes.get('p');    // ['sub', 'dom', 'obj', 'act', 'eft']
 * model.roleShapes.get('g');      // 3 (member, role, tenant)
 */
export function parseModel(text: string, options: CompileOptions = {}): ModelDefinition {
  const sections = scan(text);
  const lineOf = (section: string, key: string): Line | undefined =>
    sections.get(section)?.find((l) => l.key === key);

  const rLine = lineOf('request_definition', 'r');
  const pLine = lineOf('policy_definition', 'p');
  const mLine = lineOf('matchers', 'm');
  const eLine = lineOf('policy_effect', 'e');
  if (!rLine) throw modelError(undefined, 'missing "r" in [request_definition]');
  if (!pLine) throw modelError(undefined, 'missing "p" in [policy_definition]');
  if (!mLine) throw modelError(undefined, 'missing "m" in [matchers]');
  if (!eLine) throw modelError(undefined, 'missing "e" in [policy_effect]');

  const requestTokens = tokens(rLine);
  for (const line of sections.get('policy_definition') ?? []) tokens(line);
  const groupLines = sections.get('role_definition') ?? [];

  // eval() runs a rule's text as code, in any matcher (m2, ... included): refused before anything else.
  for (const line of sections.get('matchers') ?? []) {
    let calls;
    try {
      calls = [...walk(parseExpression(line.value))].some((n) => n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'eval');
    } catch {
      calls = /\beval\s*\(/.test(line.value);
    }
    if (calls) throw modelError(line.number, 'eval() in a matcher is not allowed: it would run text from tenant-writable policy');
  }

  let compiled: CompiledModel;
  try {
    compiled = compileModel(text, options);
  } catch (error) {
    if (!(error instanceof ModelCompileError)) throw error;
    const line = error.section === 'g' ? groupLines[0] : lineOf(sectionOfKey[error.section] as string, error.section);
    throw modelError(line?.number, error.message);
  }

  const fastPath =
    compact(rLine.value) === shipped.r &&
    compact(pLine.value) === shipped.p &&
    groupLines.length === 1 &&
    groupLines[0]?.key === 'g' &&
    compact(groupLines[0].value) === shipped.g &&
    compact(eLine.value) === shipped.e &&
    compact(mLine.value) === shipped.m &&
    (sections.get('matchers')?.length ?? 0) === 1 &&
    (sections.get('policy_definition')?.length ?? 0) === 1 &&
    Object.keys(options.functions ?? {}).length === 0 &&
    Object.keys(options.roleMatching ?? {}).length === 0 &&
    Object.keys(options.domainMatching ?? {}).length === 0;

  const policyFields = compiled.policyTypes.get('p') as readonly string[];
  const policyDomIndex = policyFields.indexOf('dom');
  const priorityIndex = policyFields.indexOf('priority');
  const groupArity = compiled.roleTypes;
  const policyArity = new Map([...compiled.policyTypes].map(([ptype, fields]) => [ptype, fields.length]));

  const tenantOf = (rule: PolicyRule): string | undefined => {
    if (rule.ptype.startsWith('g')) {
      if ((groupArity.get(rule.ptype) ?? 0) < 3) return singlePartitionTenant;
      return rule.values[2];
    }
    if (policyDomIndex < 0) return singlePartitionTenant;
    return rule.values[policyDomIndex];
  };

  const assertRule = (rule: PolicyRule): void => {
    const invalid = (why: string): never => {
      throw new EngineError('INVALID_RULE', `${rule.ptype} rule: ${why}`, { field: rule.ptype });
    };
    const arity = rule.ptype.startsWith('g') ? groupArity.get(rule.ptype) : policyArity.get(rule.ptype);
    if (arity === undefined) invalid(`the model has no "${rule.ptype}"`);
    if (rule.values.length !== arity) invalid(`expected ${arity} fields, got ${rule.values.length}`);
    assertStorableRule(rule, rule.ptype);
    if (fastPath) {
      const [sub = '', dom = '', third = '', act = '', eft = ''] = rule.values;
      if (rule.ptype === 'g') {
        if (!isPlainName(sub) || !isPlainName(dom)) invalid('member and role must be plain names (letters, digits, _ . : @ -)');
        if (!isPlainName(third)) invalid('tenant must be a plain name');
        return;
      }
      if (sub !== '*' && !isPlainName(sub)) invalid('subject must be a plain name or *');
      if (!isPlainName(dom)) invalid('tenant must be a plain name');
      if (!isResourcePattern(third)) invalid('resource must be a path, optionally ending in * (or * alone)');
      if (act !== '*' && !isPlainName(act)) invalid('action must be a plain name or *');
      if (eft !== 'allow' && eft !== 'deny') invalid('effect must be allow or deny');
      return;
    }
    if (rule.ptype !== 'p') return;
    if (priorityIndex >= 0 && !/^-?[0-9]{1,9}$/.test(rule.values[priorityIndex] as string)) invalid(`${fieldLabel('priority', priorityIndex)} must be an integer`);
    for (const { field, fn } of compiled.patternFields) {
      const value = rule.values[field] as string;
      if (fn !== 'ipMatch' && fn !== 'regexMatch' && value.split('/').some((segment) => segment === '.' || segment === '..')) {
        invalid(`${fieldLabel(policyFields[field] as string, field)} may not hold a "." or ".." path segment`);
      }
      try {
        assertUsablePattern(fn, value);
      } catch (error) {
        invalid(`${fieldLabel(policyFields[field] as string, field)} "${value}" is not a usable ${fn} pattern: ${(error as Error).message}`);
      }
    }
  };

  return Object.freeze({
    text,
    fastPath,
    requestFields: requestTokens,
    objectFields: compiled.objectFields,
    policyShapes: compiled.policyTypes,
    roleShapes: compiled.roleTypes,
    effect: compiled.effect,
    plan: fastPath ? 'the shipped tenant-RBAC model: per-tenant subject and resource index' : compiled.plan,
    permissionEnumeration: enumerationOf(fastPath, compiled, requestTokens),
    compiled,
    hasLineShape: (ptype: string, fields: number) =>
      (ptype.startsWith('g') ? groupArity.get(ptype) : policyArity.get(ptype)) === fields,
    tenantOf,
    assertRule,
  });
}

function fieldLabel(name: string, index: number): string {
  return `field ${index} (${name})`;
}
