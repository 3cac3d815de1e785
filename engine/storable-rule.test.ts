import { describe, expect, it } from 'vitest';
import { EngineError } from './errors.js';
import type { PolicyRule } from './policy-rule.js';
import { assertStorableRule } from './storable-rule.js';

function problemOf(rule: PolicyRule): { code: string; field: string | undefined } | undefined {
  try {
    assertStorableRule(rule, 'rule');
    return undefined;
  } catch (error) {
    if (!(error instanceof EngineError)) throw error;
    return { code: error.code, field: error.field };
  }
}

const withResource = (resource: string): PolicyRule => ({
  ptype: 'p',
  values: ['role:1', 'acme', resource, 'get', 'allow'],
});

describe('assertStorableRule', () => {
  it.each(['accounts', 'midaz/accounts/*', 'ledgers/:id', 'user:alice@example.com', 'a.b-c_d', 'fn(x)', 'ümlaut', '*'])(
    '%s survives storage and the CSV policy-line reader, so it is accepted',
    (resource) => {
      expect(problemOf(withResource(resource))).toBeUndefined();
    },
  );

  it.each([
    ['a lone surrogate (jsonb refuses it)', 'a\uD800b'],
    ['a line separator', 'a\u2028b'],
    ['DEL', 'a\u007fb'],
    ['a C1 control character', 'a\u0085b'],
    ['trailing whitespace', 'accounts '],
    ['more closing than opening parentheses', 'a)'],
  ])('a value with %s is refused', (_label, resource) => {
    expect(problemOf(withResource(resource))).toEqual({ code: 'INVALID_RULE', field: 'rule.values[2]' });
  });

  it('a rule needs 1 to 12 values and at most 2048 encoded bytes (so the unique index always takes it)', () => {
    expect(problemOf({ ptype: 'p', values: [] })).toEqual({ code: 'INVALID_RULE', field: 'rule.values' });
    expect(problemOf({ ptype: 'p', values: Array.from({ length: 13 }, () => 'x') })?.field).toBe('rule.values');
    expect(problemOf({ ptype: 'p', values: Array.from({ length: 9 }, () => 'x'.repeat(250)) })?.field).toBe(
      'rule.values',
    );
    expect(problemOf({ ptype: 'p', values: Array.from({ length: 12 }, () => 'x'.repeat(100)) })).toBeUndefined();
  });

  it('ptype is p or g followed by letters, digits or _', () => {
    expect(problemOf({ ptype: 'g2', values: ['a', 'b', 'c'] })).toBeUndefined();
    for (const ptype of ['', 'r', 'e', 'p ', 'p,', 'P']) {
      expect(problemOf({ ptype, values: ['a', 'b', 'c'] })).toEqual({ code: 'INVALID_RULE', field: 'rule.ptype' });
    }
  });
});
