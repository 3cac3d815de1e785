// One clock: the services and the directory read time only through an injected `Clock` (engine/system-clock.ts
// is the one place that reads the wall clock), so every test can hand them another and nothing disagrees on "now".
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkedFolders = ['auth-service', 'identity-service', 'directory'];
// Date.now(), or new Date() without an argument: both read the wall clock.
const wallClock = /\bDate\.now\(\)|\bnew Date\(\s*\)/;

async function sourcesUnder(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'console' && entry.name !== 'node_modules') files.push(...(await sourcesUnder(path)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      files.push(path);
    }
  }
  return files;
}

describe('one clock', () => {
  it('recognises a read of the wall clock, and not a date made from a value', () => {
    expect(wallClock.test('const t = Date.now();')).toBe(true);
    expect(wallClock.test('return new Date().toISOString();')).toBe(true);
    expect(wallClock.test('new Date(clock.nowMs()).toISOString()')).toBe(false);
  });

  it(`no product file of ${checkedFolders.join(', ')} reads the wall clock: time comes from an injected Clock`, async () => {
    const offenders: string[] = [];
    for (const folder of checkedFolders) {
      for (const file of await sourcesUnder(folder)) {
        const lines = (await readFile(join(root, file), 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (wallClock.test(line)) offenders.push(`${file}:${i + 1}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});
