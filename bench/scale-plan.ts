// The world of `npm run bench -- --scale`: how many rules each of many tenants holds (a few big, many small),
// which tenant a request goes to (Zipf over the tenants' ranks) and what it asks. The rules themselves are
// expanded in SQL (bench/scale-seed.ts) from the sizes planned here, with the same group shape as
// bench/policy-generator.ts.
import type { AuthorizationRequest } from '../engine/index.js';
import { requestActions, requestResources, requestSubject, rulesPerGroup, usersPerGroup } from './policy-generator.js';

export interface ScaleShape {
  /** Total rules (`p` and `g` lines) over every tenant. */
  readonly rules: number;
  readonly tenants: number;
}

/**
 * Half the rules are shared evenly (every tenant has a floor), the other half go by rank with weight
 * rank^-skewExponent: at 10,000,000 rules over 100,000 tenants the largest tenant holds ~48,000 rules, the
 * 100th ~1,900, the median ~75, the smallest ~65.
 */
export const skewExponent = 0.7;

/** The Zipf exponent of tenant traffic: rank r is asked with probability ∝ r^-s. */
export const defaultZipfExponent = 1.1;

export function scaleTenantName(index: number): string {
  return `tenant-${String(index).padStart(6, '0')}`;
}

/**
 * Rules per tenant, by rank (largest first, non-increasing), summing to exactly `shape.rules`; every tenant
 * holds at least one rule.
 */
export function planTenantSizes(shape: ScaleShape): Int32Array {
  const { rules, tenants } = shape;
  if (!Number.isSafeInteger(tenants) || tenants < 1) throw new RangeError('tenants must be a positive integer');
  if (!Number.isSafeInteger(rules) || rules < tenants || rules > 2 ** 31 - 1) throw new RangeError('rules must be at least tenants and below 2^31');
  const floor = Math.max(1, Math.floor(rules / tenants / 2));
  const skewed = rules - floor * tenants;
  const weights = new Float64Array(tenants);
  let total = 0;
  for (let t = 0; t < tenants; t++) total += weights[t] = (t + 1) ** -skewExponent;
  const sizes = new Int32Array(tenants);
  let planned = 0;
  for (let t = 0; t < tenants; t++) planned += sizes[t] = floor + Math.floor((skewed * (weights[t] as number)) / total);
  // Each floor() dropped less than one rule: fewer than `tenants` are left, given to the largest first.
  for (let t = 0; planned < rules; t++, planned++) sizes[t] = (sizes[t] as number) + 1;
  return sizes;
}

/** How a tenant of `size` rules splits into `g` lines (role and user links) and `p` lines, group by group. */
export function linesOfTenant(size: number): { g: number; p: number; groups: number } {
  const full = Math.floor(size / rulesPerGroup);
  const rest = size % rulesPerGroup;
  const g = full * (1 + usersPerGroup) + Math.min(rest, 1 + usersPerGroup);
  return { g, p: size - g, groups: Math.ceil(size / rulesPerGroup) };
}

/**
 * Draws ranks 0..n-1 with probability ∝ (rank + 1)^-s: a cumulative table searched in O(log n) per draw.
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) cumulative[r] = total += (r + 1) ** -s;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) > target) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

/**
 * A request to tenant `rank` holding `size` rules: mostly one of its users (some of its groups and roles, some
 * unknown users), on a collection or an item of a known or unknown resource, with a known or unknown verb — so
 * allowed, denied by a deny line, and denied by no line.
 */
export function scaleRequest(rank: number, size: number, random: () => number): AuthorizationRequest {
  const { groups } = linesOfTenant(size);
  const g = Math.floor(random() * groups);
  const sub = requestSubject(g, random);
  const resource = requestResources[Math.floor(random() * requestResources.length)] as string;
  const obj = random() < 0.5 ? resource : `${resource}/${Math.floor(random() * 1_000)}`;
  const act = requestActions[Math.floor(random() * requestActions.length)] as string;
  return { sub, dom: scaleTenantName(rank), obj, act };
}
