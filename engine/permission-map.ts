import type { TenantIndex } from './tenant-index.js';

/** Resource → the actions allowed on it (`*` entries as the policy wrote them). */
export type PermissionMap = Readonly<Record<string, readonly string[]>>;

/**
 * A subject's permission map from its effective rules: every allowed `(resource, action)`, minus the pairs a
 * deny names exactly (a deny with action `*` removes the whole resource). Patterns such as `accounts/*` and
 * the `*` action are reported as written, not expanded; a deny does not subtract from another resource's
 * pattern (the map is a summary for consoles; `decide` remains the authority).
 *
 * @example
 * permissionMapOf(index, 'user:1') // { accounts: ['get', 'post'], 'users/password': ['patch'] }
 */
export function permissionMapOf(index: TenantIndex | undefined, sub: string): PermissionMap {
  if (!index) return Object.freeze({});
  const allowed = new Map<string, Set<string>>();
  const denied = new Map<string, Set<string>>();
  for (const [resource, action, deny] of index.rulesFor(sub)) {
    const target = deny ? denied : allowed;
    let actions = target.get(resource);
    if (!actions) target.set(resource, (actions = new Set()));
    actions.add(action);
  }
  const out: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  for (const resource of [...allowed.keys()].sort()) {
    const denies = denied.get(resource);
    if (denies?.has('*')) continue;
    const actions = [...(allowed.get(resource) ?? [])].filter((action) => !denies?.has(action)).sort();
    if (actions.length > 0) out[resource] = Object.freeze(actions);
  }
  return Object.freeze(out);
}
