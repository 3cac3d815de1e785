import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { requestIdOf } from '../http/request-id.js';
import type { RequestFinished } from './http-metrics.js';

/**
 * One debug line per finished request: request id, method, route pattern, status, duration. Never the URL,
 * headers or body (a query string or header may carry a credential); failures are already logged with their
 * request id by the error reporter at info/error, so the hot path logs nothing at the default level.
 */
export function accessLog(logger: Logger): RequestFinished {
  return (res: ServerResponse, route: string, durationMs: number) => {
    if (!logger.isLevelEnabled('debug')) return;
    logger.debug({ requestId: requestIdOf(res), method: res.req.method, route, status: res.statusCode, durationMs: Math.round(durationMs * 1000) / 1000 }, 'request');
  };
}
