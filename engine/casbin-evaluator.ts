import { casbin, type CasbinEnforcer, type CasbinModel } from './casbin-runtime.js';
import type { ModelDefinition } from './model-definition.js';
import { isGroupingType, type PolicyChange, type PolicyRule } from './policy-rule.js';

interface PolicyAst {
  policy: string[][];
}

function sectionOf(ptype: string): 'p' | 'g' {
  return isGroupingType(ptype) ? 'g' : 'p';
}

/**
 * Plain node-casbin holding every rule in one enforcer: the reference semantics the compiled engine is measured
 * against (`npm run bench`, tests). Incremental edits run synchronously, so a decision (also synchronous) sees
 * a batch either entirely or not at all.
 */
export class CasbinEvaluator {
  private constructor(
    private readonly enforcer: CasbinEnforcer,
    private readonly model: ModelDefinition,
  ) {}

  /**
   * An evaluator holding `rules`, loaded as an adapter loads a policy: lines in this order, then casbin's own
   * priority and subject-priority sorts and its role-link build. Async only because casbin loads so.
   */
  static async create(model: ModelDefinition, rules: readonly PolicyRule[]): Promise<CasbinEvaluator> {
    const adapter = {
      async loadPolicy(loading: CasbinModel): Promise<void> {
        for (const rule of rules) {
          // Stored rules are unique, so skip casbin's O(n) duplicate scan (loading would be quadratic).
          const ast = loading.model.get(sectionOf(rule.ptype))?.get(rule.ptype) as PolicyAst | undefined;
          ast?.policy.push([...rule.values]);
        }
      },
      savePolicy: async (): Promise<boolean> => true,
      addPolicy: async (): Promise<void> => undefined,
      removePolicy: async (): Promise<void> => undefined,
      removeFilteredPolicy: async (): Promise<void> => undefined,
    };
    const enforcer = new casbin.Enforcer();
    await enforcer.initWithModelAndAdapter(casbin.newModelFromString(model.text), adapter);
    enforcer.enableAutoSave(false);
    return new CasbinEvaluator(enforcer, model);
  }

  /** Applies a batch in one synchronous run. */
  apply(changes: readonly PolicyChange[]): void {
    const casbinModel = this.enforcer.getModel();
    for (const { op, rule } of changes) {
      const sec = sectionOf(rule.ptype);
      const values = [...rule.values];
      const changed = op === 'add' ? casbinModel.addPolicy(sec, rule.ptype, values) : casbinModel.removePolicy(sec, rule.ptype, values);
      if (!changed || sec !== 'g') continue;
      const rm = this.enforcer.getNamedRoleManager(rule.ptype);
      if (!rm) continue;
      const [name1 = '', name2 = '', ...domain] = values;
      // DefaultRoleManager mutates before its first await: the link is in place when this call returns.
      const pending = op === 'add' ? rm.addLink(name1, name2, ...domain) : rm.deleteLink(name1, name2, ...domain);
      void pending.catch(() => undefined);
    }
  }

  /** Every rule of one tenant, replaced by `rules`, as a new evaluator (swapped in by reference). */
  async withTenantReplaced(tenantId: string, rules: readonly PolicyRule[]): Promise<CasbinEvaluator> {
    const kept = this.rules().filter((rule) => this.model.tenantOf(rule) !== tenantId);
    return CasbinEvaluator.create(this.model, [...kept, ...rules]);
  }

  decide(request: readonly unknown[]): boolean {
    return this.enforcer.enforceSync(...request);
  }

  /** The decision and the rule casbin reports as deciding it. */
  explain(request: readonly unknown[]): { allowed: boolean; rule: string[] } {
    const [allowed, rule] = this.enforcer.enforceExSync(...request);
    return { allowed, rule };
  }

  rules(): PolicyRule[] {
    const out: PolicyRule[] = [];
    for (const sec of ['p', 'g'] as const) {
      const asts = this.enforcer.getModel().model.get(sec);
      asts?.forEach((ast, ptype) => {
        for (const values of (ast as unknown as PolicyAst).policy) out.push({ ptype, values: [...values] });
      });
    }
    return out;
  }

  get ruleCount(): number {
    let count = 0;
    for (const sec of ['p', 'g'] as const) {
      this.enforcer.getModel().model.get(sec)?.forEach((ast) => {
        count += (ast as unknown as PolicyAst).policy.length;
      });
    }
    return count;
  }
}
