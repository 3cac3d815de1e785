import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSourceDigest, ensureConsoleBuilt } from './console-build.js';

let parent: string;

beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'am-console-build-'));
});

afterAll(async () => rm(parent, { recursive: true, force: true }));

describe('building the console on demand', () => {
  it('builds a bundle with no outside reference where none is, then leaves it alone until its sources change', async () => {
    const outDir = path.join(parent, 'dist');
    expect(await ensureConsoleBuilt({ outDir })).toEqual({ built: true, dir: outDir });
    const html = await readFile(path.join(outDir, 'index.html'), 'utf8');
    expect(html).toMatch(/<script type="module" crossorigin src="\/console\/assets\/[^"]+\.js"><\/script>/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>|<style>|\sstyle=/);
    const assets = await readdir(path.join(outDir, 'assets'));
    expect(assets.some((f) => f.endsWith('.js'))).toBe(true);
    expect(assets.some((f) => f.endsWith('.css'))).toBe(true);
    expect(await readFile(path.join(outDir, '.source-digest'), 'utf8')).toBe(await consoleSourceDigest());

    expect((await ensureConsoleBuilt({ outDir })).built).toBe(false);
    // A bundle of other sources (an older checkout) is rebuilt.
    await writeFile(path.join(outDir, '.source-digest'), 'stale');
    expect((await ensureConsoleBuilt({ outDir })).built).toBe(true);
    expect((await readdir(parent)).filter((f) => f.includes('.build-'))).toEqual([]);
  }, 120_000);
});
