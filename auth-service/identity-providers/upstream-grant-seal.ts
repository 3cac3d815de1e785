import type { SecretBox } from '../../platform/secret-box.js';
import { UpstreamGrant, type AuthenticatedSubject, type UpstreamTokens } from './identity-provider.js';

// Bound to the user: a sealed grant moved to another person's challenge does not open.
const context = (userId: string) => `upstream-grant:${userId}`;

/**
 * The provider's grant sealed for a trip through storage we do not keep secrets in (an MFA challenge in Valkey):
 * AES-256-GCM with `SECRETS_ENCRYPTION_KEY`, bound to the user.
 */
export function sealUpstreamGrant(secrets: SecretBox, userId: string, grant: UpstreamGrant): string {
  return secrets.seal(JSON.stringify(grant.reveal()), context(userId));
}

/** The grant a new session keeps: carried in memory from the sign-in, or sealed through an MFA challenge. */
export function upstreamGrantOf(secrets: SecretBox, subject: AuthenticatedSubject): UpstreamGrant | undefined {
  if (subject.kind !== 'user') return undefined;
  if (subject.upstream) return subject.upstream;
  if (subject.upstreamSealed === undefined) return undefined;
  const tokens = JSON.parse(secrets.open(subject.upstreamSealed, context(subject.id))) as { [K in keyof UpstreamTokens]: UpstreamTokens[K] | null };
  return new UpstreamGrant({
    providerSubject: String(tokens.providerSubject),
    accessToken: String(tokens.accessToken),
    accessExpiresMs: typeof tokens.accessExpiresMs === 'number' ? tokens.accessExpiresMs : undefined,
    refreshToken: typeof tokens.refreshToken === 'string' ? tokens.refreshToken : undefined,
  });
}
