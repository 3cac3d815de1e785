// One clock: the services, the directory and what they build on read time only through an injected `Clock`
// (engine/system-clock.ts is the one place that reads the wall clock), so every test can hand them another and
// nothing disagrees on "now"; and time is injected one way, as a `Clock`, never as a bare `nowMs` function.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkedFolders = ['auth-service', 'identity-service', 'directory', 'platform', 'messaging', 'domain', 'bootstrap', 'engine'];
const theWallClock = 'engine/system-clock.ts';
// Date.now (called or handed on as a function), or new Date() without an argument: both read the wall clock.
const wallClock = /\bDate\.now\b|\bnew Date\(\s*\)/;
// An option or field typed as a function answering the time: the other way of injecting it.
const nowFunction = /\bnowMs\??\s*:\s*\(\s*\)\s*=>\s*number\b/;
// The client package runs inside products, without the engine: it keeps its own `nowMs` option.
const ownPackages = ['client'];

async function sourcesUnder(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
    const path = folder === '.' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!['console', 'node_modules', 'dist', '.git', '.data', 'test-output'].includes(entry.name)) files.push(...(await sourcesUnder(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      files.push(path);
    }
  }
  return files;
}

async function linesMatching(files: readonly string[], pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const lines = (await readFile(join(root, file), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (pattern.test(line)) found.push(`${file}:${i + 1}`);
    });
  }
  return found;
}

describe('one clock', () => {
  it('recognises a read of the wall clock, and not a date made from a value', () => {
    expect(wallClock.test('const t = Date.now();')).toBe(true);
    expect(wallClock.test('return new Date().toISOString();')).toBe(true);
    expect(wallClock.test('const nowMs = options.nowMs ?? Date.now;')).toBe(true);
    expect(wallClock.test('new Date(clock.nowMs()).toISOString()')).toBe(false);
  });

  it('recognises a time function declared as an option, and not a Clock made from one', () => {
    expect(nowFunction.test('  readonly nowMs: () => number;')).toBe(true);
    expect(nowFunction.test('  readonly nowMs?: () => number;')).toBe(true);
    expect(nowFunction.test('  readonly #nowMs: () => number;')).toBe(true);
    expect(nowFunction.test('  readonly clock: Clock;')).toBe(false);
    expect(nowFunction.test('export const systemClock: Clock = { nowMs: () => Date.now() };')).toBe(false);
  });

  it(`no product file of ${checkedFolders.join(', ')} reads the wall clock: time comes from an injected Clock`, async () => {
    const files = (await Promise.all(checkedFolders.map(sourcesUnder))).flat().filter((file) => file !== theWallClock);
    expect(await linesMatching(files, wallClock)).toEqual([]);
  });

  it('no TypeScript file outside the client package takes the time as a nowMs function: it takes a Clock', async () => {
    const files = (await sourcesUnder('.')).filter((file) => !ownPackages.some((folder) => file.startsWith(`${folder}/`)));
    expect(await linesMatching(files, nowFunction)).toEqual([]);
  });
});
