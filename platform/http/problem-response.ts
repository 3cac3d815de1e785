import type { ServerResponse } from 'node:http';

/** RFC 9457 problem details, with the Lerian contract's `code`/`title`/`message` in the same body. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly message: string;
  readonly requestId: string;
  readonly field?: string;
  readonly retryable?: boolean;
  /** RFC 9457 3.2 extension members; they never replace a member above. */
  readonly [extension: string]: unknown;
}

export function sendProblem(res: ServerResponse, body: ProblemBody, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) return;
  res.statusCode = body.status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}
