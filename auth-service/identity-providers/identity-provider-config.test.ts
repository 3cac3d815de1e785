import { describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/index.js';
import { ConfigError } from '../../platform/config-error.js';
import { parseIdentityProviderSettings } from './identity-provider-config.js';
import { identityProviderFromConfig } from './identity-provider-from-config.js';
import { OidcIdentityProvider } from './oidc-identity-provider.js';

const oidcEnv = {
  IDENTITY_PROVIDER: 'oidc',
  OIDC_ISSUER_URL: 'https://idp.example.test',
  OIDC_CLIENT_ID: 'access-manager',
  OIDC_CLIENT_SECRET: 'provider-client-secret-value',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseIdentityProviderSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('identity provider configuration', () => {
  it('defaults to the builtin provider, which needs no OIDC variable', () => {
    expect(parseIdentityProviderSettings({})).toEqual({ kind: 'builtin' });
    expect(identityProviderFromConfig({ kind: 'builtin' }, { pool: undefined as never, secrets: undefined as never, clock: systemClock })).toBeUndefined();
  });

  it('in oidc mode names each missing variable in its own problem', () => {
    const problems = problemsOf({ IDENTITY_PROVIDER: 'oidc' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/OIDC_ISSUER_URL.*\n.*OIDC_CLIENT_ID.*\n.*OIDC_CLIENT_SECRET/);
  });

  it('parses the oidc settings with their defaults, the client secret redacted', () => {
    const settings = parseIdentityProviderSettings(oidcEnv);
    expect(settings).toMatchObject({ kind: 'oidc', usernameClaim: 'preferred_username', scope: 'openid profile email offline_access', timeoutSeconds: 5, allowInsecureRequests: false });
    expect(JSON.stringify(settings)).not.toContain('provider-client-secret-value');
    expect(settings.kind === 'oidc' && settings.clientSecret.reveal()).toBe('provider-client-secret-value');
    expect(identityProviderFromConfig(settings, { pool: undefined as never, secrets: undefined as never, clock: systemClock })).toBeInstanceOf(OidcIdentityProvider);
  });

  it('refuses plain-http providers in production, and an http issuer without the explicit opt-in', () => {
    expect(problemsOf({ ...oidcEnv, OIDC_ALLOW_INSECURE_REQUESTS: 'true', NODE_ENV: 'production' })).toEqual([expect.stringContaining('OIDC_ALLOW_INSECURE_REQUESTS')]);
    expect(problemsOf({ ...oidcEnv, OIDC_ISSUER_URL: 'http://idp.example.test' })).toEqual([expect.stringContaining('OIDC_ISSUER_URL')]);
    expect(problemsOf({ ...oidcEnv, OIDC_ISSUER_URL: 'http://127.0.0.1:9', OIDC_ALLOW_INSECURE_REQUESTS: 'true' })).toEqual([]);
  });

  it('refuses a scope without openid, a bad timeout and an unknown provider kind', () => {
    expect(problemsOf({ ...oidcEnv, OIDC_SCOPE: 'profile email' })).toEqual([expect.stringContaining('OIDC_SCOPE')]);
    expect(problemsOf({ ...oidcEnv, OIDC_TIMEOUT_SECONDS: '0' })).toEqual([expect.stringContaining('OIDC_TIMEOUT_SECONDS')]);
    expect(problemsOf({ IDENTITY_PROVIDER: 'saml' })).toEqual([expect.stringContaining('IDENTITY_PROVIDER')]);
  });
});
