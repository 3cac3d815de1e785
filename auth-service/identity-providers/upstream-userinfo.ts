import type { Caller } from '../../platform/http/caller.js';
import { ServiceError } from '../../platform/http/service-error.js';
import { withTransaction } from '../../platform/postgres-transaction.js';
import { endSessions } from '../../directory/sessions.js';
import type pg from 'pg';
import type { EndHere } from '../../platform/auth/ended-here.js';
import type { UpstreamSessions } from './identity-provider.js';

/** What the provider adds to our userinfo; the contract's own fields (sub, name, username, email) stay ours. */
export interface UpstreamProfile {
  /** True only when the provider verified the very address we hold. */
  readonly emailVerified: boolean;
  readonly picture: string | undefined;
  readonly profile: string | undefined;
}

const httpsUrl = (value: unknown): string | undefined => (typeof value === 'string' && value.length <= 2_048 && /^https:\/\//.test(value) ? value : undefined);

/**
 * For a person's session with an external provider grant: asks the provider's userinfo (oidc mode), so a user
 * removed or disabled at the provider gets no profile. A refusal ends our session here and now (TOKEN_INVALID,
 * 401); a provider outage is IDENTITY_PROVIDER_UNAVAILABLE (503). Undefined when there is no provider to ask:
 * builtin mode, an application, a session without a provider grant.
 */
export type UpstreamProfiles = (caller: Caller, email: string | undefined) => Promise<UpstreamProfile | undefined>;

/** The UpstreamProfiles of one app: the provider's sessions (none in builtin mode), and how a refused session ends. */
export function upstreamProfiles(parts: { sessions: UpstreamSessions | undefined; database: pg.Pool; endHere: EndHere }): UpstreamProfiles {
  return (caller, email) => upstreamProfileOf(parts, caller, email);
}

async function upstreamProfileOf(parts: { sessions: UpstreamSessions | undefined; database: pg.Pool; endHere: EndHere }, caller: Caller, email: string | undefined): Promise<UpstreamProfile | undefined> {
  const { sessions } = parts;
  const sid = caller.claims.sid;
  if (!sessions || caller.kind !== 'user' || typeof sid !== 'string') return undefined;
  const answer = await sessions.userinfo(sid);
  if (answer.kind === 'absent') return undefined;
  if (answer.kind === 'refused') {
    parts.endHere({ tenantId: caller.tenantId, subject: caller.subject, sid });
    try {
      await withTransaction(parts.database, (tx) => endSessions(tx, { kind: 'session', sessionId: sid, tenantId: caller.tenantId }, 'provider_refused'));
    } catch (error) {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'session end after a provider refusal failed', cause: error });
    }
    throw new ServiceError('TOKEN_INVALID', { detail: 'identity provider refused the session at userinfo' });
  }
  const { claims } = answer;
  const sameEmail = email !== undefined && typeof claims.email === 'string' && claims.email.toLowerCase() === email.toLowerCase();
  return { emailVerified: sameEmail && claims.email_verified === true, picture: httpsUrl(claims.picture), profile: httpsUrl(claims.profile) };
}
