// Seeded random policy worlds for differential tests (engine vs plain casbin).
import type { PolicyChange, PolicyRule } from '../../engine/index.js';

/** mulberry32: small, fast, good enough to drive test generation; the seed is printed on failure. */
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

export interface World {
  readonly rules: PolicyRule[];
  readonly tenants: string[];
  randomRule(): PolicyRule;
  randomRequest(): { sub: string; dom: string; obj: string; act: string };
  randomBatch(present: readonly PolicyRule[]): PolicyChange[];
}

const resourcePatterns = ['accounts', 'accounts/*', 'accounts*', '*', 'ledgers', 'ledgers/1', 'midaz/accounts', 'midaz/*', 'a*b', 'users/password'];
const requestResources = ['accounts', 'accounts/1', 'accounts/1/x', 'accountsX', 'ledgers', 'ledgers/1', 'ledgers/2', 'midaz/accounts', 'midaz/ledgers', 'a', 'ab', 'aXb', 'users/password', 'other'];
const actions = ['get', 'post', 'patch', 'delete', 'head'];

export function randomWorld(random: () => number): World {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const tenantCount = 2 + Math.floor(random() * 3);
  const tenants = Array.from({ length: tenantCount }, (_, i) => `t${i}`);
  const users = Array.from({ length: 6 }, (_, i) => `user:${i}`);
  const groups = Array.from({ length: 4 }, (_, i) => `group:${i}`);
  const roles = Array.from({ length: 5 }, (_, i) => `role:${i}`);
  // A chain longer than casbin's 10-level role hierarchy limit, so the limit itself is compared.
  const chain = Array.from({ length: 13 }, (_, i) => `chain:${i}`);
  const subjects = [...users, ...groups, ...roles, ...chain];

  const randomLink = (): PolicyRule => {
    const dom = pick(tenants);
    const kind = random();
    if (kind < 0.35) return { ptype: 'g', values: [pick(users), pick(groups), dom] };
    if (kind < 0.6) return { ptype: 'g', values: [pick(groups), pick(roles), dom] };
    if (kind < 0.75) return { ptype: 'g', values: [pick(roles), pick(roles), dom] }; // roles of roles, cycles too
    if (kind < 0.85) return { ptype: 'g', values: [pick(users), pick(roles), dom] };
    return { ptype: 'g', values: [pick(subjects), pick(subjects), dom] };
  };
  const randomPolicy = (): PolicyRule => {
    const sub = random() < 0.1 ? '*' : pick([...roles, ...groups, ...roles, users[0] as string, 'chain:10', 'chain:11', 'chain:12']);
    const act = random() < 0.2 ? '*' : pick(actions);
    const eft = random() < 0.25 ? 'deny' : 'allow';
    return { ptype: 'p', values: [sub, pick(tenants), pick(resourcePatterns), act, eft] };
  };
  const randomRule = (): PolicyRule => (random() < 0.45 ? randomLink() : randomPolicy());

  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  const push = (rule: PolicyRule): void => {
    const id = `${rule.ptype}|${rule.values.join('|')}`;
    if (seen.has(id)) return;
    seen.add(id);
    rules.push(rule);
  };
  const dom0 = tenants[0] as string;
  chain.slice(0, -1).forEach((name, i) => push({ ptype: 'g', values: [name, chain[i + 1] as string, dom0] }));
  push({ ptype: 'g', values: [users[1] as string, 'chain:0', dom0] });
  const size = 15 + Math.floor(random() * 35);
  for (let i = 0; i < size; i++) push(randomRule());

  return {
    rules,
    tenants,
    randomRule,
    randomRequest: () => ({
      sub: pick([...subjects, 'user:unknown']),
      dom: random() < 0.1 ? 'tx' : pick(tenants),
      obj: pick(requestResources),
      act: pick(actions),
    }),
    randomBatch: (present) => {
      const count = 1 + Math.floor(random() * 4);
      const batch: PolicyChange[] = [];
      const dom = pick(tenants);
      for (let i = 0; i < count; i++) {
        const ownRules = present.filter((r) => (r.ptype === 'g' ? r.values[2] : r.values[1]) === dom);
        if (random() < 0.5 && ownRules.length > 0) batch.push({ op: 'remove', rule: pick(ownRules) });
        else {
          const rule = randomRule();
          const values = [...rule.values];
          values[rule.ptype === 'g' ? 2 : 1] = dom;
          batch.push({ op: 'add', rule: { ptype: rule.ptype, values } });
        }
      }
      return batch;
    },
  };
}
