import type { ModelDefinition, PolicyChange } from '../engine/index.js';
import { ServiceError } from '../platform/http/service-error.js';

/** A line type Identity writes for roles, groups and permission sets, and what it holds. */
export interface IdentityLineShape {
  readonly ptype: 'p' | 'g';
  readonly fields: number;
  readonly holds: string;
}

export const identityLineShapes: readonly IdentityLineShape[] = [
  { ptype: 'p', fields: 5, holds: 'the permissions of roles and permission sets: p, <role>, <tenant>, <resource>, <action>, <allow|deny>' },
  { ptype: 'g', fields: 3, holds: 'memberships and role bindings: g, <member>, <group or role>, <tenant>' },
];

function describeShape(model: ModelDefinition, ptype: 'p' | 'g'): string {
  if (ptype === 'p') {
    const fields = model.policyShapes.get('p');
    return fields ? `its p has ${fields.length} fields (${fields.join(', ')})` : 'it has no p line';
  }
  const count = model.roleShapes.get('g');
  return count === undefined ? 'it has no g line' : `its g has ${count} fields`;
}

/** The line shapes Identity writes that `model` cannot read, each with what the model has instead. */
export function lackedIdentityShapes(model: ModelDefinition): { readonly shape: IdentityLineShape; readonly instead: string }[] {
  return identityLineShapes.filter((shape) => !model.hasLineShape(shape.ptype, shape.fields)).map((shape) => ({ shape, instead: describeShape(model, shape.ptype) }));
}

/**
 * The one line Identity logs at start when the configured model lacks a shape it writes (undefined when it has
 * them all): which writes it will refuse, and why.
 */
export function identityShapesNotice(model: ModelDefinition): string | undefined {
  const lacked = lackedIdentityShapes(model);
  if (lacked.length === 0) return undefined;
  const parts = lacked.map(({ shape, instead }) => `a ${shape.fields}-field ${shape.ptype} line (${shape.holds}) — ${instead}`);
  return `the policy model lacks ${parts.join('; and ')}: role, group, user-membership and permission-set writes that need it are refused (409); write the model's own lines through /v1/policy-lines`;
}

/** Refuses (409, nothing written) Identity-managed lines the configured model cannot read. */
export function assertIdentityLines(model: ModelDefinition, changes: readonly PolicyChange[]): void {
  for (const { rule } of changes) {
    const shape = identityLineShapes.find((s) => s.ptype === rule.ptype);
    if (shape && !model.hasLineShape(shape.ptype, shape.fields)) {
      throw new ServiceError('MODEL_CANNOT_ANSWER', {
        message: `the configured policy model cannot hold this write: Identity writes ${shape.holds}, and ${describeShape(model, shape.ptype)}`,
        detail: `model lacks a ${shape.fields}-field ${shape.ptype} line`,
      });
    }
  }
}
