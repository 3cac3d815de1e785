// The directory's sign-in records as the identity providers answer them: one mapping, so the builtin and oidc
// providers agree on what a subject carries.
import type pg from 'pg';
import { signInApplication, signInUser, type SignInApplication, type SignInUser } from '../../directory/sign-in-subjects.js';
import type { AuthenticatedApp, AuthenticatedSubject, AuthenticatedUser } from './identity-provider.js';

/** An active subject of `tenantId` by id (refresh rereads it): undefined when gone, disabled or in a disabled organization. */
export async function activeSubject(pool: pg.Pool, kind: AuthenticatedSubject['kind'], tenantId: string, id: string): Promise<AuthenticatedSubject | undefined> {
  if (kind === 'user') {
    const user = await signInUser(pool, tenantId, id);
    return user?.active ? toUser(user) : undefined;
  }
  const application = await signInApplication(pool, tenantId, id);
  return application?.active ? toApp(application) : undefined;
}

export function toUser(user: SignInUser): AuthenticatedUser {
  const displayName = `${user.firstName} ${user.lastName}`.trim() || user.username;
  return { kind: 'user', id: user.id, tenantId: user.tenantId, tenantSlug: user.tenantSlug, username: user.username, displayName, email: user.email, validAfter: user.validAfter };
}

export function toApp(application: SignInApplication): AuthenticatedApp {
  return {
    kind: 'application',
    id: application.id,
    tenantId: application.tenantId,
    tenantSlug: application.tenantSlug,
    name: application.name,
    clientId: application.clientId,
    validAfter: application.validAfter,
  };
}
