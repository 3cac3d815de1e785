import { z } from 'zod';
import { ModelQuestions } from '../../platform/authorization/model-questions.js';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';

const policyModel = z
  .object({
    /** The model's request fields in order, each with what Auth fills it from; what a decision tester asks for. */
    requestFields: z.array(z.object({ name: z.string(), source: z.enum(['subject', 'tenant', 'resource', 'action', 'attributes']).optional() })),
    /** False when the services cannot put a question into this model's request (then `reason` says why). */
    supported: z.boolean(),
    reason: z.string().optional(),
    /** The shipped model, decided on its dedicated fast path. */
    shipped: z.boolean(),
  })
  .meta({ id: 'PolicyModel' });

/** The configured Casbin model's request, as Auth's authorize and explain put a question into it. */
export function policyModelRoutes(deps: IdentityDeps): AnyRoute[] {
  const questions = new ModelQuestions(deps.engine);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/policy-model',
      summary: "The policy model's request fields and what fills each (subject, tenant, resource, action, attributes)",
      tags: ['roles'],
      auth: 'token',
      // Whoever may read roles may read the shape of the policy they are written in.
      permission: { resource: 'roles', action: 'get' },
      responses: { 200: { description: 'The request definition', schema: policyModel } },
      async handler() {
        const { mapping } = questions;
        const shipped = deps.engine.fastPath;
        if (!mapping.supported) {
          return { body: { requestFields: deps.engine.modelDefinition.requestFields.map((name) => ({ name })), supported: false, reason: mapping.reason, shipped } };
        }
        return { body: { requestFields: mapping.fields.map(({ name, source }) => ({ name, source })), supported: true, shipped } };
      },
    }),
  ];
}
