import type pg from 'pg';
import { canonicalName } from '../../domain/canonical-name.js';
import { signInApplicationOfClient, signInUserNamed, type SignInUser } from '../../directory/sign-in-subjects.js';
import { replacePasswordHash } from '../../directory/users.js';
import type { PasswordHasher } from '../../platform/password-hasher.js';
import type { IdentityProvider } from './identity-provider.js';
import { activeSubject, toApp, toUser } from './authenticated-subjects.js';

/**
 * Stores the password again under the current hashing parameters, after it verified against a hash made with
 * older ones. Only if the stored hash is still the one verified (a password change
 * meanwhile wins); best effort: on failure the old hash stays and still verifies, so the sign-in goes on.
 */
async function rehashPassword(deps: { pool: pg.Pool; passwords: PasswordHasher }, user: SignInUser, password: string): Promise<void> {
  try {
    const hash = await deps.passwords.hash(password);
    await replacePasswordHash(deps.pool, user.tenantId, user.id, user.passwordHash, hash);
  } catch {
    // The sign-in is already proven; the next one tries again.
  }
}

/**
 * The identity provider over Identity's own tables. Usernames are globally unique by their canonical form, so
 * the username alone resolves the tenant. The hash is always verified, against a dummy for an unknown name,
 * so an unknown, disabled or wrong-password sign-in costs the same.
 */
export function createBuiltinIdentityProvider(deps: { pool: pg.Pool; passwords: PasswordHasher }): IdentityProvider {
  return {
    async authenticatePassword(username, password) {
      const user = await signInUserNamed(deps.pool, canonicalName(username));
      const ok = await deps.passwords.verify(user?.passwordHash, password);
      if (!ok || !user?.active) return undefined;
      if (deps.passwords.needsRehash(user.passwordHash)) await rehashPassword(deps, user, password);
      return toUser(user);
    },
    async authenticateClient(clientId, clientSecret) {
      const application = await signInApplicationOfClient(deps.pool, clientId);
      const ok = await deps.passwords.verify(application?.clientSecretHash ?? undefined, clientSecret);
      return ok && application?.active ? toApp(application) : undefined;
    },
    findSubject(kind, tenantId, id) {
      return activeSubject(deps.pool, kind, tenantId, id);
    },
  };
}
