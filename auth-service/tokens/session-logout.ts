import type pg from 'pg';
import { expireRefreshTokensOfSubjectSession } from '../../directory/refresh-tokens.js';
import { revokeAccessToken } from '../../directory/revoked-access-tokens.js';
import { endSessions, sessionSubjectKind } from '../../directory/sessions.js';
import { ServiceError } from '../../platform/http/service-error.js';
import type { UpstreamSessions } from '../identity-providers/identity-provider.js';

/** The session an ID token hint names, and the access token sent along with it (when one was). */
export interface LogoutTarget {
  readonly sid: string;
  readonly tenantId: string;
  readonly subjectId: string;
  readonly accessToken?: { readonly jti: string; readonly expiresAtMs: number };
}

export interface LoggedOut {
  /** The subject's kind as the session recorded it (a person when the session is unknown). */
  readonly subjectKind: 'user' | 'application';
  /** oidc mode: revokes our copy of the provider's tokens at the provider; to run after the commit. */
  readonly revokeAtProvider: (() => Promise<void>) | undefined;
}

/**
 * Ends the session a logout names in one transaction: its refresh tokens expire, the session is revoked (so
 * every access token carrying its `sid` is refused), the access token sent along has its `jti` revoked until it
 * expires, and in oidc mode our copy of the provider's grant goes. A session ended earlier still counts as logged
 * out. Any failure is a 503 and changes nothing.
 */
export class SessionLogout {
  constructor(private readonly parts: { database: pg.Pool; upstream: UpstreamSessions | undefined }) {}

  async end(target: LogoutTarget): Promise<LoggedOut> {
    const { sid, tenantId, subjectId } = target;
    const client = await this.parts.database.connect().catch((error: unknown) => {
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'logout: no database connection', cause: error });
    });
    // Checked out, the client has no pool listener: a dropped connection must not crash the process.
    const onError = (): void => undefined;
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      // Refresh tokens before the session row: a refresh locks its token, then the session (reuse revokes it);
      // taking the two in the other order here would deadlock with it.
      await expireRefreshTokensOfSubjectSession(client, { sessionId: sid, tenantId, subjectId });
      const ended = await endSessions(client, { kind: 'session', sessionId: sid, tenantId, subjectId }, 'logout');
      // A session ended earlier (another logout, a password change) still answers 200, and its provider grant still goes.
      const kind = ended[0]?.subjectKind ?? (await sessionSubjectKind(client, { sessionId: sid, tenantId, subjectId }));
      // oidc mode: our copy of the provider's tokens goes with the session; revoked at the provider after the commit.
      const revokeAtProvider = kind ? await this.parts.upstream?.detach(client, sid) : undefined;
      if (target.accessToken) await revokeAccessToken(client, { jti: target.accessToken.jti, tenantId, expiresAtMs: target.accessToken.expiresAtMs });
      await client.query('COMMIT');
      return { subjectKind: kind ?? 'user', revokeAtProvider };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new ServiceError('SERVICE_UNAVAILABLE', { detail: 'logout could not be recorded', cause: error });
    } finally {
      client.removeListener('error', onError);
      client.release();
    }
  }
}
