import { describe, expect, it } from 'vitest';
import type { PolicyRule } from './policy-rule.js';
import { Outcome, TenantIndex, tenantIndexOverheadBytes } from './tenant-index.js';

const p = (sub: string, obj: string, act: string, eft = 'allow', dom = 't'): PolicyRule => ({ ptype: 'p', values: [sub, dom, obj, act, eft] });
const g = (member: string, role: string, dom = 't'): PolicyRule => ({ ptype: 'g', values: [member, role, dom] });
const key = (rule: PolicyRule) => [rule.ptype, ...rule.values].join(' ');

describe('tenant index', () => {
  const lines = [
    p('role:a', 'accounts', 'get'),
    p('role:a', 'accounts', 'get', 'deny'),
    p('role:a', 'accounts', 'post'),
    p('role:a', 'accounts/*', '*'),
    p('*', 'ledgers', 'get'),
    p('role:a', 'reports', 'get', 'audit'),
    g('user:1', 'role:a'),
    g('user:1', 'role:b'),
    g('role:b', 'role:a'),
  ];

  it('keeps no copy of a line, yet answers has, rules and remove for exactly the lines added (each once)', () => {
    const index = new TenantIndex('t');
    for (const line of lines) expect(index.add(line)).toBe(true);
    for (const line of lines) expect(index.add({ ptype: line.ptype, values: [...line.values] }), key(line)).toBe(false);
    expect(index.ruleCount).toBe(lines.length);
    expect([...index.rules()].map(key).sort()).toEqual(lines.map(key).sort());
    for (const line of lines) expect(index.has(line), key(line)).toBe(true);
    expect(index.has(p('role:a', 'accounts', 'patch'))).toBe(false);
    expect(index.has(g('user:1', 'role:c'))).toBe(false);

    expect(index.decide('user:1', 'accounts', 'get')).toBe(Outcome.Deny);
    expect(index.remove(p('role:a', 'accounts', 'get', 'deny'))).toBe(true);
    expect(index.remove(p('role:a', 'accounts', 'get', 'deny'))).toBe(false);
    expect(index.decide('user:1', 'accounts', 'get')).toBe(Outcome.Allow);
    expect(index.matchingRules('user:1', 'accounts/7', 'get').map(key)).toEqual([key(p('role:a', 'accounts/*', '*'))]);

    for (const line of lines) index.remove(line);
    expect(index.ruleCount).toBe(0);
    expect([...index.rules()]).toEqual([]);
    expect(index.decide('user:1', 'ledgers', 'get')).toBe(Outcome.None);
    // Every line's estimate is given back: the estimate cannot drift with churn.
    expect(index.estimatedBytes).toBe(tenantIndexOverheadBytes);
  });

  it("reaches roles breadth first, each once, within casbin's 10 links, through small and wide hierarchies alike", () => {
    const index = new TenantIndex('t');
    // A chain of 12 links: casbin follows 10 of them.
    for (let i = 0; i < 12; i++) index.add(g(`chain:${i}`, `chain:${i + 1}`));
    expect(index.reach('chain:0')).toEqual(Array.from({ length: 11 }, (_, i) => `chain:${i}`));
    // 40 groups, each in the same 2 roles, and a diamond back to the first group: past the scanned size, each name still once.
    for (let i = 0; i < 40; i++) {
      index.add(g('user:wide', `group:${i}`));
      index.add(g(`group:${i}`, 'role:x'));
      index.add(g(`group:${i}`, 'role:y'));
    }
    index.add(g('role:x', 'group:0'));
    const reached = index.reach('user:wide');
    expect(reached).toEqual(['user:wide', ...Array.from({ length: 40 }, (_, i) => `group:${i}`), 'role:x', 'role:y']);
  });

  it("refuses another tenant's lines: they would otherwise decide in this tenant", () => {
    const index = new TenantIndex('t');
    expect(index.add(p('role:a', 'accounts', 'get', 'allow', 'other'))).toBe(false);
    expect(index.add(g('user:1', 'role:a', 'other'))).toBe(false);
    expect(index.add(p('role:a', 'accounts', 'get'))).toBe(true);
    expect(index.decide('user:1', 'accounts', 'get')).toBe(Outcome.None);
    expect(index.has(p('role:a', 'accounts', 'get', 'allow', 'other'))).toBe(false);
    expect(index.ruleCount).toBe(1);
  });
});
