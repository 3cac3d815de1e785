import express, { type Router } from 'express';
import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import type { BuildInfo } from './build-info.js';

const versionAnswer = z
  .object({
    service: z.enum(['auth', 'identity']),
    version: z.string().meta({ example: '0.1.0' }),
    commit: z.string().optional().meta({ description: 'The git commit, when known' }),
  })
  .meta({ id: 'Version' });

const readiness = z
  .looseObject({
    ready: z.boolean(),
    failing: z.array(z.string()),
    checks: z.record(z.string(), z.object({ status: z.enum(['up', 'down']), durationMs: z.number(), error: z.string().optional() })),
    license: z.object({ status: z.enum(['valid', 'expiring', 'expired']), licensee: z.string(), expiresAt: z.string() }).optional(),
  })
  .meta({ id: 'Readiness' });

/** `GET /version`: which service answers, its version and, when known, its commit. No authentication (a probe). */
export function versionRoute(service: 'auth' | 'identity', build: BuildInfo): Router {
  const body = JSON.stringify(versionAnswer.parse({ service, ...build }));
  const router = express.Router();
  router.get('/version', (_req, res) => {
    res.type('application/json').send(body);
  });
  return router;
}

/** The OpenAPI operations of the probes served beside the route table: health, readiness, version. */
export const probeOperations: ZodOpenApiPathsObject = {
  '/health': {
    get: {
      operationId: 'getHealth',
      summary: 'Liveness: the plain body `healthy` (clients compare it)',
      tags: ['probes'],
      responses: {
        200: {
          description: 'Alive',
          headers: { 'X-License-Warning': { $ref: '#/components/headers/X-License-Warning' } },
          content: { 'text/plain': { schema: z.literal('healthy') } },
        },
      },
    },
  },
  '/ready': {
    get: {
      operationId: 'getReady',
      summary: 'Readiness: each dependency and the license',
      tags: ['probes'],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
        503: { description: 'Not ready: the failing checks are named', content: { 'application/json': { schema: readiness } } },
      },
    },
  },
  '/readyz': {
    get: {
      operationId: 'getReadyz',
      summary: 'Readiness under the Kubernetes name: the same answer as /ready',
      tags: ['probes'],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: readiness } } },
        503: { description: 'Not ready', content: { 'application/json': { schema: readiness } } },
      },
    },
  },
  '/version': {
    get: {
      operationId: 'getVersion',
      summary: 'The service, its version and commit',
      tags: ['probes'],
      responses: { 200: { description: 'Version', content: { 'application/json': { schema: versionAnswer } } } },
    },
  },
};
