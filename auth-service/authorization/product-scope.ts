import type { Decision, DecideOptions } from '../../engine/index.js';
import type { AccessQuestion, ModelQuestions } from '../../platform/authorization/model-questions.js';
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
 * Each of these is a cached engine decision, asked only after the product's name has not decided. `question` names
 * the bare resource; the answer says which name decided.
 */
export interface ProductDecision {
  readonly decision: Decision;
  /** The resource that decided: `<product>/<resource>`, or the bare name when it answered. */
  readonly resource: string;
}

export async function decideForProduct(
  questions: ModelQuestions,
  question: AccessQuestion,
  product: string,
  options: DecideOptions,
): Promise<ProductDecision> {
  const scopedResource = `${product}/${question.resource}`;
  const scoped = await questions.decide({ ...question, resource: scopedResource }, options);
  const byProduct: ProductDecision = { decision: scoped, resource: scopedResource };
  if (scoped.reason !== 'no_matching_policy' || isAccessManagerResource(question.resource)) return byProduct;
  const bare = await questions.decide(question);
  if (!bare.allowed) return byProduct;
  // The scoped decision has waited for any minRevision: these answer from the same revision or a newer one.
  if (questions.decideSync({ ...question, subject: rolelessSubject }).allowed) return byProduct;
  if (questions.decideSync({ ...question, resource: unnamedResource }).allowed) return byProduct;
  return { decision: bare, resource: question.resource };
}
