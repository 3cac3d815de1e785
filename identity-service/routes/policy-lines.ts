import { z } from 'zod';
import type { PolicyChange, PolicyRule } from '../../engine/index.js';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { IdentityDeps } from '../deps.js';
import { identityLineShapes } from '../identity-line-shapes.js';
import { revisionHeaders, runWrite } from '../write-transaction.js';

export const maxLinesPerWrite = 100;
const ptypeText = z.string().regex(/^[pg][0-9]{0,2}$/, 'a line type of the model: p, p2, g, g2, ...');
const value = z.string().min(1).max(256);
const line = z.object({ ptype: ptypeText, values: z.array(value).min(1).max(16) }).strict().meta({ id: 'PolicyLineInput' });
const listQuery = z
  .object({
    ptype: ptypeText,
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
const removeQuery = z
  .object({
    ptype: ptypeText,
    // Stored values never hold a comma (the adapter rebuilds lines as CSV), so a comma separates them here.
    values: z.string().min(1).max(16 * 257),
  })
  .strict();
const lineAnswer = z.object({ ptype: z.string(), values: z.array(z.string()) }).meta({ id: 'PolicyLineOutput' });
const page = z.object({ items: z.array(lineAnswer), total: z.number().int(), revision: z.number().int() }).meta({ id: 'PolicyLinePage' });

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
function ownLine(deps: IdentityDeps, caller: Caller, input: { ptype: string; values: readonly string[] }, field: string): PolicyRule {
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

/**
 * `/v1/policy-lines`: the lines of a custom model that Identity's roles and groups do not write (resource roles
 * `g2`, a second policy `p2`, a `p` of another shape), read and written by the caller's organization only. Writes
 * are validated against the model by the engine, audited, revisioned and announced like every Identity write, and
 * pass the no-escalation rule (under a model other than the shipped one: the escalation permission).
 */
export function policyLinesRoutes(deps: IdentityDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/policy-lines',
      summary: "The caller's organization's lines of one type of the model (g2, p2, ...)",
      tags: ['roles'],
      auth: 'token',
      query: listQuery,
      permission: { resource: 'roles', action: 'get' },
      responses: { 200: { description: 'The lines, in a stable order', schema: page } },
      async handler({ query, caller }) {
        assertAuthorLineType(deps, query.ptype, 'query.ptype');
        const lines = deps.engine.linesOf(caller.tenantId, query.ptype);
        const items = lines.slice(query.offset, query.offset + query.limit).map((rule) => ({ ptype: rule.ptype, values: [...rule.values] }));
        return { body: { items, total: lines.length, revision: deps.engine.revisionOf(caller.tenantId) }, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/policy-lines',
      summary: `Adds up to ${maxLinesPerWrite} lines of the model's author-managed types in one revision`,
      tags: ['roles'],
      auth: 'token',
      body: z.object({ lines: z.array(line).min(1).max(maxLinesPerWrite) }).strict(),
      permission: { resource: 'roles', action: 'post' },
      responses: { 201: { description: 'Written; X-Policy-Revision names the revision', schema: z.object({ lines: z.array(lineAnswer), revision: z.number().int() }) } },
      async handler({ body, caller, requestId }) {
        const rules = body.lines.map((input, i) => ownLine(deps, caller, input, `body.lines.${i}`));
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          tx.modelLines(...changesFor('add', rules));
          for (const rule of rules) tx.audit({ action: 'policy-line.add', targetType: 'policy-line', targetId: `${rule.ptype}, ${rule.values.join(', ')}`.slice(0, 1_000), after: rule });
        });
        return { status: 201, body: { lines: rules.map((rule) => ({ ptype: rule.ptype, values: [...rule.values] })), revision: policyRevision }, headers: revisionHeaders(policyRevision) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/policy-lines',
      summary: 'Removes one line (values comma-separated, in the model\'s order)',
      tags: ['roles'],
      auth: 'token',
      query: removeQuery,
      permission: { resource: 'roles', action: 'delete' },
      responses: { 204: { description: 'Removed (or already absent); X-Policy-Revision names the revision' } },
      async handler({ query, caller, requestId }) {
        const rule = ownLine(deps, caller, { ptype: query.ptype, values: query.values.split(',') }, 'query');
        const { policyRevision } = await runWrite(deps, caller, requestId, async (tx) => {
          tx.modelLines(...changesFor('remove', [rule]));
          tx.audit({ action: 'policy-line.remove', targetType: 'policy-line', targetId: `${rule.ptype}, ${rule.values.join(', ')}`.slice(0, 1_000), before: rule });
        });
        return { status: 204, headers: revisionHeaders(policyRevision) };
      },
    }),
  ];
}
