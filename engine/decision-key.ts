/** The unit separator: no valid tenant, subject, resource or action contains it (engine/policy-names.ts). */
const separator = '\u001f';

/**
 * The cache key of one decision. The parts are joined with a character that no valid name may contain and
 * the revision is a number, so a key has exactly four separators and splits back into its parts one way
 * only: two different requests never share a key (node-casbin's CachedEnforcer joins with `$$`, which names
 * may contain, so `("a$$b","c")` and `("a","b$$c")` collide). A request whose parts hold the separator is
 * invalid and is never stored, so it cannot hit. The tenant's revision is part of the key, so a decision
 * made before a policy change is unreachable after it. Five flat parts also keep the key cheap to build and
 * hash: this is the in-process hit's main cost.
 *
 * @example
 * decisionKey('acme', 7, 'user:1', 'accounts', 'get') // 'acme\u001f7\u001fuser:1\u001faccounts\u001fget'
 */
export function decisionKey(tenantId: string, revision: number, sub: string, obj: string, act: string): string {
  return tenantId + separator + revision + separator + sub + separator + obj + separator + act;
}
