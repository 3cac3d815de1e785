// Seeded policy worlds of the shape measured in the benchmark issue, and requests against them.
import type { AuthorizationRequest, PolicyRule } from '../engine/index.js';

/**
 * One group's rules: `g, group:<g>, role:<g>, <tenant>`, 5 users `g, user:<g>-<u>, group:<g>, <tenant>` and 19
 * `p, role:<g>, <tenant>, <resource>, <action>, allow|deny` rules. The "5 groups × 20 resources, 5 users
 * each ≈ 125 rules per tenant" made exact: 25 rules a group, so 125 a tenant at 1,000 tenants and 125,000 rules.
 */
export const usersPerGroup = 5;
export const policiesPerGroup = 19;
export const rulesPerGroup = 1 + usersPerGroup + policiesPerGroup;

export const resourcePatterns = [
  'accounts', 'accounts/*', 'ledgers', 'ledgers/*', 'transactions', 'transactions/*', 'portfolios', 'portfolios/*',
  'segments', 'segments/*', 'assets', 'assets/*', 'balances', 'balances/*', 'operations', 'operations/*',
  'organizations', 'organizations/*', 'audit/*', 'reports/*',
];
export const ruleActions = ['get', 'post', 'patch', 'delete', '*'];
export const requestResources = [
  'accounts', 'ledgers', 'transactions', 'portfolios', 'segments', 'assets', 'balances', 'operations',
  'organizations', 'audit', 'reports', 'settings',
];
export const requestActions = ['get', 'post', 'patch', 'delete', 'head'];
const denyShare = 0.05;

export interface PolicyShape {
  /** Total rules (`p` and `g` lines) over every tenant. */
  readonly rules: number;
  readonly tenants: number;
  readonly seed: number;
}

export interface GeneratedPolicy {
  readonly shape: PolicyShape;
  readonly rules: readonly PolicyRule[];
  readonly tenants: readonly string[];
  /** Groups of each tenant, by the tenant's position in `tenants`. */
  readonly groupsPerTenant: readonly number[];
}

/** mulberry32: a small seeded generator; the same seed always gives the same policy and requests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tenantName(index: number): string {
  return `tenant-${String(index).padStart(5, '0')}`;
}

/**
 * Exactly `shape.rules` unique rules spread evenly over `shape.tenants` tenants (the first tenants take the
 * remainder), each tenant filled group by group (the last group may be cut short).
 */
export function generatePolicy(shape: PolicyShape): GeneratedPolicy {
  if (!Number.isSafeInteger(shape.tenants) || shape.tenants < 1) throw new RangeError('tenants must be a positive integer');
  if (!Number.isSafeInteger(shape.rules) || shape.rules < shape.tenants) throw new RangeError('rules must be at least tenants');
  const random = seededRandom(shape.seed);
  const rules: PolicyRule[] = [];
  const tenants: string[] = [];
  const groupsPerTenant: number[] = [];
  const base = Math.floor(shape.rules / shape.tenants);
  const remainder = shape.rules % shape.tenants;
  for (let t = 0; t < shape.tenants; t++) {
    const tenant = tenantName(t);
    const count = base + (t < remainder ? 1 : 0);
    const groups = Math.ceil(count / rulesPerGroup);
    tenants.push(tenant);
    groupsPerTenant.push(groups);
    let left = count;
    const push = (rule: PolicyRule): void => {
      if (left > 0) rules.push(rule);
      left--;
    };
    for (let g = 0; g < groups; g++) {
      push({ ptype: 'g', values: [`group:${g}`, `role:${g}`, tenant] });
      for (let u = 0; u < usersPerGroup; u++) push({ ptype: 'g', values: [`user:${g}-${u}`, `group:${g}`, tenant] });
      for (const combo of distinctIndexes(random, resourcePatterns.length * ruleActions.length, policiesPerGroup)) {
        const resource = resourcePatterns[Math.floor(combo / ruleActions.length)] as string;
        const action = ruleActions[combo % ruleActions.length] as string;
        push({ ptype: 'p', values: [`role:${g}`, tenant, resource, action, random() < denyShare ? 'deny' : 'allow'] });
      }
    }
  }
  return { shape, rules, tenants, groupsPerTenant };
}

/**
 * `count` requests over random tenants: mostly users of the tenant's groups (some unknown users, groups and
 * roles), on collections and items of known and unknown resources, with known and unknown verbs — so both
 * allowed and denied answers, by a deny rule or by no rule.
 */
export function generateRequests(policy: GeneratedPolicy, count: number, seed: number): AuthorizationRequest[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const requests: AuthorizationRequest[] = [];
  for (let i = 0; i < count; i++) {
    const t = Math.floor(random() * policy.tenants.length);
    const groups = Math.max(1, policy.groupsPerTenant[t] ?? 1);
    const g = Math.floor(random() * groups);
    const sub = requestSubject(g, random);
    const resource = pick(requestResources);
    const obj = random() < 0.5 ? resource : `${resource}/${Math.floor(random() * 1_000)}`;
    requests.push({ sub, dom: policy.tenants[t] as string, obj, act: pick(requestActions) });
  }
  return requests;
}

function distinctIndexes(random: () => number, size: number, count: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, size)) chosen.add(Math.floor(random() * size));
  return [...chosen];
}

/** The subject a request asks about in group `g`: mostly one of its users, sometimes the group, its role, or nobody known. */
export function requestSubject(g: number, random: () => number): string {
  const kind = random();
  return kind < 0.85 ? `user:${g}-${Math.floor(random() * usersPerGroup)}`
    : kind < 0.9 ? `group:${g}`
    : kind < 0.95 ? `role:${g}`
    : `user:unknown-${Math.floor(random() * 100)}`;
}
