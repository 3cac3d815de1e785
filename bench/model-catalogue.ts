// The models `npm run bench -- --only models` measures: casbin's rbac_with_domains model verbatim, the shipped
// model with keyMatch2, RBAC without domains, RBAC with resource roles (g2), an explicit-priority model, an
// ABAC model with an attribute condition, and the shipped model itself for reference (on its dedicated fast
// path, and compiled). Each turns the generated
// policy (policy-generator.ts: 1,000 tenants, users → groups → roles, 125 rules a tenant) into rules and
// requests of its own shape, keeping every tenant's names apart where the model has no domains.
import { readFileSync } from 'node:fs';
import type { AuthorizationRequest, PolicyRule } from '../engine/index.js';
import { seededRandom, type GeneratedPolicy } from './policy-generator.js';

export interface CatalogueModel {
  readonly name: string;
  readonly text: string;
  /** The generated policy's size that gives this model about `target` rules (it drops or adds some). */
  baseRules(target: number, tenants: number): number;
  /** Rules of this model's shape, about `policy.rules.length` of them. */
  rules(policy: GeneratedPolicy): PolicyRule[];
  /** The generated request as this model's request values. */
  request(request: AuthorizationRequest, index: number): unknown[];
}

const fixture = (name: string): string => readFileSync(new URL(`../engine/compiler/fixtures/casbin-examples/${name}`, import.meta.url), 'utf8');
const shippedText = readFileSync(new URL('../policies/model.conf', import.meta.url), 'utf8');

/** A resource pattern as a plain resource name, for models that compare resources with `==`. */
const concrete = (pattern: string): string => (pattern === '*' ? 'any' : pattern.replace(/\/\*$/, '/index'));
/** Without domains, a name carries its tenant so tenants stay apart. */
const scoped = (tenant: string, name: string): string => `${tenant}/${name}`;
/** The resource a request names, without its item (`accounts/7` → `accounts`). */
const collection = (obj: string): string => obj.split('/')[0] as string;

function byType(policy: GeneratedPolicy, map: (rule: PolicyRule) => PolicyRule | undefined): PolicyRule[] {
  const seen = new Set<string>();
  const out: PolicyRule[] = [];
  for (const rule of policy.rules) {
    const mapped = map(rule);
    if (!mapped) continue;
    const key = `${mapped.ptype}|${mapped.values.join('|')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(mapped);
  }
  return out;
}

const asIs = (target: number): number => target;
// Models without an effect field leave out the generated deny lines: 5 % of the 19 policy lines of 25 a group.
const withoutDenies = (target: number): number => Math.round(target / (1 - 0.05 * (19 / 25)));
const resourceGroups = ['accounts', 'ledgers', 'transactions', 'portfolios', 'segments', 'assets', 'balances', 'operations', 'organizations', 'audit', 'reports'];

const abacText = shippedText
  .replace('r = sub, dom, obj, act', 'r = sub, dom, obj, act, attrs')
  .replace('(p.act == "*" || r.act == p.act)', '(p.act == "*" || r.act == p.act) && r.attrs.amount <= 1000');

const priorityText = fixture('priority_model_explicit.conf');

export const modelCatalogue: readonly CatalogueModel[] = [
  {
    name: 'shipped (fast path)',
    text: shippedText,
    baseRules: asIs,
    rules: (policy) => [...policy.rules],
    request: (r) => [r.sub, r.dom, r.obj, r.act],
  },
  {
    // The same model with two terms swapped: not byte-identical to the shipped one, so the compiler decides it.
    name: 'shipped, compiled',
    text: shippedText.replace('(p.act == "*" || r.act == p.act)', '(r.act == p.act || p.act == "*")'),
    baseRules: asIs,
    rules: (policy) => [...policy.rules],
    request: (r) => [r.sub, r.dom, r.obj, r.act],
  },
  {
    name: 'casbin rbac_with_domains',
    text: fixture('rbac_with_domains_model.conf'),
    baseRules: withoutDenies,
    // No effect field: the generated deny lines are left out rather than turned into allows.
    rules: (policy) =>
      byType(policy, (rule) =>
        rule.ptype === 'g' ? rule : rule.values[4] === 'deny' ? undefined : { ptype: 'p', values: [rule.values[0], rule.values[1], concrete(rule.values[2] as string), rule.values[3]] as string[] },
      ),
    request: (r) => [r.sub, r.dom, r.obj, r.act],
  },
  {
    name: 'shipped with keyMatch2',
    text: shippedText.replace('keyMatch(r.obj, p.obj)', 'keyMatch2(r.obj, p.obj)'),
    baseRules: asIs,
    rules: (policy) => [...policy.rules],
    request: (r) => [r.sub, r.dom, r.obj, r.act],
  },
  {
    name: 'rbac without domains',
    text: fixture('rbac_model.conf'),
    baseRules: withoutDenies,
    rules: (policy) =>
      byType(policy, (rule) => {
        const [a = '', b = '', c = '', d = '', eft = ''] = rule.values;
        if (rule.ptype === 'g') return { ptype: 'g', values: [scoped(c, a), scoped(c, b)] };
        return eft === 'deny' ? undefined : { ptype: 'p', values: [scoped(b, a), concrete(c), d] };
      }),
    request: (r) => [scoped(r.dom, r.sub), r.obj, r.act],
  },
  {
    name: 'rbac with resource roles (g2)',
    text: fixture('rbac_with_resource_roles_model.conf'),
    baseRules: (target, tenants) => withoutDenies(target - resourceGroups.length * tenants),
    rules: (policy) => {
      const rules = byType(policy, (rule) => {
        const [a = '', b = '', c = '', d = '', eft = ''] = rule.values;
        if (rule.ptype === 'g') return { ptype: 'g', values: [scoped(c, a), scoped(c, b)] };
        return eft === 'deny' ? undefined : { ptype: 'p', values: [scoped(b, a), scoped(b, `rg:${collection(c)}`), d] };
      });
      // Each tenant's resources join their resource group: `g2, <tenant>/accounts, <tenant>/rg:accounts`.
      for (const tenant of policy.tenants) {
        for (const resource of resourceGroups) {
          rules.push({ ptype: 'g2', values: [scoped(tenant, resource), scoped(tenant, `rg:${resource}`)] });
        }
      }
      return rules;
    },
    request: (r) => [scoped(r.dom, r.sub), scoped(r.dom, collection(r.obj)), r.act],
  },
  {
    name: 'explicit priority',
    text: priorityText,
    baseRules: asIs,
    // Denies take priority 1, allows 10: the first matching line in priority order decides.
    rules: (policy) =>
      byType(policy, (rule) => {
        const [a = '', b = '', c = '', d = '', eft = ''] = rule.values;
        if (rule.ptype === 'g') return { ptype: 'g', values: [scoped(c, a), scoped(c, b)] };
        return { ptype: 'p', values: [eft === 'deny' ? '1' : '10', scoped(b, a), concrete(c), d, eft] };
      }),
    request: (r) => [scoped(r.dom, r.sub), r.obj, r.act],
  },
  {
    name: 'abac attribute condition',
    text: abacText,
    baseRules: asIs,
    rules: (policy) => [...policy.rules],
    request: (r, index) => [r.sub, r.dom, r.obj, r.act, { amount: Math.floor(seededRandom(index + 1)() * 2_000) }],
  },
];
