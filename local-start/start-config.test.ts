import { describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config-error.js';
import { parseStartConfig } from './start-config.js';

describe('npm start configuration', () => {
  it('defaults to the contract ports and a .data folder of the checkout', () => {
    const config = parseStartConfig({});
    expect(config).toMatchObject({ AUTH_SERVER_PORT: 4000, IDENTITY_SERVER_PORT: 4001, EMBEDDED_POSTGRES_PORT: 0, SERVER_HOST: '127.0.0.1' });
    expect(config.DATA_DIR).toMatch(/\.data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every bad variable at once, and two services on one port', () => {
    expect(() => parseStartConfig({ AUTH_SERVER_PORT: 'x', EMBEDDED_POSTGRES_PORT: '70000' })).toThrow(ConfigError);
    try {
      parseStartConfig({ AUTH_SERVER_PORT: 'x', EMBEDDED_POSTGRES_PORT: '70000' });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['AUTH_SERVER_PORT', 'EMBEDDED_POSTGRES_PORT']);
    }
    expect(() => parseStartConfig({ AUTH_SERVER_PORT: '5000', IDENTITY_SERVER_PORT: '5000' })).toThrow(/IDENTITY_SERVER_PORT: must differ/);
  });
});
