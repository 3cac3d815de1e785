import type { PolicyChange, PolicyRule } from './policy-rule.js';

/** A resource pattern and an action as a policy line names them: what a write gives, what a subject may hold. */
export interface Grant {
  readonly resource: string;
  readonly action: string;
}

/** One `p` line of a subject, as `[resource, action, deny]`. */
export type SubjectLine = readonly [resource: string, action: string, deny: boolean];

/** What the holdings rules read of one tenant's policy (the shipped tenant-RBAC model). */
export interface HoldingsView {
  /** `subject` and every role it reaches, within casbin's hierarchy limit. */
  reach(subject: string): readonly string[];
  /** The `p` lines whose subject is exactly `subject` (not those of the roles it reaches). */
  linesOf(subject: string): Iterable<SubjectLine>;
  /** Whether exactly this rule is stored. */
  has(rule: PolicyRule): boolean;
}

/** The part of a pattern before its first `*` (casbin's `keyMatch` ignores what follows), or undefined without one. */
function prefixOf(pattern: string): string | undefined {
  const star = pattern.indexOf('*');
  return star < 0 ? undefined : pattern.slice(0, star);
}

/**
 * Whether resource pattern `outer` matches every resource `inner` can match (casbin's `keyMatch`: a pattern
 * with a `*` matches every name starting with what precedes the `*`; any other pattern only itself).
 *
 * @example
 * patternCovers('accounts/*', 'accounts/7')  // true
 * patternCovers('accounts/7', 'accounts/*')  // false: `accounts/8` escapes it
 */
export function patternCovers(outer: string, inner: string): boolean {
  const prefix = prefixOf(outer);
  if (prefix === undefined) return outer === inner;
  // With a `*` of its own, `inner` starts with `prefix` only if its own prefix does (the `*` never equals a name character).
  return inner.startsWith(prefix);
}

/** Whether some resource matches both patterns (one prefix extends the other, or the names are equal). */
export function patternsIntersect(a: string, b: string): boolean {
  const pa = prefixOf(a);
  const pb = prefixOf(b);
  if (pa === undefined && pb === undefined) return a === b;
  if (pa !== undefined && pb !== undefined) return pa.startsWith(pb) || pb.startsWith(pa);
  return pa === undefined ? a.startsWith(pb as string) : b.startsWith(pa);
}

/** Whether action `outer` allows every action `inner` names: `*` covers all, a verb only itself (never `*`). */
export function actionCovers(outer: string, inner: string): boolean {
  return outer === '*' || (inner !== '*' && outer === inner);
}

export function actionsIntersect(a: string, b: string): boolean {
  return a === '*' || b === '*' || a === b;
}

function* linesReaching(view: HoldingsView, subject: string): Generator<SubjectLine> {
  const names = new Set(view.reach(subject));
  names.add('*');
  for (const name of names) yield* view.linesOf(name);
}

/**
 * Whether `subject` holds `(resource, action)`: every concrete request the pair can match is allowed to it.
 * That takes one allow line the subject is under (its own, a role's it reaches, or subject `*`) whose pattern
 * covers `resource` and whose action covers `action` — `accounts/*` is held through `accounts/*`, `accounts*` or
 * `*`, never through `accounts/x`; action `*` only through `*` — and no deny line it is under whose pattern
 * and action intersect the pair's: a deny on `accounts/x` means `accounts/*` is not held. Several allow lines
 * are never added up to cover one pattern, so the answer may be "not held" where a union would cover it: the
 * rule errs towards refusing.
 *
 * @example
 * // p, role:ops, acme, accounts/*, get, allow   p, role:ops, acme, accounts/frozen, *, deny   g, user:1, role:ops, acme
 * holds(view, 'user:1', { resource: 'accounts/7', action: 'get' })   // true
 * holds(view, 'user:1', { resource: 'accounts/*', action: 'get' })   // false: the deny on accounts/frozen
 */
export function holds(view: HoldingsView, subject: string, grant: Grant): boolean {
  let allowed = false;
  for (const [resource, action, deny] of linesReaching(view, subject)) {
    if (deny) {
      if (patternsIntersect(resource, grant.resource) && actionsIntersect(action, grant.action)) return false;
    } else if (!allowed && patternCovers(resource, grant.resource) && actionCovers(action, grant.action)) {
      allowed = true;
    }
  }
  return allowed;
}

const grantKey = (grant: Grant) => `${grant.resource}\u0000${grant.action}`;

function unique(grants: Iterable<Grant>): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const grant of grants) if (!byKey.has(grantKey(grant))) byKey.set(grantKey(grant), { resource: grant.resource, action: grant.action });
  return [...byKey.values()];
}

/** The pairs of `wanted` that `subject` does not hold, each once, in their first order (the batch form of `holds`). */
export function missingGrants(view: HoldingsView, subject: string, wanted: Iterable<Grant>): Grant[] {
  return unique(wanted).filter((grant) => !holds(view, subject, grant));
}

/**
 * What a new member of `role` would gain: the allow lines of `role` and of every role it reaches. Lines of
 * subject `*` are left out: every subject of the tenant is under them already.
 *
 * @example
 * grantsOfBinding(view, 'group:admins') // [{ resource: 'users', action: '*' }, ...] from every role the group holds
 */
export function grantsOfBinding(view: HoldingsView, role: string): Grant[] {
  return unique(linesOfKind(view, role, false));
}

function* linesOfKind(view: HoldingsView, role: string, deny: boolean): Generator<Grant> {
  for (const name of view.reach(role)) {
    if (name === '*') continue;
    for (const [resource, action, isDeny] of view.linesOf(name)) if (isDeny === deny) yield { resource, action };
  }
}

/**
 * What a batch of changes would give somebody, judged against the policy before the batch. An allow line added
 * gives its pair; a deny line removed gives back the pair it blocked; a `g` link added gives the member every
 * allow line the role reaches (`grantsOfBinding`); a `g` link removed lifts every deny line the role reaches.
 * Adding a line already stored, or removing one that is not, gives nothing. Deny lines added and allow lines or
 * links removed only take away. Checking each added link against the role's lines before the batch is enough:
 * whatever a member reaches through several new links, it reaches through the last of them and pre-existing links.
 */
export function grantsOf(view: HoldingsView, changes: readonly PolicyChange[]): Grant[] {
  const out: Grant[] = [];
  for (const { op, rule } of changes) {
    if (op === 'add' ? view.has(rule) : !view.has(rule)) continue;
    if (rule.ptype === 'p') {
      const [, , resource = '', action = '', effect = ''] = rule.values;
      if ((op === 'add' && effect === 'allow') || (op === 'remove' && effect === 'deny')) out.push({ resource, action });
    } else if (rule.ptype === 'g') {
      const role = rule.values[1] ?? '';
      out.push(...linesOfKind(view, role, op === 'remove'));
    }
  }
  return unique(out);
}
