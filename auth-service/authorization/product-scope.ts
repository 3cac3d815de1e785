import type { Decision, DecideOptions, PolicyEngine } from '../../engine/index.js';
import { isAccessManagerResource } from '../../domain/access-manager-resources.js';

/** A subject no role reaches: whatever it is allowed, every subject of the tenant is allowed (a subject `*` rule). */
export const rolelessSubject = '@nobody';
/** A resource no rule names: whatever the subject may do on it, it may do on any resource (a resource `*` rule). */
export const unnamedResource = '@unnamed';

/**
 * The decision for `resource` of `product`. The product's own name, `<product>/<resource>`, decides whenever a
 * rule matches it (an allow allows, a deny denies). Only when none does may the bare `<resource>` answer, for
 * products whose roles were written on bare names (Lerian's seeds: `accounts`), and only when the bare allow is
 * about that resource and that subject:
 * - never for one of the Access Manager's own resources (Identity's `users`, `groups`, ..., Auth's `authorize`):
 *   a rule on those is a right over the Access Manager, not over a product;
 * - never when a subject holding no role is allowed the bare resource and action (a rule for every subject of
 *   the tenant, `*`, grants it);
 * - never when the subject may do the action on a resource no rule names (a rule for every resource, `*`,
 *   grants it). With the shipped model such a rule matches `<product>/<resource>` too and has already answered.
 * Each of these is a cached engine decision, asked only after the product's name has not decided.
 */
export async function decideForProduct(
  engine: PolicyEngine,
  tenantId: string,
  subject: string,
  product: string,
  resource: string,
  action: string,
  options: DecideOptions,
): Promise<Decision> {
  const scoped = await engine.decide({ sub: subject, dom: tenantId, obj: `${product}/${resource}`, act: action }, options);
  if (scoped.reason !== 'no_matching_policy' || isAccessManagerResource(resource)) return scoped;
  const bare = await engine.decide({ sub: subject, dom: tenantId, obj: resource, act: action });
  if (!bare.allowed) return scoped;
  // The scoped decision has waited for any minRevision: these answer from the same revision or a newer one.
  if (engine.decideSync({ sub: rolelessSubject, dom: tenantId, obj: resource, act: action }).allowed) return scoped;
  if (engine.decideSync({ sub: subject, dom: tenantId, obj: unnamedResource, act: action }).allowed) return scoped;
  return bare;
}
