import type { ServerResponse } from 'node:http';

/**
 * The client's own codes, for refusals it makes itself; a refusal Auth made keeps Auth's code (`AUT-xxxx`).
 */
export const clientProblems = {
  TOKEN_MISSING: { status: 401, code: 'ACL-0001', title: 'Authentication required' },
  TOKEN_INVALID: { status: 401, code: 'ACL-0002', title: 'Invalid token' },
  FORBIDDEN: { status: 403, code: 'ACL-0003', title: 'Not permitted' },
  NOT_FOUND: { status: 404, code: 'ACL-0004', title: 'Not found' },
  UNAVAILABLE: { status: 503, code: 'ACL-0005', title: 'Authorization service unavailable' },
  CLIENT_ADDRESS_UNKNOWN: { status: 400, code: 'ACL-0006', title: 'Client address not determinable' },
} as const;

export type ClientProblem = keyof typeof clientProblems;

/**
 * Answers RFC 9457 problem+json with the contract's `code`/`title`/`message`; never an internal detail. Written
 * with Node's own response API, so the middleware serves express, connect and plain `http` servers alike.
 */
export function sendProblem(res: ServerResponse, problem: ClientProblem, message: string, code?: string): void {
  const { status, title, code: ownCode } = clientProblems[problem];
  const body = JSON.stringify({ type: 'about:blank', title, status, detail: message, code: code ?? ownCode, message });
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
  if (status === 503) res.setHeader('Retry-After', '1');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}
