import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { apiDocsRouter } from './api-docs.js';
import { errorReference, errorReferencePath, errorReferenceRouter } from './error-reference.js';
import { errorHandler, type ErrorReporter, type OAuthErrorFormat } from './error-handler.js';
import { jsonBody } from './json-body.js';
import { mountRoutes, type RouteGuards } from './mount-routes.js';
import { openApiDocument, type RouteDocumentation } from './openapi-document.js';
import type { PlatformErrorCode } from './platform-errors.js';
import { requestId } from './request-id.js';
import { skipUnrouted } from './skip-unrouted.js';
import type { AnyRoute } from './route.js';
import { ServiceError, type ErrorCatalogue } from './service-error.js';

export interface ServiceAppOptions<C extends string> {
  readonly info: { title: string; version: string; description?: string };
  readonly routes: readonly AnyRoute[];
  readonly catalogue: ErrorCatalogue<C | PlatformErrorCode>;
  readonly guards: RouteGuards;
  readonly report: ErrorReporter;
  /** Runs first on every request, before the request id (request metrics time the whole request). */
  readonly observe?: RequestHandler;
  /** Routers and middleware mounted before the API routes (health, readiness, metrics, request limits). */
  readonly before?: readonly (Router | RequestHandler)[];
  readonly bodyLimitBytes?: number;
  /** Paths that take form-encoded bodies (OAuth token endpoint, logout). */
  readonly formPaths?: readonly string[];
  /** Paths answering RFC 6749 error bodies. */
  readonly oauthErrors?: OAuthErrorFormat;
  /** The OpenAPI document's servers (default: the service the document was read from). */
  readonly servers?: readonly { url: string; description?: string }[];
  /** The headers and refusals of each route beyond its spec, for the OpenAPI document. */
  readonly describe?: (route: AnyRoute) => RouteDocumentation;
  /** Operations served by the `before` routers, for the OpenAPI document (health, readiness, version). */
  readonly extraOperations?: ZodOpenApiPathsObject;
}

/**
 * An express app with the house rules: request ids, strict JSON bodies, routes from specs, OpenAPI at
 * `/openapi.json` and `/docs`, the error reference at `/docs/errors`, 404/405 and every failure as problem+json. It reads no environment and opens
 * no connection: everything comes in through the options.
 */
export function createServiceApp<C extends string>(options: ServiceAppOptions<C>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);
  if (options.observe) app.use(options.observe);
  app.use(requestId);
  // Routers of a few fixed paths are passed by on every other request (see skipUnrouted).
  for (const router of options.before ?? []) app.use(skipUnrouted(router));
  const document = openApiDocument({
    info: options.info,
    routes: options.routes,
    formPaths: options.formPaths ?? [],
    oauthPaths: options.oauthErrors?.paths ?? [],
    ...(options.servers ? { servers: options.servers } : {}),
    ...(options.describe ? { describe: options.describe } : {}),
    ...(options.extraOperations ? { extraPaths: options.extraOperations } : {}),
    errorReferenceUrl: errorReferencePath,
  });
  app.use(skipUnrouted(apiDocsRouter(document)));
  app.use(skipUnrouted(errorReferenceRouter(options.info.title, errorReference(options.catalogue))));
  app.use(jsonBody({ limitBytes: options.bodyLimitBytes ?? 64 * 1024, formPaths: options.formPaths ?? [] }));
  const api = express.Router({ strict: true, caseSensitive: true });
  app.use(mountRoutes(api, options.routes, options.guards));
  app.use(api);
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ServiceError('NOT_FOUND')));
  app.use(errorHandler(options.catalogue, options.report, options.oauthErrors));
  return app;
}
