import { describe, expect, it } from 'vitest';
import { authClientOptionsFromEnv } from './auth-client-options.js';

describe("authClientOptionsFromEnv: Lerian's product-side variable names", () => {
  it('reads PLUGIN_AUTH_ADDRESS (or PLUGIN_AUTH_HOST), MULTI_TENANT_ENABLED, AUTH_CACHE_TTL and TRUSTED_PROXIES', () => {
    expect(
      authClientOptionsFromEnv({ PLUGIN_AUTH_ENABLED: 'true', PLUGIN_AUTH_ADDRESS: 'http://auth:4000', MULTI_TENANT_ENABLED: 'true', AUTH_CACHE_TTL: '30', TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' }),
    ).toMatchObject({ url: 'http://auth:4000', enabled: true, multiTenant: true, cacheTtlMs: 30_000, trustedProxies: ['10.0.0.0/8', '127.0.0.1'] });
    expect(authClientOptionsFromEnv({ PLUGIN_AUTH_HOST: 'https://auth.example' }).url).toBe('https://auth.example');
    expect(authClientOptionsFromEnv({ PLUGIN_AUTH_ADDRESS: 'http://a:1', AUTH_CACHE_TTL: '500ms' }).cacheTtlMs).toBe(500);
    expect(authClientOptionsFromEnv({ PLUGIN_AUTH_ADDRESS: 'http://a:1', AUTH_CACHE_TTL: '0' }).cacheTtlMs).toBe(0);
  });

  it('fails closed: enabled by default, so an address is required; AUTH_REQUIRED forbids disabling', () => {
    expect(() => authClientOptionsFromEnv({})).toThrow(/PLUGIN_AUTH_ADDRESS: required/);
    expect(() => authClientOptionsFromEnv({ PLUGIN_AUTH_ENABLED: 'false', AUTH_REQUIRED: 'true' })).toThrow(/AUTH_REQUIRED/);
    expect(authClientOptionsFromEnv({ PLUGIN_AUTH_ENABLED: 'false' }).enabled).toBe(false);
  });

  it('reports every problem at once, naming variables and never their values', () => {
    let message = '';
    try {
      authClientOptionsFromEnv({ PLUGIN_AUTH_ADDRESS: 'ftp://x', AUTH_CACHE_TTL: 'soon', PLUGIN_AUTH_CLIENT_SECRET: 's3cr3t-canary' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PLUGIN_AUTH_ADDRESS/);
    expect(message).toMatch(/AUTH_CACHE_TTL/);
    expect(message).toMatch(/PLUGIN_AUTH_CLIENT_SECRET/);
    expect(message).not.toContain('s3cr3t-canary');
  });

  it('local verification pins the issuer to Auth by default', () => {
    expect(authClientOptionsFromEnv({ PLUGIN_AUTH_ADDRESS: 'http://auth:4000/', PLUGIN_AUTH_VERIFY_LOCALLY: 'true' }).localVerification).toEqual({ issuer: 'http://auth:4000', audience: 'access-manager' });
  });
});
