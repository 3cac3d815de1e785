import { describe, expect, it } from 'vitest';
import { seededRandom } from './policy-generator.js';
import { linesOfTenant, planTenantSizes, scaleRequest, scaleTenantName, zipfSampler } from './scale-plan.js';

describe('bench scale plan', () => {
  it.each([
    { rules: 10_000_000, tenants: 100_000 },
    { rules: 1_000_000, tenants: 100_000 },
    { rules: 200_000, tenants: 10_000 },
    { rules: 7, tenants: 7 },
    { rules: 1_003, tenants: 7 },
  ])('plans exactly $rules rules over $tenants tenants, largest first, at least one each', (shape) => {
    const sizes = planTenantSizes(shape);
    expect(sizes).toHaveLength(shape.tenants);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(shape.rules);
    let increases = 0;
    for (let t = 1; t < sizes.length; t++) if ((sizes[t] as number) > (sizes[t - 1] as number)) increases++;
    expect(increases).toBe(0);
    expect(sizes[sizes.length - 1]).toBeGreaterThanOrEqual(1);
  });

  it('skews 10,000,000 rules over 100,000 tenants: a few tenants of tens of thousands of rules, most under a hundred', () => {
    const sizes = planTenantSizes({ rules: 10_000_000, tenants: 100_000 });
    expect(sizes[0]).toBeGreaterThan(40_000);
    expect(sizes[0]).toBeLessThan(100_000);
    expect(sizes[99]).toBeGreaterThan(1_000);
    expect(sizes[50_000]).toBeLessThan(100);
    expect(sizes[99_999]).toBeGreaterThanOrEqual(50);
  });

  it('splits a tenant into groups of one role link, 5 user links and 19 policy lines, the last group cut short', () => {
    expect(linesOfTenant(25)).toEqual({ g: 6, p: 19, groups: 1 });
    expect(linesOfTenant(53)).toEqual({ g: 15, p: 38, groups: 3 });
    expect(linesOfTenant(4)).toEqual({ g: 4, p: 0, groups: 1 });
  });

  it('draws Zipf ranks: rank r about (r + 1)^-s of the draws, relative to rank 0 (s = 1.1, seed 11)', () => {
    const n = 1_000;
    const s = 1.1;
    const draws = 400_000;
    const next = zipfSampler(n, s, seededRandom(11));
    const counts = new Float64Array(n);
    for (let i = 0; i < draws; i++) counts[next()]! += 1;
    let harmonic = 0;
    for (let r = 1; r <= n; r++) harmonic += r ** -s;
    expect((counts[0] as number) / draws).toBeCloseTo(1 / harmonic, 2);
    for (const rank of [1, 3, 9]) expect((counts[rank] as number) / (counts[0] as number)).toBeCloseTo((rank + 1) ** -s, 1);
    const top10 = counts.slice(0, 10).reduce((sum, c) => sum + c, 0) / draws;
    let expectedTop10 = 0;
    for (let r = 1; r <= 10; r++) expectedTop10 += r ** -s / harmonic;
    expect(top10).toBeCloseTo(expectedTop10, 2);
    expect(counts.every((c) => c >= 0)).toBe(true);
    expect(Math.min(...counts.slice(0, 100))).toBeGreaterThan(0);
  });

  it('asks a tenant about its own groups, users and roles, and some unknown users', () => {
    const random = seededRandom(5);
    const requests = Array.from({ length: 2_000 }, () => scaleRequest(3, 53, random));
    expect(new Set(requests.map((r) => r.dom))).toEqual(new Set([scaleTenantName(3)]));
    const groups = new Set(requests.flatMap((r) => /^(?:user|group|role):(\d+)/.exec(r.sub)?.[1] ?? []));
    expect(groups).toEqual(new Set(['0', '1', '2']));
    expect(requests.some((r) => r.sub.startsWith('user:unknown-'))).toBe(true);
    expect(requests.some((r) => r.obj.includes('/'))).toBe(true);
  });
});
