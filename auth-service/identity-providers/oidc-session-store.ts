// The external provider's tokens of our sessions, sealed before they reach the directory and opened after.
import * as oidcSessions from '../../directory/oidc-sessions.js';
import type { Queryable } from '../../platform/postgres-transaction.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { UpstreamTokens } from './identity-provider.js';

// The session id and the token's role are the associated data: a sealed value copied to another row, or from
// the access to the refresh column, does not open.
const accessContext = (sessionId: string) => `oidc-session:${sessionId}:access`;
const refreshContext = (sessionId: string) => `oidc-session:${sessionId}:refresh`;

function open(secrets: SecretBox, sessionId: string, sealed: oidcSessions.SealedOidcSession): UpstreamTokens {
  return {
    providerSubject: sealed.providerSubject,
    accessToken: secrets.open(sealed.accessTokenSealed, accessContext(sessionId)),
    accessExpiresMs: sealed.accessExpiresMs ?? undefined,
    refreshToken: sealed.refreshTokenSealed === null ? undefined : secrets.open(sealed.refreshTokenSealed, refreshContext(sessionId)),
  };
}

/** Stores (or replaces, after a provider refresh) the provider's tokens of a session. */
export async function saveOidcSession(db: Queryable, secrets: SecretBox, sessionId: string, tokens: UpstreamTokens): Promise<void> {
  await oidcSessions.saveOidcSession(db, sessionId, {
    providerSubject: tokens.providerSubject,
    accessTokenSealed: secrets.seal(tokens.accessToken, accessContext(sessionId)),
    accessExpiresMs: tokens.accessExpiresMs ?? null,
    refreshTokenSealed: tokens.refreshToken === undefined ? null : secrets.seal(tokens.refreshToken, refreshContext(sessionId)),
  });
}

/** The session's provider tokens; with `lock`, the row stays locked until the transaction ends (one provider refresh at a time). */
export async function findOidcSession(db: Queryable, secrets: SecretBox, sessionId: string, lock = false): Promise<UpstreamTokens | undefined> {
  const sealed = await oidcSessions.findOidcSession(db, sessionId, lock);
  return sealed ? open(secrets, sessionId, sealed) : undefined;
}

/** Removes the session's provider tokens and returns them (for revocation at the provider once removed here). */
export async function takeOidcSession(db: Queryable, secrets: SecretBox, sessionId: string): Promise<UpstreamTokens | undefined> {
  const sealed = await oidcSessions.takeOidcSession(db, sessionId);
  return sealed ? open(secrets, sessionId, sealed) : undefined;
}
