import { describe, expect, it } from 'vitest';
import { generatePolicy, generateRequests, rulesPerGroup, usersPerGroup } from './policy-generator.js';

const ruleId = (rule: { ptype: string; values: readonly string[] }): string => `${rule.ptype}|${rule.values.join('|')}`;

describe('bench policy generator', () => {
  it.each([
    { rules: 1_000, tenants: 1 },
    { rules: 10_000, tenants: 10 },
    { rules: 125_000, tenants: 1_000 },
    { rules: 1_003, tenants: 7 },
  ])('makes exactly $rules unique rules over $tenants tenants', (shape) => {
    const policy = generatePolicy({ ...shape, seed: 7 });
    expect(policy.rules).toHaveLength(shape.rules);
    expect(policy.tenants).toHaveLength(shape.tenants);
    expect(new Set(policy.rules.map(ruleId)).size).toBe(shape.rules);
    const perTenant = new Map<string, number>();
    for (const rule of policy.rules) {
      const tenant = (rule.ptype === 'g' ? rule.values[2] : rule.values[1]) as string;
      perTenant.set(tenant, (perTenant.get(tenant) ?? 0) + 1);
    }
    const counts = [...perTenant.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('gives 125 rules a tenant at 125,000 rules / 1,000 tenants: 5 groups of 1 role link, 5 users and 19 policy lines', () => {
    const policy = generatePolicy({ rules: 125_000, tenants: 1_000, seed: 7 });
    const first = policy.rules.filter((rule) => (rule.ptype === 'g' ? rule.values[2] : rule.values[1]) === policy.tenants[0]);
    expect(first).toHaveLength(5 * rulesPerGroup);
    expect(first.filter((rule) => rule.ptype === 'g' && rule.values[0]?.startsWith('group:'))).toHaveLength(5);
    expect(first.filter((rule) => rule.ptype === 'g' && rule.values[0]?.startsWith('user:'))).toHaveLength(5 * usersPerGroup);
    expect(first.filter((rule) => rule.ptype === 'p')).toHaveLength(5 * 19);
    expect(policy.rules.some((rule) => rule.values[4] === 'deny')).toBe(true);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const shape = { rules: 10_000, tenants: 10 };
    const a = generatePolicy({ ...shape, seed: 42 });
    const b = generatePolicy({ ...shape, seed: 42 });
    const c = generatePolicy({ ...shape, seed: 43 });
    expect(b.rules).toEqual(a.rules);
    expect(generateRequests(b, 500, 9)).toEqual(generateRequests(a, 500, 9));
    expect(c.rules).not.toEqual(a.rules);
  });
});
