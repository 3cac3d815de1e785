import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { isEngineError, type EngineErrorCode } from '../../engine/index.js';
import type { PlatformErrorCode } from './platform-errors.js';
import { sendProblem } from './problem-response.js';
import { requestIdOf, type ResponseWithLocals } from './request-id.js';
import { problemTypeOf, ServiceError, type ErrorCatalogue, type ErrorEntry } from './service-error.js';

/** Where rejected requests and failures are reported (the logger); never the response. */
export type ErrorReporter = (event: {
  readonly level: 'info' | 'warn' | 'error';
  readonly requestId: string;
  readonly code: string;
  readonly status: number;
  readonly detail: string;
  readonly error?: unknown;
}) => void;

const engineToPlatform: Record<EngineErrorCode, PlatformErrorCode> = {
  INVALID_MODEL: 'INTERNAL',
  INVALID_REQUEST: 'VALIDATION_FAILED',
  INVALID_RULE: 'VALIDATION_FAILED',
  RULE_CONFLICT: 'CONFLICT',
  POLICY_STORE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  STALE_REVISION: 'STALE_REVISION',
  ENGINE_NOT_READY: 'SERVICE_UNAVAILABLE',
};

interface HttpLayerError {
  readonly type?: string;
  readonly status?: number;
  readonly expose?: boolean;
  readonly code?: unknown;
}

// Errors of the PostgreSQL and Valkey clients that mean "the dependency is down or too slow", thrown by code that
// did not wrap them: still a dependency fault, so 503 and never a generic 500.
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const unreachableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Command timed out',
  "Stream isn't writeable",
  'Connection is closed',
];

function isDependencyFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unreachableCodes.has(code)) return true;
  if (error instanceof AggregateError && error.errors.some(isDependencyFault)) return true;
  return unreachableMessages.some((text) => error.message.startsWith(text));
}

function isEncoded(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  return encoding !== undefined && encoding.toLowerCase() !== 'identity';
}

/**
 * The code of a failure raised while express, its router or body-parser read the request (a body that is not
 * JSON, a body that is not what its Content-Encoding says, a path segment that is not valid percent-encoding),
 * with a public message; undefined for anything else. Each is the caller's input, so a 4xx, never a 500.
 */
function fromHttpLayer(error: unknown, req: IncomingMessage): { code: PlatformErrorCode; message?: string } | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { type, status, expose, code } = error as HttpLayerError;
  if (type === 'entity.too.large') return { code: 'BODY_TOO_LARGE' };
  if (type === 'entity.parse.failed') return { code: 'MALFORMED_JSON' };
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return { code: 'UNSUPPORTED_MEDIA_TYPE' };
  if (type === 'request.aborted' || type === 'request.size.invalid' || type === 'stream.encoding.set') return { code: 'VALIDATION_FAILED' };
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  // body-parser passes the decompressor's own error (zlib's Z_DATA_ERROR, brotli's ERR__ERROR_FORMAT_…), typeless,
  // when a body is not the gzip/deflate/br data its Content-Encoding announces.
  if (type === undefined && expose === true && typeof code === 'string' && isEncoded(req)) {
    return { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the body is not encoded as its Content-Encoding says' };
  }
  // The router's decodeURIComponent of a path parameter (a URIError it gives status 400).
  if (error instanceof URIError) return { code: 'VALIDATION_FAILED', message: 'the path is not valid percent-encoded UTF-8' };
  // Any other http-errors refusal of express's own layers: `expose` is what http-errors sets on a 4xx.
  if (expose !== true) return undefined;
  if (status === 413) return { code: 'BODY_TOO_LARGE' };
  if (status === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE' };
  if (status === 431) return { code: 'HEADERS_TOO_LARGE' };
  return { code: 'VALIDATION_FAILED' };
}

export interface OAuthErrorFormat {
  /** Paths whose failures answer RFC 6749 5.2 bodies (`{error, error_description}`) instead of problem+json. */
  readonly paths: readonly string[];
  /** Our code → the RFC's `error`; anything unmapped is `invalid_request` (4xx) or `server_error` (5xx). */
  readonly errorOf: Readonly<Record<string, string>>;
}

/**
 * The one place failures become HTTP: a `ServiceError` through the service's table, an engine error through
 * the platform mapping, a parse error of express's own layers (body, content encoding, path) to 400/413/415/431,
 * a PostgreSQL or Valkey client error that means the dependency is unreachable to 503, anything else to a
 * generic 500. A 5xx never carries the error's own message (it may name internal hosts or SQL): it is only logged.
 */
export function errorHandler<C extends string>(catalogue: ErrorCatalogue<C | PlatformErrorCode>, report: ErrorReporter, oauth?: OAuthErrorFormat) {
  const answer = failureAnswer(catalogue, report, oauth);
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => answer(error, req, res, req.path);
}

/**
 * What errorHandler does, on Node's own request and response: the lean routes answer their failures with it, so
 * both paths map, report and word every failure the same way. `path` chooses the RFC 6749 body (`oauth.paths`).
 */
export function failureAnswer<C extends string>(catalogue: ErrorCatalogue<C | PlatformErrorCode>, report: ErrorReporter, oauth?: OAuthErrorFormat) {
  const oauthPaths = new Set(oauth?.paths ?? []);
  return (error: unknown, req: IncomingMessage, res: ResponseWithLocals, path: string): void => {
    const requestId = requestIdOf(res);
    let code: string;
    let message: string | undefined;
    let field: string | undefined;
    let detail: string;
    let headers: Readonly<Record<string, string>> = {};
    let extensions: Readonly<Record<string, unknown>> = {};
    const parsing = fromHttpLayer(error, req);
    if (parsing !== undefined) {
      // body-parser rebuilds errors thrown while parsing (even ours), so its `type` is the only reliable signal.
      code = parsing.code;
      message = parsing.message;
      detail = error instanceof Error ? error.message : String(error);
    } else if (error instanceof ServiceError) {
      code = error.code;
      message = error.publicMessage;
      field = error.field;
      detail = error.detail;
      headers = error.headers;
      extensions = error.extensions;
    } else if (isEngineError(error)) {
      code = engineToPlatform[error.code];
      // Engine details about requests and rules name fields, never internals; store failures stay private.
      if (code === 'VALIDATION_FAILED') message = error.detail;
      field = error.field;
      detail = `${error.code}: ${error.detail}`;
    } else {
      code = isDependencyFault(error) ? 'SERVICE_UNAVAILABLE' : 'INTERNAL';
      detail = error instanceof Error ? error.message : String(error);
    }
    const entry: ErrorEntry = (catalogue as Record<string, ErrorEntry>)[code] ?? (catalogue as Record<string, ErrorEntry>).INTERNAL!;
    if (entry.status >= 500) {
      message = undefined;
      extensions = {};
    }
    const text = message ?? entry.title;
    report({ level: entry.status >= 500 ? 'error' : 'info', requestId, code, status: entry.status, detail, error: entry.status >= 500 ? error : undefined });
    if (oauth && oauthPaths.has(path) && !res.headersSent) {
      const oauthError = oauth.errorOf[code] ?? (entry.status >= 500 ? 'server_error' : 'invalid_request');
      const status = oauthError === 'invalid_client' ? 401 : entry.status >= 500 || entry.status === 429 ? entry.status : 400;
      res.statusCode = status;
      res.setHeader('Cache-Control', 'no-store');
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ error: oauthError, error_description: text, code: entry.code, requestId }));
      return;
    }
    sendProblem(
      res,
      {
        ...extensions,
        type: problemTypeOf(entry.code),
        title: entry.title,
        status: entry.status,
        detail: text,
        code: entry.code,
        message: text,
        requestId,
        ...(field !== undefined ? { field } : {}),
        ...(entry.retryable ? { retryable: true } : {}),
      },
      entry.status === 401 ? { 'WWW-Authenticate': 'Bearer error="invalid_token"', ...headers } : headers,
    );
  };
}
