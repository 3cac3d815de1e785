import { z } from 'zod';
import { isPlainName, type Explanation, type PolicyRule } from '../../engine/index.js';
import type { Caller } from '../../platform/http/caller.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { ModelQuestions, type AccessQuestion } from '../../platform/authorization/model-questions.js';
import { decideForProduct } from '../authorization/product-scope.js';
import { requestAttributes, withCallerAddress } from '../authorization/request-attributes.js';
import { namedSubject } from '../authorization/subject.js';
import { assertCheckNames, authorizeOthersPermission, type AuthorizeParts } from './authorize.js';

type ExplainParts = Pick<AuthorizeParts, 'engine' | 'checkClientIp' | 'findSubject' | 'clientAddress' | 'clock'>;

const nameText = z.string().min(1).max(256);

const body = z
  .object({
    sub: z.string().min(1).max(320).optional(),
    resource: nameText,
    action: nameText,
    product: nameText.optional(),
    attributes: requestAttributes.optional(),
    minRevision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

const rule = z.object({ ptype: z.string(), values: z.array(z.string()) }).meta({ id: 'PolicyLine' });
const roleChain = z
  .object({ ptype: z.string(), domain: z.string().optional(), path: z.array(z.string()) })
  .meta({ id: 'RoleChain', description: 'The role links one role check followed, from the request\'s value to the rule\'s' });
const answer = z
  .object({
    authorized: z.boolean(),
    reason: z.enum(['permission', 'suspended']).optional(),
    outcome: z.enum(['allowed_by_policy', 'denied_by_policy', 'no_matching_policy']),
    revision: z.number().int(),
    timestamp: z.string(),
    subject: z.string(),
    request: z.record(z.string(), z.unknown()),
    decidingRules: z.array(rule),
    matchedRules: z.array(rule.extend({ roleChains: z.array(roleChain) })),
    roleChain: z.array(z.string()),
  })
  .meta({ id: 'AuthorizeExplanation' });

type Answer = z.infer<typeof answer>;

function lineOf(rule: PolicyRule): { ptype: string; values: string[] } {
  return { ptype: rule.ptype, values: [...rule.values] };
}

/**
 * The subject a `sub` of explain names: the caller when absent; a name as the policy writes it (`user:<id>`,
 * `group:<id>`, `role:<id>`, any subject of a custom model's lines) when it holds no `/`; else the contract's
 * `<owner>/<id or name>`, resolved as /v1/authorize resolves it.
 */
async function subjectOf(deps: ExplainParts, caller: Caller, sub: string | undefined): Promise<{ subject: string; active: boolean }> {
  if (sub === undefined) return { subject: caller.subject, active: true };
  if (!sub.includes('/') && !(caller.kind === 'application' && sub === caller.id)) {
    if (!isPlainName(sub) || sub.length > 256) throw new ServiceError('VALIDATION_FAILED', { message: 'sub may hold only letters, digits and _ . : @ -', field: 'body.sub' });
    return { subject: sub, active: true };
  }
  const named = namedSubject(caller, sub);
  if (named.self) return { subject: named.subject, active: true };
  const target = await deps.findSubject(caller.tenantId, named);
  if (!target) throw new ServiceError('NOT_FOUND', { message: 'sub names no user or application of this organization', field: 'body.sub' });
  return target;
}

function answerOf(explanation: Explanation, subject: string, active: boolean, request: Record<string, unknown>, timestamp: string): Answer {
  const { decision } = explanation;
  const deciding = explanation.decidingRules[0];
  const decidingAt = deciding === undefined ? -1 : explanation.matchedRules.findIndex((m) => m.ptype === deciding.ptype && m.values.join('\u0000') === deciding.values.join('\u0000'));
  const authorized = decision.allowed && active;
  return {
    authorized,
    ...(authorized ? {} : { reason: active ? ('permission' as const) : ('suspended' as const) }),
    outcome: decision.reason,
    revision: decision.revision,
    timestamp,
    subject,
    request,
    decidingRules: explanation.decidingRules.map(lineOf),
    matchedRules: explanation.matchedRules.map((matched, i) => ({
      ...lineOf(matched),
      roleChains: (explanation.roleChains[i] ?? []).map((chain) => ({ ptype: chain.ptype, ...(chain.domain === undefined ? {} : { domain: chain.domain }), path: [...chain.path] })),
    })),
    roleChain: decidingAt < 0 ? [] : [...(explanation.paths[decidingAt] ?? [])],
  };
}

/**
 * `POST /v1/authorize/explain`: the decision /v1/authorize would give, with the rules that matched, the rules
 * that decided and the role chain from the subject, under any model. It shows policy, so it needs `authorize post`
 * whoever it asks about. Attributes may set `ip` here (a what-if for `ipMatch`); by default it is the caller's.
 */
export function authorizeExplainRoutes(deps: ExplainParts): AnyRoute[] {
  const questions = new ModelQuestions(deps.engine);
  return [
    defineRoute({
      method: 'post',
      path: '/v1/authorize/explain',
      summary: 'The decision with the rules and role links behind it, under any model (needs authorize post)',
      tags: ['authorize'],
      auth: 'token',
      body,
      permission: authorizeOthersPermission,
      responses: { 200: { description: 'The decision and why', schema: answer } },
      async handler({ body: item, caller, req }) {
        assertCheckNames(item);
        const callerAddress = deps.clientAddress(req);
        // The asking client is the one whose address the organization's allowlist must admit.
        await deps.checkClientIp(req, caller.tenantId, item.product, callerAddress);
        const { subject, active } = await subjectOf(deps, caller, item.sub);
        const attributes = item.attributes?.ip === undefined ? withCallerAddress(item.attributes, callerAddress) : item.attributes;
        let question: AccessQuestion = { subject, tenantId: caller.tenantId, resource: item.resource, action: item.action, ...(attributes ? { attributes } : {}) };
        const options = item.minRevision === undefined ? {} : { minRevision: item.minRevision };
        if (item.product === undefined) await questions.decide(question, options);
        else question = { ...question, resource: (await decideForProduct(questions, question, item.product, options)).resource };
        await deps.engine.ensureTenant(caller.tenantId);
        const explanation = questions.explain(question);
        return {
          body: answerOf(explanation, subject, active, questions.requestOf(question), new Date(deps.clock.nowMs()).toISOString()),
          headers: { 'Cache-Control': 'no-store' },
        };
      },
    }),
  ];
}
