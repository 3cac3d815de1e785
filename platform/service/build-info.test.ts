import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildInfo } from './build-info.js';

describe('build info (GET /version, info.version of the OpenAPI documents)', () => {
  it('is package.json\'s version and the commit of the checkout it runs from', () => {
    const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
    expect(buildInfo()).toEqual({ version, commit: execFileSync('git', ['rev-parse', 'HEAD']).toString().trim() });
  });

  it('is read once and frozen', () => {
    expect(buildInfo()).toBe(buildInfo());
    expect(Object.isFrozen(buildInfo())).toBe(true);
  });
});
