import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import type { AnyRoute } from './route.js';

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ example: 'IDE-0001' }),
    message: z.string(),
    requestId: z.string(),
    field: z.string().optional(),
    retryable: z.boolean().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with the contract code' });

/** The OpenAPI 3.1 document of a service, generated from its routes' zod schemas (never written by hand). */
export function openApiDocument(info: { title: string; version: string; description?: string }, routes: readonly AnyRoute[]) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const responses: Record<string, NonNullable<ZodOpenApiOperationObject['responses']>[string & keyof NonNullable<ZodOpenApiOperationObject['responses']>]> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = spec.schema
        ? { description: spec.description, content: { 'application/json': { schema: spec.schema } } }
        : { description: spec.description };
    }
    responses.default = { description: 'An error', content: { 'application/problem+json': { schema: problem } } };
    const operation: ZodOpenApiOperationObject = {
      summary: route.summary,
      tags: [...route.tags],
      requestParams: {
        ...(route.params ? { path: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
      },
      ...(route.body ? { requestBody: { content: { 'application/json': { schema: route.body } } } } : {}),
      responses: responses as ZodOpenApiOperationObject['responses'],
      ...(route.auth === 'token' ? { security: [{ bearer: [] }] } : {}),
    };
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation };
  }
  return createDocument({
    openapi: '3.1.0',
    info,
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  });
}
