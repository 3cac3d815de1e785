// Plain node-casbin as the reference the engine is compared with: an enforcer that loaded a policy the way an
// adapter loads one (lines in stored order, then casbin's own priority and subject-priority sorts and its
// role-link build), configured in code as the model's options say.
import { casbin, type CasbinEnforcer } from '../../engine/casbin-runtime.js';
import type { MatcherFunction, ModelOptions, PolicyRule } from '../../engine/index.js';

type CasbinUtil = Record<string, (...args: unknown[]) => unknown>;

/** Role type → builtin name, as casbin's addNamedMatchingFunc(ptype, Util.<name>Func); functions by name. */
export type ReferenceOptions = ModelOptions & { readonly functions?: Readonly<Record<string, MatcherFunction>> };

const utilFunction = (name: string): ((...args: unknown[]) => unknown) => {
  const util = casbin.Util as unknown as CasbinUtil;
  const fn = util[`${name}Func`] ?? util[name];
  if (!fn) throw new Error(`casbin has no ${name}`);
  return fn;
};

interface PolicyAssertion {
  policy: string[][];
}

/** A casbin enforcer that loaded `rules` (in this order) under `modelText`. */
export async function loadedCasbin(modelText: string, rules: readonly PolicyRule[], options: ReferenceOptions = {}): Promise<CasbinEnforcer> {
  const adapter = {
    async loadPolicy(model: { model: Map<string, Map<string, PolicyAssertion>> }): Promise<void> {
      for (const { ptype, values } of rules) {
        model.model.get(ptype.startsWith('g') ? 'g' : 'p')?.get(ptype)?.policy.push([...values]);
      }
    },
    async savePolicy(): Promise<boolean> {
      return true;
    },
    async addPolicy(): Promise<void> {},
    async removePolicy(): Promise<void> {},
    async removeFilteredPolicy(): Promise<void> {},
  };
  const enforcer = new casbin.Enforcer();
  for (const [name, fn] of Object.entries(options.functions ?? {})) await enforcer.addFunction(name, fn as never);
  await enforcer.initWithModelAndAdapter(casbin.newModelFromString(modelText), adapter as never);
  for (const [ptype, name] of Object.entries(options.roleMatching ?? {})) await enforcer.addNamedMatchingFunc(ptype, utilFunction(name) as never);
  for (const [ptype, name] of Object.entries(options.domainMatching ?? {})) await enforcer.addNamedDomainMatchingFunc(ptype, utilFunction(name) as never);
  return enforcer;
}

export type Outcome = { readonly allowed: boolean } | { readonly error: string };

/** casbin's answer, or the error it throws. */
export function casbinOutcome(enforcer: CasbinEnforcer, request: readonly unknown[]): Outcome {
  try {
    return { allowed: enforcer.enforceSync(...request) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
