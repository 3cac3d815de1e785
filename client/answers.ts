import { z } from 'zod';
import { AuthClientError, errorOfStatus } from './errors.js';
import type { HttpAnswer } from './http-transport.js';

/** The shapes of Auth's and Identity's answers the client reads; anything else is an unreadable answer. */
export const authorizeAnswer = z.object({ authorized: z.boolean(), revision: z.number().int().min(0).default(0), reason: z.string().optional() });
export const batchAnswer = z.object({
  results: z.array(z.object({ authorized: z.boolean(), reason: z.string().optional() })),
  revision: z.number().int().min(0).default(0),
});
export const permissionsAnswer = z.record(z.string(), z.array(z.string()));
export const tokenAnswer = z.object({ accessToken: z.string().min(1), expiresIn: z.number().positive() });
export const declarationAnswer = z.object({ changed: z.boolean(), policyRevision: z.number().int().min(0) });

const problem = z.object({ code: z.string().max(32).optional(), message: z.string().max(2_000).optional(), detail: z.string().max(2_000).optional() });

/** A 2xx answer's body read with `schema`, or the error Lerian's status rule gives the answer. */
export function readAnswer<T>(answer: HttpAnswer, schema: z.ZodType<T>, what: string): T {
  let body: unknown;
  try {
    body = answer.body.length === 0 ? undefined : JSON.parse(answer.body);
  } catch {
    body = undefined;
  }
  if (answer.status >= 200 && answer.status < 300) {
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new AuthClientError('unavailable', `${what}: unreadable answer`, undefined, answer.status);
    return parsed.data;
  }
  const refusal = problem.safeParse(body);
  const error = errorOfStatus(answer.status, refusal.success ? refusal.data.code : undefined, what);
  const said = refusal.success ? (refusal.data.message ?? refusal.data.detail) : undefined;
  if (said) error.message = `${error.message}: ${said}`;
  throw error;
}
