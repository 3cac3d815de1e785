/**
 * The order node-casbin evaluates `p` rules in after loading a policy: the stored order, sorted by
 * `parseInt(priority)` when the policy has a priority field (a stable sort), then, for the subject-priority
 * effect, by the depth of each rule's subject in the `g` hierarchy. Both sorts are casbin's own comparisons
 * (odd ones included: a subject without role links compares as NaN), applied with the same Array.prototype.sort,
 * so the resulting order is the one an enforcer that loaded this policy uses.
 */
export interface OrderInput {
  /** The `p` rules in stored order. */
  readonly rules: readonly (readonly string[])[];
  /** The `p` tokens without their prefix (`sub`, `dom`, ...). */
  readonly tokens: readonly string[];
  readonly sortByPriority: boolean;
  readonly sortBySubject: boolean;
  /** The `g` rules in stored order (subject priority reads them). */
  readonly groupRules: readonly (readonly string[])[];
}

const separator = '::';

/** `rule[i]` as casbin reads it: position -1 (a field the definition lacks) is undefined, not the last value. */
const fieldAt = (rule: readonly string[], i: number): string | undefined => (i < 0 ? undefined : rule[i]);

export function casbinPolicyOrder(input: OrderInput): (readonly string[])[] {
  const rules = [...input.rules];
  const priorityIndex = input.tokens.indexOf('priority');
  if (input.sortByPriority && priorityIndex !== -1) {
    rules.sort((a, b) => parseInt(a[priorityIndex] as string, 10) - parseInt(b[priorityIndex] as string, 10));
  }
  if (!input.sortBySubject) return rules;
  const domainIndex = input.tokens.indexOf('dom');
  const subjectIndex = input.tokens.indexOf('sub');
  const hierarchy = subjectHierarchy(input.groupRules, input.tokens);
  rules.sort((a, b) => {
    const domainA = domainIndex === -1 ? '' : a[domainIndex];
    const domainB = domainIndex === -1 ? '' : b[domainIndex];
    const priorityA = hierarchy.get(`${domainA}${separator}${fieldAt(a, subjectIndex)}`) as number;
    const priorityB = hierarchy.get(`${domainB}${separator}${fieldAt(b, subjectIndex)}`) as number;
    return priorityB - priorityA;
  });
  return rules;
}

/**
 * casbin's getSubjectHierarchyMap: each name's depth (×10) in the `g` hierarchy. casbin reads the `g` rules with
 * the `p` definition's field positions (`sub` as the member, `obj` as the role, `dom` as the domain), and so do we.
 */
function subjectHierarchy(groupRules: readonly (readonly string[])[], tokens: readonly string[]): Map<string, number> {
  const depth = new Map<string, number>();
  const parentOf = new Map<string, string>();
  const domIndex = tokens.indexOf('dom');
  const subIndex = tokens.indexOf('sub');
  const objIndex = tokens.indexOf('obj');
  let domain: string | undefined = '';
  for (const rule of groupRules) {
    if (rule.length !== 2) domain = fieldAt(rule, domIndex);
    const child = `${domain}${separator}${fieldAt(rule, subIndex)}`;
    const parent = `${domain}${separator}${fieldAt(rule, objIndex)}`;
    parentOf.set(child, parent);
    if (!depth.has(child)) depth.set(child, 0);
    if (!depth.has(parent)) depth.set(parent, 0);
    depth.set(child, 1);
  }
  const pending = new Set<string>();
  for (const [name, value] of depth) if (value !== 0) pending.add(name);
  const settle = (child: string): void => {
    pending.delete(child);
    const parent = parentOf.get(child) as string;
    if (pending.has(parent)) settle(parent);
    depth.set(child, (depth.get(parent) as number) + 10);
  };
  while (pending.size !== 0) {
    for (const child of pending.values()) settle(child);
  }
  return depth;
}
