import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

// A caller's id is reused only when it cannot smuggle anything into logs or headers.
const acceptable = /^[A-Za-z0-9._-]{8,64}$/;

/** Gives every request an id (`X-Request-Id`, echoed back), kept in `res.locals.requestId`. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const offered = req.header('x-request-id');
  const id = offered !== undefined && acceptable.test(offered) ? offered : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(res: Response): string {
  return typeof res.locals.requestId === 'string' ? res.locals.requestId : 'unknown';
}
