import type { ErrorReporter } from '../../platform/http/error-handler.js';
import type pg from 'pg';
import type { UpstreamSessions } from './identity-provider.js';

/**
 * Ends the provider's grant of a session our side has already ended outside a logout (a refresh token reused:
 * likely stolen): our copy of the provider's tokens is forgotten and they are revoked at the provider. Failures
 * are reported, never thrown: the session is over either way, and the answer must not change.
 */
export async function endUpstreamGrant(parts: { database: pg.Pool; report: ErrorReporter }, sessions: UpstreamSessions | undefined, sessionId: string, requestId: string): Promise<void> {
  if (!sessions) return;
  try {
    const revoke = await sessions.detach(parts.database, sessionId);
    await revoke?.();
  } catch (error) {
    parts.report({ level: 'warn', requestId, code: 'IDENTITY_PROVIDER_UNAVAILABLE', status: 400, detail: 'revocation at the identity provider failed after the session ended', error });
  }
}
