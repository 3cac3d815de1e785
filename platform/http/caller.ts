import type { JWTPayload } from 'jose';

/** Who is calling, from a verified token. `subject` is the engine's name for it (`user:<id>` or `app:<id>`). */
export interface Caller {
  readonly kind: 'user' | 'application';
  readonly id: string;
  readonly subject: string;
  /** From the token's `tenantId` claim, or the configured default organization in single-tenant mode. */
  readonly tenantId: string;
  readonly tokenId: string | undefined;
  readonly claims: Readonly<JWTPayload & Record<string, unknown>>;
}

export function subjectOf(kind: Caller['kind'], id: string): string {
  return kind === 'application' ? `app:${id}` : `user:${id}`;
}
