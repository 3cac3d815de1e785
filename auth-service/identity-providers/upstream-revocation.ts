import type { AuthDeps } from '../deps.js';
import type { UpstreamSessions } from './identity-provider.js';

/**
 * Ends the provider's grant of a session our side has already ended outside a logout (a refresh token reused:
 * likely stolen): our copy of the provider's tokens is forgotten and they are revoked at the provider. Failures
 * are reported, never thrown: the session is over either way, and the answer must not change.
 */
export async function endUpstreamGrant(deps: AuthDeps, sessions: UpstreamSessions | undefined, sessionId: string, requestId: string): Promise<void> {
  if (!sessions) return;
  try {
    const revoke = await sessions.detach(deps.pool, sessionId);
    await revoke?.();
  } catch (error) {
    deps.report({ level: 'warn', requestId, code: 'IDENTITY_PROVIDER_UNAVAILABLE', status: 400, detail: 'revocation at the identity provider failed after the session ended', error });
  }
}
