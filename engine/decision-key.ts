/**
 * The cache key of one decision. Every part is length-prefixed, so two different requests can never share
 * a key (node-casbin's CachedEnforcer joins with `$$`, so `("a$$b","c")` and `("a","b$$c")` collide), and
 * the tenant's revision is part of it, so a decision made before a policy change is unreachable after it.
 *
 * @example
 * decisionKey('acme', 7, 'user:1', 'accounts', 'get') // '4:acme#7#6:user:18:accounts3:get'
 */
export function decisionKey(tenantId: string, revision: number, sub: string, obj: string, act: string): string {
  return `${tenantId.length}:${tenantId}#${revision}#${sub.length}:${sub}${obj.length}:${obj}${act.length}:${act}`;
}
