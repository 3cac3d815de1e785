import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
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
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with the contract code; `type` is the code\'s entry in the error reference (/docs/errors/<code>, relative to the service)' });

const oauthError = z
  .object({
    error: z.string().meta({ example: 'invalid_grant' }),
    error_description: z.string().optional(),
    code: z.string().optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: 'OAuthError', description: 'RFC 6749 5.2 error response' });

/** Response headers a route may document (each defined once under components.headers). */
export type ResponseHeaderName = 'ETag' | 'X-Policy-Revision' | 'Retry-After' | 'Cache-Control' | 'RateLimit' | 'RateLimit-Policy' | 'X-Request-Id' | 'X-License-Warning';

const responseHeaders: Record<ResponseHeaderName, { description: string; schema: { type: 'string' | 'integer' } }> = {
  ETag: { description: 'The version of the record answered (when the answer is one versioned record); send it back in If-Match to update it without losing a concurrent change', schema: { type: 'string' } },
  'X-Policy-Revision': { description: 'The tenant policy revision this write produced (when it changed policy): pass it as minRevision to /v1/authorize to read your own write', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds to wait before retrying (RFC 9110 10.2.3)', schema: { type: 'integer' } },
  'Cache-Control': { description: 'no-store: the answer carries credentials', schema: { type: 'string' } },
  RateLimit: { description: 'The remaining quota of the rate limit that applies to this route (IETF draft-ietf-httpapi-ratelimit-headers-08)', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The rate limit that applies to this route: quota and window', schema: { type: 'string' } },
  'X-Request-Id': { description: 'The request id (the caller’s own X-Request-Id when acceptable, else generated); also in every problem body', schema: { type: 'string' } },
  'X-License-Warning': { description: 'Present while the license expires within 14 days or has expired', schema: { type: 'string' } },
};

const headerRef = (name: ResponseHeaderName) => ({ $ref: `#/components/headers/${name}` });

/** Request headers a route may document (each defined once under components.parameters). */
export type RequestHeaderName = 'If-Match';

const requestHeaderParameters = {
  RequestIdHeader: {
    name: 'X-Request-Id',
    in: 'header' as const,
    required: false,
    description: 'Your own request id (8-64 characters of A-Z a-z 0-9 . _ -), echoed in the answer and the logs',
    schema: { type: 'string' as const, pattern: '^[A-Za-z0-9._-]{8,64}$' },
  },
  IfMatchHeader: {
    name: 'If-Match',
    in: 'header' as const,
    required: false,
    description: 'The ETag of the version this update was made from: 412 when the record changed since (optimistic concurrency)',
    schema: { type: 'string' as const, example: '"3"' },
  },
};

const parameterOfHeader: Record<RequestHeaderName, keyof typeof requestHeaderParameters> = { 'If-Match': 'IfMatchHeader' };

/** What a service says about a route beyond its spec: the headers it reads and answers, the refusals it may give. */
export interface RouteDocumentation {
  readonly requestHeaders?: readonly RequestHeaderName[];
  /** Headers of its success answers. */
  readonly responseHeaders?: readonly ResponseHeaderName[];
  /** Refusal statuses beyond the ones every route of its kind has (409, 412, 429...). */
  readonly refusals?: readonly number[];
}

export interface OpenApiOptions {
  readonly info: { title: string; version: string; description?: string };
  readonly routes: readonly AnyRoute[];
  readonly servers?: readonly { url: string; description?: string }[];
  /** Paths that take form-encoded bodies (and JSON); the form comes first, as the standards want. */
  readonly formPaths?: readonly string[];
  /** Paths whose refusals are RFC 6749 bodies. */
  readonly oauthPaths?: readonly string[];
  readonly describe?: (route: AnyRoute) => RouteDocumentation;
  /** Operations served outside the route table (health, readiness, version, metrics). */
  readonly extraPaths?: ZodOpenApiPathsObject;
  /** Where the service serves its error reference (the document's externalDocs). */
  readonly errorReferenceUrl?: string;
}

const refusalDescriptions: Record<number, string> = {
  400: 'Invalid request: malformed body, path or query, or a field that fails validation (the problem names it in `field`)',
  401: 'Missing, malformed, expired or revoked token (WWW-Authenticate: Bearer)',
  403: 'Authenticated, but not permitted (or outside the IP allowlist)',
  404: 'No such record in the caller’s tenant',
  405: 'Method not allowed (Allow lists the methods)',
  409: 'Conflicts with an existing record or a concurrent change',
  412: 'If-Match names a version that is no longer current',
  413: 'Body larger than the limit',
  415: 'Body not application/json (or form-encoded where taken), or not what its Content-Encoding says',
  429: 'Too many requests: a rate limit or a lockout (Retry-After)',
  500: 'Internal error (never carries details)',
  503: 'A dependency (PostgreSQL, Valkey, the policy engine) is unavailable, or the requested policy revision is not reached yet (Retry-After)',
};

/**
 * A stable, unique operationId from the method and path, as client generators name their methods:
 * `GET /v1/users/{id}/mfa` → `getUsersByIdMfa`, `POST /oauth/token` → `postOauthToken`.
 */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'v1')
    .flatMap((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      return param ? ['by', ...param[1]!.split(/(?=[A-Z])|[-_.]/)] : segment.split(/[-_.]/);
    })
    .filter((word) => word !== '');
  return method.toLowerCase() + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

/** The refusal statuses a route can answer, from what it takes and how it is guarded. */
function refusalsOf(route: AnyRoute, documentation: RouteDocumentation): number[] {
  const statuses = new Set<number>([400, 500, 503, ...(documentation.refusals ?? [])]);
  if (route.auth === 'token') statuses.add(401);
  if (route.auth === 'token' && route.permission !== undefined) statuses.add(403);
  if (route.path.includes('{')) statuses.add(404);
  if (route.body) {
    statuses.add(413);
    statuses.add(415);
  }
  for (const status of Object.keys(route.responses).map(Number)) if (status >= 400) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/** The OpenAPI 3.1 document of a service, generated from its routes' zod schemas (never written by hand). */
export function openApiDocument(options: OpenApiOptions) {
  const formPaths = new Set(options.formPaths ?? []);
  const oauthPaths = new Set(options.oauthPaths ?? []);
  const paths: ZodOpenApiPathsObject = {};
  for (const route of options.routes) {
    const documentation = options.describe?.(route) ?? {};
    const refusalSchema = oauthPaths.has(route.path) ? oauthError : problem;
    const refusalType = oauthPaths.has(route.path) ? 'application/json' : 'application/problem+json';
    const responses: Record<string, ZodOpenApiResponseObject> = {};
    const successHeaders = Object.fromEntries(['X-Request-Id' as const, ...(documentation.responseHeaders ?? [])].map((name) => [name, headerRef(name)]));
    for (const [status, spec] of Object.entries(route.responses)) {
      if (Number(status) >= 400) continue;
      responses[status] = {
        description: spec.description,
        headers: successHeaders,
        ...(spec.schema ? { content: { 'application/json': { schema: spec.schema } } } : {}),
      };
    }
    for (const status of refusalsOf(route, documentation)) {
      const declared = route.responses[status]?.description;
      const headers: Record<string, { $ref: string }> = { 'X-Request-Id': headerRef('X-Request-Id') };
      if (status === 429 || status === 503) headers['Retry-After'] = headerRef('Retry-After');
      responses[String(status)] = {
        description: declared ?? refusalDescriptions[status] ?? 'Refused',
        headers,
        content: { [refusalType]: { schema: refusalSchema } },
      };
    }
    responses.default = { description: 'An error', content: { [refusalType]: { schema: refusalSchema } } };
    const body = route.body
      ? {
          requestBody: {
            required: true,
            content: formPaths.has(route.path)
              ? { 'application/x-www-form-urlencoded': { schema: route.body }, 'application/json': { schema: route.body } }
              : { 'application/json': { schema: route.body } },
          },
        }
      : {};
    const headerParameters = [
      { $ref: '#/components/parameters/RequestIdHeader' },
      ...(documentation.requestHeaders ?? []).map((name) => ({ $ref: `#/components/parameters/${parameterOfHeader[name]}` })),
    ];
    const operation: ZodOpenApiOperationObject = {
      operationId: operationIdOf(route.method, route.path),
      summary: route.summary,
      tags: [...route.tags],
      parameters: headerParameters,
      requestParams: {
        ...(route.params ? { path: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
      },
      ...body,
      responses: responses as ZodOpenApiOperationObject['responses'],
      // Lerian's clients forward the raw Authorization header: the token with or without `Bearer `.
      ...(route.auth === 'token' ? { security: route.bareToken ? [{ bearer: [] }, { rawToken: [] }] : [{ bearer: [] }] } : {}),
      // The engine permission a caller needs (checked before the input is read); absent when it depends on the input.
      ...(route.auth === 'token' && typeof route.permission === 'object' ? { 'x-required-permission': { ...route.permission } } : {}),
    };
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation };
  }
  for (const [path, item] of Object.entries(options.extraPaths ?? {})) paths[path] = { ...(paths[path] ?? {}), ...item };
  return createDocument({
    openapi: '3.1.0',
    info: options.info,
    servers: [...(options.servers ?? [{ url: '/' }])],
    paths,
    ...(options.errorReferenceUrl ? { externalDocs: { description: 'Error reference: every problem code, its status and meaning', url: options.errorReferenceUrl } } : {}),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        rawToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The access token itself, without the Bearer scheme' },
      },
      headers: responseHeaders,
      parameters: requestHeaderParameters,
    },
  });
}
