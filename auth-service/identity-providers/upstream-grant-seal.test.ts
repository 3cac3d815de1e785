import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../platform/secret-box.js';
import { UpstreamGrant, type AuthenticatedUser } from './identity-provider.js';
import { sealUpstreamGrant, upstreamGrantOf } from './upstream-grant-seal.js';

const tokens = { providerSubject: 'ext-ana', accessToken: 'provider-access-token-value', accessExpiresMs: 1_700_000_000_000, refreshToken: 'provider-refresh-token-value' };
const user = (fields: Partial<AuthenticatedUser>): AuthenticatedUser => ({
  kind: 'user',
  id: 'u-1',
  tenantId: 'o-1',
  tenantSlug: 'acme',
  username: 'ana',
  displayName: 'Ana',
  email: 'ana@example.test',
  ...fields,
});

describe("the provider's grant in transit", () => {
  it('never prints or serialises its tokens (a signed-in user may be logged whole)', () => {
    const signedIn = user({ upstream: new UpstreamGrant(tokens) });
    for (const text of [JSON.stringify(signedIn), inspect(signedIn, { depth: 5 }), String(signedIn.upstream)]) {
      expect(text).not.toContain('provider-access-token-value');
      expect(text).not.toContain('provider-refresh-token-value');
    }
  });

  it('seals for an MFA challenge and opens into the same grant for the same user only', () => {
    const secrets = new SecretBox(randomBytes(32));
    const sealed = sealUpstreamGrant(secrets, 'u-1', new UpstreamGrant(tokens));
    expect(sealed).not.toContain('provider-access-token-value');
    expect(upstreamGrantOf(secrets, user({ upstreamSealed: sealed }))?.reveal()).toEqual(tokens);
    expect(() => upstreamGrantOf(secrets, user({ id: 'u-2', upstreamSealed: sealed }))).toThrow();
    expect(upstreamGrantOf(secrets, user({}))).toBeUndefined();
    const noRefresh = sealUpstreamGrant(secrets, 'u-1', new UpstreamGrant({ ...tokens, refreshToken: undefined, accessExpiresMs: undefined }));
    expect(upstreamGrantOf(secrets, user({ upstreamSealed: noRefresh }))?.reveal()).toEqual({ ...tokens, refreshToken: undefined, accessExpiresMs: undefined });
  });
});
