import type pg from 'pg';
import { canonicalName } from '../../domain/canonical-name.js';
import { linkUserToProviderAccount, signInUserNamed, signInUsersLinkedTo, type SignInUser } from '../../directory/sign-in-subjects.js';

/** Who the provider says signed in: its issuer and `sub` (from the validated ID token), and its username claim. */
export interface ProviderAccount {
  readonly issuer: string;
  readonly subject: string;
  /** The canonical form of the username claim; undefined when the ID token has none. */
  readonly usernameCanonical: string | undefined;
}

/**
 * The Identity user a provider account signs in as, in oidc mode. A user is the provider's `(iss, sub)`, pinned
 * the first time, never a username alone: `preferred_username` is neither unique nor stable (OIDC Core 5.7), so a
 * name reused by another provider account, or one the provider lets people change, must not open someone's
 * account.
 *
 * 1. A user linked to this `(iss, sub)` is the one, whatever the username claim says now (a renamed account
 *    still signs in). Links are unique per organization; should one account be linked in several, the username
 *    claim must pick exactly one of them, or the sign-in is refused.
 * 2. Otherwise this is a first sign-in: the username claim names the user, who is linked to `(iss, sub)` only if
 *    it has no link yet, and from then on is that account's alone. A user already linked to another `sub` or
 *    another issuer is refused: the same username from a different provider account is another person.
 *
 * Concurrent first sign-ins race on one conditional update: exactly one account wins the link; a sign-in of the
 * same account that lost the race still finds it linked to itself. A refusal is `undefined`, like a wrong
 * password.
 */
export async function userOfProviderAccount(pool: pg.Pool, account: ProviderAccount): Promise<SignInUser | undefined> {
  const linked = await signInUsersLinkedTo(pool, account.issuer, account.subject);
  if (linked.length > 0) {
    if (linked.length === 1) return linked[0];
    return linked.find((user) => account.usernameCanonical !== undefined && canonicalName(user.username) === account.usernameCanonical);
  }
  if (account.usernameCanonical === undefined) return undefined;
  const named = await signInUserNamed(pool, account.usernameCanonical);
  if (!named?.active) return undefined;
  // Linked since the read above, by a concurrent first sign-in: it counts only if it is this very account.
  if (named.oidcSubject !== null) return isLinkedTo(named, account) ? named : undefined;
  if (await linkUserToProviderAccount(pool, named.id, account.issuer, account.subject)) return { ...named, oidcIssuer: account.issuer, oidcSubject: account.subject };
  return (await signInUsersLinkedTo(pool, account.issuer, account.subject)).find((user) => user.id === named.id);
}

function isLinkedTo(user: SignInUser, account: ProviderAccount): boolean {
  return user.oidcIssuer === account.issuer && user.oidcSubject === account.subject;
}
