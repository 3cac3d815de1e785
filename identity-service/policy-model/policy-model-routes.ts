import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { policyModelService } from './policy-model-service.js';

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

/** `GET /v1/policy-model`: the configured model's request (see policyModelService). */
export function policyModelRoutes(deps: IdentityDeps): AnyRoute[] {
  const model = policyModelService(deps);
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
        return { body: model.describe() };
      },
    }),
  ];
}
