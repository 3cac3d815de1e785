// The authorize bench's Cerbos policy must be the same check as ours: a real Cerbos PDP loads what the generator
// writes and answers every request of a small world as the engine does (allows, denies that override an allow
// held through another role, `*` actions and subjects, roles reached through groups, no matching line).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryPolicyStore } from '../engine/adapters/index.js';
import { loadModelFile, PolicyEngine, type PolicyRule } from '../engine/index.js';
import { cerbosCheckBody, cerbosPolicies, cerbosPrincipal } from './cerbos-policy.js';
import { startCerbosPdp, type CerbosPdp } from './cerbos-pdp.js';

const tenant = 'acme';
const p = (sub: string, obj: string, act: string, eft: 'allow' | 'deny'): PolicyRule => ({ ptype: 'p', values: [sub, tenant, obj, act, eft] });
const g = (member: string, role: string): PolicyRule => ({ ptype: 'g', values: [member, role, tenant] });

const rules: PolicyRule[] = [
  p('role:reader', 'accounts', 'get', 'allow'),
  p('role:reader', 'midaz/ledgers', 'get', 'allow'),
  p('role:writer', 'accounts', '*', 'allow'),
  p('role:suspended', 'accounts', '*', 'deny'),
  p('role:auditor', 'midaz/ledgers', 'get', 'deny'),
  p('*', 'status', 'get', 'allow'),
  p('user:4', 'accounts', 'delete', 'allow'),
  g('user:1', 'group:readers'),
  g('group:readers', 'role:reader'),
  g('user:2', 'role:writer'),
  g('user:3', 'role:writer'),
  g('user:3', 'role:suspended'),
  g('user:4', 'group:readers'),
  g('group:readers', 'role:auditor'),
  // Another tenant's lines are not the check's.
  { ptype: 'p', values: ['role:reader', 'other', 'accounts', 'delete', 'allow'] },
];
const subjects = ['user:1', 'user:2', 'user:3', 'user:4', 'user:5'];
const resources = ['accounts', 'midaz/ledgers', 'status', 'unknown'];
const actions = ['get', 'post', 'delete'];

let pdp: CerbosPdp;
let engine: PolicyEngine;

beforeAll(async () => {
  const model = await loadModelFile();
  engine = await PolicyEngine.start({ model, store: new MemoryPolicyStore(model.tenantOf), resyncIntervalMs: 0 });
  const add = (rule: PolicyRule) => ({ op: 'add' as const, rule });
  await engine.write(tenant, rules.filter((rule) => (rule.ptype === 'p' ? rule.values[1] : rule.values[2]) === tenant).map(add));
  await engine.write('other', [add(rules.at(-1) as PolicyRule)]);
  pdp = await startCerbosPdp(cerbosPolicies(tenant, rules));
}, 60_000);

afterAll(async () => {
  engine?.stop();
  await pdp?.stop();
});

describe('the bench’s Cerbos policy', () => {
  it('is loaded by Cerbos and answers every check of a small world as the engine does (allow and deny)', async () => {
    const outcomes = { allow: 0, deny: 0 };
    for (const sub of subjects) {
      const principal = cerbosPrincipal(tenant, rules, sub);
      for (const obj of resources) {
        for (const act of actions) {
          const ours = (await engine.decide({ sub, dom: tenant, obj, act })).allowed;
          const answer = await fetch(`${pdp.url}/api/check/resources`, { method: 'POST', body: cerbosCheckBody(principal, obj, act) });
          expect(answer.status).toBe(200);
          const body = (await answer.json()) as { results: { actions: Record<string, string> }[] };
          expect({ sub, obj, act, allowed: body.results[0]?.actions[act] === 'EFFECT_ALLOW' }).toEqual({ sub, obj, act, allowed: ours });
          outcomes[ours ? 'allow' : 'deny']++;
        }
      }
    }
    // Both answers occur, so the comparison says something about each.
    expect(outcomes.allow).toBeGreaterThanOrEqual(8);
    expect(outcomes.deny).toBeGreaterThanOrEqual(8);
  });

  it('gives the principal its roles through groups, and refuses what Cerbos cannot express', () => {
    expect(cerbosPrincipal(tenant, rules, 'user:4').roles).toEqual(['user:4', 'group:readers', 'role:reader', 'role:auditor']);
    expect(() => cerbosPolicies(tenant, [p('role:reader', 'accounts/*', 'get', 'allow')])).toThrow(/no equivalent of the resource/);
    expect(() => cerbosPolicies(tenant, [p('role:reader', '*', 'get', 'allow')])).toThrow(/no equivalent of the resource/);
  });
});
