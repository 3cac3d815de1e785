import type { PolicyEngine, PolicyRule } from '../../engine/index.js';
import { ModelQuestions } from '../../platform/authorization/model-questions.js';
import type { DecisionFact } from '../../platform/decision-log/index.js';

const maxRemembered = 10_000;

export function ruleText(rule: PolicyRule): string {
  return [rule.ptype, ...rule.values].join(', ');
}

/**
 * Finds, at flush time, the rule a logged decision was made by: the engine's explanation of the same request,
 * only while the tenant is still at the decision's revision (a later policy could name another rule, so then
 * the rule is left unknown rather than guessed). Explanations are remembered per revision and request, so a
 * burst of the same question is explained once. Under a model whose matcher reads request attributes the rule is
 * left unknown: the log does not keep the attributes the decision saw.
 */
export function decidingRuleResolver(engine: PolicyEngine): (record: DecisionFact) => string | undefined {
  const remembered = new Map<string, string | null>();
  const questions = new ModelQuestions(engine);
  const explainOne = (tenantId: string, subject: string, resource: string, action: string): string | undefined => {
    const { decidingRules } = questions.explain({ subject, tenantId, resource, action });
    const first = decidingRules[0];
    return first ? ruleText(first) : undefined;
  };
  return (record) => {
    if (record.reason === 'subject_suspended' || record.reason === 'subject_unknown' || record.reason === 'no_matching_policy') return undefined;
    // A tenant evicted since the decision is not read back for a log line: its rule stays unknown.
    if (!engine.isTenantLoaded(record.tenantId) || engine.revisionOf(record.tenantId) !== record.revision) return undefined;
    const { mapping } = questions;
    if (!mapping.supported || mapping.attributesField !== undefined) return undefined;
    const key = `${record.revision}\u0000${record.tenantId}\u0000${record.subject}\u0000${record.product ?? ''}\u0000${record.resource}\u0000${record.action}`;
    const known = remembered.get(key);
    if (known !== undefined) return known ?? undefined;
    // A product's check is decided by `<product>/<resource>` first and by the bare resource only when that names nothing.
    const rule =
      (record.product === undefined ? undefined : explainOne(record.tenantId, record.subject, `${record.product}/${record.resource}`, record.action)) ??
      explainOne(record.tenantId, record.subject, record.resource, record.action);
    if (remembered.size >= maxRemembered) remembered.clear();
    remembered.set(key, rule ?? null);
    return rule;
  };
}
