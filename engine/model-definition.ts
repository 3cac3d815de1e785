import { casbin } from './casbin-runtime.js';
import { EngineError } from './errors.js';
import { isPlainName, isResourcePattern } from './policy-names.js';
import type { PolicyRule } from './policy-rule.js';
import { assertStorableRule } from './storable-rule.js';

/** The request fields the engine can pass to a model, by name. */
export const requestFieldNames = ['sub', 'dom', 'obj', 'act'] as const;
export type RequestFieldName = (typeof requestFieldNames)[number];

/** The single tenant partition of a model that has no `dom` field. */
export const singlePartitionTenant = '_';

/**
 * A parsed, validated Casbin model. `fastPath` is true when the model is exactly the shipped tenant-RBAC
 * model (`policies/model.conf`), whose decisions the engine computes from indexes; any other model is
 * evaluated by plain node-casbin.
 *
 * @example
 * const model = parseModel(await readFile('policies/model.conf', 'utf8'));
 * model.fastPath; // true
 */
export interface ModelDefinition {
  readonly text: string;
  readonly fastPath: boolean;
  /** The request fields, in the model's order. */
  readonly requestFields: readonly RequestFieldName[];
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

function scan(text: string): Map<string, Line[]> {
  const sections = new Map<string, Line[]>();
  let current: string | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      if (!knownSections.has(name)) throw modelError(number, `unknown section [${name}]`);
      if (sections.has(name)) throw modelError(number, `section [${name}] appears twice`);
      current = name;
      sections.set(name, []);
      return;
    }
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
  });
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

/** Parses and validates model text; every error names the offending line. */
export function parseModel(text: string): ModelDefinition {
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
  for (const token of requestTokens) {
    if (!(requestFieldNames as readonly string[]).includes(token)) {
      throw modelError(rLine.number, `request field "${token}" is not one of ${requestFieldNames.join(', ')}`);
    }
  }
  const policyTokens = tokens(pLine);
  const groupLines = sections.get('role_definition') ?? [];
  for (const g of groupLines) {
    const parts = g.value.split(',').map((t) => t.trim());
    if (parts.length < 2 || parts.some((t) => t !== '_')) {
      throw modelError(g.number, 'a role definition is "_, _" or "_, _, _"');
    }
  }

  // Every r.x / p.x the matcher names must be defined: casbin would otherwise compare with undefined.
  for (const m of sections.get('matchers') ?? []) {
    for (const ref of m.value.matchAll(/\b([rp])\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const list = ref[1] === 'r' ? requestTokens : policyTokens;
      if (!list.includes(ref[2] ?? '')) throw modelError(m.number, `the matcher names ${ref[0]}, which is not defined`);
    }
    if (/\beval\s*\(/.test(m.value)) {
      throw modelError(m.number, 'eval() in a matcher is not allowed: it would run text from tenant-writable policy');
    }
  }

  let casbinModel;
  try {
    casbinModel = casbin.newModelFromString(text);
  } catch (error) {
    throw modelError(undefined, `casbin refused the model: ${(error as Error).message}`);
  }
  // Casbin compiles the matcher and the effect only when it first enforces: try one request now.
  try {
    // With no policy casbin short-circuits the matcher, so give it one line to evaluate in full.
    casbinModel.addPolicy('p', 'p', policyTokens.map((t) => (t === 'eft' ? 'allow' : 'probe')));
    const probe = new casbin.Enforcer();
    void probe.initWithModelAndAdapter(casbinModel);
    probe.enforceSync(...requestTokens.map(() => 'probe'));
  } catch (error) {
    throw modelError(mLine.number, `the matcher or effect does not evaluate: ${(error as Error).message}`);
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
    (sections.get('policy_definition')?.length ?? 0) === 1;

  const policyDomIndex = policyTokens.indexOf('dom');
  const groupArity = new Map(groupLines.map((g) => [g.key, g.value.split(',').length]));
  const policyArity = new Map((sections.get('policy_definition') ?? []).map((l) => [l.key, tokens(l).length]));

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
    if (!fastPath) return;
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
  };

  return Object.freeze({ text, fastPath, requestFields: requestTokens as RequestFieldName[], tenantOf, assertRule });
}
