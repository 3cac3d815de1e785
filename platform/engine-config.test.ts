import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseEngineConfig } from './engine-config.js';

describe('engine configuration', () => {
  it('uses embedded defaults when nothing is set', () => {
    const config = parseEngineConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.VALKEY_URL).toBeUndefined();
    expect(config).toMatchObject({ ENGINE_RESYNC_INTERVAL_MS: 5_000, DECISION_CACHE_MAX_ENTRIES: 100_000, DB_MIGRATE_ON_START: true });
  });

  it('reports every problem at once, one line each, naming the variable', () => {
    let error: unknown;
    try {
      parseEngineConfig({ DATABASE_URL: 'mysql://x', ENGINE_STALE_WAIT_MS: '-5', KEY_PREFIX: 'bad prefix', DB_MIGRATE_ON_START: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    for (const name of ['DATABASE_URL', 'ENGINE_STALE_WAIT_MS', 'KEY_PREFIX', 'DB_MIGRATE_ON_START']) {
      expect(problems.some((p) => p.startsWith(`${name}:`)), name).toBe(true);
    }
  });

  it('keeps connection URLs secret: printing, logging or serialising the config never shows the password', () => {
    const config = parseEngineConfig({ DATABASE_URL: 'postgres://am:canary-db-password@db:5432/am', VALKEY_URL: 'redis://:canary-valkey@cache:6379' });
    const shown = [JSON.stringify(config), inspect(config, { depth: 5 }), String(config.DATABASE_URL), `${config.VALKEY_URL}`].join('\n');
    expect(shown).not.toContain('canary');
    expect(config.DATABASE_URL?.reveal()).toBe('postgres://am:canary-db-password@db:5432/am');
  });

  it('is frozen after parsing', () => {
    const config = parseEngineConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { ENGINE_STALE_WAIT_MS: number }).ENGINE_STALE_WAIT_MS = 1;
    }).toThrow(TypeError);
  });
});
