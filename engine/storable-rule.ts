import { EngineError } from './errors.js';
import type { PolicyRule } from './policy-rule.js';

export const maxRuleValueLength = 256;
export const maxRuleValues = 12;
// PostgreSQL refuses a btree entry above ~2700 bytes; the unique (ptype, rule) index must always take the rule.
const maxEncodedRuleBytes = 2_048;

const ptypePattern = /^[pg][A-Za-z0-9_]{0,31}$/;
// Control characters, lone surrogates (jsonb refuses them) and line/paragraph separators.
const forbiddenCharacters = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

/**
 * Throws `EngineError('INVALID_RULE')` unless `rule` survives both storage and casbin's CSV policy-line reader
 * (which casbin-pg-adapter and file adapters use) unchanged: every value a non-empty string of at most 256
 * characters, without `,` (the reader splits on it), `"` (it unquotes), control characters, leading or trailing
 * whitespace (it trims) or unbalanced parentheses (it joins fields across brackets).
 *
 * @example
 * assertStorableRule({ ptype: 'p', values: ['role:1', 'acme', 'accounts/*', 'get', 'allow'] }, 'changes[0].rule');
 */
export function assertStorableRule(rule: PolicyRule, field: string): void {
  if (typeof rule?.ptype !== 'string' || !ptypePattern.test(rule.ptype)) {
    throw new EngineError('INVALID_RULE', 'ptype must be p or g followed by up to 31 letters, digits or _', {
      field: `${field}.ptype`,
    });
  }
  const values: unknown = rule.values;
  if (!Array.isArray(values) || values.length === 0 || values.length > maxRuleValues) {
    throw new EngineError('INVALID_RULE', `a rule has 1 to ${maxRuleValues} values`, { field: `${field}.values` });
  }
  values.forEach((value: unknown, index) => {
    const problem = valueProblem(value);
    if (problem !== undefined) {
      throw new EngineError('INVALID_RULE', `value ${index} ${problem}`, { field: `${field}.values[${index}]` });
    }
  });
  if (Buffer.byteLength(JSON.stringify(values)) > maxEncodedRuleBytes) {
    throw new EngineError('INVALID_RULE', `a rule's values exceed ${maxEncodedRuleBytes} bytes`, {
      field: `${field}.values`,
    });
  }
}

function valueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (value.length === 0) return 'is empty';
  if (value.length > maxRuleValueLength) return `is longer than ${maxRuleValueLength} characters`;
  if (value.includes(',')) return 'contains a comma';
  if (value.includes('"')) return 'contains a double quote';
  if (forbiddenCharacters.test(value)) return 'contains a control character';
  if (value.trim() !== value) return 'has leading or trailing whitespace';
  if (!hasBalancedParentheses(value)) return 'has unbalanced parentheses';
  return undefined;
}

function hasBalancedParentheses(value: string): boolean {
  let depth = 0;
  for (const char of value) {
    if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
  }
  return depth === 0;
}
