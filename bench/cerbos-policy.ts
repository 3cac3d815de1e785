// One tenant's policy lines (the shipped model: `p, sub, dom, obj, act, eft` and `g, member, role, dom`) as Cerbos
// resource policies, for the authorize bench's side-by-side Cerbos PDP. Roles are given in the request (Cerbos
// resolves no groups): `cerbosPrincipal` lists the subject and every role it reaches through the tenant's `g` lines.
//
// The decision is the engine's: allowed when some allow line of the subject (or of `*`) matches and no deny line
// does. Cerbos decides role by role and allows when any one role allows, so a deny line becomes a rule for every
// role (`roles: ["*"]`) whose condition asks whether the principal holds the denied subject: it then denies in
// each role's evaluation, as the engine's deny overrides every allow.
import { stringify } from 'yaml';
import type { PolicyRule } from '../engine/index.js';

/** A policy file for Cerbos's disk store. */
export interface CerbosPolicyFile {
  readonly name: string;
  readonly yaml: string;
}

export interface CerbosPrincipal {
  readonly id: string;
  readonly roles: readonly string[];
}

// Names that are valid Cerbos resource kinds, roles and actions, and CEL string literals without escaping.
const cerbosName = /^[A-Za-z][A-Za-z0-9_@.:/-]{0,254}$/;

function assertName(what: string, name: string): void {
  if (!cerbosName.test(name)) throw new RangeError(`Cerbos has no equivalent of the ${what} ${JSON.stringify(name)}`);
}

interface Rule {
  actions: string[];
  effect: 'EFFECT_ALLOW' | 'EFFECT_DENY';
  roles: string[];
  condition?: { match: { expr: string } };
}

/**
 * Cerbos resource policies deciding as the engine does for `tenantId`'s lines: one policy per resource named in
 * a `p` line (its kind), one rule per line. Resource patterns (`accounts/*`, `*`) have no Cerbos kind and are
 * refused, as are names Cerbos cannot hold.
 *
 * @example
 * cerbosPolicies('acme', [{ ptype: 'p', values: ['role:reader', 'acme', 'accounts', 'get', 'allow'] }]);
 * // [{ name: 'accounts.yaml', yaml: 'apiVersion: api.cerbos.dev/v1\nresourcePolicy: ...' }]
 */
export function cerbosPolicies(tenantId: string, rules: readonly PolicyRule[]): CerbosPolicyFile[] {
  const byKind = new Map<string, Rule[]>();
  for (const rule of rules) {
    if (rule.ptype !== 'p') continue;
    const [subject, domain, resource, action, effect] = rule.values as [string, string, string, string, string];
    if (domain !== tenantId) continue;
    if (effect !== 'allow' && effect !== 'deny') throw new RangeError(`unknown effect ${JSON.stringify(effect)}`);
    assertName('resource', resource);
    if (action !== '*') assertName('action', action);
    if (subject !== '*') assertName('subject', subject);
    const cerbosRule: Rule =
      effect === 'allow'
        ? { actions: [action], effect: 'EFFECT_ALLOW', roles: [subject] }
        : {
            actions: [action],
            effect: 'EFFECT_DENY',
            roles: ['*'],
            ...(subject === '*' ? {} : { condition: { match: { expr: `${JSON.stringify(subject)} in P.roles` } } }),
          };
    const list = byKind.get(resource) ?? [];
    list.push(cerbosRule);
    byKind.set(resource, list);
  }
  return [...byKind].map(([kind, kindRules], i) => ({
    name: `policy-${i}.yaml`,
    yaml: stringify({ apiVersion: 'api.cerbos.dev/v1', resourcePolicy: { version: 'default', resource: kind, rules: kindRules } }),
  }));
}

/** The principal of a Cerbos check for `subject`: itself and every role it reaches in `tenantId` (breadth first). */
export function cerbosPrincipal(tenantId: string, rules: readonly PolicyRule[], subject: string): CerbosPrincipal {
  const parents = new Map<string, string[]>();
  for (const rule of rules) {
    if (rule.ptype !== 'g' || rule.values[2] !== tenantId) continue;
    const [member, role] = rule.values as [string, string];
    parents.set(member, [...(parents.get(member) ?? []), role]);
  }
  const roles = [subject];
  for (let i = 0; i < roles.length; i++) {
    for (const role of parents.get(roles[i] as string) ?? []) if (!roles.includes(role)) roles.push(role);
  }
  for (const role of roles) assertName('subject', role);
  return { id: subject, roles };
}

/** The body of Cerbos's `POST /api/check/resources` for one action on one resource. */
export function cerbosCheckBody(principal: CerbosPrincipal, resource: string, action: string): string {
  return JSON.stringify({
    requestId: 'bench',
    principal: { id: principal.id, roles: principal.roles },
    resources: [{ actions: [action], resource: { kind: resource, id: 'bench' } }],
  });
}
