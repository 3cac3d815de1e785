import { isEngineError, type ModelDefinition } from '../../engine/index.js';
import type { LocatedRule } from './assertion-file.js';

export interface InvalidRule {
  readonly line: number;
  readonly detail: string;
}

/** The rules of a file the model refuses (`assertRule`) or cannot place in a tenant, with their lines. */
export function findInvalidRules(model: ModelDefinition, rules: readonly LocatedRule[]): InvalidRule[] {
  const invalid: InvalidRule[] = [];
  for (const { rule, line } of rules) {
    try {
      model.assertRule(rule);
      if (model.tenantOf(rule) === undefined) invalid.push({ line, detail: `${rule.ptype} rule: it names no tenant` });
    } catch (error) {
      if (!isEngineError(error)) throw error;
      invalid.push({ line, detail: error.detail });
    }
  }
  return invalid;
}
