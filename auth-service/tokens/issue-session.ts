import type { AuthDeps } from '../deps.js';
import type { AuthenticatedUser } from '../identity-providers/identity-provider.js';
import type { RequestContext } from './auth-events.js';
import { issueSession, type TokenAnswer } from './token-service.js';

/**
 * Starts a person's session and answers the tokens, for a sign-in whose factors are all verified (the MFA
 * verify step calls this after the second factor). `clientId` is the client the sign-in started with; an empty
 * string means none.
 *
 * @example
 * const signIn = await verifyChallenge(deps, body, context);
 * return { body: await issueUserSession(deps, signIn.user, signIn.clientId, signIn.scope, context) };
 */
export async function issueUserSession(
  deps: AuthDeps,
  user: Omit<AuthenticatedUser, 'kind'>,
  clientId: string | undefined,
  scope: string | undefined,
  context: RequestContext,
): Promise<TokenAnswer> {
  return issueSession(deps, { ...user, kind: 'user' }, clientId === '' ? undefined : clientId, scope, { context, grant: 'password+mfa' });
}
