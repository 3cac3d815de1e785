import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../../platform/http/route.js';
import type { IdentityDeps } from '../deps.js';
import { applicationName } from '../record-fields.js';
import { revisionHeaders } from '../write-transaction.js';
import { declarationsService } from './declarations-service.js';
import { manifestSchema } from './manifest.js';

/** `PUT /v1/declarations/{slug}`: a product publishes its permission manifest (see declarationsService). */
export function declarationsRoutes(deps: IdentityDeps): AnyRoute[] {
  const declarations = declarationsService(deps);
  return [
    defineRoute({
      method: 'put',
      path: '/v1/declarations/{slug}',
      summary: "Publish a product's permission manifest (its own application token; idempotent by the manifest's hash)",
      tags: ['declarations'],
      auth: 'token',
      params: z.object({ slug: applicationName }).strict(),
      body: manifestSchema,
      responses: {
        200: {
          description: 'Applied, or unchanged when the manifest is the one last applied (no new policy revision)',
          schema: z.object({ changed: z.boolean(), policyRevision: z.number().int() }).meta({ id: 'DeclarationResult' }),
        },
      },
      async handler({ params, body, caller, requestId }) {
        const { changed, policyRevision } = await declarations.apply({ caller, requestId }, params.slug, body);
        return { body: { changed, policyRevision }, headers: revisionHeaders(policyRevision) };
      },
    }),
  ];
}
