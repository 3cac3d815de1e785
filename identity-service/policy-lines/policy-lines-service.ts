import type { PolicyChange, PolicyRule } from '../../engine/index.js';
import type { Caller } from '../../platform/http/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { identityLineShapes } from '../identity-line-shapes.js';
import type { WriteRequest } from '../record-change.js';
import { runWrite } from '../write-transaction.js';

/** A line as the API takes and answers it: its type and its values in the model's order. */
export interface PolicyLineInput {
  readonly ptype: string;
  readonly values: readonly string[];
}

/**
 * A line type this API may touch: one the model has, and not one whose shape Identity's roles, groups and
 * permission sets write (those change through them, under their own checks).
 */
function assertAuthorLineType(deps: IdentityDeps, ptype: string, field: string): void {
  const model = deps.engine.modelDefinition;
  const arity = ptype.startsWith('g') ? model.roleShapes.get(ptype) : model.policyShapes.get(ptype)?.length;
  if (arity === undefined) throw new ServiceError('VALIDATION_FAILED', { message: `the policy model has no "${ptype}" line`, field });
  const managed = identityLineShapes.find((shape) => shape.ptype === ptype && shape.fields === arity);
  if (managed) {
    throw new ServiceError('VALIDATION_FAILED', {
      message: `"${ptype}" lines hold ${managed.holds}: Identity writes them through roles, groups and permission sets`,
      field,
    });
  }
}

/** The line as the engine stores it, refused unless it belongs to the caller's organization. */
function ownLine(deps: IdentityDeps, caller: Caller, input: PolicyLineInput, field: string): PolicyRule {
  assertAuthorLineType(deps, input.ptype, `${field}.ptype`);
  const rule: PolicyRule = { ptype: input.ptype, values: [...input.values] };
  if (deps.engine.modelDefinition.tenantOf(rule) !== caller.tenantId) {
    throw new ServiceError('VALIDATION_FAILED', {
      message: "a line must name the caller's organization in its tenant field (the model's dom, or a role line's third field)",
      field: `${field}.values`,
    });
  }
  return rule;
}

function changesFor(op: 'add' | 'remove', rules: readonly PolicyRule[]): PolicyChange[] {
  return rules.map((rule) => ({ op, rule }));
}

const lineView = (rule: PolicyRule) => ({ ptype: rule.ptype, values: [...rule.values] });
const lineTarget = (rule: PolicyRule) => `${rule.ptype}, ${rule.values.join(', ')}`.slice(0, 1_000);

/**
 * The lines of a custom model that Identity's roles and groups do not write (resource roles `g2`, a second policy
 * `p2`, a `p` of another shape), read and written by the caller's organization only. Writes are validated against
 * the model by the engine, audited, revisioned and announced like every Identity write, and pass the no-escalation
 * rule (under a model other than the shipped one: the escalation permission).
 */
export function policyLinesService(deps: IdentityDeps) {
  return {
    /** The organization's lines of one type, in a stable order, a slice at a time, with the revision they are of. */
    async list(tenantId: string, query: { ptype: string; offset: number; limit: number }) {
      assertAuthorLineType(deps, query.ptype, 'query.ptype');
      await deps.engine.ensureTenant(tenantId);
      const lines = deps.engine.linesOf(tenantId, query.ptype);
      return { items: lines.slice(query.offset, query.offset + query.limit).map(lineView), total: lines.length, revision: deps.engine.revisionOf(tenantId) };
    },

    /** Adds the lines in one revision; `field` names the body's list, for the error that points at a bad line. */
    async add(request: WriteRequest, inputs: readonly PolicyLineInput[], field: string) {
      const rules = inputs.map((input, i) => ownLine(deps, request.caller, input, `${field}.${i}`));
      const { policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        tx.modelLines(...changesFor('add', rules));
        for (const rule of rules) tx.audit({ action: 'policy-line.add', targetType: 'policy-line', targetId: lineTarget(rule), after: rule });
      });
      return { lines: rules.map(lineView), revision: policyRevision };
    },

    /** Removes one line (or finds it already absent); `field` names where it was given. */
    async remove(request: WriteRequest, input: PolicyLineInput, field: string) {
      const rule = ownLine(deps, request.caller, input, field);
      const { policyRevision } = await runWrite(deps, request.caller, request.requestId, async (tx) => {
        tx.modelLines(...changesFor('remove', [rule]));
        tx.audit({ action: 'policy-line.remove', targetType: 'policy-line', targetId: lineTarget(rule), before: rule });
      });
      return { revision: policyRevision };
    },
  };
}

export type PolicyLinesService = ReturnType<typeof policyLinesService>;
