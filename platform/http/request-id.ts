import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

// A caller's id is reused only when it cannot smuggle anything into logs or headers.
const acceptable = /^[A-Za-z0-9._-]{8,64}$/;

/** The id of a request: the caller's `X-Request-Id` when acceptable, else a new one. */
export function requestIdFrom(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && acceptable.test(offered) ? offered : randomUUID();
}

/** Gives every request an id (`X-Request-Id`, echoed back), kept in `res.locals.requestId`. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const id = requestIdFrom(req.headers['x-request-id']);
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}

/** A response with express's `locals`; the lean routes give their responses one too. */
export type ResponseWithLocals = ServerResponse & { locals?: Record<string, unknown> };

export function requestIdOf(res: ResponseWithLocals): string {
  const id = res.locals?.requestId;
  return typeof id === 'string' ? id : 'unknown';
}
